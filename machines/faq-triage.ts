import { and, assign, setup } from 'xstate';
import { type Classifier, trainClassifier } from '../src/core/classifier.js';
import { formatIssues, SmsflowError, type SmsflowIssue } from '../src/core/errors.js';
import {
  type FlowDefinition,
  type FlowEvent,
  type FlowInput,
  flowActions,
  type ReplyParams,
} from '../src/core/flow.js';
import type { Json } from '../src/core/types.js';
import { isNo, isYes } from './answers.js';
import { answerKey, faqAnswerMessages, faqTriageMessages } from './faq-triage.messages.js';

/** One entry of the knowledge base the FAQ flow answers from. */
export interface KnowledgeEntry {
  /** Stable id (`parking`): the intent is `faq.<id>`, the catalog key `answer.<id>`. Letters, digits, `_`, `-`. */
  id: string;
  /** Ways customers ask it (5-10 is plenty): classifier examples for intent `faq.<id>`. */
  questions: string[];
  /** The reply, sent as is (no `{placeholders}`). Keep it GSM-7 and within `answerSegmentBudget`. */
  answer: string;
  /** A page with more, appended as ` More: <link>`. */
  link?: string;
}

/** Options of {@link faqTriageFlow}. */
export interface FaqTriageOptions {
  knowledgeBase: KnowledgeEntry[];
  /** Unanswered questions (or unclear replies) in a row before a person takes over. @default 2 */
  maxUnmatched?: number;
  /**
   * Confidence at or above which a question counts as matching an entry. Use the bot's
   * `confidenceThreshold` if you changed it. @default 0.6
   */
  minConfidence?: number;
  /** Segment budget of each generated `answer.<id>` reply (checked by the segment lint). @default 2 */
  answerSegmentBudget?: number;
}

/** The FAQ machine's context: small and JSON. */
export interface FaqTriageContext {
  /** The last question asked (first 160 chars), for the agent's summary. */
  lastQuestion: string | null;
  /** Id of the last entry answered. */
  lastAnswer: string | null;
  /** Unanswered questions / unclear replies in a row. */
  misses: number;
  [key: string]: Json;
}

type TextEvent = Extract<FlowEvent, { type: 'user.text' }>;
type Reading = { kind: 'answer'; id: string } | { kind: 'generic' } | { kind: 'none' };
type Ctx = { context: FaqTriageContext; event: FlowEvent };

// SMS users thank instead of saying yes; counted as "that helped".
const THANKS =
  /^(thanks?|thank you|thx|ty|got it|great|cool|awesome|perfect|that helps?)( so much| a lot)?[\s.!]*$/i;
const SUMMARY_CHARS = 160;

/**
 * The FAQ triage flow: answers questions from a knowledge base (each entry is intent `faq.<id>`, trained from
 * its `questions`), asks "Did that answer your question?", and hands the thread to a person (reason
 * `unanswered`, the question as summary) on NO or after `maxUnmatched` questions it cannot answer. Every
 * unanswered question is tracked as `unanswered` so a dashboard can show what to add. Its `answers` map lets
 * other flows answer the same questions as digressions.
 *
 * @param options The knowledge base and limits; validated at once (every problem listed).
 * @returns A flow with id `faq`.
 * @throws SmsflowError `SMSFLOW_ERR_INVALID_CONFIG` when the knowledge base or an option is invalid.
 * @example
 * const bot = createBot({ ...program, flows: [bookingFlow(opts), faqTriageFlow({ knowledgeBase })] });
 */
