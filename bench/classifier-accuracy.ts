/**
 * Classifier accuracy and speed on the salon intents: trains on `examples`, scores the held-out paraphrases
 * (`heldOut`, and `heldOutFresh`, written after the classifier was frozen). Run: `npx tsx bench/classifier-accuracy.ts`.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { type IntentExamples, trainClassifier } from '../src/core/classifier.js';

/** The intent fixture: training examples and held-out `[text, intent]` pairs. */
export interface IntentFixture {
  examples: IntentExamples;
  heldOut: [string, string][];
  heldOutFresh?: [string, string][];
}

/** What {@link runClassifierAccuracy} measured. */
export interface ClassifierAccuracyReport {
  trainingExamples: number;
  intents: number;
  /** Accuracy on `heldOut` (0..1). */
  accuracy: number;
  correct: number;
  total: number;
  /** Accuracy on `heldOutFresh` (0..1), or null when the fixture has none. */
  freshAccuracy: number | null;
  /** Share of correct held-out answers at or above the default understanding threshold 0.6. */
  confidentShare: number;
  /** Share of wrong held-out answers at or above 0.6 (these would skip the clarifying question). */
  confidentWrongShare: number;
  /** Training time, CPU milliseconds of this process (not inflated by other processes on a busy machine). */
  trainMs: number;
  /** Mean classify time per message, CPU milliseconds. */
  classifyMs: number;
  misses: { text: string; expected: string; got: string | null; confidence: number }[];
}

/**
 * Loads `test/fixtures/intents/salon.json` (or `fixture`), trains, and measures accuracy and timing.
 * @example const { accuracy } = runClassifierAccuracy(); // ≥ 0.9
 */
export function runClassifierAccuracy(fixture?: IntentFixture): ClassifierAccuracyReport {
  const data: IntentFixture =
    fixture ??
    JSON.parse(readFileSync(new URL('../test/fixtures/intents/salon.json', import.meta.url), 'utf8'));
  // Warm up once so the figure is the steady state a long-running server sees, not JIT compilation.
  trainClassifier(data.examples);
  const t0 = process.cpuUsage();
  const trainRounds = 5;
  for (let i = 0; i < trainRounds - 1; i++) trainClassifier(data.examples);
  const classifier = trainClassifier(data.examples);
  const trainMs = cpuMs(t0) / trainRounds;

  const misses: ClassifierAccuracyReport['misses'] = [];
  let correct = 0;
  let confident = 0;
  let confidentWrong = 0;
  for (const [text, expected] of data.heldOut) {
    const r = classifier.classify(text);
    if (r.intent === expected) {
      correct++;
      if (r.confidence >= 0.6) confident++;
    } else {
      if (r.confidence >= 0.6) confidentWrong++;
      misses.push({ text, expected, got: r.intent, confidence: r.confidence });
    }
  }
  const fresh = data.heldOutFresh ?? [];
  const freshCorrect = fresh.filter(
    ([text, expected]) => classifier.classify(text).intent === expected,
  ).length;

  const texts = [...data.heldOut, ...fresh].map(([t]) => t);
  const rounds = 20;
  const t1 = process.cpuUsage();
  for (let i = 0; i < rounds; i++) for (const t of texts) classifier.classify(t);
  const classifyMs = cpuMs(t1) / (rounds * texts.length);

  const total = data.heldOut.length;
  return {
    trainingExamples: Object.values(data.examples).reduce((n, list) => n + list.length, 0),
    intents: Object.keys(data.examples).length,
    accuracy: correct / total,
    correct,
    total,
    freshAccuracy: fresh.length ? freshCorrect / fresh.length : null,
    confidentShare: correct ? confident / correct : 0,
    confidentWrongShare: total - correct ? confidentWrong / (total - correct) : 0,
    trainMs,
    classifyMs,
    misses,
  };
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = runClassifierAccuracy();
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
  console.log(`intents ${r.intents}, training examples ${r.trainingExamples}`);
  console.log(
    `held-out accuracy ${pct(r.accuracy)} (${r.correct}/${r.total}); fresh held-out ${pct(r.freshAccuracy)}`,
  );
  console.log(
    `correct with confidence >= 0.6: ${pct(r.confidentShare)}; wrong with confidence >= 0.6: ${pct(r.confidentWrongShare)}`,
  );
  console.log(
    `train ${r.trainMs.toFixed(2)} ms CPU; classify ${(r.classifyMs * 1000).toFixed(1)} µs CPU/message`,
  );
  for (const m of r.misses)
    console.log(`  miss: "${m.text}" expected ${m.expected}, got ${m.got} (${m.confidence})`);
}
