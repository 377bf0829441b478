/**
 * The idempotency ledger of the demo's SQLite action adapters (calendar, CRM): the first result of each
 * operation per effect id is stored, and a retry of the same effect gets it back instead of acting twice. The
 * engine may run an effect again after a crash; the row and the change it records commit in one transaction.
 */
import type Database from 'better-sqlite3';
import type { ActionContext } from '../../src/adapters/actions/types.js';
import { SmsflowError } from '../../src/core/errors.js';

/** What {@link effectLedger} returns. */
export interface EffectLedger {
  /** Runs `work` once per `op` and effect id, in a transaction; a retry returns the stored result. */
  once<T>(op: string, context: ActionContext, work: () => T): T;
}

/**
 * Opens (creating) the ledger table.
 *
 * @param db - The better-sqlite3 database the adapter's own tables are in.
 * @param table - Table name (letters, digits, `_`).
 * @param adapter - The adapter's name, for error messages.
 * @returns The ledger.
 * @example
 * const ledger = effectLedger(db, 'demo_calendar_effects', 'demo-calendar');
 * const booked = ledger.once('book', context, () => insertBooking());
 */
export function effectLedger(db: Database.Database, table: string, adapter: string): EffectLedger {
  db.exec(`CREATE TABLE IF NOT EXISTS ${table} (op TEXT NOT NULL, effect_id TEXT NOT NULL,
    result TEXT NOT NULL, PRIMARY KEY (op, effect_id))`);
  const read = db.prepare(`SELECT result FROM ${table} WHERE op = ? AND effect_id = ?`);
  const write = db.prepare(`INSERT INTO ${table} (op, effect_id, result) VALUES (?, ?, ?)`);
  return {
    once<T>(op: string, context: ActionContext, work: () => T): T {
      if (context.signal?.aborted)
        throw new SmsflowError('SMSFLOW_ERR_PROVIDER', `[${adapter}] ${op} was aborted by the caller.`);
      return db.transaction(() => {
        const done = read.get(op, context.effectId) as { result: string } | undefined;
        if (done) return JSON.parse(done.result) as T;
        const result = work();
        write.run(op, context.effectId, JSON.stringify(result));
        return result;
      })();
    },
  };
}
