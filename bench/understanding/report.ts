/** Printing of the conversation runner's results: the metrics with their targets, per category, and failures. */
import type { ConversationMetrics, Share } from './judge.js';

/** A metric's target from issue 25, and whether a value meets it. */
export interface Target {
  label: string;
  /** The figure as printed (`97.1% (34/35)`). */
  value: string;
  target: string;
  met: boolean;
}

const percent = (s: Share) =>
  Number.isNaN(s.rate) ? 'n/a (0 conversations)' : `${(s.rate * 100).toFixed(1)}% (${s.count}/${s.total})`;

/**
 * The four end-to-end figures of issue 25 against their targets.
 *
 * @param m - Metrics of a run.
 * @returns One row per figure.
 * @example
 * for (const t of targetsOf(run.metrics)) console.log(t.label, t.value, t.met);
 */
export function targetsOf(m: ConversationMetrics): Target[] {
  const median = m.medianMessagesToBooking;
  const medianText = Number.isNaN(median.median)
    ? 'n/a (0 conversations)'
    : `${Number.isFinite(median.median) ? median.median : 'never (most did not book)'} (${median.booked}/${median.conversations} booked)`;
  return [
    {
      label: 'booking conversations completed',
      value: percent(m.bookingCompleted),
      target: '>= 95%',
      met: m.bookingCompleted.rate >= 0.95,
    },
    {
      label: 'first-message slot retention',
      value: percent(m.firstMessageRetention),
      target: '>= 95%',
      met: m.firstMessageRetention.rate >= 0.95,
    },
    {
      label: 'wrongful handoffs (of all conversations)',
      value: percent(m.wrongfulHandoffs),
      target: '<= 1%',
      met: m.wrongfulHandoffs.rate <= 0.01,
    },
    {
      label: 'median customer messages to a booking (all details in the opener)',
      value: medianText,
      target: '<= 3',
      met: median.median <= 3,
    },
  ];
}

/**
 * The targets as aligned text lines.
 *
 * @example
 * console.log(formatTargets(run.metrics).join('\n'));
 */
export function formatTargets(m: ConversationMetrics): string[] {
  const rows = targetsOf(m);
  const width = Math.max(...rows.map((r) => r.label.length));
  return rows.map(
    (r) => `${r.met ? 'met ' : 'MISS'}  ${r.label.padEnd(width)}  ${r.value}  (target ${r.target})`,
  );
}

/**
 * Pass rate per category and overall, as aligned text lines.
 *
 * @example
 * console.log(formatCategories(run.metrics).join('\n'));
 */
export function formatCategories(m: ConversationMetrics): string[] {
  const width = Math.max(8, ...m.byCategory.map((c) => c.category.length));
  return [
    `${'category'.padEnd(width)}  passed`,
    ...m.byCategory.map((c) => `${c.category.padEnd(width)}  ${percent(c.passed)}`),
    `${'overall'.padEnd(width)}  ${percent(m.passed)}`,
  ];
}

/** What {@link printReport} prints from: a run's metrics and results. */
export interface PrintableRun {
  metrics: ConversationMetrics;
  results: readonly {
    id: string;
    category: string;
    passed: boolean;
    failures: string[];
    seen: string;
    turns: { text: string; replies: string[] }[];
  }[];
}

/**
 * Prints the targets, the per-category table and, with `verbose`, every failed conversation with its exchange.
 *
 * @example
 * printReport(await runConversations(loadCorpus()), { verbose: true });
 */
export function printReport(run: PrintableRun, options: { verbose?: boolean } = {}): void {
  console.log(formatTargets(run.metrics).join('\n'));
  console.log('');
  console.log(formatCategories(run.metrics).join('\n'));
  const failed = run.results.filter((r) => !r.passed);
  if (!options.verbose) {
    if (failed.length > 0) console.log(`\n${failed.length} failed; --verbose prints them.`);
    return;
  }
  for (const r of failed) {
    console.log(`\n✗ ${r.id} [${r.category}] seen: ${r.seen}`);
    for (const why of r.failures) console.log(`    - ${why}`);
    for (const t of r.turns) {
      console.log(`    > ${t.text}`);
      for (const reply of t.replies) console.log(`      < ${reply}`);
      if (t.replies.length === 0) console.log('      < (no reply)');
    }
  }
}
