/**
 * The built-in offline intent classifier (ARCHITECTURE.md "Understanding", stage 3): TF-IDF over normalised
 * word unigrams, word bigrams and character 3/4-grams (so typos and SMS spellings still overlap), scored by
 * cosine similarity against each intent's examples (nearest neighbours) and centroid. Pure, deterministic,
 * no dependencies, no network. Training ~200 examples takes a few milliseconds.
 */
import { SmsflowError } from './errors.js';

/** Training data: example utterances per intent name. */
export interface IntentExamples {
  [intent: string]: string[];
}

/** One scored candidate intent. */
export interface IntentScore {
  intent: string;
  /** 0..1. */
  confidence: number;
}

/**
 * What the classifier concluded. `intent` is null when nothing in the text resembles the training data or the
 * confidence is below `minConfidence`. `alternatives` are the other candidates, best first (all candidates
 * when `intent` is null), for a clarifying question.
 */
export interface Classification {
  intent: string | null;
  confidence: number;
  alternatives: IntentScore[];
}

/** A trained classifier. `classify` is pure and never throws. */
export interface Classifier {
  classify(text: string): Classification;
  /** The intents it was trained on, in training order. */
  readonly intents: readonly string[];
}

/** Options for {@link trainClassifier}. */
export interface TrainClassifierOptions {
  /**
   * Below this confidence `classify` returns `intent: null` (the candidates stay in `alternatives`).
   * @default 0.1
   */
  minConfidence?: number;
}

// Caps keep classify O(1) on a 10,000-char body: no intent needs more than the first few dozen words.
const MAX_CHARS = 1000;
const MAX_TOKENS = 48;
const MAX_TOKEN_LENGTH = 24;
const MAX_ALTERNATIVES = 3;

// Relative weights of the three feature families (tuned by leave-one-out on the training examples only).
const WORD_WEIGHT = 1;
const BIGRAM_WEIGHT = 0.3;
const CHAR_WEIGHT = 0.3;
// Score = blend of nearest-example similarity and centroid similarity; confidence = softmax share × strength.
const KNN_SHARE = 0.2;
const ICF_POWER = 0.5;
const SOFTMAX_TEMPERATURE = 0.06;
const STRENGTH_AT_HALF = 0.1;

// Words that carry no intent on their own; question words ("when", "where", "how") are kept on purpose.
const STOP_WORDS = new Set([
  'a',
  'an',
  'the',
  'i',
  'me',
  'my',
  'it',
  'is',
  'am',
  'be',
  'and',
  'or',
  'to',
  'of',
]);
const STOP_WORDS_ALL = new Set([...STOP_WORDS, 'please', 'thanks', 'thank', 'so', 'um', 'ok', 'okay']);

// Common SMS spellings, mapped before stemming so "u r open?" meets "are you open".
const SMS_SPELLINGS: Record<string, string> = {
  u: 'you',
  r: 'are',
  ur: 'your',
  pls: 'please',
  plz: 'please',
  thx: 'thanks',
  appt: 'appointment',
  appts: 'appointment',
  tmrw: 'tomorrow',
  tmr: 'tomorrow',
  tmrow: 'tomorrow',
  wanna: 'want',
  gonna: 'going',
  hrs: 'hours',
  hr: 'hour',
  wat: 'what',
  wht: 'what',
  whats: 'what',
  wheres: 'where',
  im: 'i',
  dont: 'do',
  cant: 'can',
  wont: 'will',
  yall: 'you',
  ya: 'you',
  b4: 'before',
};

const WEEKDAYS = new Set(
  'monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun'.split(
    ' ',
  ),
);

/**
 * Lower-cases, folds accents and compatibility forms, drops apostrophes and punctuation, maps SMS spellings,
 * and caps length. Pure.
 * @example normalizeTokens("What's ur ADDRESS?") // ['what', 'your', 'address']
 */
