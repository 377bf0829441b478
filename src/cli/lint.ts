/**
 * `smsflow lint`: checks a bot before it meets customers or a carrier reviewer: flow structure (unreachable
 * states, dead ends), reply templates (segment budget, GSM-7, URL shorteners, shouting), intents without
 * examples, and the program details carriers vet (CTIA Messaging Principles and Best Practices; 10DLC
 * campaign registration: brand, HELP contact, opt-in description, frequency, "Msg & data rates may apply").
 */
import type { AnyStateNode } from 'xstate';
import type { Bot } from '../core/bot.js';
import type { FlowDefinition } from '../core/flow.js';
import { measureSegments } from '../core/segments.js';
import { type CliIo, parseCommand } from './args.js';
import { loadBot } from './load-bot.js';

/** Help text of `smsflow lint`. */
export const lintHelp = `Usage: smsflow lint <flow|bot.ts> [--json]

Checks every flow of a bot: unreachable states, states with no way out, templates over their
segment budget or not GSM-7, URL shorteners, all-caps shouting, intents without examples, and
the carrier basics (program name, help contact, opt-in description, message frequency, the
disclosures in the opt-in confirmation and HELP reply). Exit 1 on errors, 0 with warnings only.

Options:
  --json       print the findings as JSON
  -h, --help   show this help
`;

/** One finding of {@link lintBot}. */
export interface LintFinding {
  level: 'error' | 'warning';
  /** Stable rule id (`unreachable-state`, `segment-budget`, …). */
  rule: string;
  /** Where: `booking.askTime`, `booking.messages.confirm`, `program.helpContact`. */
  where: string;
  message: string;
}

// Carriers filter public shorteners (CTIA; T-Mobile and AT&T 10DLC code of conduct): use a branded domain.
const SHORTENERS = [
  'bit.ly',
  'tinyurl.com',
  't.co',
  'goo.gl',
  'ow.ly',
  'is.gd',
  'buff.ly',
  'rebrand.ly',
  'cutt.ly',
];
const SHORTENER = new RegExp(
  `(^|[^A-Za-z0-9.-])(${SHORTENERS.map((d) => d.replace('.', '\\.')).join('|')})(/|\\b)`,
  'i',
);
// Keywords carriers expect in capitals are not shouting.
const ALLOWED_CAPS = new Set(['HELP', 'STOP', 'YES', 'NO', 'START']);

// Realistic long values for placeholders, as in the segment lint test: a template must fit with them filled.
const SAMPLES: { [name: string]: string } = {
  menu: '1 Haircut, 2 Color, 3 Blowout',
  service: 'Blowout',
  slot: 'Wed Nov 25 at 10:30 AM',
  alt1: 'Wed Nov 25 at 10:30 AM',
  alt2: 'Thu Nov 26 at 11:30 AM',
  day: 'Fri Nov 27',
  hours: 'Tue-Fri 9:00 AM-6:00 PM, Sat 9:00 AM-4:00 PM',
  days: '90',
  amount: '$25',
  url: 'https://pay.example.com/p/abc123',
  minutes: '30',
  name: 'Alexandra',
  program: 'Bella Salon',
};

/**
 * Lints a bot. Pure apart from stepping the bot (which is pure) to read its compliance replies.
 *
 * @param bot - the bot to check
 * @returns findings, errors first
 * @example
 * const errors = lintBot(bot).filter((f) => f.level === 'error');
 */
export function lintBot(bot: Bot): LintFinding[] {
  const findings: LintFinding[] = [];
  const add = (level: LintFinding['level'], rule: string, where: string, message: string) =>
    findings.push({ level, rule, where, message });
  for (const flow of bot.flows.values()) {
    lintMachine(flow, add);
    lintTemplates(flow, add);
    lintIntents(flow, add);
  }
  lintProgram(bot, add);
  return findings.sort((a, b) => (a.level === b.level ? 0 : a.level === 'error' ? -1 : 1));
}

type Add = (level: LintFinding['level'], rule: string, where: string, message: string) => void;

function lintMachine(flow: FlowDefinition, add: Add): void {
  const root = flow.machine.root;
  const all: AnyStateNode[] = [];
  const collect = (node: AnyStateNode) => {
    for (const child of Object.values(node.states) as AnyStateNode[]) {
      all.push(child);
      collect(child);
    }
  };
  collect(root);
  // Reachable: the root's initial state, every transition target from a reachable node, with the target's
  // ancestors and its initial descendants (entering a compound state enters its initial child).
  const reached = new Set<AnyStateNode>();
  const queue: AnyStateNode[] = [root];
  const enter = (node: AnyStateNode) => {
    for (let n: AnyStateNode | undefined = node; n; n = n.parent) {
      if (!reached.has(n)) {
        reached.add(n);
        queue.push(n);
      }
    }
    if (node.type === 'parallel') for (const c of Object.values(node.states) as AnyStateNode[]) enter(c);
    const initial = node.initial?.target?.[0] as AnyStateNode | undefined;
    if (initial) enter(initial);
  };
  enter(root);
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const t of outgoing(node)) for (const target of t.target ?? []) enter(target);
  }
  const name = (n: AnyStateNode) => `${flow.id}.${n.path.join('.')}`;
  for (const node of all) {
    if (!reached.has(node)) {
      add(
        'error',
        'unreachable-state',
        name(node),
        'no transition leads here; remove the state or add a way in.',
      );
    }
  }
  for (const node of all) {
    if (node.type !== 'atomic' || !reached.has(node)) continue;
    // Transitions of the node and its ancestors apply; the machine-wide ones (root) are escapes like
    // thread.resume, which need a person first, so they do not count as a way forward.
    let exits = 0;
    for (let n: AnyStateNode | undefined = node; n && n !== root; n = n.parent) exits += outgoing(n).length;
    if (exits === 0) {
      add(
        'warning',
        'dead-end',
        name(node),
        'not final and has no transitions: a customer here is stuck until a person steps in. Add a transition or make it type: "final".',
      );
    }
  }
}

