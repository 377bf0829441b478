/**
 * The worker module of test/engine/worker.test.ts: the salon bot on SQLite (or memory), served with
 * serveEngine. `workerData.failStart` makes the engine factory throw; a message whose text is `CRASH` ends
 * the worker thread before the engine sees it; `HANG` never answers and keeps the thread alive.
 */
import { workerData } from 'node:worker_threads';
import { memoryStorage } from '../../../src/adapters/storage/memory.js';
import { sqliteStorage } from '../../../src/adapters/storage/sqlite.js';
import { SmsflowError } from '../../../src/core/errors.js';
import { createEngine } from '../../../src/engine/engine.js';
import { serveEngine } from '../../../src/engine/worker.js';
import { instantCalendar } from '../../support/instant-calendar.js';
import { salonBot } from '../../support/salon.js';

const data = workerData as { dbPath?: string; failStart?: boolean; clockMs?: number };

serveEngine(async () => {
  if (data.failStart) throw new SmsflowError('SMSFLOW_ERR_INVALID_CONFIG', 'no database configured');
  const engine = createEngine({
    bot: salonBot(),
    storage: data.dbPath ? sqliteStorage({ path: data.dbPath }) : memoryStorage(),
    actions: { calendar: instantCalendar('test') },
    ...(data.clockMs ? { clock: () => new Date(data.clockMs!) } : {}),
  });
  const handleInbound = engine.handleInbound.bind(engine);
  engine.handleInbound = (message, options) => {
    if (message.text === 'CRASH') process.exit(3);
    if (message.text === 'HANG') {
      setInterval(() => {}, 1_000); // and keeps the thread alive after its port closes
      return new Promise(() => {});
    }
    return handleInbound(message, options);
  };
  return engine;
});
