import { randomUUID } from 'node:crypto';
import { type JobStore, memoryJobStore } from './job-store.js';
import type { JobHandler, ScheduledJob, Scheduler } from './types.js';

/** Options of {@link inProcessScheduler}. */
export interface InProcessSchedulerOptions {
  /** Where jobs live. @default memoryJobStore() (lost on restart; use sqliteJobStore in production) */
  store?: JobStore;
  /** @default () => new Date() */
  clock?: () => Date;
  /** Longest sleep between checks, so jobs added by other processes on a shared store are seen. @default 1000 */
  pollMs?: number;
  /** Claim duration; a worker that dies frees its jobs after this. @default 60000 */
  leaseMs?: number;
  /** Jobs handled at once. @default 10 */
  concurrency?: number;
  /** Identifies this process in claims. @default a random id */
  owner?: string;
  /** Called when a handler rejects (the job is marked failed). */
  onError?: (job: ScheduledJob, error: unknown) => void;
}

/** The in-process scheduler, plus `runDue()` for hosts and tests that drive time themselves. */
export interface InProcessScheduler extends Scheduler {
  /** Claims and runs every job due now (by the clock); resolves when they finished. Returns how many ran. */
  runDue(): Promise<number>;
  readonly store: JobStore;
  /** Pending jobs, soonest first. */
  list(): Promise<ScheduledJob[]>;
}

/**
 * The embedded scheduler: one timer set to the next due job (at most `pollMs` away), a job store with claims.
 * After a restart `start()` claims everything due, including jobs whose previous worker died mid-run (rerun at
 * most once more; see {@link JobStore}).
 *
 * @example
 * const scheduler = inProcessScheduler({ store: sqliteJobStore({ path: 'data/smsflow.db' }) });
 * await scheduler.start(async (job) => console.log('due', job.id));
 * await scheduler.schedule({ id: 'j1', at: new Date(Date.now() + 60_000).toISOString(), kind: 'event',
 *   contact: '+14155550100', channel: 'sms', payload: {} });
 */
export function inProcessScheduler(options: InProcessSchedulerOptions = {}): InProcessScheduler {
  const store = options.store ?? memoryJobStore();
  const clock = options.clock ?? (() => new Date());
  const pollMs = options.pollMs ?? 1000;
  const leaseMs = options.leaseMs ?? 60_000;
  const concurrency = options.concurrency ?? 10;
  const owner = options.owner ?? `scheduler-${randomUUID()}`;
  let handler: JobHandler | null = null;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;
  let again = false;

  async function pass(): Promise<number> {
    if (!handler) return 0;
    const run = handler;
    let handled = 0;
    for (;;) {
      const jobs = await store.claimDue({ owner, now: clock().toISOString(), leaseMs, limit: concurrency });
      if (jobs.length === 0) return handled;
      await Promise.all(
        jobs.map(async (job) => {
          const { status: _s, attempts: _a, leaseOwner: _o, leaseUntil: _u, note: _n, ...plain } = job;
          try {
            await run(plain);
            await store.finish(job.id, owner, 'done');
          } catch (error) {
            options.onError?.(plain, error);
            await store.finish(
              job.id,
              owner,
              'failed',
              String((error as Error)?.message ?? error).slice(0, 200),
            );
          }
        }),
      );
      handled += jobs.length;
    }
  }

  /** Runs a pass now, or right after the current one. */
  function runDue(): Promise<number> {
    if (running) {
      again = true;
      return running;
    }
    running = pass().finally(() => {
      running = null;
      if (again && handler) {
        again = false;
        void runDue();
      }
    });
    return running;
  }

  async function arm(): Promise<void> {
    if (!handler) return;
    if (timer) clearTimeout(timer);
    const next = await store.nextWakeAt();
    const wait = next === null ? pollMs : Math.max(0, Math.min(pollMs, Date.parse(next) - clock().getTime()));
    if (!handler) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      void runDue()
        .catch(() => 0)
        .finally(() => arm().catch(() => {}));
    }, wait);
    timer.unref?.();
  }

  return {
    name: 'in-process',
    store,
    runDue,
    async schedule(job) {
      await store.insert(job);
      // A job sooner than the armed timer must wake it early.
      if (handler) await arm();
    },
    cancel: (id) => store.cancel(id),
    async start(h) {
      handler = h;
      await arm();
    },
    async stop() {
      handler = null;
      if (timer) clearTimeout(timer);
      timer = null;
      while (running) await running;
    },
    list: () => store.list(),
  };
}
