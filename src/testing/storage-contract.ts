// The storage contract suite, published as `smsflow/testing`. Kept in one file (about 400 lines) so a host
// adapter runs exactly the cases ours run, from one import.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommitInput, OutboxMessage, StorageAdapter } from '../adapters/storage/types.js';
import type { ConversationState, Json, TranscriptEvent } from '../core/types.js';

/** How {@link storageContract} creates and disposes of the adapter under test. */
export interface StorageContractOptions {
  /** Shown in the describe block, e.g. `'sqlite'`. */
  name: string;
  /**
   * Returns an adapter over EMPTY storage; called before every case (claims are global, so cases must not
   * see each other's outbox rows). E.g. a fresh `:memory:` database, a new PostgreSQL schema, a new key prefix.
   */
  create: () => Promise<StorageAdapter> | StorageAdapter;
  /**
   * Disposes of what `create` made (drop the schema, delete the keys) after every case.
   * @default (s) => s.close()
   */
  destroy?: (storage: StorageAdapter) => Promise<void>;
  /** When set, every case is skipped and its name starts with `[because <skip>]`. */
  skip?: string;
}

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
/** ISO time `minutes` after the suite's fixed origin: the suite never reads the clock. */
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

function stateFixture(key: string, time: string, profile: { [k: string]: Json } = {}): ConversationState {
  return {
    v: 1,
    contact: { key, phone: '+15005550006', channel: 'sms', business: '+15005550001' },
    consent: { status: 'opted_in', at: at(0), via: 'keyword' },
    profile: {
      name: 'Zoë 🙂 «ünïcode»',
      visits: 2,
      vip: false,
      note: null,
      list: [1, 'two', []],
      ...profile,
    },
    tags: [],
    thread: {
      id: 'th-1',
      flow: 'booking',
      machine: { value: { booking: 'askDate' }, context: { tries: 0, empty: {} }, status: 'active' },
      handoff: { status: 'bot' },
      startedAt: at(0),
      lastActivityAt: time,
    },
    seq: 1,
  };
}

function eventFixture(id: string, time: string, threadId = 'th-1'): TranscriptEvent {
  return { id, threadId, at: time, type: 'inbound', data: { text: 'hi', n: 1, nested: { ok: true } } };
}

function outboxFixture(
  key: string,
  id: string,
  created: string,
  extra: Partial<OutboxMessage> = {},
): OutboxMessage {
  return {
    id,
    conversationKey: key,
    threadId: 'th-1',
    channel: 'sms',
    to: '+15005550006',
    from: '+15005550001',
    text: `reply ${id}`,
    segments: 1,
    encoding: 'GSM-7',
    kind: 'reply',
    status: 'pending',
    attempts: 0,
    nextAttemptAt: created,
    createdAt: created,
    updatedAt: created,
    ...extra,
  };
}

/**
 * Defines the storage contract every {@link StorageAdapter} must pass: atomic commit with idempotency and
 * compare-and-set, outbox claims that never hand one row to two callers, lease-guarded updates, ranked
 * delivery statuses, listing and purge. Call it at the top level of a vitest file.
 *
 * @param options - See {@link StorageContractOptions}.
 * @example
 * import { storageContract } from 'smsflow/testing';
 * storageContract({ name: 'my-store', create: () => myStorage({ url: freshDb() }) });
 */
