// The scheduler contract suite, published as `smsflow/testing`: the in-process and BullMQ schedulers (and a
// host's own) run exactly these cases. Real time with short delays, because BullMQ's delays are Redis time.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ScheduledJob, Scheduler } from '../proactive/types.js';

/** How {@link schedulerContract} creates and disposes of the scheduler under test. */
export interface SchedulerContractOptions {
  /** Shown in the describe block, e.g. `'bullmq'`. */
  name: string;
  /** Returns a scheduler over EMPTY storage (a fresh queue name, a new database); called before every case. */
  create: () => Promise<Scheduler> | Scheduler;
  /** Disposes of what `create` made, after `stop()`. @default nothing */
  destroy?: (scheduler: Scheduler) => Promise<void>;
  /** When set, every case is skipped and its name starts with `[because <skip>]`. */
  skip?: string;
  /** How long to wait for a due job to run. @default 3000 */
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Registers the scheduler contract: due jobs run once with their data, `schedule` is idempotent on the id,
 * `cancel` removes a pending job, jobs do not run early, `stop` waits for running jobs, `list` shows pending.
 *
 * @example
 * schedulerContract({ name: 'in-process', create: () => inProcessScheduler({ pollMs: 20 }) });
 */
export function schedulerContract(options: SchedulerContractOptions): void {
  const prefix = options.skip ? `[because ${options.skip}] ` : '';
  const timeout = options.timeoutMs ?? 3000;
  describe.skipIf(Boolean(options.skip))(`${prefix}scheduler contract: ${options.name}`, () => {
    let scheduler: Scheduler;
    let seen: ScheduledJob[];
    let counter = 0;
    const job = (delayMs: number, extra: Partial<ScheduledJob> = {}): ScheduledJob => ({
      id: `job-${Date.now()}-${counter++}`,
      at: new Date(Date.now() + delayMs).toISOString(),
      kind: 'reminder',
      contact: '+14155550100',
      channel: 'sms',
      payload: { bookingId: 'b1', note: 'Zoë 🙂', nested: { n: 1, list: [1, 'two'] } },
      ...extra,
    });
    const until = async (check: () => boolean, ms = timeout) => {
      const end = Date.now() + ms;
      while (!check() && Date.now() < end) await sleep(10);
    };

    beforeEach(async () => {
      seen = [];
      scheduler = await options.create();
      await scheduler.start(async (j) => {
        seen.push(j);
      });
    });
    afterEach(async () => {
      await scheduler.stop();
      await options.destroy?.(scheduler);
    });

    it('runs a due job once, with its data unchanged', async () => {
      const j = job(0);
      await scheduler.schedule(j);
      await until(() => seen.length > 0);
      await sleep(200);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toEqual({ ...j, at: new Date(j.at).toISOString() });
    });

    it('keeps one job when the same id is scheduled twice', async () => {
      const j = job(150);
      await scheduler.schedule(j);
      await scheduler.schedule({ ...j, payload: { other: true } });
      await until(() => seen.length > 0);
      await sleep(300);
      expect(seen.map((s) => s.id)).toEqual([j.id]);
      expect(seen[0]!.payload).toEqual(j.payload);
    });

    it('does not run a job before its time', async () => {
      const j = job(600);
      const scheduledAt = Date.now();
      await scheduler.schedule(j);
      await sleep(300);
      expect(seen).toHaveLength(0);
      await until(() => seen.length > 0);
      expect(seen).toHaveLength(1);
      expect(Date.now() - scheduledAt).toBeGreaterThanOrEqual(590);
    });

    it('cancels a pending job; cancelling an unknown id says false', async () => {
      const j = job(300);
      await scheduler.schedule(j);
      expect(await scheduler.cancel(j.id)).toBe(true);
      expect(await scheduler.cancel('no-such-job')).toBe(false);
      await sleep(700);
      expect(seen).toHaveLength(0);
    });

    it('runs many due jobs, each once, soonest first when due at different times', async () => {
      const jobs = Array.from({ length: 25 }, (_, i) => job(i < 5 ? 0 : 100 + i * 5));
      await Promise.all(jobs.map((j) => scheduler.schedule(j)));
      await until(() => seen.length >= jobs.length);
      await sleep(200);
      expect(seen.map((s) => s.id).sort()).toEqual(jobs.map((j) => j.id).sort());
    });

    it('lists pending jobs (when supported) and not cancelled ones', async () => {
      if (!scheduler.list) return;
      const a = job(5_000);
      const b = job(6_000);
      await scheduler.schedule(a);
      await scheduler.schedule(b);
      await scheduler.cancel(b.id);
      const ids = (await scheduler.list()).map((j) => j.id);
      expect(ids).toContain(a.id);
      expect(ids).not.toContain(b.id);
      await scheduler.cancel(a.id);
    });

    it('stop() waits for a running job to finish', async () => {
      await scheduler.stop();
      let finished = false;
      let began = false;
      await scheduler.start(async () => {
        began = true;
        await sleep(300);
        finished = true;
      });
      await scheduler.schedule(job(0));
      await until(() => began);
      expect(began).toBe(true);
      await scheduler.stop();
      expect(finished).toBe(true);
    });

    it('a rejected handler does not stop the other jobs', async () => {
      await scheduler.stop();
      const ok: string[] = [];
      await scheduler.start(async (j) => {
        if (j.payload.fail === true) throw new Error('handler failed');
        ok.push(j.id);
      });
      const bad = job(0, { payload: { fail: true } });
      const good = job(50);
      await scheduler.schedule(bad);
      await scheduler.schedule(good);
      await until(() => ok.length > 0);
      expect(ok).toEqual([good.id]);
    });
  });
}
