// Job stores behind the in-process scheduler: memory (tests, single process) and SQLite (its own table in the
// same database file as the conversations, so a restart reloads due jobs).
import type BetterSqlite3 from 'better-sqlite3';
import { SmsflowError } from '../core/errors.js';
import { optionalRequire } from '../core/optional-require.js';
import type { ScheduledJob } from './types.js';

/** Where a stored job is in its life. */
export type StoredJobStatus = 'pending' | 'running' | 'done' | 'failed' | 'cancelled';

/** A job as stored, with its claim. */
export interface StoredJob extends ScheduledJob {
  status: StoredJobStatus;
  /** How many times a worker claimed it. */
  attempts: number;
  leaseOwner?: string;
  /** ISO time the claim expires. */
  leaseUntil?: string;
  /** Why it failed, or the handler's recorded outcome. */
  note?: string;
}

/** Options of {@link JobStore.claimDue}. */
export interface ClaimOptions {
  owner: string;
  /** ISO time. */
  now: string;
  leaseMs: number;
  limit: number;
}

/**
 * Storage of scheduled jobs with leases. A claim marks a job `running` for `leaseMs`; an expired claim (the
 * worker died) is claimed again, but only once: a job claimed twice without finishing is marked failed
 * (`unconfirmed`), so a crash mid-job reruns it at most once more.
 */
export interface JobStore {
  readonly name: string;
  /** Inserts a job; false when the id is already known (any status). */
  insert(job: ScheduledJob): Promise<boolean>;
  /** Cancels a pending job; false when it is unknown or already started. */
  cancel(id: string): Promise<boolean>;
  /** Claims due jobs (pending and due, or running with an expired lease), soonest first. */
  claimDue(options: ClaimOptions): Promise<StoredJob[]>;
  /** Records the end of a claimed job; ignored when `owner` no longer holds it. */
  finish(id: string, owner: string, status: 'done' | 'failed', note?: string): Promise<boolean>;
  /** Soonest `at` of a pending job, or the soonest lease expiry of a running one; null when idle. */
  nextWakeAt(): Promise<string | null>;
  /** Pending jobs, soonest first. */
  list(): Promise<ScheduledJob[]>;
  get(id: string): Promise<StoredJob | null>;
  close(): Promise<void>;
}

/** Claims after which an unfinished job is given up (the first run plus one rerun after a crash). */
export const MAX_CLAIMS = 2;

const plain = (job: StoredJob): ScheduledJob => ({
  id: job.id,
  at: job.at,
  kind: job.kind,
  contact: job.contact,
  channel: job.channel,
  payload: job.payload,
});

function validate(job: ScheduledJob): void {
  if (!job.id || Number.isNaN(Date.parse(job.at))) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      `Job "${String(job.id).slice(0, 80)}" has at "${String(job.at).slice(0, 40)}": give a non-empty id and an ISO time such as 2026-03-01T17:00:00Z.`,
    );
  }
}

/**
 * Keeps jobs in memory: for tests and single-process hosts that accept losing jobs on restart.
 *
 * @example
 * const scheduler = inProcessScheduler({ store: memoryJobStore() });
 */
export function memoryJobStore(): JobStore {
  const jobs = new Map<string, StoredJob>();
  return {
    name: 'memory',
    async insert(job) {
      validate(job);
      if (jobs.has(job.id)) return false;
      jobs.set(job.id, {
        ...structuredClone(job),
        at: new Date(job.at).toISOString(),
        status: 'pending',
        attempts: 0,
      });
      return true;
    },
    async cancel(id) {
      const job = jobs.get(id);
      if (job?.status !== 'pending') return false;
      job.status = 'cancelled';
      return true;
    },
    async claimDue({ owner, now, leaseMs, limit }) {
      const nowMs = Date.parse(now);
      const due = [...jobs.values()]
        .filter(
          (j) =>
            (j.status === 'pending' && Date.parse(j.at) <= nowMs) ||
            (j.status === 'running' && Date.parse(j.leaseUntil ?? now) <= nowMs),
        )
        .sort((a, b) => a.at.localeCompare(b.at));
      const claimed: StoredJob[] = [];
      for (const job of due) {
        if (claimed.length >= limit) break;
        if (job.status === 'running' && job.attempts >= MAX_CLAIMS) {
          Object.assign(job, { status: 'failed', note: 'unconfirmed' });
          continue;
        }
        Object.assign(job, {
          status: 'running',
          attempts: job.attempts + 1,
          leaseOwner: owner,
          leaseUntil: new Date(nowMs + leaseMs).toISOString(),
        });
        claimed.push(structuredClone(job));
      }
      return claimed;
    },
    async finish(id, owner, status, note) {
      const job = jobs.get(id);
      if (job?.status !== 'running' || job.leaseOwner !== owner) return false;
      Object.assign(job, { status, ...(note ? { note } : {}) });
      return true;
    },
    async nextWakeAt() {
      let next: string | null = null;
      for (const j of jobs.values()) {
        const t = j.status === 'pending' ? j.at : j.status === 'running' ? j.leaseUntil : undefined;
        if (t && (next === null || t < next)) next = t;
      }
      return next;
    },
    async list() {
      return [...jobs.values()]
        .filter((j) => j.status === 'pending')
        .sort((a, b) => a.at.localeCompare(b.at))
        .map(plain);
    },
    async get(id) {
      const job = jobs.get(id);
      return job ? structuredClone(job) : null;
    },
    async close() {},
  };
}

/** Options of {@link sqliteJobStore}. Give `path` or `database`. */
export interface SqliteJobStoreOptions {
  /** Database file (the same file as `sqliteStorage` is fine: the jobs live in their own table). */
  path?: string;
  /** A better-sqlite3 `Database` the host opened; `close()` then leaves it open. */
  database?: BetterSqlite3.Database;
  /** @default 'smsflow_jobs' */
  table?: string;
  /** `PRAGMA busy_timeout` when the store opens the file. @default 5000 */
  busyTimeoutMs?: number;
}

