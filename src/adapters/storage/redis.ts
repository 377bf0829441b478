// Redis storage adapter. Longer than the ~250-line target because its four Lua scripts (about 90 lines) live
// here as text, next to the code that calls them; the row logic itself is shared from ./memory.js.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { SmsflowError } from '../../core/errors.js';
import type { ConversationState, Json } from '../../core/types.js';
import {
  applyOutboxUpdate,
  applyStatus,
  compareOutbox,
  FINISHED_OUTBOX_STATUSES,
  outboxDueMs,
  toMs,
  validateCommitTimes,
} from './memory.js';
import type { CommitResult, OutboxMessage, StorageAdapter, StoredEvent } from './types.js';

/** Options of {@link redisStorage}. Give `url` or `client`. */
export interface RedisStorageOptions {
  /**
   * `redis://host:6379/0`; the adapter opens its own connection and `close()` quits it.
   * @default undefined (required unless `client` is given)
   */
  url?: string;
  /**
   * An ioredis client the host created (without its own `keyPrefix`); `close()` leaves it open.
   * @default undefined
   */
  client?: Redis;
  /**
   * Prefix of every key the adapter writes, so several bots can share one Redis database.
   * @default 'smsflow:'
   */
  keyPrefix?: string;
}

// Key layout (p = keyPrefix): conv:<key> hash {version,state} + convs zset by updatedMs; events in hash
// ev (seq → JSON) with per-conversation zset ev:conv:<key> and ev:at zset ("seq:key" by time, for purge);
// outbox rows in ob:<id> hash {row,key,createdMs} with zsets ob:due (claimable at), ob:conv:<key>,
// ob:done (finished, by updatedMs) and hash ob:pmid (provider id → id); idempotency in idem + idem:at.
const COMMIT = `
local p, key, expected = ARGV[1], ARGV[2], tonumber(ARGV[3])
local idem = ARGV[6]
if idem ~= '' then
  local done = redis.call('HGET', p .. 'idem', idem)
  if done then return {'duplicate', done} end
end
local cur = tonumber(redis.call('HGET', p .. 'conv:' .. key, 'version') or '0')
if cur ~= expected then return {'conflict'} end
redis.call('HSET', p .. 'conv:' .. key, 'version', expected + 1, 'state', ARGV[4])
redis.call('ZADD', p .. 'convs', ARGV[5], key)
local i = 9
for n = 1, tonumber(ARGV[8]) do
  local seq = redis.call('INCR', p .. 'seq')
  redis.call('HSET', p .. 'ev', seq, ARGV[i + 1])
  redis.call('ZADD', p .. 'ev:conv:' .. key, seq, seq)
  redis.call('ZADD', p .. 'ev:at', ARGV[i], seq .. ':' .. key)
  i = i + 2
end
local rows = tonumber(ARGV[i])
i = i + 1
for n = 1, rows do
  local id = ARGV[i]
  if redis.call('EXISTS', p .. 'ob:' .. id) == 0 then
    redis.call('HSET', p .. 'ob:' .. id, 'row', ARGV[i + 1], 'key', key, 'createdMs', ARGV[i + 2])
    redis.call('ZADD', p .. 'ob:conv:' .. key, ARGV[i + 2], id)
    if ARGV[i + 3] ~= '' then redis.call('ZADD', p .. 'ob:due', ARGV[i + 3], id) end
    if ARGV[i + 4] ~= '' then redis.call('HSET', p .. 'ob:pmid', ARGV[i + 4], id) end
    if ARGV[i + 5] == '1' then redis.call('ZADD', p .. 'ob:done', ARGV[i + 6], id) end
  end
  i = i + 7
end
if idem ~= '' then
  redis.call('HSET', p .. 'idem', idem, ARGV[7])
  redis.call('ZADD', p .. 'idem:at', ARGV[5], idem)
end
return {'ok', tostring(expected + 1)}`;