export function normalizeTokens(text: string): string[] {
  const folded = String(text)
    .slice(0, MAX_CHARS)
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/['’`´]/g, '');
  const out: string[] = [];
  for (const raw of folded.split(/[^\p{L}\p{N}]+/u)) {
    if (raw === '') continue;
    const word = raw.slice(0, MAX_TOKEN_LENGTH);
    // Day names and numbers/times are slot values, not intent: "fri at 3" and "monday 10am" look alike.
    out.push(
      WEEKDAYS.has(word)
        ? 'weekday'
        : /^\d+(?:am|pm|h|st|nd|rd|th)?$/.test(word)
          ? 'num'
          : (SMS_SPELLINGS[word] ?? word),
    );
    if (out.length >= MAX_TOKENS) break;
  }
  return out;
}

/**
 * Light suffix stemming for English ("bookings" → "book", "closed"/"close" → "clos"); other scripts pass
 * through and rely on character n-grams. Pure.
 * @example stem('cancelling') // 'cancel'
 */
export function stem(word: string): string {
  let w = word;
  if (w.length <= 3 || !/^[a-z]+$/.test(w)) return w;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us')) w = w.slice(0, -1);
  if (w.endsWith('ing') && w.length > 5) w = w.slice(0, -3);
  else if (w.endsWith('ed') && w.length > 4) w = w.slice(0, -2);
  if (w.endsWith('e') && w.length > 4) w = w.slice(0, -1);
  // "cancell" → "cancel", "stopp" → "stop": doubled final consonant left by -ing/-ed.
  if (w.length > 3 && w.at(-1) === w.at(-2) && !/[aeiou]/.test(w.at(-1) ?? '')) w = w.slice(0, -1);
  return w;
}

/** Weighted feature counts of one text: `w:` unigrams, `b:` bigrams, `c:` character n-grams. */
function features(text: string): Map<string, number> {
  const tokens = normalizeTokens(text).map(stem);
  const feats = new Map<string, number>();
  const add = (key: string, weight: number): void => {
    feats.set(key, (feats.get(key) ?? 0) + weight);
  };
  for (const t of tokens) {
    if (STOP_WORDS_ALL.has(t)) continue;
    add(`w:${t}`, 1);
    for (const gram of charGrams(t)) add(gram, 1);
  }
  const content = tokens.filter((t) => !STOP_WORDS.has(t));
  for (let i = 0; i + 1 < content.length; i++) add(`b:${content[i]} ${content[i + 1]}`, 1);
  return feats;
}

// Character 3/4-grams of a word with boundary marks, memoised: SMS vocabulary is small and repetitive.
const gramCache = new Map<string, string[]>();
function charGrams(token: string): string[] {
  const cached = gramCache.get(token);
  if (cached) return cached;
  const padded = `#${token}#`;
  const grams: string[] = [];
  for (const n of [3, 4])
    for (let i = 0; i + n <= padded.length; i++) grams.push(`c:${padded.slice(i, i + n)}`);
  // Bounded, so a flood of distinct words cannot grow memory without limit.
  if (gramCache.size > 20_000) gramCache.clear();
  gramCache.set(token, grams);
  return grams;
}

function familyWeight(key: string): number {
  return key.startsWith('w:') ? WORD_WEIGHT : key.startsWith('b:') ? BIGRAM_WEIGHT : CHAR_WEIGHT;
}

interface Posting {
  doc: number;
  weight: number;
}

/**
 * Trains a classifier from example utterances. Pure and deterministic: the same examples (in the same order)
 * give the same classifier. Throws `SMSFLOW_ERR_INVALID_CONFIG` when there are no intents or an intent has no
 * non-empty example.
 *
 * @param examples Example utterances per intent; 10-20 varied examples per intent work well.
 * @param options `minConfidence` below which `classify` returns `intent: null`.
 * @returns A {@link Classifier} whose `classify` runs in well under a millisecond.
 * @example
 * const c = trainClassifier({ hours: ['when are you open'], location: ['where are you'] });
 * c.classify('what time do u open?').intent // 'hours'
 */
export function trainClassifier(examples: IntentExamples, options: TrainClassifierOptions = {}): Classifier {
  const minConfidence = options.minConfidence ?? 0.1;
  const intents = Object.keys(examples ?? {});
  const problems = intents.filter(
    (i) => !Array.isArray(examples[i]) || !examples[i]?.some((e) => typeof e === 'string' && e.trim()),
  );
  if (intents.length === 0 || problems.length > 0) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      intents.length === 0
        ? 'trainClassifier received no intents. Pass { intentName: ["example utterance", ...], ... }.'
        : `trainClassifier: intent(s) ${problems.map((p) => JSON.stringify(p)).join(', ')} have no non-empty example. Give each intent at least one example string.`,
    );
  }

  const docs: { intent: number; feats: Map<string, number> }[] = [];
  intents.forEach((intent, index) => {
    for (const text of examples[intent] ?? []) {
      if (typeof text === 'string' && text.trim()) docs.push({ intent: index, feats: features(text) });
    }
  });
  // df: examples containing a feature; cf: intents containing it. Docs are grouped by intent, so a feature's
  // class count goes up whenever it is seen under a new intent. Features shared by many intents ("appointment")
  // say little about which one is meant (TF-IDF-ICF weighting).
  const df = new Map<string, number>();
  const cf = new Map<string, number>();
  const lastIntent = new Map<string, number>();
  for (const d of docs) {
    for (const key of d.feats.keys()) {
      df.set(key, (df.get(key) ?? 0) + 1);
      if (lastIntent.get(key) !== d.intent) {
        lastIntent.set(key, d.intent);
        cf.set(key, (cf.get(key) ?? 0) + 1);
      }
    }
  }
  const n = docs.length;
  const icf = (classes: number): number => (Math.log((intents.length + 1) / classes) + 1) ** ICF_POWER;
  const weightOf = new Map<string, number>();
  for (const [key, count] of df) {
    weightOf.set(key, (Math.log((n + 1) / (count + 1)) + 1) * icf(cf.get(key) ?? 1) * familyWeight(key));
  }
  const unseenIdf = (Math.log(n + 1) + 1) * icf(1);

  // Unseen character n-grams still count in the query norm, so off-topic text scores low; unseen words and
  // bigrams do not, since a typo ("helo") is already represented by its character n-grams.
  const vectorize = (feats: Map<string, number>, known: boolean): Map<string, number> => {
    const v = new Map<string, number>();
    let norm = 0;
    for (const [key, count] of feats) {
      const idfWeight = weightOf.get(key);
      if (known && idfWeight === undefined && !key.startsWith('c:')) continue;
      const w = (1 + Math.log(count)) * (idfWeight ?? unseenIdf * CHAR_WEIGHT);
      norm += w * w;
      if (idfWeight !== undefined) v.set(key, w);
    }
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (const [k, w] of v) v.set(k, w * scale);
    return v;
  };

  const postings = new Map<string, Posting[]>();
  const centroidPostings = new Map<string, Posting[]>();
  const centroids = intents.map(() => new Map<string, number>());
  docs.forEach((d, doc) => {
    for (const [key, weight] of vectorize(d.feats, false)) {
      const list = postings.get(key) ?? [];
      list.push({ doc, weight });
      postings.set(key, list);
      const centroid = centroids[d.intent]!;
      centroid.set(key, (centroid.get(key) ?? 0) + weight);
    }
  });
  centroids.forEach((c, intent) => {
    const norm = Math.sqrt([...c.values()].reduce((s, w) => s + w * w, 0)) || 1;
    for (const [key, w] of c) {
      const list = centroidPostings.get(key) ?? [];
      list.push({ doc: intent, weight: w / norm });
      centroidPostings.set(key, list);
    }
  });
  const docIntent = Int32Array.from(docs.map((d) => d.intent));

  const classify = (text: string): Classification => {
    const query = vectorize(features(typeof text === 'string' ? text : ''), true);
    if (query.size === 0) return { intent: null, confidence: 0, alternatives: [] };
    const docSim = new Float64Array(n);
    const centroidSim = new Float64Array(intents.length);
    for (const [key, w] of query) {
      for (const p of postings.get(key) ?? []) docSim[p.doc]! += w * p.weight;
      for (const p of centroidPostings.get(key) ?? []) centroidSim[p.doc]! += w * p.weight;
    }
    // Nearest example per intent: one close paraphrase beats a vague resemblance to many.
    const best = new Float64Array(intents.length);
    for (let i = 0; i < n; i++) {
      const intent = docIntent[i]!;
      if (docSim[i]! > best[intent]!) best[intent] = docSim[i]!;
    }
    const scores = intents.map((_, i) => KNN_SHARE * best[i]! + (1 - KNN_SHARE) * centroidSim[i]!);
    return decide(intents, scores, minConfidence);
  };

  return { classify, intents: Object.freeze([...intents]) };
}

