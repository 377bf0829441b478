/**
 * A host-defined flow, complete: a customer asks to be called back; the bot asks when, checks the answer,
 * tells the team and confirms. docs/writing-a-flow.md walks through it; test/docs/writing-a-flow.test.ts
 * runs it.
 */
import { assign, setup } from 'xstate';
import {
  defineFlow,
  type FlowDefinition,
  type FlowEvent,
  type FlowInput,
  flowActions,
} from '../../src/index.js';

// 1. Every reply lives in the catalog: GSM-7, one segment each (the segment lint checks it).
const messages = {
  askWhen: 'Sure, we can call you. When suits you best: 1 morning, 2 afternoon or 3 evening?',
  notUnderstood: 'Please reply 1 for morning, 2 for afternoon or 3 for evening.',
  confirmed: 'Thanks! Someone from {team} will call you in the {slot}.',
  handoff: 'Let me get a person to sort this out. They will text you here shortly.',
};

const slots = ['morning', 'afternoon', 'evening'] as const;

// 2. Context is small, plain JSON. Options stay in the factory's closure, not in the state.
interface CallbackContext {
  slot: (typeof slots)[number] | null;
  retries: number;
  [key: string]: unknown;
}

/** Options of {@link callbackFlow}. */
export interface CallbackFlowOptions {
  /** Shown to the customer. */
  team: string;
}

/**
 * A "call me back" flow.
 *
 * @example
 * const bot = createBot({ ...program, flows: [bookingFlow(salon), callbackFlow({ team: 'Bella Salon' })] });
 */
export function callbackFlow(options: CallbackFlowOptions): FlowDefinition {
  const slotOf = (text: string) => {
    const t = text.trim().toLowerCase();
    const index = /^[123]$/.test(t) ? Number(t) - 1 : slots.findIndex((s) => t.includes(s));
    return index >= 0 ? slots[index]! : null;
  };

  // 3. Guards validate; actions are the shared markers (reply, effect, escalate, track, invalid).
  const machine = setup({
    types: {} as { context: CallbackContext; events: FlowEvent; input: FlowInput },
    actions: { ...flowActions },
    guards: {
      validSlot: ({ event }) => event.type === 'user.text' && slotOf(event.text) !== null,
      tooManyRetries: ({ context }) => context.retries + 1 >= 3,
    },
  }).createMachine({
    id: 'callback',
    initial: 'start',
    context: { slot: null, retries: 0 },
    states: {
      start: { on: { 'user.text': 'askWhen' } },
      askWhen: {
        entry: [
          { type: 'reply', params: { key: 'askWhen', ask: true } },
          { type: 'track', params: { name: 'question', data: { question: 'when' } } },
        ],
        on: {
          'user.text': [
            {
              guard: 'validSlot',
              target: 'done',
              actions: assign({ slot: ({ event }) => slotOf((event as { text: string }).text) }),
            },
            {
              guard: 'tooManyRetries',
              actions: [
                { type: 'reply', params: { key: 'handoff' } },
                {
                  type: 'escalate',
                  params: { reason: 'retries_exhausted', summary: 'Callback time unclear' },
                },
              ],
            },
            {
              actions: [
                assign({ retries: ({ context }) => context.retries + 1 }),
                { type: 'invalid', params: { question: 'when' } },
                { type: 'reply', params: { key: 'notUnderstood' } },
              ],
            },
          ],
        },
      },
      done: {
        type: 'final',
        entry: [
          {
            type: 'effect',
            params: ({ context }) => ({
              type: 'notify.team',
              payload: { text: `Call back requested (${context.slot})` },
            }),
          },
          {
            type: 'reply',
            params: ({ context }) => ({
              key: 'confirmed',
              vars: { team: options.team, slot: context.slot ?? '' },
            }),
          },
        ],
      },
    },
  });

  // 4. The definition: which intents start it, and examples that train the built-in classifier.
  return defineFlow({
    id: 'callback',
    machine,
    messages,
    intents: ['callback'],
    keywords: { CALL: 'callback' },
    intentExamples: {
      callback: [
        'can you call me',
        'please call me back',
        'I would rather talk on the phone',
        'give me a ring',
      ],
    },
  });
}
