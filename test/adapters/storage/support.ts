/** Fixtures shared by the storage adapter tests (the contract suite builds its own). */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { OutboxMessage } from '../../../src/adapters/storage/types.js';
import type { ConversationState } from '../../../src/core/types.js';

export const T = '2026-01-01T00:00:00.000Z';

/** A minimal valid conversation state for `key`. */
export const stateFor = (key = 'k'): ConversationState => ({
  v: 1,
  contact: { key, phone: '+15005550006', channel: 'sms', business: '+15005550001' },
  consent: { status: 'unknown' },
  profile: {},
  tags: [],
  thread: {
    id: 't',
    flow: 'f',
    machine: { value: 'idle', context: {}, status: 'active' },
    handoff: { status: 'bot' },
    startedAt: T,
    lastActivityAt: T,
  },
  seq: 0,
});

/** A pending outbox row due at {@link T}. */
export const row = (id: string): OutboxMessage => ({
  id,
  conversationKey: 'k',
  threadId: 't',
  channel: 'sms',
  to: '+15005550006',
  text: 'hello',
  segments: 1,
  encoding: 'GSM-7',
  kind: 'reply',
  status: 'pending',
  attempts: 0,
  nextAttemptAt: T,
  createdAt: T,
  updatedAt: T,
});

/** Runs `claimOutbox` 20 times in each of 4 real processes against one backend; returns every id claimed. */
export async function claimInProcesses(factory: string, options: object): Promise<string[]> {
  const adapter = fileURLToPath(
    new URL(`../../../src/adapters/storage/${factory.replace('Storage', '')}.ts`, import.meta.url),
  );
  const script = `
    const mod = await import(${JSON.stringify(adapter)});
    const s = mod.${factory}(${JSON.stringify(options)});
    const ids = [];
    for (let i = 0; i < 20; i++) {
      const got = await s.claimOutbox({ owner: String(process.pid), now: '2026-01-01T00:01:00.000Z', leaseMs: 60000, limit: 2 });
      ids.push(...got.map((r) => r.id));
    }
    await s.close();
    console.log(JSON.stringify(ids));`;
  const exec = promisify(execFile);
  const outs = await Promise.all(
    Array.from({ length: 4 }, () =>
      exec(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]),
    ),
  );
  return outs.flatMap((o) => JSON.parse(o.stdout) as string[]);
}
