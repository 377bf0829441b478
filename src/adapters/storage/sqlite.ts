// SQLite storage adapter (better-sqlite3, loaded lazily). Schema and statements are inline SQL text; the row
// logic is shared from ./memory.js.
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { SmsflowError } from '../../core/errors.js';
import { optionalRequire } from '../../core/optional-require.js';
import type { ConversationState, Json, TranscriptEvent } from '../../core/types.js';
import {
  applyOutboxUpdate,
  applyStatus,
  compareOutbox,
  FINISHED_OUTBOX_STATUSES,
  instantMs,
  outboxDueMs,
  prefixEnd,
  toMs,
  validateCommitTimes,
} from './memory.js';
import type {
  CommitResult,
  OutboxMessage,
  StorageAdapter,
  StoredConversation,
  StoredEvent,
} from './types.js';

/** Options of {@link sqliteStorage}. Give `path` or `database`. */
export interface SqliteStorageOptions {
  /**
   * Database file to open (created if missing), or `':memory:'`. Ignored when `database` is given.
   * @default undefined (required unless `database` is given)
   */
  path?: string;
  /**
   * A better-sqlite3 `Database` the host opened. The adapter then leaves its pragmas alone and `close()`
   * does not close it.
   * @default undefined
   */
  database?: BetterSqlite3.Database;
  /**
   * How long a write waits for another process's lock before failing (`PRAGMA busy_timeout`).
   * @default 5000
   */
  busyTimeoutMs?: number;
  /**
   * Prefix of the table names, so smsflow can share a database file with the host's tables.
   * @default 'smsflow_'
   */
  tablePrefix?: string;
  /**
   * Who moves the write-ahead log into the database file. `'background'`: a worker thread with its own
   * connection, every `checkpointIntervalMs`, so the fsyncs of a checkpoint never stall the event loop (and
   * every webhook waiting on it). `'inline'`: SQLite's own default, inside the commit that fills the log.
   * Only for a file the adapter opens itself (`path`, not `':memory:'`); a host's `database` keeps its settings.
   * @default 'background'
   */
  checkpoint?: 'background' | 'inline';
  /**
   * How many conversations the adapter keeps in memory after committing them, so the engine's next step on
   * one skips reading and parsing it. Only for a file the adapter opens; dropped whenever another connection
   * (another process) writes the file. `0` turns it off. Each entry is one conversation's state (a few KB).
   * @default 5000
   */
  stateCacheSize?: number;
  /**
   * How often the background checkpoint runs, in milliseconds.
   * @default 50
   */
  checkpointIntervalMs?: number;
}

interface OutboxRowRecord {
  row: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Loads better-sqlite3 only when the adapter is created, so `import 'smsflow'` works without it; through
 * {@link optionalRequire}, which works in the ESM and CJS builds alike.
 */
function loadDriver(): { Database: typeof BetterSqlite3; path: string | null } {
  const req = optionalRequire();
  try {
    const Database = req('better-sqlite3') as typeof BetterSqlite3;
    // Where the checkpoint worker loads it from; a bundle that inlined the driver has no such path.
    let path: string | null = null;
    try {
      path = req.resolve('better-sqlite3');
    } catch {
      path = null;
    }
    return { Database, path };
  } catch (cause) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      '[sqlite] Could not load "better-sqlite3". Install it (npm i better-sqlite3) or pass options.database.',
      { cause },
    );
  }
}

/**
 * Embedded storage in one SQLite file: the default for a single machine. Opens the file in WAL mode with a
 * busy timeout, creates its tables if missing, and runs every write in one `BEGIN IMMEDIATE` transaction,
 * so several processes on the same file never interleave a commit or a claim.
 *
 * @param options - See {@link SqliteStorageOptions}.
 * @returns A {@link StorageAdapter} named `sqlite`.
 * @throws SmsflowError `SMSFLOW_ERR_INVALID_CONFIG` when neither `path` nor `database` is given.
 * @example
 * const storage = sqliteStorage({ path: './data/smsflow.db' });
 */
