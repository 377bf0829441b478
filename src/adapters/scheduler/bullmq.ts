// BullMQ scheduler (Redis): delayed jobs with jobId = job.id, so a job exists once however often it is
// scheduled, and exactly one worker process runs it. bullmq is an optional peer dependency, loaded lazily.
import type { ConnectionOptions, Queue, Worker } from 'bullmq';
import { SmsflowError } from '../../core/errors.js';
import type { JobHandler, ScheduledJob, Scheduler } from '../../proactive/types.js';

/** Options of {@link bullmqScheduler}. */
export interface BullmqSchedulerOptions {
  /** `{ url: 'redis://…' }`, or an ioredis instance / BullMQ connection options. */
  connection: { url: string } | ConnectionOptions;
  /** @default 'smsflow-proactive' */
  queueName?: string;
  /** BullMQ key prefix. @default 'bull' */
  prefix?: string;
  /** Jobs run at once per process. @default 10 */
  concurrency?: number;
  /**
   * How long a running job stays locked without a heartbeat. A worker that dies (SIGKILL) loses the lock after
   * this, and another process runs the job again, once (`maxStalledCount: 1`). @default 30000
   */
  lockDurationMs?: number;
  /** How often workers look for stalled jobs. @default lockDurationMs / 2 */
  stalledIntervalMs?: number;
}

// BullMQ refuses ':' in custom ids (it separates key parts); escape it reversibly.
const encodeId = (id: string) => `j-${id.replace(/%/g, '%25').replace(/:/g, '%3A')}`; // never a bare integer either

async function loadBullmq(): Promise<typeof import('bullmq')> {
  try {
    return await import('bullmq');
  } catch (cause) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      '[bullmq] Could not load "bullmq". Install it (npm i bullmq) to use bullmqScheduler.',
      { cause },
    );
  }
}

/**
 * A scheduler on BullMQ for several processes: every process may `schedule`; each process that calls `start`
 * runs a worker. A job is delivered to one worker; a worker killed mid-job frees it after `lockDurationMs`, and
 * the job runs once more on another worker. A rejected handler fails the job (no retry).
 *
 * @example
 * const scheduler = bullmqScheduler({ connection: { url: process.env.REDIS_URL! }, queueName: 'salon' });
 * const proactive = createProactive({ engine, scheduler });
 * await proactive.start();
 */
export function bullmqScheduler(options: BullmqSchedulerOptions): Scheduler {
  const queueName = options.queueName ?? 'smsflow-proactive';
  const lockDuration = options.lockDurationMs ?? 30_000;
  const connection: ConnectionOptions =
    'url' in options.connection && typeof options.connection.url === 'string'
      ? urlOptions(options.connection.url)
      : (options.connection as ConnectionOptions);
  const prefix = options.prefix ?? 'bull';
  let queue: Queue | null = null;
  let worker: Worker | null = null;

  async function getQueue(): Promise<Queue> {
    if (!queue) {
      const { Queue } = await loadBullmq();
      queue = new Queue(queueName, { connection, prefix });
    }
    return queue;
  }

  return {
    name: 'bullmq',
    async schedule(job) {
      const q = await getQueue();
      const at = Date.parse(job.at);
      if (Number.isNaN(at) || !job.id) {
        throw new SmsflowError(
          'SMSFLOW_ERR_INVALID_CONFIG',
          `Job "${String(job.id).slice(0, 80)}" has at "${String(job.at).slice(0, 40)}": give an id and an ISO time.`,
        );
      }
      const data: ScheduledJob = { ...job, at: new Date(at).toISOString() };
      await q.add(job.kind, data, {
        jobId: encodeId(job.id),
        delay: Math.max(0, at - Date.now()),
        attempts: 1,
        // Kept a day after completion so a late duplicate schedule() of the same id is still ignored.
        removeOnComplete: { age: 86_400 },
        removeOnFail: { age: 7 * 86_400 },
      });
    },
    async cancel(id) {
      const q = await getQueue();
      const job = await q.getJob(encodeId(id));
      if (!job) return false;
      const state = await job.getState();
      if (state !== 'delayed' && state !== 'waiting' && state !== 'prioritized') return false;
      await job.remove();
      return true;
    },
    async start(handler: JobHandler) {
      const { Worker } = await loadBullmq();
      worker = new Worker<ScheduledJob>(queueName, async (job) => handler(job.data), {
        connection,
        prefix,
        concurrency: options.concurrency ?? 10,
        lockDuration,
        stalledInterval: options.stalledIntervalMs ?? Math.max(1000, Math.floor(lockDuration / 2)),
        maxStalledCount: 1,
      });
      worker.on('error', () => {}); // connection blips are retried by ioredis; avoid an unhandled 'error'
      await worker.waitUntilReady();
    },
    async stop() {
      await worker?.close();
      worker = null;
      await queue?.close();
      queue = null;
    },
    async list() {
      const q = await getQueue();
      const jobs = await q.getJobs(['delayed', 'waiting', 'prioritized']);
      return jobs
        .filter((j): j is NonNullable<typeof j> => Boolean(j?.data))
        .map((j) => j.data as ScheduledJob)
        .sort((a, b) => a.at.localeCompare(b.at));
    },
  };
}

/** `redis://user:pass@host:port/db` → BullMQ connection options (workers need maxRetriesPerRequest: null). */
function urlOptions(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      `[bullmq] connection.url "${url.replace(/\/\/[^@]*@/, '//***@').slice(0, 80)}" is not a URL; use redis://host:6379.`,
    );
  }
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}