/** Turns similarity scores into a calibrated 0..1 confidence (softmax share × absolute strength). */
function decide(intents: readonly string[], scores: number[], minConfidence: number): Classification {
  const top = Math.max(...scores);
  if (!(top > 0)) return { intent: null, confidence: 0, alternatives: [] };
  const exps = scores.map((s) => Math.exp((s - top) / SOFTMAX_TEMPERATURE));
  const sum = exps.reduce((a, b) => a + b, 0);
  // Strength: a weak best match (few shared features) cannot be confident however clear the margin.
  const strength = top / (top + STRENGTH_AT_HALF);
  const ranked = intents
    .map((intent, i) => ({ intent, confidence: round((exps[i]! / sum) * strength * (scores[i]! / top)) }))
    .filter((s) => s.confidence > 0.01)
    // Ties break by training order, so the result is deterministic.
    .sort((a, b) => b.confidence - a.confidence || intents.indexOf(a.intent) - intents.indexOf(b.intent));
  const first = ranked[0];
  if (!first || first.confidence < minConfidence) {
    return {
      intent: null,
      confidence: first?.confidence ?? 0,
      alternatives: ranked.slice(0, MAX_ALTERNATIVES),
    };
  }
  return {
    intent: first.intent,
    confidence: first.confidence,
    alternatives: ranked.slice(1, 1 + MAX_ALTERNATIVES),
  };
}

function round(x: number): number {
  return Math.round(Math.min(1, Math.max(0, x)) * 1e4) / 1e4;
}
