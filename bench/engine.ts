/**
 * Benchmark: `engine.handleInbound` on the booking flow per storage adapter, against the memory adapter as the
 * baseline measured in the same run. Conversations run concurrently (8 messages each, in order); prints msgs/s,
 * p50/p99 latency per call and the ratio to memory. SQLite uses a file in a temp dir; PostgreSQL and Redis
 * are skipped with a printed reason when DATABASE_URL / REDIS_URL is unset. PostgreSQL is measured twice:
 * durable commits (the default) and `synchronous_commit=off`, to separate fsync cost from the engine's.
 * Targets (issue 3): SQLite >= 3,000 msg/s, PostgreSQL >= 1,500 msg/s, p99 <= 20 ms.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CalendarAdapter } from '../src/adapters/actions/types.js';
import { memoryStorage } from '../src/adapters/storage/memory.js';
import { postgresStorage } from '../src/adapters/storage/postgres.js';
import { redisStorage } from '../src/adapters/storage/redis.js';
import { sqliteStorage } from '../src/adapters/storage/sqlite.js';
import type { StorageAdapter } from '../src/adapters/storage/types.js';
import { createEngine } from '../src/engine/engine.js';
import { salonBot } from '../test/support/salon.js';

const script = ['book', '1', 'tomorrow 3pm', 'no', 'Fri 10:30am', 'yes', 'hi', 'HELP'];
const T0 = Date.parse('2026-11-24T17:00:00Z');
const calendar: CalendarAdapter = {
  name: 'instant',
  check: async () => ({ available: true }),
  book: async (_r, ctx) => ({ bookingId: `bk-${ctx.effectId}` }),
  reschedule: async (r) => ({ bookingId: r.bookingId }),
  cancel: async () => ({ cancelled: true }),
};

/** One adapter's figures. */
export interface EngineBenchResult {
  name: string;
  rate: number;
  p50: number;
  p99: number;
  /** Rate divided by the memory baseline's rate. */
  ratio?: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function measure(
  name: string,
  storage: StorageAdapter,
  conversations: number,
  concurrency: number,
): Promise<EngineBenchResult> {
  const engine = createEngine({ bot: salonBot(), storage, actions: { calendar } });
  const run = randomUUID().slice(0, 6);
  const samples: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let c = next++; c < conversations; c = next++) {
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
  await storage.close();
  samples.sort((a, b) => a - b);
  return { name, rate: samples.length / seconds, p50: percentile(samples, 50), p99: percentile(samples, 99) };
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
 * @param conversations - Conversations per adapter (8 messages each). @default 300
 * @param concurrency - Conversations in flight at once in this process. @default 32
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

if (import.meta.url === `file://${process.argv[1]}`)
  await runEngineBenchmark(Number(process.argv[2] ?? 300), Number(process.argv[3] ?? 32));
