/**
 * Benchmark: what one engine message costs the SQLite adapter on the event loop (read the idempotency key and
 * the conversation, then commit state + transcript + outbox + idempotency), 50 messages in flight as under
 * concurrent webhooks. The inputs are the booking flow's real output, made before the clock starts. Three sides
 * in the same run: the memory adapter without copies (the baseline: no storage work at all), SQLite with
 * SQLite's own inline checkpoints, and SQLite with the background checkpoint (the default). Prints µs per
 * message of wall time (event-loop time: the process is otherwise idle) and of CPU (all threads), and
 * messages/s. Run alone: `npx tsx bench/sqlite-commit.ts [conversations]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryStorage } from '../src/adapters/storage/memory.js';
import { sqliteStorage } from '../src/adapters/storage/sqlite.js';
import type { CommitInput, OutboxMessage, StorageAdapter } from '../src/adapters/storage/types.js';
import { salonBot } from '../test/support/salon.js';

const SCRIPT = ['book', '1', 'hi', 'HELP'];
const IN_FLIGHT = 50;
const T0 = Date.parse('2026-11-24T17:00:00Z');

/** One side's figures. */
export interface CommitBenchSide {
  name: string;
  wallUs: number;
  cpuUs: number;
  rate: number;
}

/** Commit inputs per script step: `inputs[k][c]` is conversation c's k-th message. */
function makeInputs(conversations: number): CommitInput[][] {
  const bot = salonBot();
  const inputs: CommitInput[][] = SCRIPT.map(() => []);
  for (let c = 0; c < conversations; c++) {
    let state: CommitInput['state'] | undefined;
    for (const [k, text] of SCRIPT.entries()) {
      const id = `m${c}-${k}`;
      const at = new Date(T0 + k * 60_000).toISOString();
      const from = `+1415${String(2_000_000 + c).padStart(7, '0')}`;
      const r = bot.step(state, { id, from, to: '+14155550199', text, receivedAt: at });
      const key = r.state.contact.key;
      const outbox = r.replies.map(
        (reply): OutboxMessage => ({
          id: reply.id,
          conversationKey: key,
          threadId: r.state.thread.id,
          channel: reply.channel,
          to: reply.to,
          text: reply.text,
          segments: reply.segments,
          encoding: reply.encoding,
          kind: reply.kind,
          status: 'sent',
          provider: 'webhook-response',
          attempts: 0,
          nextAttemptAt: at,
          createdAt: at,
          updatedAt: at,
        }),
      );
      const idempotency = { key: `in:${id}`, result: { replies: r.replies.map((x) => x.text) } };
      inputs[k]!.push({ key, expectedVersion: k, state: r.state, events: r.events, outbox, idempotency });
      state = r.state;
    }
  }
  return inputs;
}

async function measure(
  name: string,
  storage: StorageAdapter,
  inputs: CommitInput[][],
): Promise<CommitBenchSide> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  for (const step of inputs) {
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let i = next++; i < step.length; i = next++) {
          const input = step[i]!;
          // What the engine reads before a step: together where the adapter can.
          if (storage.loadForStep) await storage.loadForStep(input.key, input.idempotency!.key);
          else {
            await storage.getIdempotency(input.idempotency!.key);
            await storage.getConversation(input.key);
          }
          const result = await storage.commit(input);
          if (!result.ok) throw new Error(`${name}: commit refused (${result.reason})`);
          n++;
        }
      }),
    );
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await storage.close();
  return { name, wallUs: (wallMs * 1000) / n, cpuUs: (cpu.user + cpu.system) / n, rate: n / (wallMs / 1000) };
}

/**
 * Runs the three sides and prints one line each.
 *
 * @param conversations - Conversations per side (4 messages each). @default 5000
 * @example
 * const [memory, inline, background] = await runSqliteCommitBenchmark(2000);
 */
export async function runSqliteCommitBenchmark(conversations = 5000): Promise<CommitBenchSide[]> {
  const inputs = makeInputs(conversations);
  const dir = mkdtempSync(join(tmpdir(), 'smsflow-bench-commit-'));
  const sides: CommitBenchSide[] = [];
  try {
    await measure(
      'warm-up',
      sqliteStorage({ path: join(dir, 'warm.db') }),
      inputs.map((s) => s.slice(0, 500)),
    );
    sides.push(await measure('memory, no copies (baseline)', memoryStorage({ clone: false }), inputs));
    sides.push(
      await measure(
        'sqlite, inline checkpoints',
        sqliteStorage({ path: join(dir, 'inline.db'), checkpoint: 'inline' }),
        inputs,
      ),
    );
    sides.push(
      await measure('sqlite, background checkpoints', sqliteStorage({ path: join(dir, 'bg.db') }), inputs),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const base = sides[0]!;
  for (const s of sides) {
    console.log(
      `${s.name.padEnd(32)} ${s.wallUs.toFixed(1).padStart(6)} µs/msg event loop  ${s.cpuUs.toFixed(1).padStart(6)} µs/msg CPU  ${s.rate.toFixed(0).padStart(7)} msgs/s  ratio to baseline ${(s.rate / base.rate).toFixed(3)}`,
    );
  }
  return sides;
}

if (import.meta.url === `file://${process.argv[1]}`)
  await runSqliteCommitBenchmark(Number(process.argv[2] ?? 5000));
