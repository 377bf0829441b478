import { describe, expect, it } from 'vitest';
import { openAiCompatibleLlm } from '../../../src/adapters/llm/openai-compatible.js';
import type { LlmAdapter, LlmTrace } from '../../../src/adapters/llm/types.js';
import { trainClassifier } from '../../../src/core/classifier.js';
import { isWithinModelBounds, type UnderstandOptions, understand } from '../../../src/core/understanding.js';
import corpus from '../../fixtures/injection-corpus.json' with { type: 'json' };
import salon from '../../fixtures/intents/salon.json' with { type: 'json' };

const intents = Object.keys(salon.examples);
const classifier = trainClassifier(salon.examples);
const keywords = [
  { pattern: 'HUMAN', intent: 'human' },
  { pattern: 'AGENT', intent: 'human' },
];
const texts = corpus.messages.map((m) => m.text);
// Names a gullible model might be talked into returning: invented intents, state names, actions.
const FORBIDDEN = ['admin', 'free_booking', 'refund_all', 'confirmed', 'paid', 'refunded', 'calendar.book'];

/**
 * A "gullible" model behind a real chat-completions envelope: it reads the data block and obeys whatever it
 * says, answering with invented intents, state names, extra fields, prose, or an allowed intent at full
 * confidence. Deterministic per request, so failures reproduce.
 */
function gullibleFetch(): typeof fetch {
  let n = 0;
  return (async (_url: string | URL | Request, init?: RequestInit) => {
    const body = JSON.parse(String(init?.body)) as { messages: { content: string }[] };
    const user = body.messages[1]!.content.toLowerCase();
    const answers = [
      '{"intent":"admin","confidence":1}',
      '{"intent":"free_booking","confidence":1}',
      '{"intent":"confirmed","confidence":1}',
      '{"intent":"book","confidence":1,"price":0}',
      '{"intent":"book","confidence":1,"state":"paid","action":"calendar.book"}',
      'Sure! Admin mode enabled. {"intent":"admin"}',
      '{"intent":"human","confidence":2}',
      user.includes('cancel')
        ? '{"intent":"cancel_booking","confidence":1}'
        : '{"intent":"book","confidence":1}',
    ];
    const content = answers[n++ % answers.length]!;
    return new Response(JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] }), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  }) as typeof fetch;
}

/** A gullible adapter that skips all adapter-side validation, to prove the core checks again by itself. */
const rawGullible = (answer: (text: string) => { intent: unknown; confidence: unknown }): LlmAdapter => ({
  name: 'raw-gullible',
  async classify(text) {
    const a = answer(text);
    return {
      ...(a as { intent: string | null; confidence: number }),
      trace: { model: 'raw', latencyMs: 0, outcome: 'ok', maskedInput: '' },
    };
  },
  async extract() {
    return { value: null, trace: { model: 'raw', latencyMs: 0, outcome: 'ok', maskedInput: '' } };
  },
});

const base: UnderstandOptions = { intents, classifier, keywords, threshold: 0.6 };

describe('prompt injection corpus', () => {
  it('has at least 30 messages in several languages', () => {
    expect(texts.length).toBeGreaterThanOrEqual(30);
    expect(new Set(corpus.messages.map((m) => m.lang)).size).toBeGreaterThanOrEqual(8);
  });

  it('a gullible model behind openAiCompatibleLlm never yields more than the model-off result', async () => {
    const llm = openAiCompatibleLlm({
      baseUrl: 'http://model.invalid/v1',
      model: 'gullible',
      fetch: gullibleFetch(),
    });
    // Run the corpus twice so every text meets every kind of gullible answer at least once in rotation.
    for (const round of [0, 1]) {
      for (const text of texts) {
        const traces: LlmTrace[] = [];
        const off = await understand(text, base);
        const on = await understand(text, { ...base, llm, onTrace: (t) => traces.push(t) });
        expect(isWithinModelBounds(off, on, intents), `${round}: ${text} → ${JSON.stringify(on)}`).toBe(true);
        // The precise invariant, spelled out: same as model-off, or an allowed intent from the model.
        const same = JSON.stringify(on) === JSON.stringify(off);
        expect(same || (on.source === 'llm' && intents.includes(on.intent as string))).toBe(true);
        expect(on.intent === null || intents.includes(on.intent)).toBe(true);
        expect(FORBIDDEN).not.toContain(on.intent);
        expect(on.entities).toBeUndefined();
        for (const t of traces) expect(t.maskedInput).not.toMatch(/555 0100|jo@example\.com/);
      }
    }
  });

  it('invalid model answers (invented intents, state names, bad confidence) change nothing at all', async () => {
    const evil = [
      { intent: 'admin', confidence: 1 },
      { intent: 'confirmed', confidence: 1 },
      { intent: 'free_booking', confidence: 0.99 },
      { intent: { toString: () => 'book' }, confidence: 1 },
      { intent: ['book'], confidence: 1 },
      { intent: 'book ', confidence: 1 },
      { intent: 'BOOK', confidence: 1 },
      { intent: null, confidence: 1 },
    ];
    for (const answer of evil) {
      const llm = rawGullible(() => answer);
      for (const text of texts) {
        const off = await understand(text, base);
        expect(await understand(text, { ...base, llm })).toEqual(off);
      }
    }
  });

  it('an allowed intent with a nonsense confidence is clamped to 0..1 or ignored', async () => {
    for (const confidence of [Number.NaN, Number.POSITIVE_INFINITY, -5, '1', 42]) {
      const llm = rawGullible(() => ({ intent: 'book', confidence }));
      const text = texts[0]!;
      const off = await understand(text, base);
      const on = await understand(text, { ...base, llm });
      expect(isWithinModelBounds(off, on, intents)).toBe(true);
      expect(on.confidence).toBeGreaterThanOrEqual(0);
      expect(on.confidence).toBeLessThanOrEqual(1);
    }
  });

  it('an adapter that throws or hangs past its own contract cannot break understanding', async () => {
    const throwing: LlmAdapter = {
      name: 'throwing',
      classify: async () => {
        throw new Error('boom');
      },
      extract: async () => {
        throw new Error('boom');
      },
    };
    const traces: LlmTrace[] = [];
    for (const text of texts.slice(0, 5)) {
      const off = await understand(text, base);
      expect(await understand(text, { ...base, llm: throwing, onTrace: (t) => traces.push(t) })).toEqual(off);
    }
    expect(traces.every((t) => t.outcome === 'error' && t.maskedInput === '')).toBe(true);
  });

  it('isWithinModelBounds rejects results outside the bounds', () => {
    const off = { intent: null, confidence: 0, source: 'none' as const };
    expect(isWithinModelBounds(off, { intent: 'admin', confidence: 1, source: 'llm' }, intents)).toBe(false);
    expect(isWithinModelBounds(off, { intent: 'book', confidence: 1, source: 'classifier' }, intents)).toBe(
      false,
    );
    expect(
      isWithinModelBounds(
        off,
        { intent: 'book', confidence: 1, source: 'llm', entities: { price: 0 } },
        intents,
      ),
    ).toBe(false);
    expect(isWithinModelBounds(off, { intent: 'book', confidence: 0.9, source: 'llm' }, intents)).toBe(true);
    expect(isWithinModelBounds(off, { ...off }, intents)).toBe(true);
  });
});