function outgoing(node: AnyStateNode): { target?: readonly AnyStateNode[] | undefined }[] {
  const list: { target?: readonly AnyStateNode[] | undefined }[] = [];
  for (const ts of node.transitions.values()) list.push(...ts);
  list.push(...(node.always ?? []));
  return list;
}

function lintTemplates(flow: FlowDefinition, add: Add): void {
  for (const [key, template] of Object.entries(flow.messages)) {
    const where = `${flow.id}.messages.${key}`;
    const text = template.replace(/\{(\w+)\}/g, (_, n: string) => SAMPLES[n] ?? 'x'.repeat(12));
    const budget = flow.segmentBudgets?.[key] ?? flow.segmentBudget ?? 1;
    const m = measureSegments(text);
    if (m.encoding !== 'GSM-7') {
      add(
        'error',
        'gsm7',
        where,
        'is UCS-2 (a character outside GSM 03.38: curly quotes, emoji, accents), which halves the size of a segment. Use plain characters.',
      );
    }
    if (m.segments > budget) {
      add(
        'error',
        'segment-budget',
        where,
        `is ${m.segments} segments with sample values, over its budget of ${budget}. Shorten it or raise segmentBudgets.${key}.`,
      );
    }
    const short = SHORTENER.exec(template);
    if (short) {
      add(
        'error',
        'url-shortener',
        where,
        `uses the public shortener ${short[2]}, which carriers filter. Use a link on your own domain.`,
      );
    }
    const shouting = /\b([A-Z]{3,})(?:[^A-Za-z]+[A-Z]{3,}){2,}\b/.exec(
      template.replace(/\b[A-Z]{3,}\b/g, (w) => (ALLOWED_CAPS.has(w) ? '·' : w)),
    );
    if (shouting) {
      add(
        'warning',
        'all-caps',
        where,
        `shouts ("${shouting[0]}"): carriers flag all-caps runs as spam. Write it in sentence case.`,
      );
    }
  }
}

function lintIntents(flow: FlowDefinition, add: Add): void {
  const keywordIntents = new Set(Object.values(flow.keywords ?? {}));
  for (const intent of flow.intents ?? []) {
    if ((flow.intentExamples?.[intent]?.length ?? 0) === 0 && !keywordIntents.has(intent)) {
      add(
        'warning',
        'intent-examples',
        `${flow.id}.intents.${intent}`,
        `has no intentExamples and no keyword, so nothing can start the flow with it. Add a few example texts.`,
      );
    }
  }
}

function lintProgram(bot: Bot, add: Add): void {
  const p = bot.config.program;
  if (!p.name || p.name.trim().length < 2)
    add(
      'error',
      'program-name',
      'program.name',
      'is missing: HELP and STOP replies must name the brand or program.',
    );
  if (!p.helpContact || p.helpContact.trim().length < 3)
    add(
      'error',
      'help-contact',
      'program.helpContact',
      'is missing: the HELP reply must say how to reach a person.',
    );
  if (!p.optInDescription)
    add(
      'warning',
      'opt-in-description',
      'program.optInDescription',
      'is missing: campaign registration asks how customers opt in (e.g. "Customers text us first").',
    );
  if (!p.frequency)
    add(
      'warning',
      'frequency',
      'program.frequency',
      'is missing: the default "Msg frequency varies" is used; state the real frequency if you know it.',
    );
  // Read the texts the bot actually sends, so overrides in complianceMessages are checked too.
  const base = { from: '+14155550100', to: '+14155550199', receivedAt: '2026-11-24T17:00:00Z' };
  const help = bot.step(undefined, { ...base, id: 'lint-help', text: 'HELP' }).replies[0]?.text ?? '';
  const stop = bot.step(undefined, { ...base, id: 'lint-stop', text: 'STOP' });
  const start = bot.step(stop.state, { ...base, id: 'lint-start', text: 'START' }).replies[0]?.text ?? '';
  for (const required of ['Msg & data rates may apply', 'HELP', 'STOP']) {
    if (!start.includes(required))
      add(
        'error',
        'opt-in-disclosure',
        'complianceMessages.optIn',
        `the opt-in confirmation lacks "${required}" (CTIA): "${start}".`,
      );
  }
  if (!help.includes('STOP') || (p.name && !help.includes(p.name)))
    add(
      'error',
      'help-text',
      'complianceMessages.help',
      `the HELP reply must name the program and say how to opt out (STOP): "${help}".`,
    );
  if (!stop.replies[0]?.text)
    add(
      'error',
      'stop-text',
      'complianceMessages.optOut',
      'STOP gets no confirmation; carriers require one.',
    );
}

/**
 * Runs `smsflow lint`. Returns 1 when there are errors, else 0.
 *
 * @example
 * process.exitCode = await runLint(['./bot.ts'], processIo);
 */
export async function runLint(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand(argv, { json: { type: 'boolean' } }, 1);
  if (values.help) {
    io.out(lintHelp);
    return 0;
  }
  const findings = lintBot(await loadBot(positionals[0]!));
  const errors = findings.filter((f) => f.level === 'error').length;
  if (values.json)
    io.out(`${JSON.stringify({ errors, warnings: findings.length - errors, findings }, null, 2)}\n`);
  else {
    for (const f of findings) io.out(`${f.level.padEnd(7)} ${f.rule.padEnd(19)} ${f.where}: ${f.message}\n`);
    io.out(`${errors} error(s), ${findings.length - errors} warning(s)\n`);
  }
  return errors > 0 ? 1 : 0;
}
