// PostgreSQL storage adapter. Longer than the ~250-line target because the schema and the commit/claim SQL
// live here as text (bundles need no extra files); the row logic itself is shared from ./memory.js.
import { createHash } from 'node:crypto';
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
import type { OutboxMessage, StorageAdapter, StoredConversation, StoredEvent } from './types.js';

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
  /**
   * Send queries as named prepared statements (parsed and planned once per connection). Turn off behind a
   * pooler that cannot keep them across transactions (PgBouncer in transaction mode before 1.21).
   * @default true
   */
  preparedStatements?: boolean;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

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
 * The commit as one server-side function, so a commit is one round trip. Versioned by name (`commit_v1`): a
 * changed body gets a new name, so processes of the previous release keep calling the function they know
 * during a rolling deploy; `migrate()` creates it only when missing. Order and semantics are those of
 * the former client-side transaction: the idempotency key is inserted first (a concurrent commit of the same
 * input waits on it, then reports `duplicate`), then the version compare-and-set; on a conflict the key just
 * inserted is deleted again, so the statement commits nothing visible (no error is raised: a raised error
 * would write the statement, with message text, to the server log). Events keep their array order for `seq`.
 */
function commitFunctionSql(fn: string, t: (name: string) => string): string {
  return `
    CREATE OR REPLACE FUNCTION ${fn}(p_key text, p_expected integer, p_state jsonb, p_updated timestamptz,
      p_events jsonb, p_outbox jsonb, p_idem_key text, p_idem_result jsonb,
      OUT outcome text, OUT new_version integer, OUT recorded jsonb)
    LANGUAGE plpgsql VOLATILE AS $smsflow$
    BEGIN
      IF p_idem_key IS NOT NULL THEN
        INSERT INTO ${t('idempotency')} (key, result, created_at) VALUES (p_idem_key, p_idem_result, p_updated)
          ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
          SELECT i.result INTO recorded FROM ${t('idempotency')} i WHERE i.key = p_idem_key;
          outcome := 'duplicate';
          RETURN;
        END IF;
      END IF;
      IF p_expected = 0 THEN
        INSERT INTO ${t('conversations')} (key, version, state, updated_at) VALUES (p_key, 1, p_state, p_updated)
          ON CONFLICT (key) DO NOTHING;
      ELSE
        UPDATE ${t('conversations')} c SET version = c.version + 1, state = p_state, updated_at = p_updated
          WHERE c.key = p_key AND c.version = p_expected;
      END IF;
      IF NOT FOUND THEN
        IF p_idem_key IS NOT NULL THEN
          DELETE FROM ${t('idempotency')} i WHERE i.key = p_idem_key;
        END IF;
        outcome := 'conflict';
        RETURN;
      END IF;
      IF jsonb_array_length(p_events) > 0 THEN
        INSERT INTO ${t('events')} (conversation_key, thread_id, at, event)
          SELECT p_key, x.e->>'threadId', (x.e->>'at')::timestamptz, x.e
          FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(e, i) ORDER BY x.i;
      END IF;
      IF jsonb_array_length(p_outbox) > 0 THEN
        INSERT INTO ${t('outbox')} (id, conversation_key, status, created_at, due_at, provider_message_id,
            updated_at, row)
          SELECT x->>'id', x->>'k', x->>'s', (x->>'c')::timestamptz, (x->>'d')::timestamptz, x->>'p',
            (x->>'u')::timestamptz, x->'r'
          FROM jsonb_array_elements(p_outbox) AS x
          ON CONFLICT (id) DO NOTHING;
      END IF;
      outcome := 'ok';
      new_version := p_expected + 1;
    END;
    $smsflow$;`;
}

/** A query with a prepared-statement name derived from its text (same text, same name; schemas never clash). */
interface Named {
  name: string;
  text: string;
}
const named = (text: string): Named => ({
  name: `smsflow_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`,
  text,
});

