/**
 * Benchmark: `engine.handleInbound` on the booking flow per storage adapter, against the memory adapter as the
 * baseline measured in the same run. Conversations run concurrently (8 messages each, in order); prints msgs/s,
 * p50/p99 latency per call and the ratio to memory. SQLite uses a file in a temp dir; PostgreSQL and Redis
 * are skipped with a printed reason when DATABASE_URL / REDIS_URL is unset. PostgreSQL is measured twice:
 * durable commits (the default) and `synchronous_commit=off`, to separate fsync cost from the engine's, and
 * then with 4 worker processes on one schema (the target), at 2 and at 8 conversations in flight per
 * worker: each child process (`--worker`) warms up, then drives its own share of the conversations; all start
 * on one signal from the parent, which sums the messages over the wall-clock window from that signal to the
 * last worker's end and merges the latency samples the children print as JSON.
 * Targets (issue 3): SQLite >= 3,000 msg/s, PostgreSQL >= 1,500 msg/s with 4 workers, p99 <= 20 ms.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { memoryStorage } from '../src/adapters/storage/memory.js';
import { postgresStorage } from '../src/adapters/storage/postgres.js';
import { redisStorage } from '../src/adapters/storage/redis.js';
import { sqliteStorage } from '../src/adapters/storage/sqlite.js';
import type { StorageAdapter } from '../src/adapters/storage/types.js';
import { createEngine } from '../src/engine/engine.js';
import { instantCalendar } from '../test/support/instant-calendar.js';
import { salonBot } from '../test/support/salon.js';
import { percentileOf } from './stats.js';

const WORKERS = 4;
/** Conversations in flight in each worker process: light load (the p99 target) and the 1-process line's 32 in all. */
const WORKER_CONCURRENCY = [2, 8];
/** Warm-up conversations of a worker are numbered from here, apart from the measured ones. */
const WARM_OFFSET = 1_000_000;
const script = ['book', '1', 'tomorrow 3pm', 'no', 'Fri 10:30am', 'yes', 'hi', 'HELP'];
const T0 = Date.parse('2026-11-24T17:00:00Z');
const calendar = instantCalendar();

/** One adapter's figures. */
export interface EngineBenchResult {
  name: string;
  rate: number;
  p50: number;
  p99: number;
  /** Rate divided by the memory baseline's rate. */
  ratio?: number;
}

