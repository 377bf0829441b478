/**
 * The understanding pipeline, "rules first, model second" (ARCHITECTURE.md "Understanding"):
 * compliance keywords (handled by step, before this) → the bot's keyword rules → the built-in classifier →
 * an LLM adapter, only when configured and only when the classifier is below the threshold.
 * `understandByRules` is pure; `understand` is the one async function and the only place that awaits a model.
 * A model can only ever choose one of the bot's intents: it never picks a state or triggers an action.
 */
// Type-only import: erased at build time, so the core still loads no adapter code.
import type { LlmAdapter, LlmContext, LlmTrace } from '../adapters/llm/types.js';
import type { Classification, Classifier } from './classifier.js';
import type { Understanding } from './types.js';

/**
 * A keyword rule of the bot. A string matches when it is the whole message (trimmed, case-insensitive,
 * trailing punctuation ignored): `HUMAN`, `AGENT`, `1`. A RegExp is tested against the trimmed message.
 */
export interface KeywordRule {
  pattern: string | RegExp;
  intent: string;
}

/** Options for {@link understand} and {@link understandByRules}. */
export interface UnderstandOptions {
  /** Checked first, in order; the first match wins with confidence 1. */
  keywords?: KeywordRule[];
  /** The built-in classifier trained on the bot's examples (see `trainClassifier`). */
  classifier?: Classifier;
  /** Asked only when the classifier's confidence is below `threshold`. */
  llm?: LlmAdapter;
  /**
   * Confidence at or above which the classifier's answer is taken without asking the model.
   * @default 0.6
   */
  threshold?: number;
  /** The intents the bot knows. Classifier and model answers outside this list are discarded. */
  intents: readonly string[];
  /** Flow and state names for the model's orientation. Never secrets or phone numbers. */
  context?: LlmContext;
  /** Receives every LLM trace (masked input only), to record as an `llm` transcript event. */
  onTrace?: (trace: LlmTrace) => void;
  /** Cancels a pending model call (the adapter also has its own timeout). */
  signal?: AbortSignal;
}

/** The default confidence threshold. */
export const DEFAULT_UNDERSTANDING_THRESHOLD = 0.6;

const NOT_UNDERSTOOD: Understanding = { intent: null, confidence: 0, source: 'none' };

/**
 * Keyword rules, then the classifier. Pure and deterministic. Returns the classifier's best allowed intent
 * even below the threshold (with runner-ups in `alternatives`), so the caller can ask a clarifying question;
 * returns null when no rule matched and the classifier found no allowed intent.
 *
 * @param text The inbound text (after compliance handling).
 * @param options Rules, classifier and the allowed intents.
 * @returns An {@link Understanding} with source `rules` or `classifier`, or null.
 * @example
 * understandByRules('AGENT', { intents: ['human'], keywords: [{ pattern: 'agent', intent: 'human' }] })
 * // { intent: 'human', confidence: 1, source: 'rules' }
 */
export function understandByRules(
  text: string,
  options: Omit<UnderstandOptions, 'llm' | 'onTrace' | 'signal'>,
): Understanding | null {
  const body = typeof text === 'string' ? text : '';
  const rule = matchKeyword(body, options.keywords ?? []);
  if (rule) return { intent: rule, confidence: 1, source: 'rules' };
  const c = classifyAllowed(body, options);
  if (!c?.intent) return null;
  const result: Understanding = { intent: c.intent, confidence: c.confidence, source: 'classifier' };
  if (c.alternatives.length > 0) result.alternatives = c.alternatives;
  return result;
}

/**
 * The full pipeline: keyword rules → classifier → LLM (only when configured and the classifier's confidence
 * is below `threshold`) → the best answer. The model's answer is used only when it is one of `intents` and
 * more confident than the classifier; a timeout, error or invalid answer falls back to the rules-only result.
 * Never throws because of the model.
 *
 * @param text The inbound text (after compliance handling).
 * @param options See {@link UnderstandOptions}.
 * @returns The recorded {@link Understanding}; `intent: null, source: 'none'` when nothing was understood.
 * @example
 * const u = await understand('can i move my appt', { intents: ['book', 'reschedule'], classifier, llm });
 * if (u.intent && u.confidence >= 0.6) routeTo(u.intent); else askClarifyingQuestion(u.alternatives);
 */
