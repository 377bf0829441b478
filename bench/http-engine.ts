/**
 * The engine behind bench/http.ts's smsflow sides: the salon bot on SQLite with an instant calendar. Used on
 * the event loop (the inline side) and on a worker thread (bench/http-engine-worker.ts).
 */
import { sqliteStorage } from '../src/adapters/storage/sqlite.js';
import { createEngine } from '../src/engine/engine.js';
import type { Engine } from '../src/engine/types.js';
import { instantCalendar } from '../test/support/instant-calendar.js';
import { salonBot } from '../test/support/salon.js';

const calendar = instantCalendar();

/** A new engine on the SQLite file at `dbPath`. */
export function benchEngine(dbPath: string): Engine {
  return createEngine({ bot: salonBot(), storage: sqliteStorage({ path: dbPath }), actions: { calendar } });
}