// Claimable rows are scanned by due time, then ordered oldest first (createdMs, id) as the contract requires.
const CLAIM = `
local p, limit = ARGV[1], tonumber(ARGV[3])
local due = redis.call('ZRANGEBYSCORE', p .. 'ob:due', '-inf', ARGV[2])
local rows = {}
for _, id in ipairs(due) do
  local c = redis.call('HGET', p .. 'ob:' .. id, 'createdMs')
  if c then rows[#rows + 1] = {id = id, c = tonumber(c)} end
end
table.sort(rows, function(a, b) if a.c ~= b.c then return a.c < b.c end return a.id < b.id end)
local out = {}
for n = 1, math.min(limit, #rows) do
  local id = rows[n].id
  local row = cjson.decode(redis.call('HGET', p .. 'ob:' .. id, 'row'))
  row.status, row.leaseOwner, row.leaseUntil, row.updatedAt = 'sending', ARGV[4], ARGV[5], ARGV[7]
  local json = cjson.encode(row)
  redis.call('HSET', p .. 'ob:' .. id, 'row', json)
  redis.call('ZADD', p .. 'ob:due', ARGV[6], id)
  out[#out + 1] = json
end
return out`;

// Compare-and-set of one outbox row: the row logic lives in TypeScript (shared with every adapter); this
// script only writes when nobody changed the row since it was read.
const SET_ROW = `
local p, id = ARGV[1], ARGV[2]
if redis.call('HGET', p .. 'ob:' .. id, 'row') ~= ARGV[3] then return 0 end
redis.call('HSET', p .. 'ob:' .. id, 'row', ARGV[4])
if ARGV[5] == '' then redis.call('ZREM', p .. 'ob:due', id) else redis.call('ZADD', p .. 'ob:due', ARGV[5], id) end
if ARGV[6] ~= '' then redis.call('HSET', p .. 'ob:pmid', ARGV[6], id) end
if ARGV[7] == '1' then redis.call('ZADD', p .. 'ob:done', ARGV[8], id) else redis.call('ZREM', p .. 'ob:done', id) end
return 1`;

// Deletes at most ARGV[3] items of each kind per call, so one purge never blocks Redis for long.
const PURGE = `
local p, before, batch = ARGV[1], '(' .. ARGV[2], ARGV[3]
local evs = redis.call('ZRANGEBYSCORE', p .. 'ev:at', '-inf', before, 'LIMIT', 0, batch)
for _, m in ipairs(evs) do
  local seq, key = string.match(m, '^(%d+):(.*)$')
  redis.call('HDEL', p .. 'ev', seq)
  redis.call('ZREM', p .. 'ev:conv:' .. key, seq)
  redis.call('ZREM', p .. 'ev:at', m)
end
local keys = redis.call('ZRANGEBYSCORE', p .. 'idem:at', '-inf', before, 'LIMIT', 0, batch)
for _, k in ipairs(keys) do
  redis.call('HDEL', p .. 'idem', k)
  redis.call('ZREM', p .. 'idem:at', k)
end
local ids = redis.call('ZRANGEBYSCORE', p .. 'ob:done', '-inf', before, 'LIMIT', 0, batch)
for _, id in ipairs(ids) do
  local h = p .. 'ob:' .. id
  local row = cjson.decode(redis.call('HGET', h, 'row'))
  if row.providerMessageId then redis.call('HDEL', p .. 'ob:pmid', row.providerMessageId) end
  redis.call('ZREM', p .. 'ob:conv:' .. redis.call('HGET', h, 'key'), id)
  redis.call('ZREM', p .. 'ob:due', id)
  redis.call('ZREM', p .. 'ob:done', id)
  redis.call('DEL', h)
end
return {#evs, #keys, #ids}`;

const PURGE_BATCH = 1000;
const sha = (script: string) => createHash('sha1').update(script).digest('hex');

/**
 * Storage in Redis: every write is one Lua script, so commits and claims are atomic without locks. Suits
 * short-lived conversations and many stateless processes; use PostgreSQL when you need SQL over transcripts.
 * Loads `ioredis` lazily on first use.
 *
 * @param options - See {@link RedisStorageOptions}.
 * @returns A {@link StorageAdapter} named `redis`.
 * @throws SmsflowError `SMSFLOW_ERR_INVALID_CONFIG` without `url`/`client`, or when the client has its own keyPrefix.
 * @example
 * const storage = redisStorage({ url: process.env.REDIS_URL, keyPrefix: 'shop-bot:' });
 */