export function sqliteStorage(options: SqliteStorageOptions): StorageAdapter {
  const prefix = options.tablePrefix ?? 'smsflow_';
  if (!IDENTIFIER.test(`${prefix}x`)) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      `[sqlite] tablePrefix must be letters, digits and underscores, received ${JSON.stringify(prefix)}.`,
    );
  }
  if (options.database === undefined && typeof options.path !== 'string') {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      `[sqlite] Missing option path, received ${JSON.stringify(options.path)}. Pass { path: './smsflow.db' } or { database }.`,
    );
  }
  const owned = options.database === undefined;
  const driver = owned ? loadDriver() : null;
  const db = options.database ?? new driver!.Database(options.path as string);
  let checkpointer: Worker | null = null;
  if (owned) {
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    // WAL lets readers run during a write; NORMAL sync is durable in WAL except on power loss (sqlite.org/wal.html).
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Without a driver path for the worker (a bundle), SQLite checkpoints inline as by default.
    if ((options.checkpoint ?? 'background') === 'background' && !db.memory && driver?.path) {
      checkpointer = startCheckpointer(db, driver.path, db.name, options.checkpointIntervalMs ?? 50);
    }
  }
  const t = (name: string) => `"${prefix}${name}"`;
  // A conversation's transcript rows form a chain, newest first: the conversation row holds the seq of its
  // last row and each row the seq of the one before it. An index on (conversation_key, seq) put every message's
  // transcript row on a page of its own conversation (a random page per message to write to the log and later
  // copy back); the chain adds nothing beyond the conversation row each commit writes anyway.
  db.exec(`
    CREATE TABLE IF NOT EXISTS ${t('conversations')} (key TEXT PRIMARY KEY, version INTEGER NOT NULL,
      state TEXT NOT NULL, updated_ms INTEGER NOT NULL, last_event_seq INTEGER);
    CREATE INDEX IF NOT EXISTS ${t('conversations_updated')} ON ${t('conversations')} (updated_ms);
    CREATE TABLE IF NOT EXISTS ${t('events')} (seq INTEGER PRIMARY KEY AUTOINCREMENT, conversation_key TEXT NOT NULL,
      thread_id TEXT NOT NULL, at_ms INTEGER NOT NULL, event TEXT NOT NULL, prev_seq INTEGER);
    CREATE INDEX IF NOT EXISTS ${t('events_at')} ON ${t('events')} (at_ms);
    CREATE TABLE IF NOT EXISTS ${t('outbox')} (id TEXT PRIMARY KEY, conversation_key TEXT NOT NULL,
      status TEXT NOT NULL, created_ms INTEGER NOT NULL, due_ms INTEGER, provider_message_id TEXT,
      updated_ms INTEGER NOT NULL, row TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS ${t('outbox_due')} ON ${t('outbox')} (due_ms) WHERE due_ms IS NOT NULL;
    CREATE INDEX IF NOT EXISTS ${t('outbox_key')} ON ${t('outbox')} (conversation_key, created_ms);
    CREATE INDEX IF NOT EXISTS ${t('outbox_provider')} ON ${t('outbox')} (provider_message_id);
    CREATE TABLE IF NOT EXISTS ${t('idempotency')} (key TEXT PRIMARY KEY, result TEXT NOT NULL, at_ms INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS ${t('idempotency_at')} ON ${t('idempotency')} (at_ms);
  `);
  chainTranscripts(db, t);

  const q = {
    getConv: db.prepare(`SELECT version, state FROM ${t('conversations')} WHERE key = ?`),
    insertConv: db.prepare(
      `INSERT INTO ${t('conversations')} (key, version, state, updated_ms, last_event_seq) VALUES (?, 1, ?, ?, ?)`,
    ),
    updateConv: db.prepare(
      `UPDATE ${t('conversations')} SET version = version + 1, state = ?, updated_ms = ?,
         last_event_seq = coalesce(?, last_event_seq) WHERE key = ? AND version = ?`,
    ),
    listConv: db.prepare(
      `SELECT key, version, state FROM ${t('conversations')} WHERE updated_ms > ? ORDER BY updated_ms DESC LIMIT ?`,
    ),
    insertEvent: db.prepare(
      `INSERT INTO ${t('events')} (seq, conversation_key, thread_id, at_ms, event, prev_seq) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    // The largest seq ever used (AUTOINCREMENT keeps it here even after the newest rows are purged).
    lastSeq: db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = '${prefix}events'`),
    lastEventOf: db.prepare(`SELECT last_event_seq FROM ${t('conversations')} WHERE key = ?`).pluck(),
    // Walks the chain from the conversation's last row; a purged row ends it (rows before it are older). CROSS
    // JOIN keeps the chain the outer loop: otherwise the planner may scan the whole table against it.
    listEvents: db.prepare(
      `WITH RECURSIVE chain(seq) AS (
         SELECT last_event_seq FROM ${t('conversations')} WHERE key = ? AND last_event_seq IS NOT NULL
         UNION ALL
         SELECT e.prev_seq FROM ${t('events')} e JOIN chain ON e.seq = chain.seq WHERE e.prev_seq IS NOT NULL
       )
       SELECT e.seq, e.event FROM chain CROSS JOIN ${t('events')} e ON e.seq = chain.seq
       WHERE ? IS NULL OR e.thread_id = ? ORDER BY e.seq`,
    ),
    insertOutbox: db.prepare(
      `INSERT OR IGNORE INTO ${t('outbox')} (id, conversation_key, status, created_ms, due_ms, provider_message_id,
        updated_ms, row) VALUES (@id, @key, @status, @created, @due, @pmid, @updated, @row)`,
    ),
    writeOutbox: db.prepare(
      `UPDATE ${t('outbox')} SET status = @status, due_ms = @due, provider_message_id = @pmid, updated_ms = @updated,
        row = @row WHERE id = @id`,
    ),
    getOutbox: db.prepare(`SELECT row FROM ${t('outbox')} WHERE id = ?`),
    byProvider: db.prepare(
      `SELECT row FROM ${t('outbox')} WHERE provider_message_id = ? ORDER BY created_ms, id LIMIT 1`,
    ),
    listOutbox: db.prepare(`SELECT row FROM ${t('outbox')} WHERE conversation_key = ?`),
    // Ids in [prefix, prefixEnd(prefix)): exactly those starting with the prefix, found through the primary key
    // (the unary + keeps the planner off the conversation index, which would scan the whole conversation).
    listOutboxRange: db.prepare(
      `SELECT row FROM ${t('outbox')} WHERE id >= ? AND id < ? AND +conversation_key = ?`,
    ),
    listOutboxSince: db.prepare(
      `SELECT row FROM ${t('outbox')} WHERE conversation_key = ? AND created_ms > ?`,
    ),
    due: db.prepare(
      `SELECT row FROM ${t('outbox')} WHERE due_ms IS NOT NULL AND due_ms <= ? ORDER BY created_ms, id LIMIT ?`,
    ),
    // Changes when another connection commits to the file (sqlite.org/pragma.html#pragma_data_version).
    dataVersion: db.prepare('PRAGMA data_version').pluck(),
    begin: db.prepare('BEGIN'),
    end: db.prepare('COMMIT'),
    getIdem: db.prepare(`SELECT result FROM ${t('idempotency')} WHERE key = ?`),
    insertIdem: db.prepare(`INSERT OR IGNORE INTO ${t('idempotency')} (key, result, at_ms) VALUES (?, ?, ?)`),
    deleteIdem: db.prepare(`DELETE FROM ${t('idempotency')} WHERE key = ?`),
    // Events, not rows: a row holding several events (a JSON array) counts as that many.
    countOldEvents: db.prepare(
      `SELECT coalesce(sum(CASE WHEN substr(event, 1, 1) = '[' THEN json_array_length(event) ELSE 1 END), 0) AS n
       FROM ${t('events')} WHERE at_ms < ?`,
    ),
    purgeEvents: db.prepare(`DELETE FROM ${t('events')} WHERE at_ms < ?`),
    purgeIdem: db.prepare(`DELETE FROM ${t('idempotency')} WHERE at_ms < ?`),
    purgeOutbox: db.prepare(
      `DELETE FROM ${t('outbox')} WHERE updated_ms < ? AND status IN (${FINISHED_OUTBOX_STATUSES.map(() => '?').join(', ')})`,
    ),
  };

  // What a commit would otherwise read for every transcript row (two lookups of about a microsecond each): the
  // largest seq ever used and each conversation's last row, as this connection's own writes left them. Valid
  // while no other connection has committed, which `PRAGMA data_version` tells; it is asked once per write
  // transaction, under the write lock, so nothing can commit between the check and the writes that rely on it.
  // A transaction that fails drops everything (its writes were rolled back). Were the numbers ever stale, the
  // next row would take a seq another writer already took: the primary key refuses it, the batch rolls back and
  // runs again from the file, so a stale cache costs a retry, never a broken chain. Only on a connection the
  // adapter opened (a host's own writes on its connection would not change data_version).
  const cacheLimit = owned ? Math.max(0, Math.trunc(options.stateCacheSize ?? 5_000)) : 0;
  const seqs = (() => {
    let dataVersion: number | null = null;
    let lastSeq: number | null = null;
    const lastEvent = new Map<string, number>();
    const drop = () => {
      dataVersion = null;
      lastSeq = null;
      lastEvent.clear();
    };
    return {
      /** At the start of a write transaction: drops what another connection's commit may have made stale. */
      begin() {
        if (cacheLimit === 0) return;
        const version = q.dataVersion.get() as number;
        if (version !== dataVersion) drop();
        dataVersion = version;
      },
      last: () => lastSeq ?? (q.lastSeq.get() as { seq: number } | undefined)?.seq ?? 0,
      lastOf(key: string): number | null {
        const known = lastEvent.get(key);
        return known !== undefined ? known : ((q.lastEventOf.get(key) as number | null | undefined) ?? null);
      },
      /** This transaction wrote `key`'s transcript rows up to `seq`. */
      wrote(key: string, seq: number) {
        if (cacheLimit === 0) return;
        lastSeq = seq;
        lastEvent.delete(key); // re-inserted last: the Map's order is the eviction order
        lastEvent.set(key, seq);
        if (lastEvent.size > cacheLimit) lastEvent.delete(lastEvent.keys().next().value as string);
      },
      /** The write transaction rolled back. */
      failed: drop,
    };
  })();

  // Transcript rows: the events of one commit that share a thread are one row, a JSON array (one insert
  // instead of one per event: most of a message's storage cost was here). Each event still has its own seq: a
  // row of n events takes the n numbers up to its own seq, given explicitly past the last one ever used
  // (AUTOINCREMENT then carries on after it). A single event is stored as an object, as rows written before
  // this were; readers take both. Each row links to the conversation's row before it, and the conversation
  // row, written in the same commit, to the last (the chain above). Read under the commit's write lock, so no
  // other writer takes these seqs meanwhile.
  type EventRow = { seq: number; threadId: string; atMs: number; event: string; prev: number | null };
  const eventRows = (key: string, events: readonly TranscriptEvent[]) => {
    const rows: EventRow[] = [];
    if (events.length === 0) return { rows, last: null };
    let prev = seqs.lastOf(key);
    let seq = seqs.last();
    for (let start = 0; start < events.length; ) {
      const threadId = events[start]!.threadId;
      let end = start + 1;
      while (end < events.length && events[end]!.threadId === threadId) end++;
      const run = events.slice(start, end);
      let atMs = instantMs(run[0]!.at);
      for (const e of run) atMs = Math.max(atMs, instantMs(e.at)); // purged only once its newest event is old
      seq += run.length;
      rows.push({ seq, threadId, atMs, event: JSON.stringify(run.length === 1 ? run[0] : run), prev });
      prev = seq;
      start = end;
    }
    return { rows, last: seq };
  };
  const eventsOf = (key: string, rows: { seq: number; event: string }[]): StoredEvent[] => {
    const out: StoredEvent[] = [];
    for (const r of rows) {
      const parsed = JSON.parse(r.event) as TranscriptEvent | TranscriptEvent[];
      if (!Array.isArray(parsed)) out.push({ ...parsed, conversationKey: key, seq: r.seq });
      else {
        const first = r.seq - parsed.length + 1;
        for (const [i, e] of parsed.entries()) out.push({ ...e, conversationKey: key, seq: first + i });
      }
    }
    return out;
  };

  const params = (row: OutboxMessage) => ({
    id: row.id,
    key: row.conversationKey,
    status: row.status,
    created: instantMs(row.createdAt),
    due: outboxDueMs(row),
    pmid: row.providerMessageId ?? null,
    updated: instantMs(row.updatedAt),
    row: JSON.stringify(row),
  });
  const parseRow = (r: unknown): OutboxMessage | null =>
    r ? (JSON.parse((r as OutboxRowRecord).row) as OutboxMessage) : null;

  // IMMEDIATE takes the write lock up front: a deferred transaction that reads then writes can fail with
  // SQLITE_BUSY when another process wrote in between, instead of waiting busy_timeout (sqlite.org/lang_transaction.html).
  // Leaves nothing written unless it returns ok, which the group commit below relies on: a duplicate is found
  // by the idempotency insert writing nothing, and a version conflict takes that insert back before returning.
  const commitBody = (input: Parameters<StorageAdapter['commit']>[0], updatedMs: number): CommitResult => {
    // The idempotency key first: a key already there means a duplicate, found by the insert itself (no read
    // before it). A version conflict after it takes the key out again, so a refused commit writes nothing.
    const idempotency = input.idempotency;
    if (idempotency) {
      const result = JSON.stringify(idempotency.result);
      if (q.insertIdem.run(idempotency.key, result, updatedMs).changes === 0) {
        const done = q.getIdem.get(idempotency.key) as { result: string } | undefined;
        // Not there after all: the insert was ignored for another reason (a result that is not JSON).
        if (!done) throw new Error(`idempotency key ${JSON.stringify(idempotency.key)} could not be stored`);
        return { ok: false, reason: 'duplicate', result: JSON.parse(done.result) as Json };
      }
    }
    const state = JSON.stringify(input.state);
    const rows = eventRows(input.key, input.events);
    const conflict = (): CommitResult => {
      if (idempotency) q.deleteIdem.run(idempotency.key);
      return { ok: false, reason: 'conflict' };
    };
    if (input.expectedVersion === 0) {
      if (q.getConv.get(input.key)) return conflict();
      q.insertConv.run(input.key, state, updatedMs, rows.last);
    } else if (
      q.updateConv.run(state, updatedMs, rows.last, input.key, input.expectedVersion).changes === 0
    ) {
      return conflict();
    }
    for (const r of rows.rows) q.insertEvent.run(r.seq, input.key, r.threadId, r.atMs, r.event, r.prev);
    for (const row of input.outbox) q.insertOutbox.run(params(row));
    if (rows.last !== null) seqs.wrote(input.key, rows.last);
    return { ok: true, version: input.expectedVersion + 1 };
  };
  const commitTx = db.transaction((input: Parameters<StorageAdapter['commit']>[0], updatedMs: number) => {
    seqs.begin();
    return commitBody(input, updatedMs);
  });
  const claimTx = db.transaction(
    (owner: string, now: string, nowMs: number, leaseMs: number, limit: number) => {
      const leaseUntil = new Date(nowMs + leaseMs).toISOString();
      return q.due.all(nowMs, limit).map((r: unknown) => {
        const claimed: OutboxMessage = {
          ...parseRow(r)!,
          status: 'sending',
          leaseOwner: owner,
          leaseUntil,
          updatedAt: now,
        };
        q.writeOutbox.run(params(claimed));
        return claimed;
      });
    },
  );
  const updateTx = db.transaction(
    (id: string, update: Parameters<StorageAdapter['updateOutbox']>[1], now: string) => {
      const row = parseRow(q.getOutbox.get(id));
      const next = row ? applyOutboxUpdate(row, update, now) : null;
      if (next) q.writeOutbox.run(params(next));
      return next !== null;
    },
  );
  const statusTx = db.transaction(
    (pmid: string, status: OutboxMessage['status'], now: string, code?: string) => {
      const row = parseRow(q.byProvider.get(pmid));
      const next = row ? applyStatus(row, status, now, code) : null;
      if (next) q.writeOutbox.run(params(next));
      return next;
    },
  );
  const purgeTx = db.transaction((beforeMs: number) => {
    const deleted = (q.countOldEvents.get(beforeMs) as { n: number }).n;
    q.purgeEvents.run(beforeMs);
    q.purgeIdem.run(beforeMs);
    q.purgeOutbox.run(beforeMs, ...FINISHED_OUTBOX_STATUSES);
    return deleted;
  });

  /** Runs a synchronous driver call; driver failures (SQLITE_BUSY, disk full) become storage errors. */
  const g = async <T>(op: string, fn: () => T): Promise<T> => {
    try {
      return fn();
    } catch (cause) {
      if (cause instanceof SmsflowError) throw cause;
      throw new SmsflowError('SMSFLOW_ERR_STORAGE', `[sqlite] ${op} failed: ${(cause as Error).message}`, {
        cause,
      });
    }
  };

  // Group commit: commits that arrive in the same turn of the event loop (concurrent webhooks) share one
  // IMMEDIATE transaction. A commit that is refused (duplicate, version conflict) writes nothing, so they need
  // no isolation from each other; only a driver error (disk full, I/O) does: then the whole batch is rolled back
  // and each commit runs again in a transaction of its own, so one failing commit fails only itself. Savepoints
  // per commit would give the same isolation at about a third more CPU per commit. On a disk where each
  // transaction costs ~0.5 ms this is what lets concurrent traffic go past ~2,000 commits/s.
  type Pending = {
    input: Parameters<StorageAdapter['commit']>[0];
    updatedMs: number;
    resolve: (r: CommitResult) => void;
    reject: (e: unknown) => void;
  };
  let queue: Pending[] = [];
  const toStorageError = (cause: unknown) =>
    cause instanceof SmsflowError
      ? cause
      : new SmsflowError('SMSFLOW_ERR_STORAGE', `[sqlite] commit failed: ${(cause as Error).message}`, {
          cause,
        });
  const batchTx = db.transaction((items: Pending[]) => {
    seqs.begin();
    return items.map((item) => commitBody(item.input, item.updatedMs));
  });
  /** Runs a commit transaction; a failed one leaves the seq cache empty. */
  const settled = <T>(run: () => T): T => {
    try {
      return run();
    } catch (error) {
      seqs.failed();
      throw error;
    }
  };
  const flushCommits = () => {
    endRead();
    const items = queue;
    queue = [];
    let results: CommitResult[] | null = null;
    try {
      results = settled(() => batchTx.immediate(items));
    } catch (error) {
      // Rolled back whole (better-sqlite3 rolls back on throw). Another process holding the lock past
      // busy_timeout fails every commit alike: waiting again for each would only multiply the wait.
      if (isLockError(error)) {
        for (const item of items) item.reject(toStorageError(error));
        return;
      }
    }
    // Otherwise one commit broke the batch: each runs again alone, so only that one fails.
    items.forEach((item, i) => {
      if (results) {
        item.resolve(results[i]!);
        return;
      }
      try {
        item.resolve(settled(() => commitTx.immediate(item.input, item.updatedMs)));
      } catch (error) {
        item.reject(toStorageError(error));
      }
    });
  };
  const commit = (input: Parameters<StorageAdapter['commit']>[0]) =>
    new Promise<CommitResult>((resolve, reject) => {
      let updatedMs: number;
      try {
        updatedMs = validateCommitTimes(input, 'sqlite');
      } catch (error) {
        reject(error);
        return;
      }
      queue.push({
        input,
        updatedMs,
        resolve: (result) => {
          if (result.ok) remember(input.key, result.version, input.state);
          else forget(input.key);
          resolve(result);
        },
        reject: (error) => {
          forget(input.key);
          reject(error);
        },
      });
      if (queue.length === 1) setImmediate(flushCommits);
    });

  // The conversations this connection committed last, for the engine's next step (loadForStep): reading one
  // back and parsing its JSON was a good part of a message's storage cost. Valid while no other connection has
  // written the file (`PRAGMA data_version` changes when one has; this connection's own commits keep it): then
  // the whole cache is dropped. A commit on a stale entry would fail its version check anyway, and the engine
  // reads again; a refused or failed commit drops its entry. The state is the object the engine committed.
  const cache = new Map<string, StoredConversation>();
  let cacheDataVersion = q.dataVersion.get() as number;
  const remember = (key: string, version: number, state: ConversationState) => {
    if (cacheLimit === 0) return;
    cache.delete(key); // re-inserted last: the Map's order is the eviction order
    cache.set(key, { key, version, state });
    if (cache.size > cacheLimit) cache.delete(cache.keys().next().value as string);
  };
  const forget = (key: string) => cache.delete(key);
  // The loads of one turn of the event loop (concurrent webhooks) share one read transaction, opened by the
  // first and ended when the turn ends or before any write. A statement outside a transaction opens and ends
  // one of its own, and in WAL mode each takes and drops a lock on the shared-memory file (two fcntl calls):
  // about 2.5 µs per lookup, against 0.3 µs inside a transaction. Only on a connection the adapter opened (a
  // host's connection may be used for the host's own transactions meanwhile). The cache is checked against
  // `data_version` once per turn too: another process's write can land between a check and the commit whenever
  // it is made, and the version check covers that.
  let inTurn = false;
  let readOpen = false;
  const endTurn = () => {
    inTurn = false;
    endRead();
  };
  const endRead = () => {
    if (!readOpen) return;
    readOpen = false;
    if (db.inTransaction) q.end.run();
  };
  const startTurn = () => {
    inTurn = true;
    setImmediate(endTurn);
    if (owned && !db.inTransaction) {
      q.begin.run();
      readOpen = true;
    }
    if (cacheLimit === 0) return;
    const version = q.dataVersion.get() as number;
    if (version !== cacheDataVersion) {
      cache.clear();
      cacheDataVersion = version;
    }
  };
  /** Runs a write: the turn's read transaction ends first (a write inside it would be a savepoint on a snapshot). */
  const w = <T>(op: string, fn: () => T): Promise<T> =>
    g(op, () => {
      endRead();
      return fn();
    });

  const readConversation = (key: string): StoredConversation | null => {
    const row = q.getConv.get(key) as { version: number; state: string } | undefined;
    return row ? { key, version: row.version, state: JSON.parse(row.state) as ConversationState } : null;
  };
  const readIdempotency = (key: string): Json | null => {
    const done = q.getIdem.get(key) as { result: string } | undefined;
    return done ? (JSON.parse(done.result) as Json) : null;
  };

  return {
    name: 'sqlite',
    getConversation: (key) => g('getConversation', () => readConversation(key)),
    loadForStep: (key, idempotencyKey) =>
      g('loadForStep', () => {
        if (!inTurn) startTurn();
        return {
          recorded: readIdempotency(idempotencyKey),
          conversation: cache.get(key) ?? readConversation(key), // empty when stateCacheSize is 0
        };
      }),
    commit,
    getIdempotency: (key) => g('getIdempotency', () => readIdempotency(key)),
    claimOutbox: ({ owner, now, leaseMs, limit }) =>
      w('claimOutbox', () =>
        claimTx.immediate(owner, now, toMs(now, 'now', 'sqlite'), leaseMs, Math.max(0, limit)),
      ),
    updateOutbox: (id, update, now) => w('updateOutbox', () => updateTx.immediate(id, update, now)),
    getOutboxMessage: (id) => g('getOutboxMessage', () => parseRow(q.getOutbox.get(id))),
    applyDeliveryStatus: (providerMessageId, status, now, errorCode) =>
      w('applyDeliveryStatus', () => statusTx.immediate(providerMessageId, status, now, errorCode)),
    listOutbox: (key, opts = {}) =>
      g('listOutbox', () => {
        const prefix = opts.idPrefix ?? '';
        const end = prefixEnd(prefix);
        const after =
          opts.createdAfter === undefined ? null : toMs(opts.createdAfter, 'createdAfter', 'sqlite');
        // A time reads the conversation's recent rows through the (conversation_key, created_ms) index.
        const rows =
          after !== null
            ? q.listOutboxSince.all(key, after)
            : end === null
              ? q.listOutbox.all(key)
              : q.listOutboxRange.all(prefix, end, key);
        return rows
          .map((r: unknown) => parseRow(r)!)
          .filter((r) => r.id.startsWith(prefix)) // a time, or a prefix ending in U+10FFFF, read more
          .sort(compareOutbox);
      }),
    listEvents: (key, opts = {}) =>
      g('listEvents', () => {
        const thread = opts.threadId ?? null;
        return eventsOf(key, q.listEvents.all(key, thread, thread) as { seq: number; event: string }[]);
      }),
    listConversations: (opts = {}) =>
      g('listConversations', () => {
        const after =
          opts.updatedAfter === undefined
            ? Number.MIN_SAFE_INTEGER
            : toMs(opts.updatedAfter, 'updatedAfter', 'sqlite');
        const rows = q.listConv.all(after, opts.limit ?? -1) as {
          key: string;
          version: number;
          state: string;
        }[];
        return rows.map((r) => {
          const state = JSON.parse(r.state) as ConversationState;
          return { key: r.key, version: r.version, state, updatedAt: state.thread.lastActivityAt };
        });
      }),
    purge: (before) => w('purge', () => purgeTx.immediate(toMs(before, 'before', 'sqlite'))),
    close: async () => {
      if (checkpointer) await stopCheckpointer(checkpointer);
      checkpointer = null;
      return w('close', () => {
        if (owned && db.open) db.close();
      });
    },
  };
}

