import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisStorage } from '../../../src/adapters/storage/redis.js';
import type { OutboxMessage } from '../../../src/adapters/storage/types.js';
import type { ConversationState } from '../../../src/core/types.js';
import { storageContract } from '../../../src/testing/storage-contract.js';

const url = process.env.REDIS_URL;
const skip = url ? undefined : 'REDIS_URL is not set';
const run = randomUUID();
// One host client for the file; every case writes under its own prefix, deleted afterwards.
let client: Redis | undefined;
const getClient = () => {
  client ??= new Redis(url as string);
  return client;
};
const prefixes = new WeakMap<object, string>();
async function deleteKeys(prefix: string): Promise<number> {
  const keys = await getClient().keys(`${prefix}*`);
  return keys.length > 0 ? getClient().del(...keys) : 0;
}
afterAll(async () => {
  if (client) {
    await deleteKeys(`smsflow-test:${run}:`);
    await client.quit();
  }
});

storageContract({
  name: 'redis',
  skip,
  create: () => {
    const keyPrefix = `smsflow-test:${run}:${randomUUID()}:`;
    const s = redisStorage({ client: getClient(), keyPrefix });
    prefixes.set(s, keyPrefix);
    return s;
  },
  destroy: async (s) => {
    await s.close();
    await deleteKeys(prefixes.get(s)!);
  },
});

const T = '2026-01-01T00:00:00.000Z';
const state: ConversationState = {
  v: 1,
  contact: { key: 'k', phone: '+15005550006', channel: 'sms', business: '+15005550001' },
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
};

const row = (id: string): OutboxMessage => ({
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
async function claimInProcesses(factory: string, options: object): Promise<string[]> {
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

describe.skipIf(!url)(`${skip ? `[because ${skip}] ` : ''}redisStorage`, () => {
  it('opens its own connection from a url, writes under keyPrefix and quits on close', async () => {
    const keyPrefix = `smsflow-test:${run}:own:`;
    const s = redisStorage({ url, keyPrefix });
    await s.commit({ key: 'k', expectedVersion: 0, state, events: [], outbox: [] });
    await s.close();
    expect(await getClient().hget(`${keyPrefix}conv:k`, 'version')).toBe('1');
    expect(await deleteKeys(keyPrefix)).toBeGreaterThan(0);
  });

  it('several processes claiming from one database never get the same row', async () => {
    const keyPrefix = `smsflow-test:${run}:procs:`;
    const s = redisStorage({ client: getClient(), keyPrefix });
    const rows = Array.from({ length: 60 }, (_, i) => row(`r${i}`));
    await s.commit({ key: 'k', expectedVersion: 0, state, events: [], outbox: rows });
    const ids = await claimInProcesses('redisStorage', { url, keyPrefix });
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(rows.map((r) => r.id).sort());
  });

  it('works with a host client and leaves it connected on close', async () => {
    const host = new Redis(url as string);
    const s = redisStorage({ client: host, keyPrefix: `smsflow-test:${run}:host:` });
    expect(await s.commit({ key: 'k', expectedVersion: 0, state, events: [], outbox: [] })).toEqual({
      ok: true,
      version: 1,
    });
    await s.close();
    expect(await host.ping()).toBe('PONG');
    await host.quit();
  });

  it('refuses a client with its own keyPrefix and a missing url', () => {
    const prefixed = new Redis(url as string, { keyPrefix: 'x:', lazyConnect: true });
    expect(() => redisStorage({ client: prefixed })).toThrow(/keyPrefix "x:"/);
    prefixed.disconnect();
    expect(() => redisStorage({})).toThrow(expect.objectContaining({ code: 'SMSFLOW_ERR_INVALID_CONFIG' }));
  });
});