export function storageContract(options: StorageContractOptions): void {
  const { skip } = options;
  const test = (title: string, fn: (ctx: { skip: (note?: string) => never }) => Promise<void>) =>
    skip ? it.skip(`[because ${skip}] ${title}`, fn) : it(title, (ctx) => fn(ctx));

  describe(`storage contract: ${options.name}`, () => {
    let s: StorageAdapter;
    let key: string;
    const commit = (over: Partial<CommitInput> & { expectedVersion: number }) =>
      s.commit({ key, state: stateFixture(key, at(1)), events: [], outbox: [], ...over });
    /** A new conversation holding one outbox row: what a per-conversation query must leave out. */
    const commitElsewhere = (id: string, time: string) => {
      const other = `sms:+1500555${randomUUID()}`;
      return s.commit({
        key: other,
        expectedVersion: 0,
        state: stateFixture(other, time),
        events: [],
        outbox: [outboxFixture(other, id, time)],
      });
    };

    beforeEach(async () => {
      if (skip) return;
      s = await options.create();
      key = `sms:+1500555${randomUUID()}`;
    });
    afterEach(async () => {
      if (skip || !s) return;
      await (options.destroy ? options.destroy(s) : s.close());
    });

    test('getConversation returns null for an unknown key', async () => {
      expect(await s.getConversation(key)).toBeNull();
      expect(typeof s.name).toBe('string');
    });

    test('commit creates at version 1, then compare-and-sets to version 2; state survives as JSON', async () => {
      const first = stateFixture(key, at(1));
      expect(await commit({ expectedVersion: 0, state: first })).toEqual({ ok: true, version: 1 });
      expect(await s.getConversation(key)).toEqual({ key, version: 1, state: first });
      const second = stateFixture(key, at(2), { visits: 3 });
      expect(await commit({ expectedVersion: 1, state: second })).toEqual({ ok: true, version: 2 });
      const loaded = await s.getConversation(key);
      expect(loaded).toEqual({ key, version: 2, state: second });
      expect(JSON.parse(JSON.stringify(loaded?.state))).toEqual(second);
    });

    test('a version conflict writes nothing (state, events, outbox, idempotency key)', async () => {
      await commit({ expectedVersion: 0 });
      const stale = await commit({
        expectedVersion: 0,
        state: stateFixture(key, at(5), { visits: 99 }),
        events: [eventFixture('in-2:t0', at(5))],
        outbox: [outboxFixture(key, 'in-2:r0', at(5))],
        idempotency: { key: `idem-${key}`, result: { replies: 1 } },
      });
      expect(stale).toEqual({ ok: false, reason: 'conflict' });
      expect(await commit({ expectedVersion: 7 })).toEqual({ ok: false, reason: 'conflict' });
      expect((await s.getConversation(key))?.state.profile.visits).toBe(2);
      expect(await s.listEvents(key)).toEqual([]);
      expect(await s.listOutbox(key)).toEqual([]);
      expect(await s.getIdempotency(`idem-${key}`)).toBeNull();
      expect(await commit({ expectedVersion: 5, key: `${key}-missing` })).toEqual({
        ok: false,
        reason: 'conflict',
      });
      expect(await s.getConversation(`${key}-missing`)).toBeNull();
    });

    test('a duplicate idempotency key returns the recorded result and writes nothing', async () => {
      const idempotency = { key: `idem-${key}`, result: { replies: ['a', 'b'], n: 2, none: null } as Json };
      expect(await commit({ expectedVersion: 0, idempotency })).toEqual({ ok: true, version: 1 });
      expect(await s.getIdempotency(idempotency.key)).toEqual(idempotency.result);
      const again = await commit({
        expectedVersion: 1, // a correct version must not matter: the input was processed already
        state: stateFixture(key, at(3), { visits: 50 }),
        events: [eventFixture('dup:t0', at(3))],
        outbox: [outboxFixture(key, 'dup:r0', at(3))],
        idempotency: { key: idempotency.key, result: 'other' },
      });
      expect(again).toEqual({ ok: false, reason: 'duplicate', result: idempotency.result });
      const stored = await s.getConversation(key);
      expect(stored?.version).toBe(1);
      expect(stored?.state.profile.visits).toBe(2);
      expect(await s.listEvents(key)).toEqual([]);
      expect(await s.listOutbox(key)).toEqual([]);
      // Duplicate is checked before the version: a retried input with a stale version is still a duplicate.
      expect(await commit({ expectedVersion: 0, idempotency })).toMatchObject({
        ok: false,
        reason: 'duplicate',
      });
      expect(await s.getIdempotency(`never-${key}`)).toBeNull();
    });

    test('events get increasing seq, keep insertion order and filter by thread', async () => {
      const e1 = [eventFixture('a:t0', at(1)), eventFixture('a:t1', at(1), 'th-2')];
      await commit({ expectedVersion: 0, events: e1 });
      await commit({ expectedVersion: 1, events: [eventFixture('b:t0', at(0))] });
      await s.commit({
        key: `${key}-other`,
        expectedVersion: 0,
        state: stateFixture(key, at(1)),
        events: [eventFixture('o:t0', at(1))],
        outbox: [],
      });
      const all = await s.listEvents(key);
      expect(all.map((e) => e.id)).toEqual(['a:t0', 'a:t1', 'b:t0']);
      expect(all[0]).toMatchObject({ ...e1[0], conversationKey: key });
      const seqs = all.map((e) => e.seq);
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
      expect(new Set(seqs).size).toBe(3);
      expect((await s.listEvents(key, { threadId: 'th-2' })).map((e) => e.id)).toEqual(['a:t1']);
      expect(await s.listEvents('nobody')).toEqual([]);
    });

    test('outbox rows are inserted once: a row whose id exists is ignored', async () => {
      const row = outboxFixture(key, 'in-1:r0', at(1));
      await commit({ expectedVersion: 0, outbox: [row] });
      await commit({
        expectedVersion: 1,
        outbox: [{ ...row, text: 'changed' }, outboxFixture(key, 'in-2:r0', at(2))],
      });
      const rows = await s.listOutbox(key);
      expect(rows.map((r) => r.id)).toEqual(['in-1:r0', 'in-2:r0']);
      expect(rows[0]).toEqual(row);
      expect(await s.getOutboxMessage('in-1:r0')).toEqual(row);
      expect(await s.getOutboxMessage('missing')).toBeNull();
    });

    test('listOutbox with idPrefix returns only the rows whose id starts with it, oldest first', async () => {
      const m = `m${randomUUID().slice(0, 8)}`;
      // Near misses around the prefix `${m}:e`: a longer message id, the next letter, and non-ASCII ids after it.
      const ids = [
        `${m}:r0`,
        `${m}:e0:result:r0`,
        `${m}:e0:result:e0:result:r0`,
        `${m}0:e0:result:r0`,
        `${m}:f`,
      ];
      ids.push(`${m}:e€`, `${m}:e\u{1F600}`, `${m}:\u{1F600}`);
      await commit({ expectedVersion: 0, outbox: ids.map((id, i) => outboxFixture(key, id, at(20 - i))) });
      await commitElsewhere(`${m}:e9`, at(1)); // the same prefix in another conversation stays out
      const list = async (idPrefix: string) => (await s.listOutbox(key, { idPrefix })).map((r) => r.id);
      expect(await list(`${m}:e`)).toEqual([
        `${m}:e\u{1F600}`,
        `${m}:e€`,
        `${m}:e0:result:e0:result:r0`,
        `${m}:e0:result:r0`,
      ]);
      expect(await list(`${m}:e€`)).toEqual([`${m}:e€`]);
      expect(await list(`${m}:\u{1F600}`)).toEqual([`${m}:\u{1F600}`]);
      expect(await list('')).toHaveLength(ids.length);
      expect(await list(`${m}:x`)).toEqual([]);
    });

    test('listOutbox with createdAfter returns only the rows created strictly after it, oldest first', async () => {
      const m = `c${randomUUID().slice(0, 8)}`;
      const rows = [at(1), at(2), at(3), at(4)].map((time, i) => outboxFixture(key, `${m}:r${i}`, time));
      await commit({ expectedVersion: 0, outbox: rows });
      await commitElsewhere(`${m}:r9`, at(5)); // recent rows of another conversation stay out
      const list = async (options: { createdAfter?: string; idPrefix?: string }) =>
        (await s.listOutbox(key, options)).map((r) => r.id);
      expect(await list({ createdAfter: at(2) })).toEqual([`${m}:r2`, `${m}:r3`]); // strictly after
      expect(await list({ createdAfter: new Date(Date.parse(at(2)) - 1).toISOString() })).toEqual([
        `${m}:r1`,
        `${m}:r2`,
        `${m}:r3`,
      ]);
      expect(await list({ createdAfter: at(0) })).toHaveLength(4);
      expect(await list({ createdAfter: at(4) })).toEqual([]);
      // Another spelling of the same instant means the same instant.
      expect(await list({ createdAfter: at(2).replace('Z', '+00:00') })).toEqual([`${m}:r2`, `${m}:r3`]);
      expect(await list({ createdAfter: at(1), idPrefix: `${m}:r3` })).toEqual([`${m}:r3`]);
      expect(await list({ createdAfter: at(3), idPrefix: `${m}:r1` })).toEqual([]);
      await expect(s.listOutbox(key, { createdAfter: 'yesterday' })).rejects.toMatchObject({
        code: 'SMSFLOW_ERR_STORAGE',
      });
    });

    test('parallel commits on one version: exactly one wins, the rest conflict', async () => {
      const n = 8;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          commit({
            expectedVersion: 0,
            events: [eventFixture(`p${i}:t0`, at(1))],
            outbox: [outboxFixture(key, `p${i}:r0`, at(1))],
          }),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok && r.reason === 'conflict')).toHaveLength(n - 1);
      expect(await s.listEvents(key)).toHaveLength(1);
      expect(await s.listOutbox(key)).toHaveLength(1);
      const next = await Promise.all(Array.from({ length: n }, () => commit({ expectedVersion: 1 })));
      expect(next.filter((r) => r.ok)).toEqual([{ ok: true, version: 2 }]);
    });

    test('parallel commits with one idempotency key: exactly one wins, the rest are duplicates', async () => {
      const idempotency = { key: `idem-${key}`, result: 'done' };
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => commit({ key: `${key}-${i}`, expectedVersion: 0, idempotency })),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok && r.reason === 'duplicate')).toHaveLength(5);
    });

    test('a conflicting commit leaves no idempotency key behind, also for a concurrent commit of that input', async () => {
      await commit({ expectedVersion: 0 });
      const idempotency = { key: `idem-${key}`, result: 'done' };
      // Stale and current versions of one input, in parallel: the stale ones must not block or shadow the rest.
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          commit({
            expectedVersion: i % 2 === 0 ? 5 : 1,
            events: [eventFixture(`q${i}:t0`, at(2))],
            idempotency,
          }),
        ),
      );
      expect(results.filter((r) => r.ok)).toEqual([{ ok: true, version: 2 }]);
      results.forEach((r, i) => {
        if (!r.ok && r.reason === 'duplicate') expect(r.result).toBe('done');
        else if (!r.ok) expect(i % 2).toBe(0); // only a stale version may conflict
      });
      expect(await s.getIdempotency(idempotency.key)).toBe('done');
      expect(await s.listEvents(key)).toHaveLength(1);
      expect((await s.getConversation(key))?.version).toBe(2);
      // A stale commit alone: conflict, and the key stays unrecorded.
      const other = { key: `idem2-${key}`, result: 'x' };
      expect(await commit({ expectedVersion: 1, idempotency: other })).toEqual({
        ok: false,
        reason: 'conflict',
      });
      expect(await s.getIdempotency(other.key)).toBeNull();
    });

    test('loadForStep (optional) returns what getIdempotency and getConversation return, together', async (ctx) => {
      if (!s.loadForStep) return ctx.skip('the adapter has no loadForStep (optional)');
      const idem = `idem-${key}`;
      expect(await s.loadForStep(key, idem)).toEqual({ recorded: null, conversation: null });
      const result = { replies: ['a'], n: 1, none: null };
      const first = stateFixture(key, at(1));
      await commit({ expectedVersion: 0, state: first, idempotency: { key: idem, result } });
      expect(await s.loadForStep(key, idem)).toEqual({
        recorded: result,
        conversation: { key, version: 1, state: first },
      });
      const second = stateFixture(key, at(2), { visits: 3 });
      await commit({ expectedVersion: 1, state: second });
      expect(await s.loadForStep(key, `other-${key}`)).toEqual({
        recorded: null,
        conversation: { key, version: 2, state: second },
      });
      expect(await s.loadForStep(`${key}-missing`, idem)).toEqual({ recorded: result, conversation: null });
    });

    test('claimOutbox claims due pending rows oldest first, up to limit, with a lease', async () => {
      await commit({
        expectedVersion: 0,
        outbox: [
          outboxFixture(key, 'c', at(2)),
          outboxFixture(key, 'b', at(1)),
          outboxFixture(key, 'a', at(2)),
          outboxFixture(key, 'later', at(0), { nextAttemptAt: at(30) }),
          outboxFixture(key, 'queued', at(0), { status: 'queued' }),
          outboxFixture(key, 'cancelled', at(0), { status: 'cancelled' }),
        ],
      });
      const claimed = await s.claimOutbox({ owner: 'w1', now: at(10), leaseMs: 60_000, limit: 2 });
      expect(claimed.map((r) => r.id)).toEqual(['b', 'a']);
      for (const r of claimed) {
        expect(r).toMatchObject({ status: 'sending', leaseOwner: 'w1' });
        // Exact strings: leaseUntil is `new Date(now + leaseMs).toISOString()`, updatedAt is `now` as given.
        expect(r).toMatchObject({ leaseUntil: at(11), updatedAt: at(10) });
        expect(await s.getOutboxMessage(r.id)).toEqual(r);
      }
      expect(
        (await s.claimOutbox({ owner: 'w2', now: at(10), leaseMs: 60_000, limit: 10 })).map((r) => r.id),
      ).toEqual(['c']);
      expect(await s.claimOutbox({ owner: 'w2', now: at(10), leaseMs: 60_000, limit: 10 })).toEqual([]);
      expect(
        (await s.claimOutbox({ owner: 'w3', now: at(30), leaseMs: 1000, limit: 1 })).map((r) => r.leaseOwner),
      ).toEqual(['w3']);
    });

    test('an expired lease can be claimed again; the old owner then loses its update', async () => {
      await commit({ expectedVersion: 0, outbox: [outboxFixture(key, 'm', at(1))] });
      const [first] = await s.claimOutbox({ owner: 'w1', now: at(1), leaseMs: 60_000, limit: 5 });
      expect(first?.id).toBe('m');
      expect(await s.claimOutbox({ owner: 'w2', now: at(1.5), leaseMs: 60_000, limit: 5 })).toEqual([]);
      const [again] = await s.claimOutbox({ owner: 'w2', now: at(2), leaseMs: 60_000, limit: 5 });
      expect(again).toMatchObject({ id: 'm', leaseOwner: 'w2', status: 'sending' });
      expect(await s.updateOutbox('m', { status: 'queued', leaseOwner: 'w1' }, at(2))).toBe(false);
      expect((await s.getOutboxMessage('m'))?.leaseOwner).toBe('w2');
      expect(
        await s.updateOutbox(
          'm',
          { status: 'queued', leaseOwner: 'w2', providerMessageId: `SM-${key}`, attempts: 1 },
          at(3),
        ),
      ).toBe(true);
      expect(await s.getOutboxMessage('m')).toMatchObject({
        status: 'queued',
        attempts: 1,
        providerMessageId: `SM-${key}`,
        updatedAt: at(3),
      });
      expect(await s.updateOutbox('m', { status: 'sent', leaseOwner: 'w2' }, at(4))).toBe(false);
    });

    test('the lease holder renews its lease with updateOutbox({ leaseUntil }); nobody claims the row before then', async () => {
      await commit({ expectedVersion: 0, outbox: [outboxFixture(key, 'm', at(1))] });
      await s.claimOutbox({ owner: 'w1', now: at(1), leaseMs: 60_000, limit: 5 }); // the lease ends at(2)
      expect(
        await s.updateOutbox('m', { status: 'sending', leaseOwner: 'w1', leaseUntil: at(5) }, at(1.5)),
      ).toBe(true);
      expect(await s.getOutboxMessage('m')).toMatchObject({
        status: 'sending',
        leaseOwner: 'w1',
        leaseUntil: at(5),
      });
      // Past the first lease but inside the renewed one: not claimable.
      expect(await s.claimOutbox({ owner: 'w2', now: at(3), leaseMs: 60_000, limit: 5 })).toEqual([]);
      // Nobody else can renew it.
      expect(
        await s.updateOutbox('m', { status: 'sending', leaseOwner: 'w2', leaseUntil: at(9) }, at(3)),
      ).toBe(false);
      const [again] = await s.claimOutbox({ owner: 'w2', now: at(5), leaseMs: 60_000, limit: 5 });
      expect(again).toMatchObject({ id: 'm', leaseOwner: 'w2', leaseUntil: at(6) });
    });

    test('parallel claimOutbox calls never return the same row twice', async () => {
      const rows = Array.from({ length: 24 }, (_, i) =>
        outboxFixture(key, `r${String(i).padStart(2, '0')}`, at(i / 10)),
      );
      await commit({ expectedVersion: 0, outbox: rows });
      const batches = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          s.claimOutbox({ owner: `w${i}`, now: at(10), leaseMs: 60_000, limit: 4 }),
        ),
      );
      const ids = batches.flat().map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.sort()).toEqual(rows.map((r) => r.id));
      for (const [i, batch] of batches.entries()) for (const r of batch) expect(r.leaseOwner).toBe(`w${i}`);
    });

    test('updateOutbox without an owner applies; unknown ids return false', async () => {
      await commit({ expectedVersion: 0, outbox: [outboxFixture(key, 'x', at(1))] });
      expect(
        await s.updateOutbox(
          'x',
          { status: 'pending', attempts: 2, nextAttemptAt: at(9), errorCode: 'E1' },
          at(2),
        ),
      ).toBe(true);
      expect(await s.getOutboxMessage('x')).toMatchObject({
        status: 'pending',
        attempts: 2,
        nextAttemptAt: at(9),
        errorCode: 'E1',
        updatedAt: at(2),
      });
      expect(await s.claimOutbox({ owner: 'w', now: at(8), leaseMs: 1000, limit: 5 })).toEqual([]);
      expect(await s.updateOutbox('x', { status: 'queued', leaseOwner: 'w' }, at(3))).toBe(false); // not leased
      expect(await s.updateOutbox('x', { status: 'cancelled' }, at(3))).toBe(true);
      expect(await s.updateOutbox('nope', { status: 'cancelled' }, at(3))).toBe(false);
    });

    test('applyDeliveryStatus only moves a status up its rank (out-of-order callbacks)', async () => {
      const pmid = `SM-${key}`;
      await commit({
        expectedVersion: 0,
        outbox: [outboxFixture(key, 'd', at(1), { status: 'queued', providerMessageId: pmid })],
      });
      expect(await s.applyDeliveryStatus(`unknown-${key}`, 'delivered', at(2))).toBeNull();
      expect(await s.applyDeliveryStatus(pmid, 'delivered', at(2))).toMatchObject({
        id: 'd',
        status: 'delivered',
        updatedAt: at(2),
      });
      expect(await s.applyDeliveryStatus(pmid, 'sent', at(3))).toBeNull();
      expect(await s.applyDeliveryStatus(pmid, 'failed', at(3), '30003')).toBeNull();
      expect((await s.getOutboxMessage('d'))?.status).toBe('delivered');
      expect(await s.applyDeliveryStatus(pmid, 'read', at(4))).toMatchObject({ status: 'read' });
      // A provider id set later by the dispatcher is found too.
      await commit({
        expectedVersion: 1,
        outbox: [outboxFixture(key, 'e', at(1), { status: 'sending', leaseOwner: 'w' })],
      });
      await s.updateOutbox('e', { status: 'sent', providerMessageId: `${pmid}-e`, leaseOwner: 'w' }, at(2));
      expect(await s.applyDeliveryStatus(`${pmid}-e`, 'undelivered', at(5), '30005')).toMatchObject({
        id: 'e',
        status: 'undelivered',
        errorCode: '30005',
      });
    });

    test('listConversations: most recently updated first, limit and updatedAfter', async () => {
      for (const [i, minute] of [5, 20, 10].entries()) {
        await s.commit({
          key: `${key}-${i}`,
          expectedVersion: 0,
          state: stateFixture(`${key}-${i}`, at(minute)),
          events: [],
          outbox: [],
        });
      }
      const all = await s.listConversations();
      expect(all.map((c) => c.key)).toEqual([`${key}-1`, `${key}-2`, `${key}-0`]);
      expect(all[0]).toMatchObject({ version: 1, updatedAt: at(20) });
      expect(all[0]?.state).toEqual(stateFixture(`${key}-1`, at(20)));
      expect((await s.listConversations({ limit: 2 })).map((c) => c.key)).toEqual([`${key}-1`, `${key}-2`]);
      expect((await s.listConversations({ updatedAfter: at(5) })).map((c) => c.key)).toEqual([
        `${key}-1`,
        `${key}-2`,
      ]);
    });

    test('purge deletes old events, idempotency keys and finished outbox rows only', async () => {
      await commit({
        expectedVersion: 0,
        state: stateFixture(key, at(1)),
        events: [eventFixture('old:t0', at(1)), eventFixture('old:t1', at(2))],
        outbox: [
          outboxFixture(key, 'old-done', at(1), { status: 'delivered' }),
          outboxFixture(key, 'old-pending', at(1)),
        ],
        idempotency: { key: `old-${key}`, result: 1 },
      });
      await commit({
        expectedVersion: 1,
        state: stateFixture(key, at(60)),
        events: [eventFixture('new:t0', at(60))],
        outbox: [outboxFixture(key, 'new-done', at(60), { status: 'failed' })],
        idempotency: { key: `new-${key}`, result: 2 },
      });
      expect(await s.purge(at(30))).toBe(2);
      expect((await s.listEvents(key)).map((e) => e.id)).toEqual(['new:t0']);
      expect(await s.getIdempotency(`old-${key}`)).toBeNull();
      expect(await s.getIdempotency(`new-${key}`)).toBe(2);
      expect((await s.listOutbox(key)).map((r) => r.id).sort()).toEqual(['new-done', 'old-pending']);
      expect((await s.getConversation(key))?.version).toBe(2);
      expect(await s.purge(at(30))).toBe(0);
    });
  });
}