// The background checkpointer: plain CommonJS run with `eval`, so it works from the ESM and CJS builds alike.
// It opens the same file with its own connection and runs PASSIVE checkpoints (they never block a writer or
// a reader); a checkpoint that completes lets the next commit start the log from the beginning again.
const CHECKPOINTER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('synchronous = NORMAL');
const run = () => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} };
const timer = setInterval(run, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  run();
  db.close();
  parentPort.close();
});
`;

/**
 * Brings a file written before transcript chains up to date, once: adds the two columns, links each
 * conversation's rows in seq order, and drops the `(conversation_key, seq)` index the chain replaces. One
 * IMMEDIATE transaction that checks again inside it, so two processes opening the file at once migrate it once.
 * Processes of an older release must not write the file afterwards: their rows would not be linked.
 */
function chainTranscripts(db: BetterSqlite3.Database, t: (name: string) => string): void {
  const has = (table: string, column: string) =>
    (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).some((c) => c.name === column);
  const done = () => has(t('events'), 'prev_seq') && has(t('conversations'), 'last_event_seq');
  const migrate = db.transaction(() => {
    if (done()) return;
    if (!has(t('events'), 'prev_seq')) db.exec(`ALTER TABLE ${t('events')} ADD COLUMN prev_seq INTEGER`);
    if (!has(t('conversations'), 'last_event_seq')) {
      db.exec(`ALTER TABLE ${t('conversations')} ADD COLUMN last_event_seq INTEGER`);
    }
    db.exec(`
      UPDATE ${t('events')} SET prev_seq = (SELECT max(p.seq) FROM ${t('events')} p
        WHERE p.conversation_key = ${t('events')}.conversation_key AND p.seq < ${t('events')}.seq);
      UPDATE ${t('conversations')} SET last_event_seq = (SELECT max(e.seq) FROM ${t('events')} e
        WHERE e.conversation_key = ${t('conversations')}.key);
      DROP INDEX IF EXISTS ${t('events_key')};
    `);
  });
  // Another process migrating a large file holds the write lock for longer than busy_timeout: wait it out
  // (bounded), then find the work done.
  for (const started = Date.now(); !done(); ) {
    try {
      migrate.immediate();
    } catch (error) {
      if (!isLockError(error) || Date.now() - started > MIGRATION_WAIT_MS) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
}

/** Whether a driver error is another connection's lock outlasting busy_timeout (SQLITE_BUSY or SQLITE_LOCKED, with their extended codes). */
function isLockError(error: unknown): boolean {
  return /^SQLITE_(BUSY|LOCKED)/.test(String((error as { code?: unknown } | null)?.code));
}

/** How long opening a file waits for another process's migration of it before giving up. */
const MIGRATION_WAIT_MS = 10 * 60_000;

/** Inline checkpoints stay on only as a backstop, far past what the worker lets the log reach. */
const BACKSTOP_PAGES = 20_000;

function startCheckpointer(
  db: BetterSqlite3.Database,
  driver: string,
  file: string,
  intervalMs: number,
): Worker {
  if (!Number.isFinite(intervalMs) || intervalMs < 1) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      `[sqlite] checkpointIntervalMs must be a positive number of milliseconds, received ${JSON.stringify(intervalMs)}.`,
    );
  }
  // None of the host's flags: the thread needs none, and some break it. `--input-type=module` would make this
  // CommonJS text an ES module (no `require`: the thread dies at once), and V8 flags such as
  // `--max-old-space-size` make `new Worker` throw ERR_WORKER_INVALID_EXEC_ARGV when passed on.
  const worker = new Worker(CHECKPOINTER_SOURCE, {
    eval: true,
    execArgv: [],
    workerData: { driver, file, intervalMs: Math.trunc(intervalMs) },
  });
  // It must not keep the host alive, and if it ever fails, SQLite checkpoints inline again as by default.
  worker.unref();
  db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  const fallBack = () => {
    if (db.open) db.pragma('wal_autocheckpoint = 1000');
  };
  worker.on('error', fallBack);
  worker.on('exit', fallBack);
  return worker;
}

async function stopCheckpointer(worker: Worker): Promise<void> {
  if (worker.threadId === -1) return; // it has exited already (and inline checkpoints took over)
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.ref(); // close() is awaited: the process must stay up until the thread has gone
  worker.postMessage('close');
  // A worker that hangs must not hang close(): a second later it is stopped.
  const timer = setTimeout(() => void worker.terminate(), 1000);
  await exited;
  clearTimeout(timer);
}
