/**
 * The host app's own tables (dashboard users, login sessions, audit log, rules) in a SQLite file beside
 * smsflow's tables (prefix `app_`). Kept out of smsflow's StorageAdapter on purpose: users and sessions are the
 * host's business, not the conversation engine's.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { SmsflowError } from '../../src/core/errors.js';

const scryptAsync = promisify(scrypt) as (
  pw: string,
  salt: Buffer,
  len: number,
  opts: object,
) => Promise<Buffer>;
// OWASP password storage cheat sheet: scrypt N=2^15 (here 2^14 to stay fast in tests), r=8, p=1, 64-byte key.
const SCRYPT = { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** Dashboard roles: viewers read, agents also reply and move threads, admins also export and edit rules. */
export type Role = 'viewer' | 'agent' | 'admin';

// A Map, not an object literal: `'constructor' in {…}` and `{…}['__proto__']` answer from Object.prototype, so a
// role named after a prototype property would pass a check on a plain object (issue 23).
const RANK: ReadonlyMap<string, number> = new Map<Role, number>([
  ['viewer', 0],
  ['agent', 1],
  ['admin', 2],
]);

/**
 * The rank of a role (viewer 0 < agent 1 < admin 2), or null for anything that is not exactly one of them.
 *
 * @param role - A role as stored or as sent by a form.
 * @returns The rank, or null for an unknown role (`constructor`, `__proto__`, `Admin`, …).
 * @example
 * roleRank('agent') // 1
 * roleRank('constructor') // null
 */
export function roleRank(role: unknown): number | null {
  return typeof role === 'string' ? (RANK.get(role) ?? null) : null;
}

/**
 * True when `role` is one of the three roles.
 *
 * @param role - Any value.
 * @returns Whether it is `viewer`, `agent` or `admin`.
 * @example
 * isRole('__proto__') // false
 */
export function isRole(role: unknown): role is Role {
  return roleRank(role) !== null;
}

/** A dashboard user (no password material). */
export interface AppUser {
  email: string;
  role: Role;
}

/** A logged-in session: who, and the CSRF token every POST must carry. */
export interface AppSession {
  user: AppUser;
  csrf: string;
}

/** The app store returned by {@link openAppStore}. */
export type AppStore = ReturnType<typeof openAppStore>;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Opens (and creates) the app's tables in a SQLite file.
 *
 * @param path - The database file (`:memory:` for tests).
 * @returns Users, sessions, audit and settings operations.
 * @example
 * const store = openAppStore('data/smsflow.db');
 * await store.createUser('ana@example.com', 'agent', 'a long password');
 */
export function openAppStore(path: string) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`
    CREATE TABLE IF NOT EXISTS app_users (email TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS app_sessions (id_hash TEXT PRIMARY KEY, email TEXT NOT NULL, csrf TEXT NOT NULL,
      expires_at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS app_audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL,
      actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS app_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);

  return {
    /** The open database: the demo's calendar and CRM keep their tables in the same file. */
    database: db,
    /** Number of users (0 means the first admin must be created). */
    userCount(): number {
      return (db.prepare('SELECT count(*) AS n FROM app_users').get() as { n: number }).n;
    },
    /** Adds a user; the password is stored as `scrypt$N$r$p$salt$key`. */
    async createUser(email: string, role: Role, password: string): Promise<AppUser> {
      const clean = email.trim().toLowerCase();
      if (!isRole(role))
        throw new SmsflowError(
          'SMSFLOW_ERR_INVALID_CONFIG',
          `Role "${String(role).slice(0, 40)}" is not viewer, agent or admin.`,
        );
      if (clean.length > 254 || !/^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+$/u.test(clean))
        throw new SmsflowError(
          'SMSFLOW_ERR_INVALID_CONFIG',
          `"${email.slice(0, 80)}" is not an email address.`,
        );
      if (password.length < 10)
        throw new SmsflowError(
          'SMSFLOW_ERR_INVALID_CONFIG',
          `The password for ${clean} has ${password.length} characters; use at least 10.`,
        );
      const salt = randomBytes(16);
      const key = await scryptAsync(password, salt, 64, SCRYPT);
      const hash = `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
      db.prepare('INSERT OR REPLACE INTO app_users (email, role, hash) VALUES (?, ?, ?)').run(
        clean,
        role,
        hash,
      );
      return { email: clean, role };
    },
    listUsers(): AppUser[] {
      return db.prepare('SELECT email, role FROM app_users ORDER BY email').all() as AppUser[];
    },
    /** Checks a password in constant time; unknown emails cost the same scrypt run. */
    async verifyPassword(email: string, password: string): Promise<AppUser | null> {
      const row = db
        .prepare('SELECT email, role, hash FROM app_users WHERE email = ?')
        .get(email.trim().toLowerCase()) as (AppUser & { hash: string }) | undefined;
      const [, n, r, p, salt, key] = (
        row?.hash ?? `scrypt$16384$8$1$${'A'.repeat(24)}$${'A'.repeat(88)}`
      ).split('$');
      const expected = Buffer.from(key ?? '', 'base64');
      const actual = await scryptAsync(password, Buffer.from(salt ?? '', 'base64'), expected.length, {
        ...SCRYPT,
        N: Number(n),
        r: Number(r),
        p: Number(p),
      });
      return row && timingSafeEqual(actual, expected) ? { email: row.email, role: row.role } : null;
    },
    /** Starts a session; returns the cookie value (only its hash is stored). */
    createSession(email: string, ttlMs: number): { id: string; csrf: string } {
      const id = randomBytes(32).toString('base64url');
      const csrf = randomBytes(24).toString('base64url');
      db.prepare('DELETE FROM app_sessions WHERE expires_at < ?').run(Date.now());
      db.prepare('INSERT INTO app_sessions (id_hash, email, csrf, expires_at) VALUES (?, ?, ?, ?)').run(
        sha256(id),
        email,
        csrf,
        Date.now() + ttlMs,
      );
      return { id, csrf };
    },
    getSession(id: string): AppSession | null {
      const row = db
        .prepare(
          `SELECT s.csrf, u.email, u.role FROM app_sessions s JOIN app_users u ON u.email = s.email
           WHERE s.id_hash = ? AND s.expires_at > ?`,
        )
        .get(sha256(id), Date.now()) as { csrf: string; email: string; role: Role } | undefined;
      return row ? { user: { email: row.email, role: row.role }, csrf: row.csrf } : null;
    },
    deleteSession(id: string): void {
      db.prepare('DELETE FROM app_sessions WHERE id_hash = ?').run(sha256(id));
    },
    audit(actor: string, action: string, target: string): void {
      db.prepare('INSERT INTO app_audit (at, actor, action, target) VALUES (?, ?, ?, ?)').run(
        new Date().toISOString(),
        actor,
        action,
        target,
      );
    },
    listAudit(limit = 50): { at: string; actor: string; action: string; target: string }[] {
      return db
        .prepare('SELECT at, actor, action, target FROM app_audit ORDER BY seq DESC LIMIT ?')
        .all(limit) as {
        at: string;
        actor: string;
        action: string;
        target: string;
      }[];
    },
    getSetting<T>(key: string): T | null {
      const row = db.prepare('SELECT value FROM app_settings WHERE key = ?').get(key) as
        | { value: string }
        | undefined;
      return row ? (JSON.parse(row.value) as T) : null;
    },
    setSetting(key: string, value: unknown): void {
      db.prepare('INSERT OR REPLACE INTO app_settings (key, value) VALUES (?, ?)').run(
        key,
        JSON.stringify(value),
      );
    },
    close(): void {
      db.close();
    },
  };
}
