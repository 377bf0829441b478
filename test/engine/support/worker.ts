/**
 * One engine process for the multi-process proof and the benchmark: the salon bot over a shared storage
 * (chosen by `STORAGE`), an instant in-process calendar, the outbox dispatcher started and sending to the fake
 * provider. Inbound messages arrive as `POST /inbound` (JSON {@link InboundMessageInput}) and are answered
 * with the replies. Prints `{"ready":<port>}` on stdout when listening; warnings and errors go to stderr as
 * JSON lines (ids and codes only, never message bodies: STYLE.md logging rule).
 *
 * Env: STORAGE (postgres | redis | sqlite | memory), DATABASE_URL + PG_SCHEMA, REDIS_URL + REDIS_PREFIX,
 * SQLITE_PATH, PROVIDER_URL, WORKER_NAME, LEASE_MS.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { memoryStorage } from '../../../src/adapters/storage/memory.js';
import { postgresStorage } from '../../../src/adapters/storage/postgres.js';
import { redisStorage } from '../../../src/adapters/storage/redis.js';
import { sqliteStorage } from '../../../src/adapters/storage/sqlite.js';
import type { StorageAdapter } from '../../../src/adapters/storage/types.js';
import type { InboundMessageInput } from '../../../src/core/types.js';
import { createEngine } from '../../../src/engine/engine.js';
import type { EngineLogger } from '../../../src/engine/types.js';
import { instantCalendar } from '../../support/instant-calendar.js';
import { salonBot } from '../../support/salon.js';
import { fakeProviderChannel } from './fake-provider.js';

const env = process.env;
const worker = env.WORKER_NAME ?? `w${process.pid}`;

/**
 * Opens the storage named by `STORAGE`.
 *
 * @returns The adapter; PostgreSQL is migrated first (idempotent, safe from 4 processes at once).
 * @example
 * const storage = await openStorage();
 */
async function openStorage(): Promise<StorageAdapter> {
  switch (env.STORAGE) {
    case 'postgres': {
      const pg = postgresStorage({ connectionString: env.DATABASE_URL, schema: env.PG_SCHEMA });
      await pg.migrate();
      return pg;
    }
    case 'redis':
      return redisStorage({ url: env.REDIS_URL as string, keyPrefix: env.REDIS_PREFIX });
    case 'sqlite':
      return sqliteStorage({ path: env.SQLITE_PATH as string });
    default:
      return memoryStorage();
  }
}

const calendar = instantCalendar();

const line = (level: string) => (obj: object, msg?: string) =>
  process.stderr.write(`${JSON.stringify({ level, worker, msg, ...obj })}\n`);
const logger: EngineLogger = { debug() {}, info() {}, warn: line('warn'), error: line('error') };

async function main() {
  const storage = await openStorage();
  const engine = createEngine({
    bot: salonBot(),
    storage,
    channels: { sms: fakeProviderChannel(env.PROVIDER_URL ?? 'http://127.0.0.1:9', worker) },
    actions: { calendar },
    logger,
    // Short lease so a killed worker's claims are taken over within the test's drain window.
    outbox: { leaseMs: Number(env.LEASE_MS ?? 4000), baseBackoffMs: 100, owner: worker },
  });
  engine.start({ intervalMs: 200 });

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as InboundMessageInput;
      engine.handleInbound(message).then(
        (r) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ replies: r.replies.map((x) => x.text), duplicate: r.duplicate }));
        },
        (error: unknown) => {
          logger.error({ err: String(error), messageId: message.id }, 'handleInbound failed');
          res.writeHead(500).end(String((error as { code?: string }).code ?? 'error'));
        },
      );
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ ready: (server.address() as AddressInfo).port })}\n`);
  });

  const shutdown = async () => {
    server.close();
    await engine.stop();
    await storage.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
}

void main().catch((error: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'fatal', worker, err: String(error) })}\n`);
  process.exit(1);
});
