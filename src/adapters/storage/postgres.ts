// PostgreSQL storage adapter. Longer than the ~250-line target because the schema and the commit/claim SQL
// live here as text (bundles need no extra files); the row logic itself is shared from ./memory.js.
import type { Pool, PoolClient } from 'pg';
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

/** Options of {@link postgresStorage}. Give `connectionString` or `pool`. */
export interface PostgresStorageOptions {
  /**
   * `postgres://user:pass@host:5432/db`; the adapter opens its own pool and `close()` ends it.
   * @default undefined (required unless `pool` is given)
   */
  connectionString?: string;
  /**
   * A `pg.Pool` the host created; `close()` leaves it open.
   * @default undefined
   */
  pool?: Pool;
  /**
   * Schema holding the tables; created by `migrate()` if missing.
   * @default 'smsflow'
   */
  schema?: string;
  /**
   * Prefix of the table names inside the schema.
   * @default ''
   */
  tablePrefix?: string;
  /**
   * Run `migrate()` before the first query. Turn off when migrations run in a deploy step.
   * @default true
   */
  autoMigrate?: boolean;
  /**
   * Pool size when the adapter opens its own pool.
   * @default 10
   */
  maxConnections?: number;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Carries a commit's early result (duplicate, conflict) out of the transaction so it rolls back. */
class Outcome extends Error {
  constructor(readonly result: CommitResult) {
    super(result.ok ? 'ok' : result.reason);
  }
}

function configError(message: string): SmsflowError {
  return new SmsflowError('SMSFLOW_ERR_INVALID_CONFIG', `[postgres] ${message}`);
}

/** One SQL text per table; `IF NOT EXISTS` everywhere so `migrate()` can run on every start. */
function schemaSql(s: string, t: (name: string) => string): string {
  return `
    CREATE SCHEMA IF NOT EXISTS "${s}";
    CREATE TABLE IF NOT EXISTS ${t('conversations')} (key text PRIMARY KEY, version integer NOT NULL,
      state jsonb NOT NULL, updated_at timestamptz NOT NULL);
    CREATE INDEX IF NOT EXISTS "${s}_conversations_updated" ON ${t('conversations')} (updated_at DESC);
    CREATE TABLE IF NOT EXISTS ${t('events')} (seq bigserial PRIMARY KEY, conversation_key text NOT NULL,
      thread_id text NOT NULL, at timestamptz NOT NULL, event jsonb NOT NULL);
    CREATE INDEX IF NOT EXISTS "${s}_events_key" ON ${t('events')} (conversation_key, seq);
    CREATE INDEX IF NOT EXISTS "${s}_events_at" ON ${t('events')} (at);
    CREATE TABLE IF NOT EXISTS ${t('outbox')} (id text PRIMARY KEY, conversation_key text NOT NULL,
      status text NOT NULL, created_at timestamptz NOT NULL, due_at timestamptz, provider_message_id text,
      updated_at timestamptz NOT NULL, row jsonb NOT NULL);
    CREATE INDEX IF NOT EXISTS "${s}_outbox_due" ON ${t('outbox')} (created_at, id) WHERE due_at IS NOT NULL;
    CREATE INDEX IF NOT EXISTS "${s}_outbox_key" ON ${t('outbox')} (conversation_key, created_at);
    CREATE INDEX IF NOT EXISTS "${s}_outbox_provider" ON ${t('outbox')} (provider_message_id);
    CREATE TABLE IF NOT EXISTS ${t('idempotency')} (key text PRIMARY KEY, result jsonb NOT NULL,
      created_at timestamptz NOT NULL);
    CREATE INDEX IF NOT EXISTS "${s}_idempotency_at" ON ${t('idempotency')} (created_at);`;
}

/**
 * Storage in PostgreSQL, for any number of stateless processes. Commits are one transaction with
 * optimistic concurrency on a version column; outbox claims use `FOR UPDATE SKIP LOCKED`, so concurrent
 * dispatchers never receive the same row. Loads `pg` lazily on first use.
 *
 * @param options - See {@link PostgresStorageOptions}.
 * @returns A {@link StorageAdapter} named `postgres`, plus `migrate()` (idempotent; safe to run concurrently).
 * @throws SmsflowError `SMSFLOW_ERR_INVALID_CONFIG` on a missing connection or an invalid schema/prefix name.
 * @example
 * const storage = postgresStorage({ connectionString: process.env.DATABASE_URL });
 * await storage.migrate();
 */
export function postgresStorage(
  options: PostgresStorageOptions,
): StorageAdapter & { migrate(): Promise<void> } {
  const schema = options.schema ?? 'smsflow';
  const prefix = options.tablePrefix ?? '';
  if (!IDENTIFIER.test(schema)) {
    throw configError(`schema must be letters, digits and underscores, received ${JSON.stringify(schema)}.`);
  }
  if (!IDENTIFIER.test(`${prefix}x`)) {
    throw configError(
      `tablePrefix must be letters, digits and underscores, received ${JSON.stringify(prefix)}.`,
    );
  }
  if (!options.pool && !options.connectionString) {
    throw configError(
      'Missing option connectionString (or pool). Pass { connectionString: process.env.DATABASE_URL }.',
    );
  }
  const t = (name: string) => `"${schema}"."${prefix}${name}"`;
  const owned = !options.pool;
  let poolPromise: Promise<Pool> | undefined;
  let migrated: Promise<void> | undefined;

  const getPool = (): Promise<Pool> => {
    poolPromise ??= options.pool
      ? Promise.resolve(options.pool)
      : import('pg').then(
          (mod) => {
            const PoolClass = (mod as { Pool?: typeof Pool }).Pool ?? mod.default.Pool;
            return new PoolClass({
              connectionString: options.connectionString,
              max: options.maxConnections ?? 10,
            });
          },
          (cause: unknown) => {
            throw new SmsflowError(
              'SMSFLOW_ERR_INVALID_CONFIG',
              '[postgres] Could not load "pg". Install it (npm i pg).',
              {
                cause,
              },
            );
          },
        );
    return poolPromise;
  };

  /** Runs `fn` in one transaction on one connection; any error rolls back and becomes a storage error. */
  const tx = async <T>(op: string, fn: (c: PoolClient) => Promise<T>, skipMigrate = false): Promise<T> => {
    if (!skipMigrate && options.autoMigrate !== false) await migrate();
    let client: PoolClient | undefined;
    try {
      client = await (await getPool()).connect();
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (cause) {
      await client?.query('ROLLBACK').catch(() => undefined);
      if (cause instanceof SmsflowError || cause instanceof Outcome) throw cause;
      throw new SmsflowError('SMSFLOW_ERR_STORAGE', `[postgres] ${op} failed: ${(cause as Error).message}`, {
        cause,
      });
    } finally {
      client?.release();
    }
  };
  // A single statement is atomic on its own: no BEGIN/COMMIT around it (that tripled the round trips of a read).
  const query = async <T>(op: string, sql: string, params: unknown[]): Promise<T[]> => {
    if (options.autoMigrate !== false) await migrate();
    try {
      return (await (await getPool()).query(sql, params)).rows as T[];
    } catch (cause) {
      throw new SmsflowError('SMSFLOW_ERR_STORAGE', `[postgres] ${op} failed: ${(cause as Error).message}`, {
        cause,
      });
    }
  };

  function migrate(): Promise<void> {
    migrated ??= tx(
      'migrate',
      async (c) => {
        // Two processes starting together would race on CREATE ... IF NOT EXISTS (duplicate pg_type row).
        await c.query('SELECT pg_advisory_xact_lock(7265431, hashtext($1))', [schema]);
        await c.query(schemaSql(schema, t));
      },
      true,
    ).catch((error: unknown) => {
      migrated = undefined; // retry on the next call instead of caching the failure
      throw error;
    });
    return migrated;
  }

  const outboxRecord = (row: OutboxMessage) => {
    const due = outboxDueMs(row);
    return {
      id: row.id,
      k: row.conversationKey,
      s: row.status,
      c: row.createdAt,
      d: due === null ? null : new Date(due).toISOString(),
      p: row.providerMessageId ?? null,
      u: row.updatedAt,
      r: row,
    };
  };
  const writeOutbox = (c: PoolClient, row: OutboxMessage) => {
    const r = outboxRecord(row);
    return c.query(
      `UPDATE ${t('outbox')} SET status = $2, due_at = $3, provider_message_id = $4, updated_at = $5, row = $6
       WHERE id = $1`,
      [r.id, r.s, r.d, r.p, r.u, JSON.stringify(row)],
    );
  };
  const byId = `SELECT row FROM ${t('outbox')} WHERE id = $1`;

  return {
    name: 'postgres',
    migrate,

    async getConversation(key) {
      const rows = await query<{ version: number; state: ConversationState }>(
        'getConversation',
        `SELECT version, state FROM ${t('conversations')} WHERE key = $1`,
        [key],
      );
      const row = rows[0];
      return row ? { key, version: row.version, state: row.state } : null;
    },

    async commit(input) {
      validateCommitTimes(input, 'postgres');
      const { key, state, events, outbox, idempotency, expectedVersion } = input;
      // Sentinel errors unwind tx() (ROLLBACK) and are turned into results below.
      const outcome = await tx('commit', async (c): Promise<CommitResult> => {
        if (idempotency) {
          // Inserting first takes the key's lock: a concurrent commit of the same input waits, then sees it.
          const ins = await c.query(
            `INSERT INTO ${t('idempotency')} (key, result, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
            [idempotency.key, JSON.stringify(idempotency.result), state.thread.lastActivityAt],
          );
          if (ins.rowCount === 0) {
            const done = await c.query(`SELECT result FROM ${t('idempotency')} WHERE key = $1`, [
              idempotency.key,
            ]);
            throw new Outcome({
              ok: false,
              reason: 'duplicate',
              result: (done.rows[0]?.result ?? null) as Json,
            });
          }
        }
        const cas =
          expectedVersion === 0
            ? await c.query(
                `INSERT INTO ${t('conversations')} (key, version, state, updated_at) VALUES ($1, 1, $2, $3)
                 ON CONFLICT (key) DO NOTHING`,
                [key, JSON.stringify(state), state.thread.lastActivityAt],
              )
            : await c.query(
                `UPDATE ${t('conversations')} SET version = version + 1, state = $2, updated_at = $3
                 WHERE key = $1 AND version = $4`,
                [key, JSON.stringify(state), state.thread.lastActivityAt, expectedVersion],
              );
        if (cas.rowCount === 0) throw new Outcome({ ok: false, reason: 'conflict' });
        if (events.length > 0) {
          // ORDER BY the array position so bigserial seq follows the order step emitted the events.
          await c.query(
            `INSERT INTO ${t('events')} (conversation_key, thread_id, at, event)
             SELECT $1, e->>'threadId', (e->>'at')::timestamptz, e FROM jsonb_array_elements($2::jsonb)
             WITH ORDINALITY AS x(e, i) ORDER BY i`,
            [key, JSON.stringify(events)],
          );
        }
        if (outbox.length > 0) {
          await c.query(
            `INSERT INTO ${t('outbox')} (id, conversation_key, status, created_at, due_at, provider_message_id,
               updated_at, row)
             SELECT x->>'id', x->>'k', x->>'s', (x->>'c')::timestamptz, (x->>'d')::timestamptz, x->>'p',
               (x->>'u')::timestamptz, x->'r' FROM jsonb_array_elements($1::jsonb) AS x
             ON CONFLICT (id) DO NOTHING`,
            [JSON.stringify(outbox.map(outboxRecord))],
          );
        }
        return { ok: true, version: expectedVersion + 1 };
      }).catch((error: unknown) => {
        if (error instanceof Outcome) return error.result;
        throw error;
      });
      return outcome;
    },

    async getIdempotency(key) {
      const rows = await query<{ result: Json }>(
        'getIdempotency',
        `SELECT result FROM ${t('idempotency')} WHERE key = $1`,
        [key],
      );
      return rows[0] ? rows[0].result : null;
    },

    async claimOutbox({ owner, now, leaseMs, limit }) {
      const leaseUntil = new Date(toMs(now, 'now', 'postgres') + leaseMs).toISOString();
      // SKIP LOCKED: a row another dispatcher is claiming right now is passed over, never handed out twice.
      const rows = await query<{ row: OutboxMessage }>(
        'claimOutbox',
        `WITH picked AS (
           SELECT id FROM ${t('outbox')} WHERE due_at <= $1::timestamptz
           ORDER BY created_at, id COLLATE "C" LIMIT $2 FOR UPDATE SKIP LOCKED)
         UPDATE ${t('outbox')} o SET status = 'sending', due_at = $3::timestamptz, updated_at = $1::timestamptz,
           row = o.row || jsonb_build_object('status', 'sending', 'leaseOwner', $4::text, 'leaseUntil', $5::text,
             'updatedAt', $6::text)
         FROM picked WHERE o.id = picked.id RETURNING o.row`,
        // The strings go in twice: one parameter has one type, and timestamptz::text is not ISO-8601.
        [now, Math.max(0, limit), leaseUntil, owner, leaseUntil, now],
      );
      return rows.map((r) => r.row).sort(compareOutbox);
    },

    async updateOutbox(id, update, now) {
      return tx('updateOutbox', async (c) => {
        const row = (await c.query(`${byId} FOR UPDATE`, [id])).rows[0]?.row as OutboxMessage | undefined;
        const next = row ? applyOutboxUpdate(row, update, now) : null;
        if (next) await writeOutbox(c, next);
        return next !== null;
      });
    },

    async getOutboxMessage(id) {
      const rows = await query<{ row: OutboxMessage }>('getOutboxMessage', byId, [id]);
      return rows[0]?.row ?? null;
    },

    async applyDeliveryStatus(providerMessageId, status, now, errorCode) {
      return tx('applyDeliveryStatus', async (c) => {
        const found = await c.query(
          `SELECT row FROM ${t('outbox')} WHERE provider_message_id = $1 ORDER BY created_at, id LIMIT 1 FOR UPDATE`,
          [providerMessageId],
        );
        const row = found.rows[0]?.row as OutboxMessage | undefined;
        const next = row ? applyStatus(row, status, now, errorCode) : null;
        if (next) await writeOutbox(c, next);
        return next;
      });
    },

    async listOutbox(key) {
      const rows = await query<{ row: OutboxMessage }>(
        'listOutbox',
        `SELECT row FROM ${t('outbox')} WHERE conversation_key = $1`,
        [key],
      );
      return rows.map((r) => r.row).sort(compareOutbox);
    },

    async listEvents(key, opts = {}) {
      const rows = await query<{ seq: string; event: StoredEvent }>(
        'listEvents',
        `SELECT seq, event FROM ${t('events')} WHERE conversation_key = $1 AND ($2::text IS NULL OR thread_id = $2)
         ORDER BY seq`,
        [key, opts.threadId ?? null],
      );
      return rows.map((r) => ({ ...r.event, conversationKey: key, seq: Number(r.seq) }));
    },

    async listConversations(opts = {}) {
      if (opts.updatedAfter !== undefined) toMs(opts.updatedAfter, 'updatedAfter', 'postgres');
      const rows = await query<{ key: string; version: number; state: ConversationState }>(
        'listConversations',
        `SELECT key, version, state FROM ${t('conversations')}
         WHERE ($1::timestamptz IS NULL OR updated_at > $1::timestamptz) ORDER BY updated_at DESC LIMIT $2`,
        [opts.updatedAfter ?? null, opts.limit ?? null],
      );
      return rows.map((r) => ({ ...r, updatedAt: r.state.thread.lastActivityAt }));
    },

    async purge(before) {
      toMs(before, 'before', 'postgres');
      return tx('purge', async (c) => {
        const events = await c.query(`DELETE FROM ${t('events')} WHERE at < $1`, [before]);
        await c.query(`DELETE FROM ${t('idempotency')} WHERE created_at < $1`, [before]);
        await c.query(`DELETE FROM ${t('outbox')} WHERE updated_at < $1 AND status = ANY($2::text[])`, [
          before,
          FINISHED_OUTBOX_STATUSES,
        ]);
        return events.rowCount ?? 0;
      });
    },

    async close() {
      if (owned && poolPromise) {
        const pool = await poolPromise.catch(() => undefined);
        poolPromise = undefined;
        await pool?.end();
      }
    },
  };
}
