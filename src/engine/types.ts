import type { Actions } from '../adapters/actions/types.js';
import type { ChannelAdapter, ParsedStatus } from '../adapters/channels/types.js';
import type { LlmAdapter } from '../adapters/llm/types.js';
import type { OutboxMessage, StorageAdapter } from '../adapters/storage/types.js';
import type { Bot } from '../core/bot.js';
import type {
  ConversationState,
  Effect,
  InboundMessageInput,
  Json,
  OutboundReply,
  Understanding,
} from '../core/types.js';
import type { EffectOutcome } from './effects.js';

/** A structured logger (pino-compatible subset). Bodies of messages are only logged at debug. */
export interface EngineLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Options of {@link createEngine}. */
export interface EngineOptions {
  bot: Bot;
  storage: StorageAdapter;
  /** Channel adapters by channel (`sms`, `whatsapp`, `webchat`) used by the outbox dispatcher. */
  channels?: { [channel: string]: ChannelAdapter };
  actions?: Actions;
  /** Async understanding (rules → classifier → LLM) run before step; its result is recorded. @default the bot's rules */
  understand?: (text: string, state: ConversationState | undefined) => Promise<Understanding | null>;
  /**
   * A language model for understanding, asked only where rules run out: on a message that starts a new thread,
   * when keyword rules and the classifier are below the bot's threshold. Every call is recorded as an `llm`
   * transcript event (model, latency, tokens, outcome, masked input). @default none
   */
  llm?: LlmAdapter;
  /** @default () => new Date() */
  clock?: () => Date;
  /** @default a silent logger */
  logger?: EngineLogger;
  /** Masks sensitive text before anything is stored or logged. @default masks card numbers (Luhn-valid 13–19 digits) */
  redact?: (text: string) => string;
  /**
   * Handles effect types no action adapter knows (`schedule.message` and `schedule.event` from
   * `createProactive`, or a host's own). Return an outcome to feed back to the flow, `null` for none, or
   * `undefined` to report the effect as unknown. @default none (unknown effects fail with SMSFLOW_ERR_UNKNOWN_EFFECT)
   */
  onEffect?: (
    effect: Effect,
    context: { conversationKey: string },
  ) => Promise<EffectOutcome | null | undefined>;
  /**
   * Staff numbers (any format; compared after normalisation) that may text STATUS, WAITING, PAUSE and RESUME.
   * Anyone else texting those words is a customer. @default none
   */
  staffNumbers?: string[];
  /** Conflict retries per input before giving up. @default 20 */
  maxConflictRetries?: number;
  /** How long handleInbound waits for effects (calendar, …) so their replies can ride in a synchronous response. @default 2000 */
  awaitEffectsMs?: number;
  /** Outbox dispatcher settings. */
  outbox?: {
    /** Send attempts before a message is failed. @default 5 */
    maxAttempts?: number;
    /** First retry delay; doubles per attempt up to `maxBackoffMs`. @default 1000 */
    baseBackoffMs?: number;
    /** @default 300000 */
    maxBackoffMs?: number;
    /** Lease on a claimed message. @default 30000 */
    leaseMs?: number;
    /** Messages per claim. @default 20 */
    batchSize?: number;
    /** Identifies this process in leases. @default a random id */
    owner?: string;
  };
}

/** Result of handling one inbound message. */
export interface InboundResult {
  /** The replies recorded for this message (the same on a provider retry). */
  replies: OutboundReply[];
  /** True when this message id was processed before: nothing changed. */
  duplicate: boolean;
  /** The conversation key (`sms:+14155550100`). */
  conversationKey: string;
}

/** Options of {@link Engine.handleInbound}. */
export interface HandleInboundOptions {
  /**
   * The HTTP layer sends the replies in its response (TwiML, Plivo XML): the outbox records them as sent
   * through the webhook instead of dispatching them. Replies that arrive later (effect results) still go
   * through the outbox.
   */
  syncReply?: boolean;
}

/** The imperative shell around the pure bot: idempotent, one writer per conversation, an outbox. */
export interface Engine {
  readonly bot: Bot;
  readonly storage: StorageAdapter;
  handleInbound(message: InboundMessageInput, options?: HandleInboundOptions): Promise<InboundResult>;
  /** Applies a delivery status callback; out-of-order callbacks never downgrade a status. */
  handleStatus(status: ParsedStatus): Promise<OutboxMessage | null>;
  /** Delivers an external event (`payment.confirmed`, …) to a contact's thread, idempotent on `event.id`. */
  dispatch(
    contact: string,
    event: { id: string; type: string; data?: { [k: string]: Json }; channel?: string },
  ): Promise<{ replies: OutboundReply[]; duplicate: boolean }>;
  /** An agent's reply: same outbox, same consent checks (throws SMSFLOW_ERR_OPTED_OUT). */
  sendAgentReply(conversationKey: string, text: string, agent?: string): Promise<OutboundReply>;
  releaseToBot(conversationKey: string): Promise<void>;
  closeThread(conversationKey: string): Promise<void>;
  takeThread(conversationKey: string, agent?: string): Promise<void>;
  /** One dispatcher pass: claims due outbox messages and sends them. Returns how many were handled. */
  dispatchOutbox(): Promise<number>;
  /**
   * Starts the dispatcher loop: a poll every `intervalMs` and an immediate pass after each commit. Without it,
   * nothing is sent until `dispatchOutbox()` is called (tests, cron-style hosts).
   */
  start(options?: { intervalMs?: number }): void;
  /** Stops the loop and waits for in-flight work. */
  stop(): Promise<void>;
  /**
   * Runs again, with the same effect ids, the effects a flow is still waiting for whose result was never
   * recorded (the process running them died): calendar, CRM and payment actions asked at least `olderThanMs`
   * ago, in conversations active within `lookbackMs`, still with the bot and not opted out, where the flow has not
   * moved on since. `start()` runs it at start and every minute. Returns how many effects it ran.
   */
  recoverEffects(options?: RecoverEffectsOptions): Promise<number>;
  /** Deletes transcripts older than `days`. */
  purgeOlderThan(days: number): Promise<number>;
  /** Subscribes to engine activity (committed conversations, status updates) for live dashboards. */
  onChange(listener: (change: EngineChange) => void): () => void;
}

/** Options of {@link Engine.recoverEffects}. */
export interface RecoverEffectsOptions {
  /** Only effects asked at least this long ago (longer than any action takes). @default 60000 */
  olderThanMs?: number;
  /** Only conversations active within this window. @default 86400000 (a day) */
  lookbackMs?: number;
  /** At most this many conversations per pass, most recent first. @default 1000 */
  limit?: number;
}

/** What changed, for live updates. */
export type EngineChange =
  | { type: 'conversation'; key: string }
  | { type: 'outbox'; key: string; id: string; status: string };
