import type {
  Channel,
  ConversationState,
  Encoding,
  Json,
  OutboundKind,
  TranscriptEvent,
} from '../../core/types.js';

/** Delivery states of an outbound message, in the order they can progress. */
export type OutboxStatus =
  | 'pending' // waiting for the dispatcher
  | 'sending' // claimed by a dispatcher (lease)
  | 'queued' // accepted by the provider
  | 'sent'
  | 'delivered'
  | 'undelivered'
  | 'failed'
  | 'read'
  | 'cancelled'; // consent re-check or handoff cancelled it before sending

/**
 * Rank used to apply delivery callbacks that arrive out of order: a status only replaces one of a lower rank.
 * `read` beats `delivered`; the terminal failures beat `sent` but not `delivered`.
 */
export const outboxStatusRank: Record<OutboxStatus, number> = {
  pending: 0,
  sending: 1,
  queued: 2,
  sent: 3,
  undelivered: 4,
  failed: 4,
  delivered: 5,
  read: 6,
  cancelled: 7,
};

/** One outbound message in the outbox, from step to provider confirmation. */
export interface OutboxMessage {
  /** Deterministic: derived from the input id (`<inputId>:r<n>`), so a retried step cannot add a second copy. */
  id: string;
  conversationKey: string;
  threadId: string;
  channel: Channel;
  provider?: string;
  to: string;
  from?: string;
  text: string;
  segments: number;
  encoding: Encoding;
  kind: OutboundKind;
  status: OutboxStatus;
  attempts: number;
  /** ISO time before which the dispatcher must not try (backoff). */
  nextAttemptAt: string;
  /** ISO time a claim expires; another dispatcher may then claim it. */
  leaseUntil?: string;
  leaseOwner?: string;
  providerMessageId?: string;
  errorCode?: string;
  createdAt: string;
  updatedAt: string;
}

/** A stored conversation: the state plus the storage version used for optimistic concurrency. */
export interface StoredConversation {
  key: string;
  version: number;
  state: ConversationState;
}

/** Everything one processed input writes, applied all or nothing. */
export interface CommitInput {
  key: string;
  /** Version read before the step; `0` means "must not exist yet". */
  expectedVersion: number;
  state: ConversationState;
  events: TranscriptEvent[];
  outbox: OutboxMessage[];
  /** Marks an input (provider message id, event id) as processed and records what it produced. */
  idempotency?: { key: string; result: Json };
}

/** Result of {@link StorageAdapter.loadForStep}. */
export interface LoadedForStep {
  /** The recorded result of the input (as `getIdempotency` returns it), or null when not processed yet. */
  recorded: Json | null;
  /** The conversation (as `getConversation` returns it), or null when it does not exist. */
  conversation: StoredConversation | null;
}

/** Outcome of {@link StorageAdapter.commit}. */
export type CommitResult =
  | { ok: true; version: number }
  | { ok: false; reason: 'conflict' } // someone else wrote first: reload and retry
  | { ok: false; reason: 'duplicate'; result: Json }; // input already processed: nothing written

/** A stored transcript event with its conversation and insertion order. */
export interface StoredEvent extends TranscriptEvent {
  conversationKey: string;
  /** Monotonic per adapter; orders events of one conversation. */
  seq: number;
}

/** Summary row for listing conversations (dashboard inbox). */
export interface ConversationSummary {
  key: string;
  version: number;
  state: ConversationState;
  updatedAt: string;
}

/** Update applied by the dispatcher after a send attempt. */
export interface OutboxUpdate {
  status: OutboxStatus;
  attempts?: number;
  nextAttemptAt?: string;
  providerMessageId?: string;
  errorCode?: string;
  /** Only apply when this owner still holds the lease. */
  leaseOwner?: string;
  /** A new end of the lease (ISO): the holder renews it while a send is still in its hands. */
  leaseUntil?: string;
}

/** What {@link StorageAdapter.listOutbox} narrows to; callers still check each row (a host adapter may ignore it). */
export interface ListOutboxOptions {
  /** Only rows whose id starts with this (code points, case-sensitive). */
  idPrefix?: string;
  /** Only rows created strictly after this ISO-8601 time. */
  createdAfter?: string;
}

/**
 * One storage interface; memory, SQLite, PostgreSQL and Redis implement it and pass one contract suite
 * (`storageContract` from `smsflow/testing`). All times are ISO strings supplied by the caller: adapters
 * never read the clock except where `now` is a parameter.
 */
export interface StorageAdapter {
  readonly name: string;
  /** Loads a conversation, or null. */
  getConversation(key: string): Promise<StoredConversation | null>;
  /**
   * Atomically: check the idempotency key (duplicate → nothing written), compare-and-set the state on
   * `expectedVersion` (conflict → nothing written), append events, insert outbox rows, record the key.
   */
  commit(input: CommitInput): Promise<CommitResult>;
  /** The recorded result of an already processed input, or null. */
  getIdempotency(key: string): Promise<Json | null>;
  /**
   * Optional: what the engine reads before a step, in one call (one round trip where the backend allows):
   * the same as `getIdempotency(idempotencyKey)` and `getConversation(key)` together (need not be one
   * snapshot: the commit re-checks both). The engine calls it before each step when present, else the two
   * methods. A wrapper that overrides those two must override or drop this one too. The engine treats the
   * returned state as read-only, so an adapter may return the object it keeps (the SQLite adapter's cache does).
   */
  loadForStep?(key: string, idempotencyKey: string): Promise<LoadedForStep>;
  /**
   * Claims up to `limit` outbox rows that are `pending` with `nextAttemptAt <= now`, or `sending` with an expired
   * lease, marking them `sending` with `leaseOwner`/`leaseUntil = now + leaseMs`. Two concurrent callers never
   * receive the same row. Oldest first.
   */
  claimOutbox(options: {
    owner: string;
    now: string;
    leaseMs: number;
    limit: number;
  }): Promise<OutboxMessage[]>;
  /** Applies an update to one outbox row; returns false when the row is gone or the lease was lost. */
  updateOutbox(id: string, update: OutboxUpdate, now: string): Promise<boolean>;
  /** Loads one outbox row. */
  getOutboxMessage(id: string): Promise<OutboxMessage | null>;
  /**
   * Applies a delivery status by provider message id, only if it ranks higher than the stored one
   * (see {@link outboxStatusRank}). Returns the updated row, or null when unknown or not applied.
   */
  applyDeliveryStatus(
    providerMessageId: string,
    status: OutboxStatus,
    now: string,
    errorCode?: string,
  ): Promise<OutboxMessage | null>;
  /**
   * Outbox rows of one conversation, oldest first. With `idPrefix`, only the rows whose id starts with it (the
   * engine asks for the replies of one message's effects, `<message id>:e…`, without reading the whole history).
   * With `createdAfter` (ISO-8601), only the rows created strictly after it (the proactive coordinator counts the
   * last 24 hours' messages for its frequency cap). Both together: rows that satisfy both.
   */
  listOutbox(key: string, options?: ListOutboxOptions): Promise<OutboxMessage[]>;
  /** Transcript events of a conversation (optionally one thread), in insertion order. */
  listEvents(key: string, options?: { threadId?: string }): Promise<StoredEvent[]>;
  /** Conversations, most recently updated first. */
  listConversations(options?: { limit?: number; updatedAfter?: string }): Promise<ConversationSummary[]>;
  /** Deletes transcript events (and finished outbox rows, idempotency keys) older than `before`. Returns events deleted. */
  purge(before: string): Promise<number>;
  /** Releases connections the adapter opened itself (not a pool the host passed in). */
  close(): Promise<void>;
}