export async function understand(text: string, options: UnderstandOptions): Promise<Understanding> {
  const threshold = options.threshold ?? DEFAULT_UNDERSTANDING_THRESHOLD;
  const byRules = understandByRules(text, options);
  if (byRules && (byRules.source === 'rules' || byRules.confidence >= threshold)) return byRules;
  const fallback = byRules ?? notUnderstood(text, options);
  const allowed = options.intents ?? [];
  if (!options.llm || allowed.length === 0) return fallback;

  const started = Date.now();
  let answer: { intent: string | null; confidence: number } | null = null;
  try {
    const r = await options.llm.classify(
      typeof text === 'string' ? text : '',
      allowed,
      options.context ?? {},
      options.signal,
    );
    safeTrace(options, r?.trace);
    answer = r;
  } catch {
    // A custom adapter broke the never-throw contract: record it and carry on as "not understood".
    safeTrace(options, {
      model: options.llm.name,
      latencyMs: Date.now() - started,
      outcome: 'error',
      maskedInput: '',
    });
  }
  // Checked again here, whatever the adapter claims: only an allowed intent with a sane confidence counts.
  if (!answer || typeof answer.intent !== 'string' || !allowed.includes(answer.intent)) return fallback;
  const confidence = Number.isFinite(answer.confidence) ? Math.min(1, Math.max(0, answer.confidence)) : 0;
  if (confidence <= fallback.confidence) return fallback;
  const result: Understanding = { intent: answer.intent, confidence, source: 'llm' };
  const alternatives = [
    ...(fallback.intent ? [{ intent: fallback.intent, confidence: fallback.confidence }] : []),
    ...(fallback.alternatives ?? []),
  ].filter((a) => a.intent !== answer.intent);
  if (alternatives.length > 0) result.alternatives = alternatives;
  return result;
}

/** Nothing matched: keep the classifier's candidates (if any) so a clarifying question can offer them. */
function notUnderstood(text: string, options: UnderstandOptions): Understanding {
  const c = classifyAllowed(typeof text === 'string' ? text : '', options);
  return c && c.alternatives.length > 0
    ? { ...NOT_UNDERSTOOD, alternatives: c.alternatives }
    : { ...NOT_UNDERSTOOD };
}

/** Runs the classifier and drops intents the bot does not allow (a classifier may be shared between bots). */
function classifyAllowed(
  text: string,
  options: Pick<UnderstandOptions, 'classifier' | 'intents'>,
): Classification | null {
  if (!options.classifier) return null;
  let c: Classification;
  try {
    c = options.classifier.classify(text);
  } catch {
    return null;
  }
  const allowed = new Set(options.intents ?? []);
  const ranked = [
    ...(c.intent ? [{ intent: c.intent, confidence: c.confidence }] : []),
    ...c.alternatives,
  ].filter((a) => allowed.has(a.intent));
  if (c.intent && allowed.has(c.intent)) return { ...c, alternatives: ranked.slice(1) };
  return { intent: null, confidence: 0, alternatives: ranked };
}

function matchKeyword(text: string, rules: readonly KeywordRule[]): string | null {
  const trimmed = text.trim();
  // "HUMAN!" and "agent." still match: SMS users add punctuation to one-word replies.
  const bare = trimmed.replace(/[\s.!?,;:]+$/u, '').toLocaleLowerCase();
  for (const rule of rules) {
    if (typeof rule.pattern === 'string') {
      if (bare !== '' && bare === rule.pattern.trim().toLocaleLowerCase()) return rule.intent;
    } else if (rule.pattern instanceof RegExp) {
      if (statelessCopy(rule.pattern).test(trimmed)) return rule.intent;
    }
  }
  return null;
}

const statelessCopies = new WeakMap<RegExp, RegExp>();

/**
 * The pattern without its /g and /y flags, made once per pattern: with them, `test` would start at the
 * `lastIndex` the previous call left, which would break purity. Without them `test` keeps no state, so one
 * copy serves every message (a fresh RegExp per rule per message was a few percent of a step).
 */
function statelessCopy(pattern: RegExp): RegExp {
  let copy = statelessCopies.get(pattern);
  if (copy === undefined) {
    copy = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
    statelessCopies.set(pattern, copy);
  }
  return copy;
}

function safeTrace(options: UnderstandOptions, trace: LlmTrace | undefined): void {
  if (!trace || !options.onTrace) return;
  try {
    options.onTrace(trace);
  } catch {
    // A failing trace sink must not change what was understood.
  }
}

/**
 * The model-safety invariant, for tests: with a model on, the result is either exactly the model-off result,
 * or an allowed intent chosen by the model (source `llm`) and nothing else (no entities). Pure.
 *
 * @param modelOff `understand(text, { ...options, llm: undefined })`.
 * @param modelOn `understand(text, options)` with the model.
 * @param intents The bot's allowed intents.
 * @returns True when the model stayed within bounds.
 * @example expect(isWithinModelBounds(off, on, intents)).toBe(true);
 */
export function isWithinModelBounds(
  modelOff: Understanding,
  modelOn: Understanding,
  intents: readonly string[],
): boolean {
  if (JSON.stringify(modelOn) === JSON.stringify(modelOff)) return true;
  return (
    modelOn.source === 'llm' &&
    typeof modelOn.intent === 'string' &&
    intents.includes(modelOn.intent) &&
    modelOn.entities === undefined &&
    modelOn.confidence >= 0 &&
    modelOn.confidence <= 1 &&
    (modelOn.alternatives ?? []).every((a) => intents.includes(a.intent))
  );
}
