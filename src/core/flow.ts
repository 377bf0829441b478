import type { AnyStateMachine } from 'xstate';
import type { Json } from './types.js';

/** Parameters of the `reply` action: a catalog key and the values for its `{placeholders}`. */
export interface ReplyParams {
  key: string;
  vars?: { [name: string]: Json };
  /**
   * Marks the reply as the question the flow is waiting on. After a digression (an FAQ answered mid-flow) or
   * a hand-back from an agent, step asks it again.
   */
  ask?: boolean;
}
/** Parameters of the `effect` action: a namespaced effect type and its JSON payload. */
export interface EffectParams {
  type: string;
  payload?: { [name: string]: Json };
}
/** Parameters of the `escalate` action: why a person is needed, and a one-line summary for the agent. */
export interface EscalateParams {
  reason: string;
  summary?: string;
}
/** Parameters of the `track` action: a transcript event for reports (question asked, field captured, …). */
export interface TrackParams {
  name: string;
  data?: { [name: string]: Json };
}
/** Parameters of the `invalid` action: the answer to `question` was not accepted (a retry). */
export interface InvalidParams {
  question: string;
}
/** Parameters of the `switchFlow` action: hand the contact to another flow with the fields already known. */
export interface SwitchFlowParams {
  flow: string;
  fields?: { [name: string]: Json };
}
/** Parameters of the `remember` action: profile fields and tags that outlive the thread. */
export interface RememberParams {
  profile?: { [name: string]: Json };
  tags?: string[];
}

// Flow actions are markers: XState's pure transition collects them and step turns them into replies,
// effects and events. Their implementations never run.
const marker = () => {};

/**
 * The named actions every flow machine may use, to spread into `setup({ actions })`. They do nothing when
 * executed: step reads them from XState's pure `transition()` result, so a machine stays serialisable and
 * drawable. Pure.
 *
 * @example
 * const machine = setup({ actions: { ...flowActions } }).createMachine({
 *   initial: 'ask', states: { ask: { entry: { type: 'reply', params: { key: 'askName', ask: true } } } },
 * });
 */
export const flowActions = {
  reply: marker as (_: unknown, params: ReplyParams) => void,
  effect: marker as (_: unknown, params: EffectParams) => void,
  escalate: marker as (_: unknown, params: EscalateParams) => void,
  track: marker as (_: unknown, params: TrackParams) => void,
  invalid: marker as (_: unknown, params: InvalidParams) => void,
  switchFlow: marker as (_: unknown, params: SwitchFlowParams) => void,
  remember: marker as (_: unknown, params: RememberParams) => void,
};

/** The names of {@link flowActions}. */
export type FlowActionName = keyof typeof flowActions;

/** Events step sends to a flow machine. */
export type FlowEvent =
  /** An inbound text with its recorded understanding. */
  | {
      type: 'user.text';
      text: string;
      at: string;
      intent: string | null;
      confidence: number;
      entities: { [name: string]: Json };
    }
  /** The result of an effect the flow requested. */
  | {
      type: 'effect.result';
      effect: string;
      effectId: string;
      ok: boolean;
      data: { [name: string]: Json };
      at: string;
    }
  /** A host event for this contact (`payment.confirmed`, `crm.owner_assigned`, …). */
  | { type: 'external'; name: string; data: { [name: string]: Json }; at: string }
  /** An agent handed the thread back to the bot. */
  | { type: 'thread.resume'; at: string };

/** What a flow's machine receives as `input` when a thread starts. */
export interface FlowInput {
  /** ISO time of the message that started the thread. */
  now: string;
  /** The business's IANA time zone. */
  timeZone: string;
  /** Profile fields known about the contact (carried across threads). */
  profile: { [name: string]: Json };
  /** Fields handed over by another flow (`switchFlow`). */
  fields: { [name: string]: Json };
  /** The flow's own options, as given to its factory (services, hours, …). */
  options: { [name: string]: Json };
}

/**
 * A flow: an XState machine plus its reply catalog and routing metadata. Flow factories such as
 * `bookingFlow()` return one; `createBot` takes several.
 */
export interface FlowDefinition {
  /** Unique name, used in the state and in routing (`booking`, `lead`, `faq`). */
  id: string;
  /** The XState v5 machine, made with `setup({ guards, actions: { ...flowActions } })`. */
  machine: AnyStateMachine;
  /** Reply texts by key, with `{placeholders}`. Linted for segments. */
  messages: { [key: string]: string };
  /** Segment budget per reply (default 1); a test lints every template against it. */
  segmentBudget?: number;
  /** Per-key budgets for replies that need more (a confirmation that repeats details). */
  segmentBudgets?: { [key: string]: number };
  /** Intents that start this flow when a new thread begins (`book`, `reschedule`, …). */
  intents?: string[];
  /** Whole-message keywords that map to an intent (`R` → `reschedule`), matched case-insensitively. */
  keywords?: { [word: string]: string };
  /** Options handed to the machine as `input.options`. */
  options?: { [name: string]: Json };
  /** Example inbound texts per event/guard, used to turn generated paths into scripted conversations. */
  examples?: { [name: string]: string[] };
  /**
   * Intents this flow can answer in the middle of another flow (a digression), mapped to a catalog key:
   * `{ 'faq.parking': 'answer.parking' }`. The other flow's state is untouched and its question asked again.
   */
  answers?: { [intent: string]: string };
  /** Example utterances per intent, used to train the built-in classifier. */
  intentExamples?: { [intent: string]: string[] };
}

/**
 * Declares a flow. Identity at runtime; it exists for typing and documentation. Pure.
 *
 * @example
 * const greet = defineFlow({ id: 'greet', machine, messages: { hello: 'Hi {name}!' } });
 */
export function defineFlow(flow: FlowDefinition): FlowDefinition {
  return flow;
}

/**
 * Fills `{name}` placeholders of a template. Missing values render as an empty string. Pure.
 *
 * @example
 * renderTemplate('Hi {name}', { name: 'Ann' }) // 'Hi Ann'
 */
export function renderTemplate(template: string, vars: { [name: string]: Json } = {}): string {
  if (!template.includes('{')) return template; // most replies have no placeholder
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = vars[name];
    return value === undefined || value === null ? '' : String(value);
  });
}
