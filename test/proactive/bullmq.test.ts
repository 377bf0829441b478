import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { bullmqScheduler } from '../../src/adapters/scheduler/bullmq.js';
import { schedulerContract } from '../../src/testing/scheduler-contract.js';

const url = process.env.REDIS_URL;
const skip = url ? undefined : 'REDIS_URL is not set';
const run = `t${Date.now().toString(36)}`;
let n = 0;
const queues: string[] = [];

schedulerContract({
  name: 'bullmq',
  ...(skip ? { skip } : {}),
  create: () => {
    const queueName = `${run}-c${n++}`;
    queues.push(queueName);
    return bullmqScheduler({ connection: { url: url ?? 'redis://127.0.0.1:6379' }, queueName });
  },
});

const WORKER = fileURLToPath(new URL('./support/bullmq-worker.ts', import.meta.url));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe.skipIf(!url)(`${skip ? `[because ${skip}] ` : ''}bullmq: 3 worker processes`, () => {
  const procs: ChildProcess[] = [];
  const redis = url ? new Redis(url) : null;
  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    if (redis) {
      const keys = await redis.keys(`*${run}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });

  function spawnWorker(queue: string): Promise<ChildProcess> {
    const proc = spawn(process.execPath, ['--import', 'tsx', WORKER], {
      env: { ...process.env, REDIS_URL: url!, QUEUE: queue },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    procs.push(proc);
    return new Promise((resolve, reject) => {
      proc.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) resolve(proc);
      });
      proc.on('exit', (code) => reject(new Error(`worker exited early (${code})`)));
    });
  }

  it('1,000 due jobs each run exactly once; a worker SIGKILLed mid-job still gets its job done', async () => {
    const queue = `${run}-multi`;
    const producer = bullmqScheduler({ connection: { url: url! }, queueName: queue });
    const workers = await Promise.all([0, 1, 2].map(() => spawnWorker(queue)));
    // The slow job first, so one worker is inside it when we kill that worker.
    await producer.schedule({
      id: 'slow:1',
      at: new Date().toISOString(),
      kind: 'event',
      contact: '+14155550100',
      channel: 'sms',
      payload: { slowMs: 60_000 },
    });
    let started: string | null = null;
    for (let i = 0; i < 200 && !started; i++) {
      started = await redis!.get(`${queue}:started:slow:1`);
      if (!started) await sleep(25);
    }
    expect(started).not.toBeNull();
    const victim = workers.find((w) => String(w.pid) === started)!;
    victim.kill('SIGKILL');
    const t0 = Date.now();
    const jobs = Array.from({ length: 1000 }, (_, i) => ({
      id: `job:${i}`,
      at: new Date(Date.now() + (i % 10) * 20).toISOString(),
      kind: 'reminder' as const,
      contact: '+14155550100',
      channel: 'sms',
      payload: { i },
    }));
    for (let i = 0; i < jobs.length; i += 100)
      await Promise.all(jobs.slice(i, i + 100).map((j) => producer.schedule(j)));
    // Scheduling twice changes nothing.
    await Promise.all(jobs.slice(0, 50).map((j) => producer.schedule(j)));
    for (let i = 0; i < 600; i++) {
      if ((await redis!.scard(`${queue}:done`)) >= 1001) break;
      await sleep(50);
    }
    const elapsed = Date.now() - t0;
    expect(await redis!.scard(`${queue}:done`)).toBe(1001);
    expect(Number(await redis!.get(`${queue}:total`))).toBe(1001); // each job completed once
    const by = await redis!.hgetall(`${queue}:by`);
    // The slow job was finished by a surviving process, on its second run.
    expect(by['slow:1']).not.toBe(started);
    expect(Number(await redis!.get(`${queue}:runs:slow:1`))).toBe(2);
    const runs = await Promise.all(jobs.map((j) => redis!.get(`${queue}:runs:${j.id}`)));
    expect(runs.every((r) => r === '1')).toBe(true);
    // Both surviving workers took part.
    expect(new Set(Object.values(by)).size).toBeGreaterThanOrEqual(2);
    console.info(`bullmq: 1,000 jobs + 1 crashed job over 3 processes (one killed) in ${elapsed} ms`);
    await producer.stop();
  }, 60_000);
});