/** Messages of conversations `[from, to)`, `concurrency` conversations in flight; one latency sample per call. */
async function drive(
  storage: StorageAdapter,
  from: number,
  to: number,
  concurrency: number,
  run: string,
): Promise<{ samples: number[]; seconds: number }> {
  const engine = createEngine({ bot: salonBot(), storage, actions: { calendar } });
  const samples: number[] = [];
  let next = from;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let c = next++; c < to; c = next++) {
        for (const [k, text] of script.entries()) {
          const t = performance.now();
          await engine.handleInbound({
            id: `${run}-${c}-${k}`,
            from: `+1415${String(5550000 + c).padStart(7, '0')}`,
            to: '+14155550199',
            text,
            receivedAt: new Date(T0 + k * 60_000).toISOString(),
            provider: 'bench',
          });
          samples.push(performance.now() - t);
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await engine.stop();
  return { samples, seconds };
}

function summarise(name: string, samples: number[], seconds: number): EngineBenchResult {
  samples.sort((a, b) => a - b);
  return {
    name,
    rate: samples.length / seconds,
    p50: percentileOf(samples, 0.5),
    p99: percentileOf(samples, 0.99),
  };
}

async function measure(
  name: string,
  storage: StorageAdapter,
  conversations: number,
  concurrency: number,
): Promise<EngineBenchResult> {
  const run = randomUUID().slice(0, 6);
  // Warm on this adapter first, on conversations the measured run does not touch: otherwise its code is compiled
  // during the measured run, and a 2,400-message run's p99 is mostly the JIT.
  await drive(storage, WARM_OFFSET, WARM_OFFSET + 50, concurrency, `${run}-warm`);
  const { samples, seconds } = await drive(storage, 0, conversations, concurrency, run);
  await storage.close();
  return summarise(name, samples, seconds);
}

/** What a `--worker` child prints as its last stdout line. */
interface WorkerReport {
  samples: number[];
  /** Wall-clock end (ms since the epoch, sub-millisecond). */
  end: number;
}

const epochMs = () => performance.timeOrigin + performance.now();

/**
 * Child side: `bench/engine.ts --worker <json>`. Warms up (JIT on memory, then on the schema: see below), prints
 * `ready`, waits for `go` on stdin, drives its conversations and prints a {@link WorkerReport}.
 */
async function worker(arg: string): Promise<void> {
  const o = JSON.parse(arg) as {
    url: string;
    schema: string;
    from: number;
    to: number;
    concurrency: number;
    run: string;
  };
  await drive(memoryStorage(), 0, 50, o.concurrency, 'warm-up');
  const storage = postgresStorage({ connectionString: o.url, schema: o.schema, autoMigrate: false });
  // Warm on the schema too, on conversations the measured run does not touch: a fresh process spends about
  // twice the CPU per message until the pg path is compiled, its pool connected and its statements prepared
  // (a running server is past that; the 1-process lines are too, after the runs before them).
  await drive(storage, WARM_OFFSET + o.from, WARM_OFFSET + o.from + 100, o.concurrency, `${o.run}-warm`);
  const lines = createInterface({ input: process.stdin });
  const go = new Promise<void>((resolve) => lines.once('line', () => resolve()));
  process.stdout.write('ready\n');
  await go;
  lines.close();
  const { samples } = await drive(storage, o.from, o.to, o.concurrency, o.run);
  const report: WorkerReport = { samples, end: epochMs() };
  await storage.close();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/**
 * `workers` processes on one fresh schema, `conversations` split evenly between them, `concurrency` in flight in
 * each. The rate is all messages over the window from the common start signal to the last worker's end.
 */
export async function measureWorkers(
  name: string,
  url: string,
  workers: number,
  conversations: number,
  concurrency: number,
): Promise<EngineBenchResult> {
  const schema = `smsflow_bench_${randomUUID().replaceAll('-', '')}`;
  const setup = postgresStorage({ connectionString: url, schema });
  await setup.migrate();
  await setup.close();
  const run = randomUUID().slice(0, 6);
  const per = Math.ceil(conversations / workers);
  const children = Array.from({ length: workers }, (_, i) => {
    const arg = JSON.stringify({
      url,
      schema,
      from: i * per,
      to: Math.min(conversations, (i + 1) * per),
      concurrency,
      run,
    });
    const child = spawn(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), fileURLToPath(import.meta.url), '--worker', arg],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const out = createInterface({ input: child.stdout! });
    const ready = new Promise<void>((resolve, reject) => {
      out.once('line', (l) => (l === 'ready' ? resolve() : reject(new Error(`worker ${i}: ${l}`))));
      child.once('exit', (code) => reject(new Error(`worker ${i} exited early (code ${code})`)));
    });
    const report = new Promise<WorkerReport>((resolve, reject) => {
      let last = '';
      out.on('line', (l) => {
        last = l;
      });
      child.once('exit', (code) =>
        code === 0
          ? resolve(JSON.parse(last) as WorkerReport)
          : reject(new Error(`worker ${i}: code ${code}`)),
      );
    });
    report.catch(() => undefined); // awaited below; a failure before that is reported through `ready`
    return { child, ready, report };
  });
  try {
    await Promise.all(children.map((c) => c.ready));
    const start = epochMs();
    for (const c of children) c.child.stdin!.write('go\n');
    const reports = await Promise.all(children.map((c) => c.report));
    const end = Math.max(...reports.map((r) => r.end));
    return summarise(
      name,
      reports.flatMap((r) => r.samples),
      (end - start) / 1000,
    );
  } finally {
    for (const c of children) if (c.child.exitCode === null) c.child.kill();
    await dropSchema(url, schema);
  }
}

function print(r: EngineBenchResult): void {
  console.log(
    `${r.name.padEnd(34)} ${r.rate.toFixed(0).padStart(7)} msgs/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms` +
      (r.ratio === undefined ? '' : `  ratio to memory ${r.ratio.toFixed(3)}`),
  );
}

/**
 * Runs the benchmark and prints one line per adapter.
 *
 * @param conversations - Conversations per adapter (8 messages each); the 4-worker runs share twice as many.
 * @default 300
 * @param concurrency - Conversations in flight at once in this process (1-process lines). @default 32
 * @returns The figures, memory first.
 * @example
 * const results = await runEngineBenchmark(100);
 */
export async function runEngineBenchmark(
  conversations = 300,
  concurrency = 32,
): Promise<EngineBenchResult[]> {
  const results: EngineBenchResult[] = [];
  // Warm-up on memory so the JIT has seen the path before the baseline is taken.
  await measure('warm-up', memoryStorage(), 50, concurrency);
  const memory = await measure('memory (baseline)', memoryStorage(), conversations, concurrency);
  results.push(memory);
  print(memory);
  const add = async (name: string, open: () => StorageAdapter | Promise<StorageAdapter>) => {
    const r = await measure(name, await open(), conversations, concurrency);
    r.ratio = r.rate / memory.rate;
    results.push(r);
    print(r);
  };
  const dir = mkdtempSync(join(tmpdir(), 'smsflow-bench-'));
  try {
    await add('sqlite (file, 1 process)', () => sqliteStorage({ path: join(dir, 'bench.db') }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const pgUrl = process.env.DATABASE_URL;
  if (!pgUrl) console.log('postgres: skipped because DATABASE_URL is not set');
  else {
    for (const [label, url] of [
      ['postgres (1 process)', pgUrl],
      [
        'postgres (synchronous_commit=off)',
        `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent('-c synchronous_commit=off')}`,
      ],
    ] as const) {
      const schema = `smsflow_bench_${randomUUID().replaceAll('-', '')}`;
      await add(label, async () => {
        const s = postgresStorage({ connectionString: url, schema });
        await s.migrate();
        return s;
      });
      await dropSchema(pgUrl, schema);
    }
    for (const inFlight of WORKER_CONCURRENCY) {
      const r = await measureWorkers(
        `postgres (${WORKERS} workers x ${inFlight} in flight)`,
        pgUrl,
        WORKERS,
        conversations * 2,
        inFlight,
      );
      r.ratio = r.rate / memory.rate;
      results.push(r);
      print(r);
    }
  }
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) console.log('redis: skipped because REDIS_URL is not set');
  else {
    const keyPrefix = `smsflow_bench_${randomUUID().slice(0, 8)}:`;
    await add('redis (1 process)', () => redisStorage({ url: redisUrl, keyPrefix }));
    const { Redis } = await import('ioredis');
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
  console.log('targets: sqlite >= 3000 msgs/s, postgres >= 1500 msgs/s (4 workers), p99 <= 20 ms');
  return results;
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url });
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
}

const self = process.argv[1] === fileURLToPath(import.meta.url);
if (self && process.argv[2] === '--worker') await worker(process.argv[3]!);
else if (self) await runEngineBenchmark(Number(process.argv[2] ?? 300), Number(process.argv[3] ?? 32));
