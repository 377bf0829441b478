import type { LlmAdapter, LlmContext, LlmTrace } from '../adapters/llm/types.js';
import { type BotConfig, type ComplianceMessages, validateBotConfig } from './bot-config.js';
import { trainClassifier } from './classifier.js';
import { type ComplianceKeywords, defaultComplianceKeywords, detectCompliance } from './compliance.js';
import { SmsflowError } from './errors.js';
import type { FlowDefinition, FlowEvent } from './flow.js';
import { renderTemplate } from './flow.js';
import { MachineDriver } from './machine-driver.js';
import { tryNormalizePhone } from './phone.js';
import { measureSegments } from './segments.js';
import { detectAnger, detectBillingDispute } from './sentiment.js';
import { migrateState } from './state.js';
import { runStep, startsNewThread } from './step.js';
import {
  type ConversationEvent,
  type ConversationState,
  type InboundMessage,
  type InboundMessageInput,
  type OutboundKind,
  type OutboundReply,
  type StepResult,
  safeParseInboundMessage,
  type Understanding,
} from './types.js';
import { type KeywordRule, understandByRules, understand as understandPipeline } from './understanding.js';

/** A bot: validated config, compiled flows and the pure `step`. */
export interface Bot {
  readonly config: Readonly<BotConfig>;
  /** Flows by id. */
  readonly flows: ReadonlyMap<string, FlowDefinition>;
  /**
   * Applies one inbound message or event to a conversation. Pure: no I/O, no clock (time comes from
   * `message.receivedAt` / `event.at`), no randomness (ids derive from the input id). Returns the next state,
   * the replies to send, the effects to run and transcript events. Throws `SMSFLOW_ERR_INVALID_MESSAGE` or
   * `SMSFLOW_ERR_INVALID_PHONE` for input that is not a message; never throws on any text.
   *
   * @example
   * const { state, replies } = bot.step(undefined, { id: 'SM1', from: '+14155550100', to: '+14155550199', text: 'hi', receivedAt: new Date() });
   */
  step(state: ConversationState | undefined, input: InboundMessageInput | ConversationEvent): StepResult;
  /**
   * The deterministic part of understanding (keyword rules, then the built-in classifier) for one text. Pure.
   * The engine may add an LLM's opinion before step; step uses `message.understanding` when present.
   */
  understand(text: string): Understanding;
  /**
   * The whole pipeline with a model: keyword rules → classifier → the LLM only when the classifier is below the
   * threshold. The model can only pick one of the bot's intents; a timeout or bad answer falls back to rules.
   * Not pure (it awaits the model): the engine calls it and records the result before step.
   */
  understandWithModel(
    text: string,
    llm: LlmAdapter,
    options?: { context?: LlmContext; onTrace?: (trace: LlmTrace) => void; signal?: AbortSignal },
  ): Promise<Understanding>;
  /** Intents the bot knows, from all flows and its keywords. */
  readonly intents: readonly string[];
  /** Whether a message at `at` would start a new thread for this state (finished, closed or idle). Pure. */
  startsNewThread(state: ConversationState | undefined, at: string | Date): boolean;
}

/** Internal, compiled view of the bot that step reads. */
export interface CompiledBot {
  config: BotConfig;
  flows: Map<string, FlowDefinition>;
  drivers: Map<string, MachineDriver>;
  defaultFlow: string;
  intentToFlow: Map<string, string>;
  /** Digression answers: intent → the flow and catalog key that answer it. */
  answerFor: Map<string, { flow: string; key: string }>;
  threadTtlMs: number;
  threshold: number;
  vip: Set<string>;
  compliance: ComplianceMessages;
  understand: (text: string) => Understanding;
  /** Keyword rules only (cheap); null when none matches. */
  understandRules: (text: string) => Understanding | null;
  reply: (
    inputId: string,
    index: number,
    state: ConversationState,
    text: string,
    kind: OutboundKind,
  ) => OutboundReply;
  clarifyChoices: { intent: string; label: string }[];
  detectAnger: typeof detectAnger;
  detectBillingDispute: typeof detectBillingDispute;
  detectCompliance: (text: string) => ReturnType<typeof detectCompliance>;
  normalize: (phone: string) => string | null;
}

