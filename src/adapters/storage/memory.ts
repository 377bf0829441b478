// Memory storage adapter, and the pure outbox-row rules (claimable, lease-guarded update, status rank, purge
// set) that every storage adapter imports from here so all four decide the same way.
import { SmsflowError } from '../../core/errors.js';
import { instantMsOf, type Json } from '../../core/types.js';
import {
  type CommitInput,
  type CommitResult,
  type ConversationSummary,
  type OutboxMessage,
  type OutboxStatus,
  type OutboxUpdate,
  outboxStatusRank,
  type StorageAdapter,
  type StoredConversation,
  type StoredEvent,
} from './types.js';

/**
 * Outbox statuses the dispatcher is done with; `purge` may delete such rows. `queued` is not final: the
 * provider has the message but a `sent`/`delivered` callback may still arrive.
 * @internal Shared by the storage adapters.
 */
export const FINISHED_OUTBOX_STATUSES: readonly OutboxStatus[] = [
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'read',
  'cancelled',
];

/**
 * `Date.parse` ({@link instantMsOf}) with a one-entry memo: the times of one commit are mostly one instant (the
 * step's clock), written several times over (events, outbox rows, the state), and parsing each again cost more
 * than comparing.
 * @internal
 * @example instantMs('2026-01-01T00:00:00.000Z') // 1767225600000
 */
export function instantMs(value: string): number {
  if (value === lastInstant) return lastInstantMs;
  const ms = instantMsOf(value);
  lastInstant = value;
  lastInstantMs = ms;
  return ms;
}
let lastInstant: string | undefined;
let lastInstantMs = Number.NaN;

/**
 * Parses a caller-supplied ISO time to epoch ms. Adapters compare times as numbers, never as strings, so
 * `…Z` and `…+02:00` order correctly.
 * @param value - ISO-8601 time.
 * @param field - Name used in the error message.
 * @param adapter - Adapter name used in the error message.
 * @returns Milliseconds since the epoch.
 * @throws SmsflowError `SMSFLOW_ERR_STORAGE` when the value is not a parseable time.
 * @example toMs('2026-01-01T00:00:00Z', 'now', 'memory') // 1767225600000
 * @internal
 */
export function toMs(value: string, field: string, adapter: string): number {
  const ms = instantMs(value);
  if (Number.isNaN(ms)) {
    throw new SmsflowError(
      'SMSFLOW_ERR_STORAGE',
      `[${adapter}] ${field} must be an ISO-8601 time, received ${JSON.stringify(value)}. Pass e.g. new Date().toISOString().`,
    );
  }
  return ms;
}

/**
 * Checks every time a commit will store before anything is written (so a bad value cannot leave a
 * half-applied commit) and returns the conversation's `updatedAt` in ms: `state.thread.lastActivityAt`.
 * @internal
 */
export function validateCommitTimes(input: CommitInput, adapter: string): number {
  // Each field's name for the error is made only for a bad value: this runs on every commit.
  for (const e of input.events) {
    if (Number.isNaN(instantMs(e.at))) toMs(e.at, `event ${JSON.stringify(e.id)} at`, adapter);
  }
  for (const r of input.outbox) {
    for (const f of ['createdAt', 'updatedAt', 'nextAttemptAt'] as const) {
      if (Number.isNaN(instantMs(r[f]))) toMs(r[f], `outbox ${JSON.stringify(r.id)} ${f}`, adapter);
    }
  }
  return toMs(input.state.thread.lastActivityAt, 'state.thread.lastActivityAt', adapter);
}

/**
 * The smallest string above every string that starts with `prefix`, in code point order (which is SQLite's
 * BINARY order of UTF-8): `id >= prefix AND id < end` then selects exactly the ids with that prefix, through
 * an index. `null` when there is no such bound (an empty prefix, or one ending in U+10FFFF).
 * @internal
 * @example prefixEnd('SM1:e') // 'SM1:f'
 */
export function prefixEnd(prefix: string): string | null {
  const last = prefix.codePointAt(prefix.length - 1 - (/[\uDC00-\uDFFF]$/.test(prefix) ? 1 : 0));
  if (last === undefined || last >= 0x10ffff) return null;
  const head = prefix.slice(0, prefix.length - (last > 0xffff ? 2 : 1));
  // The next code point, skipping the surrogate range (no code point lives there).
  return head + String.fromCodePoint(last + 1 === 0xd800 ? 0xe000 : last + 1);
}

