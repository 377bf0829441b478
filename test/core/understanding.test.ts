import { describe, expect, it } from 'vitest';
import type { LlmAdapter, LlmTrace } from '../../src/adapters/llm/types.js';
import { trainClassifier } from '../../src/core/classifier.js';
import { understand, understandByRules } from '../../src/core/understanding.js';
import salon from '../fixtures/intents/salon.json' with { type: 'json' };

const intents = Object.keys(salon.examples);
const classifier = trainClassifier(salon.examples);
const keywords = [
  { pattern: 'HUMAN', intent: 'human' },
  { pattern: 'agent', intent: 'human' },
  { pattern: '1', intent: 'book' },
  { pattern: /^menu\b/i, intent: 'services' },
];

/** A scripted model that records what it was asked. */
function fakeLlm(answer: { intent: string | null; confidence: number }, outcome: LlmTrace['outcome'] = 'ok') {
  const calls: { text: string; intents: readonly string[] }[] = [];
  const llm: LlmAdapter = {
    name: 'fake',
    async classify(text, allowed) {
      calls.push({ text, intents: allowed });
      return { ...answer, trace: { model: 'fake', latencyMs: 1, outcome, maskedInput: text } };
    },
    async extract() {
      return { value: null, trace: { model: 'fake', latencyMs: 1, outcome: 'ok', maskedInput: '' } };
    },
  };
  return { llm, calls };
}

describe('understandByRules (pure)', () => {
  it('matches string keywords as the whole message, case-insensitively, ignoring trailing punctuation', () => {
    for (const text of ['HUMAN', 'human', '  Agent! ', '1', '1.']) {
      expect(understandByRules(text, { intents, keywords })).toMatchObject({
        source: 'rules',
        confidence: 1,
      });
    }
    expect(understandByRules('1', { intents, keywords })?.intent).toBe('book');
    // A keyword inside a sentence is not a keyword match (the classifier may still understand it).
    expect(understandByRules('is a human there', { intents, keywords })?.source).not.toBe('rules');
    expect(understandByRules('11', { intents, keywords })?.source).not.toBe('rules');
  });

  it('tests RegExp rules, and a /g RegExp gives the same answer every time', () => {
    const g = [{ pattern: /menu/gi, intent: 'services' }];
    expect(understandByRules('Menu please', { intents, keywords })?.intent).toBe('services');
    for (let i = 0; i < 3; i++)
      expect(understandByRules('menu', { intents, keywords: g })?.source).toBe('rules');
  });

  it('uses the first matching rule', () => {
    const rules = [
      { pattern: 'stop by', intent: 'faq.walk_ins' },
      { pattern: /stop/i, intent: 'human' },
    ];
    expect(understandByRules('stop by', { intents, keywords: rules })?.intent).toBe('faq.walk_ins');
  });

  it('falls through to the classifier, with alternatives', () => {
    const u = understandByRules('when do you open on saturday', { intents, classifier });
    expect(u).toMatchObject({ intent: 'hours', source: 'classifier' });
    expect(u!.confidence).toBeGreaterThan(0);
  });

  it('only returns intents the bot allows, even from a classifier trained on more', () => {
    const u = understandByRules('what time do you close', { intents: ['book', 'prices'], classifier });
    expect(u === null || ['book', 'prices'].includes(u.intent as string)).toBe(true);
    expect(u?.intent).not.toBe('hours');
  });

  it('returns null when nothing matches and there is no classifier', () => {
    expect(understandByRules('hello?', { intents })).toBeNull();
  });

  it('is deterministic', () => {
    const a = understandByRules('can i move my appt', { intents, classifier, keywords });
    const b = understandByRules('can i move my appt', { intents, classifier, keywords });
    expect(a).toEqual(b);
  });
});

describe('understand (rules → classifier → llm)', () => {
  it('does not call the model when a rule matches or the classifier is confident', async () => {
    const { llm, calls } = fakeLlm({ intent: 'book', confidence: 1 });
    expect(await understand('AGENT', { intents, keywords, classifier, llm })).toMatchObject({
      intent: 'human',
      source: 'rules',
    });
    const u = await understand('what is your cancellation policy', { intents, classifier, llm });
    expect(u).toMatchObject({ intent: 'faq.cancellation_policy', source: 'classifier' });
    expect(u.confidence).toBeGreaterThanOrEqual(0.6);
    expect(calls).toHaveLength(0);
  });

  it('asks the model below the threshold and uses an allowed, more confident answer', async () => {
    const { llm, calls } = fakeLlm({ intent: 'reschedule', confidence: 0.9 });
    const traces: LlmTrace[] = [];
    const u = await understand('could we shuffle things around a bit', {
      intents,
      classifier,
      llm,
      context: { flow: 'booking' },
      onTrace: (t) => traces.push(t),
    });
    expect(u).toMatchObject({ intent: 'reschedule', confidence: 0.9, source: 'llm' });
    expect(u.alternatives?.map((a) => a.intent)).not.toContain('reschedule');
    expect(calls).toEqual([{ text: 'could we shuffle things around a bit', intents }]);
    expect(traces).toHaveLength(1);
  });

  it('keeps the classifier answer when the model is less confident, returns null, or fails', async () => {
    const text = 'could we shuffle things around a bit';
    const off = await understand(text, { intents, classifier });
    for (const [answer, outcome] of [
      [{ intent: 'reschedule', confidence: 0.01 }, 'ok'],
      [{ intent: null, confidence: 0 }, 'invalid_output'],
      [{ intent: null, confidence: 0 }, 'timeout'],
    ] as const) {
      const { llm } = fakeLlm(answer, outcome);
      expect(await understand(text, { intents, classifier, llm })).toEqual(off);
    }
  });

  it('with no classifier, the model alone decides; with no model, nothing is understood', async () => {
    const { llm } = fakeLlm({ intent: 'prices', confidence: 0.7 });
    expect(await understand('how much', { intents, llm })).toEqual({
      intent: 'prices',
      confidence: 0.7,
      source: 'llm',
    });
    expect(await understand('how much', { intents })).toEqual({
      intent: null,
      confidence: 0,
      source: 'none',
    });
  });

  it('keeps the candidates for a clarifying question when nothing reaches the threshold', async () => {
    const u = await understand('change', { intents, classifier, threshold: 0.99 });
    expect(u.confidence).toBeLessThan(0.99);
    const offered = [u.intent, ...(u.alternatives ?? []).map((a) => a.intent)].filter(Boolean);
    expect(offered.length).toBeGreaterThan(0);
    expect(offered.every((i) => intents.includes(i as string))).toBe(true);
  });

  it('does not call the model when there are no intents, and survives a throwing trace sink', async () => {
    const { llm, calls } = fakeLlm({ intent: 'book', confidence: 1 });
    expect(await understand('x', { intents: [], llm })).toMatchObject({ intent: null, source: 'none' });
    expect(calls).toHaveLength(0);
    const onTrace = () => {
      throw new Error('sink down');
    };
    expect(await understand('zzz', { intents, llm, onTrace })).toMatchObject({
      intent: 'book',
      source: 'llm',
    });
  });
});