const DEFAULT_COMPLIANCE: ComplianceMessages = {
  // CTIA / 47 CFR 64.1200(a)(12): one confirmation, no marketing, may say how to opt back in.
  optOut: '{program}: You are unsubscribed and will receive no more messages. Reply START to resubscribe.',
  optIn:
    '{program}: You are subscribed again. {frequency}. Msg & data rates may apply. Reply HELP for help, STOP to end.',
  // CTIA: HELP names the program, a help contact, frequency, rates and how to opt out.
  help: '{program}: Help at {helpContact}. {frequency}. Msg & data rates may apply. Reply STOP to opt out.',
  // Double opt-in request: the one message sent before consent, with the disclosures it asks consent for.
  confirmOptIn:
    '{program}: Reply YES to confirm you want our texts. {frequency}. Msg & data rates may apply. Reply STOP to cancel.',
};

/**
 * Creates a bot from its config: validates everything at once (every problem with its path), compiles the
 * flows and trains the built-in classifier from the flows' example utterances. The returned `bot.step` is pure.
 *
 * @example
 * const bot = createBot({
 *   program: { name: 'Bella Salon', helpContact: 'call 415-555-0100' },
 *   timeZone: 'America/Los_Angeles',
 *   flows: [bookingFlow({ services, hours })],
 * });
 */