/**
 * When a row becomes claimable, in epoch ms: `nextAttemptAt` for `pending`, the lease end for `sending`, and
 * null for every other status (never claimed). Adapters index this one number instead of two conditions.
 * @internal
 */
export function outboxDueMs(row: OutboxMessage): number | null {
  if (row.status === 'pending') return instantMs(row.nextAttemptAt);
  if (row.status === 'sending' && row.leaseUntil !== undefined) return Date.parse(row.leaseUntil);
  return null;
}

/**
 * True when a row can be claimed at `nowMs`: pending and due, or sending with an expired lease.
 * @internal
 */
export function isClaimable(row: OutboxMessage, nowMs: number): boolean {
  const due = outboxDueMs(row);
  return due !== null && due <= nowMs;
}

/**
 * Orders outbox rows oldest first (createdAt, then id), the order `claimOutbox` and `listOutbox` promise.
 * @internal
 */
export function compareOutbox(a: OutboxMessage, b: OutboxMessage): number {
  const d = Date.parse(a.createdAt) - Date.parse(b.createdAt);
  return d !== 0 ? d : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Computes the row after a dispatcher update, or null when the update must not apply because the caller no
 * longer holds the lease (the row is not `sending` or another owner re-claimed it). An expired lease that
 * nobody re-claimed still counts as held: the send happened, so its result must be recorded.
 * @internal
 */
export function applyOutboxUpdate(
  row: OutboxMessage,
  update: OutboxUpdate,
  now: string,
): OutboxMessage | null {
  if (update.leaseOwner !== undefined && (row.status !== 'sending' || row.leaseOwner !== update.leaseOwner)) {
    return null;
  }
  const next: OutboxMessage = { ...row, status: update.status, updatedAt: now };
  if (update.attempts !== undefined) next.attempts = update.attempts;
  if (update.nextAttemptAt !== undefined) next.nextAttemptAt = update.nextAttemptAt;
  if (update.providerMessageId !== undefined) next.providerMessageId = update.providerMessageId;
  if (update.errorCode !== undefined) next.errorCode = update.errorCode;
  if (update.leaseUntil !== undefined && next.status === 'sending') next.leaseUntil = update.leaseUntil;
  return next;
}

/**
 * Computes the row after a delivery callback, or null when the status does not rank higher than the stored
 * one (out-of-order callbacks: a late `sent` never overwrites `delivered`).
 * @internal
 */
export function applyStatus(
  row: OutboxMessage,
  status: OutboxStatus,
  now: string,
  errorCode?: string,
): OutboxMessage | null {
  if (outboxStatusRank[status] <= outboxStatusRank[row.status]) return null;
  const next: OutboxMessage = { ...row, status, updatedAt: now };
  if (errorCode !== undefined) next.errorCode = errorCode;
  return next;
}

/** Options of {@link memoryStorage}. */
export interface MemoryStorageOptions {
  /**
   * Copy values on the way in and out, so a caller mutating a returned state cannot change what is stored
   * (as with a real database). Turn off only for benchmarks.
   * @default true
   */
  clone?: boolean;
}

interface ConversationRow {
  version: number;
  state: CommitInput['state'];
  updatedMs: number;
}

/**
 * In-process storage for tests, demos and single-process bots that may lose state on restart. Every method
 * runs synchronously inside the returned promise, so each call is atomic within the process.
 *
 * `updatedAt` of a conversation is `state.thread.lastActivityAt` of the last commit; idempotency keys are
 * timestamped with the same value (used by `purge`).
 *
 * @param options - See {@link MemoryStorageOptions}.
 * @returns A {@link StorageAdapter} named `memory`.
 * @example
 * const storage = memoryStorage();
 * const engine = createEngine({ bot, storage, channel });
 */
export function memoryStorage(options: MemoryStorageOptions = {}): StorageAdapter {
  const copy: <T>(value: T) => T = options.clone === false ? (v) => v : (v) => structuredClone(v);
  const conversations = new Map<string, ConversationRow>();
  const events: StoredEvent[] = [];
  const outbox = new Map<string, OutboxMessage>();
  const idempotency = new Map<string, { result: Json; atMs: number }>();
  let seq = 0;

  const findByProviderId = (providerMessageId: string): OutboxMessage | undefined => {
    for (const row of outbox.values()) if (row.providerMessageId === providerMessageId) return row;
    return undefined;
  };

  return {
    name: 'memory',

    async getConversation(key): Promise<StoredConversation | null> {
      const row = conversations.get(key);
      return row ? { key, version: row.version, state: copy(row.state) } : null;
    },

    async commit(input): Promise<CommitResult> {
      const updatedMs = validateCommitTimes(input, 'memory');
      if (input.idempotency) {
        const done = idempotency.get(input.idempotency.key);
        if (done) return { ok: false, reason: 'duplicate', result: copy(done.result) };
      }
      const current = conversations.get(input.key);
      if ((current?.version ?? 0) !== input.expectedVersion) return { ok: false, reason: 'conflict' };
      const version = input.expectedVersion + 1;
      conversations.set(input.key, { version, state: copy(input.state), updatedMs });
      for (const e of input.events) events.push({ ...copy(e), conversationKey: input.key, seq: ++seq });
      for (const row of input.outbox) if (!outbox.has(row.id)) outbox.set(row.id, copy(row));
      if (input.idempotency) {
        idempotency.set(input.idempotency.key, { result: copy(input.idempotency.result), atMs: updatedMs });
      }
      return { ok: true, version };
    },

    async getIdempotency(key) {
      const done = idempotency.get(key);
      return done ? copy(done.result) : null;
    },

    async loadForStep(key, idempotencyKey) {
      const done = idempotency.get(idempotencyKey);
      const row = conversations.get(key);
      return {
        recorded: done ? copy(done.result) : null,
        conversation: row ? { key, version: row.version, state: copy(row.state) } : null,
      };
    },

    async claimOutbox({ owner, now, leaseMs, limit }) {
      const nowMs = toMs(now, 'now', 'memory');
      const leaseUntil = new Date(nowMs + leaseMs).toISOString();
      const due = [...outbox.values()].filter((r) => isClaimable(r, nowMs)).sort(compareOutbox);
      return due.slice(0, Math.max(0, limit)).map((row) => {
        const claimed: OutboxMessage = {
          ...row,
          status: 'sending',
          leaseOwner: owner,
          leaseUntil,
          updatedAt: now,
        };
        outbox.set(row.id, claimed);
        return copy(claimed);
      });
    },

    async updateOutbox(id, update, now) {
      const row = outbox.get(id);
      const next = row ? applyOutboxUpdate(row, update, now) : null;
      if (!next) return false;
      outbox.set(id, next);
      return true;
    },

    async getOutboxMessage(id) {
      const row = outbox.get(id);
      return row ? copy(row) : null;
    },

    async applyDeliveryStatus(providerMessageId, status, now, errorCode) {
      const row = findByProviderId(providerMessageId);
      const next = row ? applyStatus(row, status, now, errorCode) : null;
      if (!next) return null;
      outbox.set(next.id, next);
      return copy(next);
    },

    async listOutbox(key, opts = {}) {
      const prefix = opts.idPrefix ?? '';
      const after =
        opts.createdAfter === undefined ? null : toMs(opts.createdAfter, 'createdAfter', 'memory');
      return [...outbox.values()]
        .filter(
          (r) =>
            r.conversationKey === key &&
            r.id.startsWith(prefix) &&
            (after === null || Date.parse(r.createdAt) > after),
        )
        .sort(compareOutbox)
        .map(copy);
    },

    async listEvents(key, opts = {}) {
      return events
        .filter(
          (e) => e.conversationKey === key && (opts.threadId === undefined || e.threadId === opts.threadId),
        )
        .map(copy);
    },

    async listConversations(opts = {}): Promise<ConversationSummary[]> {
      const afterMs =
        opts.updatedAfter === undefined ? -Infinity : toMs(opts.updatedAfter, 'updatedAfter', 'memory');
      return [...conversations.entries()]
        .filter(([, row]) => row.updatedMs > afterMs)
        .sort((a, b) => b[1].updatedMs - a[1].updatedMs)
        .slice(0, opts.limit ?? Number.POSITIVE_INFINITY)
        .map(([key, row]) => ({
          key,
          version: row.version,
          state: copy(row.state),
          updatedAt: row.state.thread.lastActivityAt,
        }));
    },

    async purge(before) {
      const beforeMs = toMs(before, 'before', 'memory');
      const kept = events.filter((e) => Date.parse(e.at) >= beforeMs);
      const deleted = events.length - kept.length;
      events.splice(0, events.length, ...kept);
      for (const [key, done] of idempotency) if (done.atMs < beforeMs) idempotency.delete(key);
      for (const [id, row] of outbox) {
        if (FINISHED_OUTBOX_STATUSES.includes(row.status) && Date.parse(row.updatedAt) < beforeMs)
          outbox.delete(id);
      }
      return deleted;
    },

    async close() {},
  };
}
