/** `smsflow/sqlite`: SQLite storage (better-sqlite3), the embedded default. */
export { type SqliteStorageOptions, sqliteStorage } from '../adapters/storage/sqlite.js';
