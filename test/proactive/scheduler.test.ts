import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inProcessScheduler } from '../../src/proactive/in-process.js';
import { memoryJobStore, sqliteJobStore } from '../../src/proactive/job-store.js';
import type { ScheduledJob } from '../../src/proactive/types.js';
import { schedulerContract } from '../../src/testing/scheduler-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'smsflow-sched-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

schedulerContract({ name: 'in-process (memory)', create: () => inProcessScheduler({ pollMs: 20 }) });
schedulerContract({
  name: 'in-process (sqlite)',
  create: () => inProcessScheduler({ pollMs: 20, store: sqliteJobStore({ path: join(dir, `c${n++}.db`) }) }),
  destroy: (s) => (s as ReturnType<typeof inProcessScheduler>).store.close(),
});

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const job = (id: string, minutes: number): ScheduledJob => ({
  id,
  at: new Date(T0 + minutes * 60_000).toISOString(),
  kind: 'event',
  contact: '+14155550100',
  channel: 'sms',
  payload: { n: minutes },
});

describe.each([
  ['memory', () => memoryJobStore()],
  ['sqlite', () => sqliteJobStore({ path: join(dir, `s${n++}.db`) })],
])('in-process scheduler with a fake clock (%s)', (_name, makeStore) => {
  it('runs jobs only when the clock reaches them', async () => {
    let now = T0;
    const ran: string[] = [];
    const s = inProcessScheduler({ store: makeStore(), clock: () => new Date(now), pollMs: 60_000 });
    await s.start(async (j) => {
      ran.push(j.id);
    });
    await s.schedule(job('a', 10));
    await s.schedule(job('b', 5));
    expect(await s.runDue()).toBe(0);
    now = T0 + 5 * 60_000;
    await s.runDue();
    expect(ran).toEqual(['b']);
    now = T0 + 60 * 60_000;
    await s.runDue();
    await s.runDue();
    expect(ran).toEqual(['b', 'a']);
    await s.stop();
  });

  it('a worker that dies mid-job: the job runs once more after the lease, never a third time', async () => {
    let now = T0;
    const store = makeStore();
    await store.insert(job('crash', 0));
    // Worker 1 claims the job and "dies" (never finishes it).
    const claimed = await store.claimDue({
      owner: 'w1',
      now: new Date(now).toISOString(),
      leaseMs: 30_000,
      limit: 10,
    });
    expect(claimed.map((j) => j.id)).toEqual(['crash']);
    const ran: string[] = [];
    const s = inProcessScheduler({ store, clock: () => new Date(now), owner: 'w2', leaseMs: 30_000 });
    await s.start(async (j) => {
      ran.push(j.id);
    });
    expect(await s.runDue()).toBe(0); // still leased by w1
    now += 31_000;
    expect(await s.runDue()).toBe(1);
    expect(ran).toEqual(['crash']);
    expect((await store.get('crash'))?.status).toBe('done');
    // w1 comes back late: its finish is ignored (lease lost).
    expect(await store.finish('crash', 'w1', 'failed')).toBe(false);
    await s.stop();

    // A job whose rerun also dies is given up, not run a third time.
    await store.insert(job('twice', 0));
    await store.claimDue({ owner: 'w1', now: new Date(now).toISOString(), leaseMs: 1000, limit: 10 });
    now += 2000;
    await store.claimDue({ owner: 'w2', now: new Date(now).toISOString(), leaseMs: 1000, limit: 10 });
    now += 2000;
    expect(
      await store.claimDue({ owner: 'w3', now: new Date(now).toISOString(), leaseMs: 1000, limit: 10 }),
    ).toEqual([]);
    expect(await store.get('twice')).toMatchObject({ status: 'failed', note: 'unconfirmed', attempts: 2 });
  });

  it('a rejected handler marks the job failed with the reason', async () => {
    const store = makeStore();
    const s = inProcessScheduler({ store, clock: () => new Date(T0) });
    await s.start(async () => {
      throw new Error('boom');
    });
    await s.schedule(job('bad', 0));
    await s.runDue();
    expect(await store.get('bad')).toMatchObject({ status: 'failed', note: 'boom' });
    await s.stop();
  });
});

describe('sqlite job store survives a restart', () => {
  it('jobs scheduled before a restart run after it, from the same file', async () => {
    const path = join(dir, 'restart.db');
    const first = inProcessScheduler({ store: sqliteJobStore({ path }), clock: () => new Date(T0) });
    await first.schedule(job('r1', 1));
    await first.schedule(job('r2', 2));
    await first.cancel('r2');
    await first.stop();
    await first.store.close();
    const ran: string[] = [];
    const second = inProcessScheduler({
      store: sqliteJobStore({ path }),
      clock: () => new Date(T0 + 3 * 60_000),
    });
    await second.start(async (j) => {
      ran.push(j.id);
    });
    await second.runDue();
    expect(ran).toEqual(['r1']);
    await second.stop();
    await second.store.close();
  });

  it('refuses an invalid job with a message that quotes it', async () => {
    const store = memoryJobStore();
    await expect(store.insert({ ...job('x', 0), at: 'tomorrow' })).rejects.toThrow(/"tomorrow"/);
  });
});