export function faqTriageFlow(options: FaqTriageOptions): FlowDefinition {
  validate(options);
  const kb = options.knowledgeBase;
  const maxUnmatched = options.maxUnmatched ?? 2;
  const minConfidence = options.minConfidence ?? 0.6;
  const ids = new Set(kb.map((e) => e.id));
  const intentExamples: { [intent: string]: string[] } = {
    faq: [
      'I have a question',
      'quick question',
      'can I ask you something',
      'I have a few questions',
      'I need some information',
    ],
  };
  for (const e of kb) intentExamples[`faq.${e.id}`] = [...e.questions];
  // step classifies a mid-thread text only when the flow rejects it, and then does not hand the result back
  // (event.intent stays null). A follow-up question must still be answered, so the flow reads it with its own
  // classifier, trained on the same examples: pure and deterministic like the bot's.
  const classifier: Classifier = trainClassifier(intentExamples);
  const readings = new WeakMap<object, Reading>();
  const read = (event: FlowEvent): Reading => {
    if (event.type !== 'user.text') return { kind: 'none' };
    const hit = readings.get(event);
    if (hit) return hit;
    const result = readUncached(event);
    readings.set(event, result);
    return result;
  };
  const readUncached = (e: TextEvent): Reading => {
    if (e.text.trim() === '') return { kind: 'generic' };
    let intent = e.intent;
    let confidence = e.confidence;
    if (intent === null) ({ intent, confidence } = classifier.classify(e.text));
    // Guard presence and confidence: an engine-recorded understanding reaches the machine unthresholded.
    if (!intent || confidence < minConfidence) return { kind: 'none' };
    if (intent === 'faq' || intent === 'greeting') return { kind: 'generic' };
    const id = intent.startsWith('faq.') ? intent.slice(4) : '';
    return ids.has(id) ? { kind: 'answer', id } : { kind: 'none' };
  };
  const questionOf = (event: FlowEvent) =>
    event.type === 'user.text' ? event.text.replace(/\s+/g, ' ').trim().slice(0, SUMMARY_CHARS) : '';

  // Shared transition lists; typed loosely (`never`) because XState cannot infer a reusable action list.
  const answer = {
    guard: 'matched',
    target: 'feedback',
    reenter: true,
    actions: [
      assign({
        lastQuestion: ({ event }: Ctx) => questionOf(event),
        lastAnswer: ({ event }: Ctx) => (read(event) as { id: string }).id,
        misses: 0,
      }),
      { type: 'reply', params: ({ event }: Ctx) => ({ key: answerKey((read(event) as { id: string }).id) }) },
      {
        type: 'track',
        params: ({ event }: Ctx) => ({
          name: 'faq_answered',
          data: { id: (read(event) as { id: string }).id },
        }),
      },
    ],
  } as never;
  const generic = {
    guard: 'generic',
    target: 'listening',
    actions: [
      assign({ misses: 0 }),
      { type: 'reply', params: { key: 'askQuestion', ask: true } satisfies ReplyParams },
      { type: 'track', params: { name: 'question', data: { question: 'faq' } } },
    ],
  } as never;
  // Second miss in a row (by default): the question goes to a person with the question as the summary.
  const exhausted = (
    summary: (c: Ctx) => string,
    question: string,
    guard: unknown = 'missesExhausted',
  ): never =>
    ({
      guard,
      target: 'escalated',
      actions: [
        { type: 'invalid', params: { question } },
        ...(question === 'faq'
          ? [
              {
                type: 'track',
                params: ({ event }: Ctx) => ({ name: 'unanswered', data: { question: questionOf(event) } }),
              },
            ]
          : []),
        { type: 'reply', params: { key: 'handoff' } },
        { type: 'escalate', params: (c: Ctx) => ({ reason: 'unanswered', summary: summary(c) }) },
        assign({ misses: 0 }),
      ],
    }) as never;
  const miss = {
    target: 'listening',
    actions: [
      assign({
        misses: ({ context }: Ctx) => context.misses + 1,
        lastQuestion: ({ event }: Ctx) => questionOf(event),
      }),
      { type: 'invalid', params: { question: 'faq' } },
      // The dashboard lists these so the business knows what to add to the knowledge base.
      {
        type: 'track',
        params: ({ event }: Ctx) => ({ name: 'unanswered', data: { question: questionOf(event) } }),
      },
      { type: 'reply', params: { key: 'notUnderstood', ask: true } },
    ],
  } as never;
  const askingQuestion = [answer, generic, exhausted(({ event }) => questionOf(event), 'faq'), miss];

  const machine = setup({
    types: {} as { context: FaqTriageContext; events: FlowEvent; input: FlowInput },
    actions: { ...flowActions },
    guards: {
      matched: ({ event }) => read(event).kind === 'answer',
      generic: ({ event }) => read(event).kind === 'generic',
      yes: ({ event }) => event.type === 'user.text' && (isYes(event.text) || THANKS.test(event.text.trim())),
      no: ({ event }) => event.type === 'user.text' && isNo(event.text),
      // A word or two without a question mark is an unclear answer to "did that help", not a new question.
      shortReply: ({ event }) =>
        event.type === 'user.text' && !event.text.includes('?') && event.text.trim().split(/\s+/).length <= 2,
      missesExhausted: ({ context }) => context.misses + 1 >= maxUnmatched,
    },
  }).createMachine({
    id: 'faq',
    initial: 'idle',
    context: () => ({ lastQuestion: null, lastAnswer: null, misses: 0 }),
    on: {
      // An agent handed the thread back: offer to take the next question.
      'thread.resume': {
        target: '.listening',
        actions: [assign({ misses: 0 }), { type: 'reply', params: { key: 'anythingElse', ask: true } }],
      },
    },
    states: {
      idle: { on: { 'user.text': askingQuestion } },
      listening: { on: { 'user.text': askingQuestion } },
      feedback: {
        entry: [
          { type: 'reply', params: { key: 'didThatHelp', ask: true } },
          { type: 'track', params: { name: 'question', data: { question: 'didThatHelp' } } },
        ],
        on: {
          'user.text': [
            {
              guard: 'yes',
              target: 'done',
              actions: {
                type: 'track',
                params: ({ context }) => ({
                  name: 'faq_feedback',
                  data: { id: context.lastAnswer, helpful: true },
                }),
              },
            },
            {
              guard: 'no',
              target: 'escalated',
              actions: [
                {
                  type: 'track',
                  params: ({ context }) => ({
                    name: 'faq_feedback',
                    data: { id: context.lastAnswer, helpful: false },
                  }),
                },
                { type: 'reply', params: { key: 'sorry' } },
                {
                  type: 'escalate',
                  params: ({ context }) => ({ reason: 'unanswered', summary: context.lastQuestion ?? '' }),
                },
              ],
            },
            answer,
            generic,
            exhausted(
              ({ context }) => context.lastQuestion ?? '',
              'didThatHelp',
              and(['shortReply', 'missesExhausted']),
            ),
            {
              guard: 'shortReply',
              actions: [
                assign({ misses: ({ context }) => context.misses + 1 }),
                { type: 'invalid', params: { question: 'didThatHelp' } },
                { type: 'reply', params: { key: 'feedbackNotUnderstood' } },
              ],
            },
            exhausted(({ event }) => questionOf(event), 'faq'),
            miss,
          ],
        },
      },
      // A person has the thread; after a hand-back (`thread.resume`) or a later text, questions work again.
      escalated: { on: { 'user.text': askingQuestion } },
      done: {
        type: 'final',
        entry: { type: 'reply', params: { key: 'glad' } },
      },
    },
  });

  return {
    id: 'faq',
    machine,
    messages: { ...faqTriageMessages, ...faqAnswerMessages(kb) },
    segmentBudget: 1,
    segmentBudgets: Object.fromEntries(kb.map((e) => [answerKey(e.id), options.answerSegmentBudget ?? 2])),
    intents: ['faq', ...kb.map((e) => `faq.${e.id}`)],
    answers: Object.fromEntries(kb.map((e) => [`faq.${e.id}`, answerKey(e.id)])),
    intentExamples,
    examples: {
      question: kb.map((e) => e.questions[0] ?? ''),
      yes: ['YES'],
      no: ['NO'],
    },
  };
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Checks the options and throws one error listing every problem (zod style), so a bad KB fails at startup. */
function validate(options: FaqTriageOptions): void {
  const issues: SmsflowIssue[] = [];
  const kb = (options as { knowledgeBase?: unknown })?.knowledgeBase;
  if (!Array.isArray(kb) || kb.length === 0) {
    issues.push({ path: 'knowledgeBase', message: `expected a non-empty array of entries, got ${show(kb)}` });
  } else {
    const seen = new Set<string>();
    kb.forEach((entry: Partial<KnowledgeEntry> | null, i) => {
      const at = `knowledgeBase[${i}]`;
      const e = (entry ?? {}) as Partial<KnowledgeEntry>;
      if (typeof e.id !== 'string' || !ID.test(e.id)) {
        issues.push({
          path: `${at}.id`,
          message: `expected letters, digits, "_" or "-" (e.g. "parking"), got ${show(e.id)}`,
        });
      } else if (seen.has(e.id)) {
        issues.push({ path: `${at}.id`, message: `duplicate id ${show(e.id)}: give each entry its own id` });
      } else seen.add(e.id);
      if (!Array.isArray(e.questions) || !e.questions.some((q) => typeof q === 'string' && q.trim() !== '')) {
        issues.push({
          path: `${at}.questions`,
          message: `expected at least one example question, got ${show(e.questions)}`,
        });
      }
      if (typeof e.answer !== 'string' || e.answer.trim() === '') {
        issues.push({
          path: `${at}.answer`,
          message: `expected a non-empty answer text, got ${show(e.answer)}`,
        });
      } else if (/\{\w+\}/.test(e.answer)) {
        // Catalog templates fill {name} placeholders; an answer has no values to fill, so they would vanish.
        issues.push({
          path: `${at}.answer`,
          message: `contains a {placeholder}, which would be sent blank: ${show(e.answer)}. Write the value out.`,
        });
      }
      if (e.link !== undefined && (typeof e.link !== 'string' || !/^https?:\/\/\S+$/.test(e.link))) {
        issues.push({
          path: `${at}.link`,
          message: `expected an http(s) URL without spaces, got ${show(e.link)}`,
        });
      }
    });
  }
  const max = options?.maxUnmatched;
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
    issues.push({ path: 'maxUnmatched', message: `expected an integer >= 1, got ${show(max)}` });
  }
  const min = options?.minConfidence;
  if (min !== undefined && !(typeof min === 'number' && min >= 0 && min <= 1)) {
    issues.push({ path: 'minConfidence', message: `expected a number from 0 to 1, got ${show(min)}` });
  }
  const budget = options?.answerSegmentBudget;
  if (budget !== undefined && (!Number.isInteger(budget) || budget < 1)) {
    issues.push({ path: 'answerSegmentBudget', message: `expected an integer >= 1, got ${show(budget)}` });
  }
  if (issues.length > 0) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      `Invalid faqTriageFlow options:\n${formatIssues(issues)}`,
      {
        issues,
      },
    );
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