export function redisStorage(options: RedisStorageOptions): StorageAdapter {
  const p = options.keyPrefix ?? 'smsflow:';
  if (!options.client && !options.url) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      '[redis] Missing option url (or client). Pass { url: process.env.REDIS_URL }.',
    );
  }
  const hostPrefix = options.client?.options.keyPrefix;
  if (hostPrefix) {
    // ioredis prefixes plain commands but not keys a Lua script builds, so the two would disagree.
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      `[redis] The client has keyPrefix ${JSON.stringify(hostPrefix)}; create it without one and pass { keyPrefix } here.`,
    );
  }
  let clientPromise: Promise<Redis> | undefined;
  const getClient = (): Promise<Redis> => {
    clientPromise ??= options.client
      ? Promise.resolve(options.client)
      : import('ioredis').then(
          (mod) => new ((mod as { Redis?: typeof Redis }).Redis ?? mod.default)(options.url as string),
          (cause: unknown) => {
            throw new SmsflowError(
              'SMSFLOW_ERR_INVALID_CONFIG',
              '[redis] Could not load "ioredis". Install it (npm i ioredis).',
              {
                cause,
              },
            );
          },
        );
    return clientPromise;
  };
  const run = async <T>(op: string, fn: (r: Redis) => Promise<T>): Promise<T> => {
    try {
      return await fn(await getClient());
    } catch (cause) {
      if (cause instanceof SmsflowError) throw cause;
      throw new SmsflowError('SMSFLOW_ERR_STORAGE', `[redis] ${op} failed: ${(cause as Error).message}`, {
        cause,
      });
    }
  };
  const script = async (r: Redis, body: string, args: (string | number)[]): Promise<unknown> => {
    try {
      return await r.evalsha(sha(body), 0, p, ...args);
    } catch (error) {
      if (!String((error as Error).message).includes('NOSCRIPT')) throw error;
      return r.eval(body, 0, p, ...args);
    }
  };
  const rowArgs = (row: OutboxMessage) => [
    String(outboxDueMs(row) ?? ''),
    row.providerMessageId ?? '',
    FINISHED_OUTBOX_STATUSES.includes(row.status) ? '1' : '0',
    Date.parse(row.updatedAt),
  ];
  const getRaw = async (r: Redis, id: string) => r.hget(`${p}ob:${id}`, 'row');

  /** Read, compute with the shared row logic, compare-and-set; retried when a concurrent write got there first. */
  const changeRow = async (
    r: Redis,
    id: string,
    change: (row: OutboxMessage) => OutboxMessage | null,
  ): Promise<OutboxMessage | null> => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const raw = await getRaw(r, id);
      const next = raw ? change(JSON.parse(raw) as OutboxMessage) : null;
      if (!raw || !next) return null;
      if ((await script(r, SET_ROW, [id, raw, JSON.stringify(next), ...rowArgs(next)])) === 1) return next;
    }
    throw new SmsflowError(
      'SMSFLOW_ERR_CONFLICT',
      `[redis] Outbox row ${JSON.stringify(id)} kept changing; retry later.`,
    );
  };

  return {
    name: 'redis',
    async getConversation(key) {
      return run('getConversation', async (r) => {
        const [version, state] = await r.hmget(`${p}conv:${key}`, 'version', 'state');
        return version && state
          ? { key, version: Number(version), state: JSON.parse(state) as ConversationState }
          : null;
      });
    },
    async commit(input) {
      const updatedMs = validateCommitTimes(input, 'redis');
      const args: (string | number)[] = [
        input.key,
        input.expectedVersion,
        JSON.stringify(input.state),
        updatedMs,
      ];
      args.push(
        input.idempotency?.key ?? '',
        JSON.stringify(input.idempotency?.result ?? null),
        input.events.length,
      );
      for (const e of input.events) args.push(Date.parse(e.at), JSON.stringify(e));
      args.push(input.outbox.length);
      for (const row of input.outbox)
        args.push(row.id, JSON.stringify(row), Date.parse(row.createdAt), ...rowArgs(row));
      return run('commit', async (r): Promise<CommitResult> => {
        const [outcome, value] = (await script(r, COMMIT, args)) as [string, string?];
        if (outcome === 'duplicate')
          return { ok: false, reason: 'duplicate', result: JSON.parse(value!) as Json };
        if (outcome === 'conflict') return { ok: false, reason: 'conflict' };
        return { ok: true, version: Number(value) };
      });
    },
    async getIdempotency(key) {
      return run('getIdempotency', async (r) => {
        const done = await r.hget(`${p}idem`, key);
        return done === null ? null : (JSON.parse(done) as Json);
      });
    },
    async loadForStep(key, idempotencyKey) {
      return run('loadForStep', async (r) => {
        // One round trip: both reads go out in one pipeline.
        const replies = await r
          .pipeline()
          .hget(`${p}idem`, idempotencyKey)
          .hmget(`${p}conv:${key}`, 'version', 'state')
          .exec();
        for (const [error] of replies ?? []) if (error) throw error;
        const done = replies?.[0]?.[1] as string | null;
        const [version, state] = (replies?.[1]?.[1] ?? []) as (string | null)[];
        return {
          recorded: done === null || done === undefined ? null : (JSON.parse(done) as Json),
          conversation:
            version && state
              ? { key, version: Number(version), state: JSON.parse(state) as ConversationState }
              : null,
        };
      });
    },
    async claimOutbox({ owner, now, leaseMs, limit }) {
      const nowMs = toMs(now, 'now', 'redis');
      const until = nowMs + leaseMs;
      return run('claimOutbox', async (r) => {
        const args = [nowMs, Math.max(0, limit), owner, new Date(until).toISOString(), until, now];
        const rows = (await script(r, CLAIM, args)) as string[];
        return rows.map((j) => JSON.parse(j) as OutboxMessage);
      });
    },
    async updateOutbox(id, update, now) {
      return run(
        'updateOutbox',
        async (r) => (await changeRow(r, id, (row) => applyOutboxUpdate(row, update, now))) !== null,
      );
    },
    async getOutboxMessage(id) {
      return run('getOutboxMessage', async (r) => {
        const raw = await getRaw(r, id);
        return raw ? (JSON.parse(raw) as OutboxMessage) : null;
      });
    },
    async applyDeliveryStatus(providerMessageId, status, now, errorCode) {
      return run('applyDeliveryStatus', async (r) => {
        const id = await r.hget(`${p}ob:pmid`, providerMessageId);
        return id ? changeRow(r, id, (row) => applyStatus(row, status, now, errorCode)) : null;
      });
    },
    async listOutbox(key, opts = {}) {
      return run('listOutbox', async (r) => {
        const prefix = opts.idPrefix ?? '';
        const after =
          opts.createdAfter === undefined ? null : toMs(opts.createdAfter, 'createdAfter', 'redis');
        // Only the rows asked for are fetched and parsed; the conversation's set is scored by creation time.
        const listed =
          after === null
            ? await r.zrange(`${p}ob:conv:${key}`, 0, -1)
            : await r.zrangebyscore(`${p}ob:conv:${key}`, `(${after}`, '+inf');
        const ids = listed.filter((id) => id.startsWith(prefix));
        const raws = await Promise.all(ids.map((id) => getRaw(r, id)));
        return raws.flatMap((raw) => (raw ? [JSON.parse(raw) as OutboxMessage] : [])).sort(compareOutbox);
      });
    },
    async listEvents(key, opts = {}) {
      return run('listEvents', async (r) => {
        const seqs = await r.zrange(`${p}ev:conv:${key}`, 0, -1);
        const raws = seqs.length > 0 ? await r.hmget(`${p}ev`, ...seqs) : [];
        return raws
          .map((raw, i): StoredEvent | null =>
            raw ? { ...(JSON.parse(raw) as StoredEvent), conversationKey: key, seq: Number(seqs[i]) } : null,
          )
          .filter(
            (e): e is StoredEvent =>
              e !== null && (opts.threadId === undefined || e.threadId === opts.threadId),
          );
      });
    },
    async listConversations(opts = {}) {
      const after =
        opts.updatedAfter === undefined ? '-inf' : `(${toMs(opts.updatedAfter, 'updatedAfter', 'redis')}`;
      return run('listConversations', async (r) => {
        const keys = await r.zrevrangebyscore(`${p}convs`, '+inf', after, 'LIMIT', 0, opts.limit ?? -1);
        const rows = await Promise.all(keys.map((k) => r.hmget(`${p}conv:${k}`, 'version', 'state')));
        return rows.flatMap(([version, raw], i) => {
          if (!version || !raw) return [];
          const state = JSON.parse(raw) as ConversationState;
          return [{ key: keys[i]!, version: Number(version), state, updatedAt: state.thread.lastActivityAt }];
        });
      });
    },
    async purge(before) {
      const beforeMs = toMs(before, 'before', 'redis');
      return run('purge', async (r) => {
        let events = 0;
        for (;;) {
          const counts = (await script(r, PURGE, [beforeMs, PURGE_BATCH])) as number[];
          events += counts[0] ?? 0;
          if (counts.every((c) => c < PURGE_BATCH)) return events;
        }
      });
    },
    async close() {
      if (!options.client && clientPromise) {
        const client = await clientPromise.catch(() => undefined);
        clientPromise = undefined;
        await client?.quit();
      }
    },
  };
}