interface JobRow {
  id: string;
  at: string;
  job: string;
  status: StoredJobStatus;
  attempts: number;
  lease_owner: string | null;
  lease_until: string | null;
  note: string | null;
}

function loadDriver(): typeof BetterSqlite3 {
  const req = optionalRequire();
  try {
    return req('better-sqlite3') as typeof BetterSqlite3;
  } catch (cause) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      '[sqliteJobStore] Could not load "better-sqlite3". Install it (npm i better-sqlite3) or pass options.database.',
      { cause },
    );
  }
}

/**
 * Keeps jobs in a SQLite table (better-sqlite3, loaded lazily). Survives restarts: a new process claims the due
 * jobs and the ones whose worker died. Claims run in `BEGIN IMMEDIATE` transactions, so several processes on one
 * file never claim the same job.
 *
 * @example
 * const store = sqliteJobStore({ path: 'data/smsflow.db' });
 * const scheduler = inProcessScheduler({ store });
 */
export function sqliteJobStore(options: SqliteJobStoreOptions): JobStore {
  const table = options.table ?? 'smsflow_jobs';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      `[sqliteJobStore] table "${table.slice(0, 64)}" is not a plain SQL identifier; use letters, digits and _.`,
    );
  }
  if (!options.database && !options.path) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      '[sqliteJobStore] Give options.path or options.database.',
    );
  }
  const owned = !options.database;
  const db = options.database ?? new (loadDriver())(options.path!);
  if (owned) {
    db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  }
  db.exec(`CREATE TABLE IF NOT EXISTS ${table} (
    id TEXT PRIMARY KEY, at TEXT NOT NULL, job TEXT NOT NULL, status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, lease_owner TEXT, lease_until TEXT, note TEXT);
    CREATE INDEX IF NOT EXISTS ${table}_due ON ${table} (status, at);`);
  const insert = db.prepare(
    `INSERT OR IGNORE INTO ${table} (id, at, job, status, attempts) VALUES (?, ?, ?, 'pending', 0)`,
  );
  const cancel = db.prepare(`UPDATE ${table} SET status = 'cancelled' WHERE id = ? AND status = 'pending'`);
  const due = db.prepare(
    `SELECT * FROM ${table} WHERE (status = 'pending' AND at <= @now) OR (status = 'running' AND lease_until <= @now)
     ORDER BY at LIMIT @limit`,
  );
  const claim = db.prepare(
    `UPDATE ${table} SET status = 'running', attempts = attempts + 1, lease_owner = ?, lease_until = ? WHERE id = ?`,
  );
  const giveUp = db.prepare(`UPDATE ${table} SET status = 'failed', note = 'unconfirmed' WHERE id = ?`);
  const finish = db.prepare(
    `UPDATE ${table} SET status = ?, note = COALESCE(?, note) WHERE id = ? AND status = 'running' AND lease_owner = ?`,
  );
  const nextPending = db.prepare(`SELECT MIN(at) AS t FROM ${table} WHERE status = 'pending'`);
  const nextLease = db.prepare(`SELECT MIN(lease_until) AS t FROM ${table} WHERE status = 'running'`);
  const pending = db.prepare(`SELECT * FROM ${table} WHERE status = 'pending' ORDER BY at`);
  const one = db.prepare(`SELECT * FROM ${table} WHERE id = ?`);
  const toStored = (row: JobRow): StoredJob => ({
    ...(JSON.parse(row.job) as ScheduledJob),
    status: row.status,
    attempts: row.attempts,
    ...(row.lease_owner ? { leaseOwner: row.lease_owner } : {}),
    ...(row.lease_until ? { leaseUntil: row.lease_until } : {}),
    ...(row.note ? { note: row.note } : {}),
  });
  const claimTx = db.transaction((o: ClaimOptions): StoredJob[] => {
    const rows = due.all({ now: o.now, limit: o.limit }) as JobRow[];
    const leaseUntil = new Date(Date.parse(o.now) + o.leaseMs).toISOString();
    const claimed: StoredJob[] = [];
    for (const row of rows) {
      if (row.status === 'running' && row.attempts >= MAX_CLAIMS) {
        giveUp.run(row.id);
        continue;
      }
      claim.run(o.owner, leaseUntil, row.id);
      claimed.push(
        toStored({
          ...row,
          status: 'running',
          attempts: row.attempts + 1,
          lease_owner: o.owner,
          lease_until: leaseUntil,
        }),
      );
    }
    return claimed;
  });
  return {
    name: 'sqlite',
    async insert(job) {
      validate(job);
      const at = new Date(job.at).toISOString();
      return insert.run(job.id, at, JSON.stringify({ ...job, at })).changes === 1;
    },
    async cancel(id) {
      return cancel.run(id).changes === 1;
    },
    async claimDue(o) {
      return claimTx.immediate(o);
    },
    async finish(id, owner, status, note) {
      return finish.run(status, note ?? null, id, owner).changes === 1;
    },
    async nextWakeAt() {
      const a = (nextPending.get() as { t: string | null }).t;
      const b = (nextLease.get() as { t: string | null }).t;
      if (a === null) return b;
      if (b === null) return a;
      return [a, b].sort()[0] ?? null;
    },
    async list() {
      return (pending.all() as JobRow[]).map((r) => plain(toStored(r)));
    },
    async get(id) {
      const row = one.get(id) as JobRow | undefined;
      return row ? toStored(row) : null;
    },
    async close() {
      if (owned) db.close();
    },
  };
}
