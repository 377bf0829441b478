import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisStorage } from '../../../src/adapters/storage/redis.js';
import { storageContract } from '../../../src/testing/storage-contract.js';
import { claimInProcesses, row, stateFor } from './support.js';

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

const state = stateFor('k');

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