/**
 * Storage in PostgreSQL, for any number of stateless processes. A commit is one round trip: one call of a
 * PL/pgSQL function that `migrate()` installs, with optimistic concurrency on a version column; `loadForStep`
 * reads the idempotency record and the conversation in one statement. Outbox claims use
 * `FOR UPDATE SKIP LOCKED`, so concurrent dispatchers never receive the same row. Loads `pg` lazily on first use.
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
  const commitFn = t('commit_v1');
  const owned = !options.pool;
  const prepare = options.preparedStatements !== false;
  let poolPromise: Promise<Pool> | undefined;
  let migrated: Promise<void> | undefined;
  let migrationDone = false;

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

  const storageError = (op: string, cause: unknown): SmsflowError => {
    const message = (cause as Error).message;
    // A deploy that skips migrate() (autoMigrate: false) on an older schema: say what to do.
    const hint =
      (cause as { code?: string }).code === '42883' && message.includes('commit_v1')
        ? ' The schema predates this version of smsflow: run storage.migrate().'
        : '';
    return new SmsflowError('SMSFLOW_ERR_STORAGE', `[postgres] ${op} failed: ${message}${hint}`, { cause });
  };
  const ready = async () => {
    if (!migrationDone && options.autoMigrate !== false) await migrate();
  };
  const config = (q: Named, values: unknown[]) =>
    prepare ? { name: q.name, text: q.text, values } : { text: q.text, values };

  /** Runs `fn` in one transaction on one connection; any error rolls back and becomes a storage error. */
  const tx = async <T>(op: string, fn: (c: PoolClient) => Promise<T>, skipMigrate = false): Promise<T> => {
    if (!skipMigrate) await ready();
    let client: PoolClient | undefined;
    try {
      client = await (await getPool()).connect();
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (cause) {
      await client?.query('ROLLBACK').catch(() => undefined);
      if (cause instanceof SmsflowError) throw cause;
      throw storageError(op, cause);
    } finally {
      client?.release();
    }
  };
  // A single statement is atomic on its own: no BEGIN/COMMIT around it (that tripled the round trips of a read).
  // Named (prepared once per connection), so the server parses and plans each text once per connection.
  const query = async <T>(op: string, q: Named, params: unknown[]): Promise<T[]> => {
    await ready();
    try {
      return (await (await getPool()).query(config(q, params))).rows as T[];
    } catch (cause) {
      throw storageError(op, cause);
    }
  };

  function migrate(): Promise<void> {
    migrated ??= tx(
      'migrate',
      async (c) => {
        // Two processes starting together would race on CREATE ... IF NOT EXISTS (duplicate pg_type row).
        await c.query('SELECT pg_advisory_xact_lock(7265431, hashtext($1))', [schema]);
        await c.query(schemaSql(schema, t));
        // Created only when missing, like the tables: a versioned name never changes its body, and an app role
        // that does not own the function (migrations run by another role) could not replace it.
        const exists = await c.query('SELECT to_regprocedure($1) IS NOT NULL AS found', [
          `${commitFn}(text, integer, jsonb, timestamptz, jsonb, jsonb, text, jsonb)`,
        ]);
        if (!exists.rows[0]?.found) await c.query(commitFunctionSql(commitFn, t));
      },
      true,
    ).then(
      () => {
        migrationDone = true;
      },
      (error: unknown) => {
        migrated = undefined; // retry on the next call instead of caching the failure
        throw error;
      },
    );
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
  const sql = {
    getConversation: named(`SELECT version, state FROM ${t('conversations')} WHERE key = $1`),
    getIdempotency: named(`SELECT result FROM ${t('idempotency')} WHERE key = $1`),
    // One row always: the LEFT JOINs leave a column null when its row is missing.
    loadForStep: named(
      `SELECT c.version, c.state, i.result FROM (VALUES (1)) AS one (x)
       LEFT JOIN ${t('conversations')} c ON c.key = $1 LEFT JOIN ${t('idempotency')} i ON i.key = $2`,
    ),
    commit: named(`SELECT outcome, new_version, recorded FROM ${commitFn}($1, $2, $3, $4, $5, $6, $7, $8)`),
    // SKIP LOCKED: a row another dispatcher is claiming right now is passed over, never handed out twice.
    claimOutbox: named(
      `WITH picked AS (
         SELECT id FROM ${t('outbox')} WHERE due_at <= $1::timestamptz
         ORDER BY created_at, id COLLATE "C" LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE ${t('outbox')} o SET status = 'sending', due_at = $3::timestamptz, updated_at = $1::timestamptz,
         row = o.row || jsonb_build_object('status', 'sending', 'leaseOwner', $4::text, 'leaseUntil', $5::text,
           'updatedAt', $6::text)
       FROM picked WHERE o.id = picked.id RETURNING o.row`,
    ),
    outboxById: named(`SELECT row FROM ${t('outbox')} WHERE id = $1`),
    outboxByIdForUpdate: named(`SELECT row FROM ${t('outbox')} WHERE id = $1 FOR UPDATE`),
    outboxByProviderForUpdate: named(
      `SELECT row FROM ${t('outbox')} WHERE provider_message_id = $1 ORDER BY created_at, id LIMIT 1 FOR UPDATE`,
    ),
    writeOutbox: named(
      `UPDATE ${t('outbox')} SET status = $2, due_at = $3, provider_message_id = $4, updated_at = $5, row = $6
       WHERE id = $1`,
    ),
    // starts_with, not a range on id: a range would follow the database's collation, not code points.
    listOutbox: named(
      `SELECT row FROM ${t('outbox')} WHERE conversation_key = $1 AND starts_with(id, $2)
       AND ($3::timestamptz IS NULL OR created_at > $3::timestamptz)`,
    ),
    listEvents: named(
      `SELECT seq, event FROM ${t('events')} WHERE conversation_key = $1 AND ($2::text IS NULL OR thread_id = $2)
       ORDER BY seq`,
    ),
    listConversations: named(
      `SELECT key, version, state FROM ${t('conversations')}
       WHERE ($1::timestamptz IS NULL OR updated_at > $1::timestamptz) ORDER BY updated_at DESC LIMIT $2`,
    ),
  };
  const writeOutbox = (c: PoolClient, row: OutboxMessage) => {
    const r = outboxRecord(row);
    return c.query(config(sql.writeOutbox, [r.id, r.s, r.d, r.p, r.u, JSON.stringify(row)]));
  };

  return {
    name: 'postgres',
    migrate,

    async getConversation(key) {
      const rows = await query<{ version: number; state: ConversationState }>(
        'getConversation',
        sql.getConversation,
        [key],
      );
      const row = rows[0];
      return row ? { key, version: row.version, state: row.state } : null;
    },

    async loadForStep(key, idempotencyKey) {
      const rows = await query<{ version: number | null; state: ConversationState | null; result: Json }>(
        'loadForStep',
        sql.loadForStep,
        [key, idempotencyKey],
      );
      const row = rows[0];
      const conversation: StoredConversation | null =
        row && row.version !== null && row.state !== null
          ? { key, version: row.version, state: row.state }
          : null;
      return { recorded: row?.result ?? null, conversation };
    },

    async commit(input) {
      validateCommitTimes(input, 'postgres');
      const { key, state, events, outbox, idempotency, expectedVersion } = input;
      // One round trip: the function (see commitFunctionSql) runs the whole commit in this statement's
      // transaction, so it is all or nothing without BEGIN/COMMIT.
      const rows = await query<{ outcome: string; new_version: number | null; recorded: Json }>(
        'commit',
        sql.commit,
        [
          key,
          expectedVersion,
          JSON.stringify(state),
          state.thread.lastActivityAt,
          JSON.stringify(events),
          JSON.stringify(outbox.map(outboxRecord)),
          idempotency?.key ?? null,
          idempotency ? JSON.stringify(idempotency.result) : null,
        ],
      );
      const row = rows[0];
      if (row?.outcome === 'ok') return { ok: true, version: row.new_version ?? expectedVersion + 1 };
      if (row?.outcome === 'duplicate')
        return { ok: false, reason: 'duplicate', result: row.recorded ?? null };
      if (row?.outcome === 'conflict') return { ok: false, reason: 'conflict' };
      throw new SmsflowError('SMSFLOW_ERR_STORAGE', `[postgres] commit failed: unexpected outcome.`);
    },

    async getIdempotency(key) {
      const rows = await query<{ result: Json }>('getIdempotency', sql.getIdempotency, [key]);
      return rows[0] ? rows[0].result : null;
    },

    async claimOutbox({ owner, now, leaseMs, limit }) {
      const leaseUntil = new Date(toMs(now, 'now', 'postgres') + leaseMs).toISOString();
      const rows = await query<{ row: OutboxMessage }>(
        'claimOutbox',
        sql.claimOutbox,
        // The strings go in twice: one parameter has one type, and timestamptz::text is not ISO-8601.
        [now, Math.max(0, limit), leaseUntil, owner, leaseUntil, now],
      );
      return rows.map((r) => r.row).sort(compareOutbox);
    },

    async updateOutbox(id, update, now) {
      return tx('updateOutbox', async (c) => {
        const row = (await c.query(config(sql.outboxByIdForUpdate, [id]))).rows[0]?.row as
          | OutboxMessage
          | undefined;
        const next = row ? applyOutboxUpdate(row, update, now) : null;
        if (next) await writeOutbox(c, next);
        return next !== null;
      });
    },

    async getOutboxMessage(id) {
      const rows = await query<{ row: OutboxMessage }>('getOutboxMessage', sql.outboxById, [id]);
      return rows[0]?.row ?? null;
    },

    async applyDeliveryStatus(providerMessageId, status, now, errorCode) {
      return tx('applyDeliveryStatus', async (c) => {
        const found = await c.query(config(sql.outboxByProviderForUpdate, [providerMessageId]));
        const row = found.rows[0]?.row as OutboxMessage | undefined;
        const next = row ? applyStatus(row, status, now, errorCode) : null;
        if (next) await writeOutbox(c, next);
        return next;
      });
    },

    async listOutbox(key, opts = {}) {
      const after =
        opts.createdAfter === undefined ? null : toMs(opts.createdAfter, 'createdAfter', 'postgres');
      const rows = await query<{ row: OutboxMessage }>('listOutbox', sql.listOutbox, [
        key,
        opts.idPrefix ?? '',
        after === null ? null : new Date(after).toISOString(),
      ]);
      return rows.map((r) => r.row).sort(compareOutbox);
    },

    async listEvents(key, opts = {}) {
      const rows = await query<{ seq: string; event: StoredEvent }>('listEvents', sql.listEvents, [
        key,
        opts.threadId ?? null,
      ]);
      return rows.map((r) => ({ ...r.event, conversationKey: key, seq: Number(r.seq) }));
    },

    async listConversations(opts = {}) {
      if (opts.updatedAfter !== undefined) toMs(opts.updatedAfter, 'updatedAfter', 'postgres');
      const rows = await query<{ key: string; version: number; state: ConversationState }>(
        'listConversations',
        sql.listConversations,
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