export function createBot(config: BotConfig): Bot {
  validateBotConfig(config);
  const flows = new Map(config.flows.map((f) => [f.id, f]));
  const drivers = new Map(config.flows.map((f) => [f.id, new MachineDriver(f.machine)]));
  const answerFor = new Map<string, { flow: string; key: string }>();
  for (const f of config.flows)
    for (const [intent, key] of Object.entries(f.answers ?? {})) answerFor.set(intent, { flow: f.id, key });
  const intentToFlow = new Map<string, string>();
  for (const f of config.flows)
    for (const intent of f.intents ?? []) if (!intentToFlow.has(intent)) intentToFlow.set(intent, f.id);

  const keywordRules: KeywordRule[] = [];
  const globalKeywords = config.keywords ?? {
    HUMAN: 'human',
    AGENT: 'human',
    PERSON: 'human',
    REPRESENTATIVE: 'human',
  };
  for (const [word, intent] of Object.entries(globalKeywords)) keywordRules.push({ pattern: word, intent });
  for (const f of config.flows)
    for (const [word, intent] of Object.entries(f.keywords ?? {}))
      keywordRules.push({ pattern: word, intent });
  keywordRules.push({
    pattern: /\b(talk|speak|chat)\b.{0,20}\b(person|human|someone|agent|staff|manager|representative)\b/i,
    intent: 'human',
  });
  keywordRules.push({ pattern: /\b(real|live) (person|human|agent)\b/i, intent: 'human' });
  // A bare greeting only: "hi, I want to book" must still reach the classifier as a booking.
  keywordRules.push({
    pattern: /^\s*(hi|hello|hey|hiya|howdy|good (morning|afternoon|evening))( there)?[\s!.,]*$/i,
    intent: 'greeting',
  });

  const examples: { [intent: string]: string[] } = {
    human: ['can I talk to a person', 'I want a human', 'let me speak to someone', 'connect me to staff'],
  };
  for (const f of config.flows) {
    for (const [intent, list] of Object.entries(f.intentExamples ?? {}))
      examples[intent] = [...(examples[intent] ?? []), ...list];
  }
  const classifier = Object.keys(examples).length >= 2 ? trainClassifier(examples) : undefined;
  const intents = [...new Set([...Object.keys(examples), ...keywordRules.map((r) => r.intent)])];
  const threshold = config.confidenceThreshold ?? 0.6;
  // The deterministic stages of the understanding pipeline: keyword rules, then the built-in classifier.
  const understandRules = (text: string): Understanding | null =>
    understandByRules(text, { keywords: keywordRules, intents, threshold });
  const understand = (text: string): Understanding =>
    understandByRules(text, { keywords: keywordRules, classifier, intents, threshold }) ?? {
      intent: null,
      confidence: 0,
      source: 'none',
    };

  const extra = config.complianceKeywords ?? {};
  const complianceKeywords: ComplianceKeywords = {
    ...defaultComplianceKeywords,
    optOut: [...defaultComplianceKeywords.optOut, ...(extra.optOut ?? [])],
    optIn: [...defaultComplianceKeywords.optIn, ...(extra.optIn ?? [])],
    help: [...defaultComplianceKeywords.help, ...(extra.help ?? [])],
  };
  const defaultCountry = config.defaultCountry ?? 'US';
  const normalize = (phone: string) => tryNormalizePhone(phone, { defaultCountry });
  const compiled: CompiledBot = {
    config,
    flows,
    drivers,
    defaultFlow: config.defaultFlow ?? config.flows[0]!.id,
    intentToFlow,
    answerFor,
    threadTtlMs: (config.threadTtlDays ?? 7) * 86_400_000,
    threshold,
    vip: new Set((config.vipNumbers ?? []).map((n) => normalize(n) ?? n)),
    compliance: { ...DEFAULT_COMPLIANCE, ...config.complianceMessages },
    understand,
    understandRules,
    reply: (inputId, index, state, text, kind) => {
      const m = measureSegments(text);
      return {
        id: `${inputId}:r${index}`,
        to: state.contact.phone,
        from: state.contact.business,
        channel: state.contact.channel,
        text,
        segments: m.segments,
        encoding: m.encoding,
        kind,
      };
    },
    clarifyChoices: config.clarifyChoices ?? defaultClarifyChoices(intentToFlow),
    detectAnger,
    detectBillingDispute,
    detectCompliance: (text) => detectCompliance(text, complianceKeywords),
    normalize,
  };

  return {
    config,
    flows,
    intents,
    understand,
    understandWithModel: (text, llm, options = {}) =>
      understandPipeline(text, {
        keywords: keywordRules,
        ...(classifier ? { classifier } : {}),
        llm,
        threshold,
        intents,
        ...options,
      }),
    startsNewThread: (state, at) =>
      startsNewThread(
        compiled,
        state,
        typeof at === 'string' ? new Date(at).toISOString() : at.toISOString(),
      ),
    step(state, input) {
      if ((input as ConversationEvent).kind === 'event') {
        const event = input as ConversationEvent;
        if (!state) {
          throw new SmsflowError(
            'SMSFLOW_ERR_NOT_FOUND',
            `Event "${event.type}" (${event.id}) needs an existing conversation.`,
          );
        }
        return runStep(compiled, migrateState(state), event);
      }
      const message = parseMessage(input as InboundMessageInput);
      return runStep(compiled, state === undefined ? undefined : migrateState(state), message);
    },
  };
}

/** Formats a compliance template with the program's details. Pure. */
export function renderCompliance(bot: CompiledBot, key: keyof ComplianceMessages): string {
  const p = bot.config.program;
  return renderTemplate(bot.compliance[key], {
    program: p.name,
    helpContact: p.helpContact,
    frequency: p.frequency ?? 'Msg frequency varies',
  });
}

function parseMessage(input: InboundMessageInput): InboundMessage {
  const parsed = safeParseInboundMessage(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_MESSAGE',
      `Invalid inbound message: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { issues },
    );
  }
  return parsed.data;
}

function defaultClarifyChoices(intentToFlow: Map<string, string>): { intent: string; label: string }[] {
  const choices: { intent: string; label: string }[] = [];
  if (intentToFlow.has('book')) choices.push({ intent: 'book', label: 'to book' });
  if (intentToFlow.has('prices')) choices.push({ intent: 'prices', label: 'for prices' });
  if (intentToFlow.has('lead')) choices.push({ intent: 'lead', label: 'for a quote' });
  choices.push({ intent: 'human', label: 'for a person' });
  return choices;
}

export type { FlowEvent };
