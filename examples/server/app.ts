/**
 * The host app: one Hono app that mounts provider webhooks, the web chat routes with the phone simulator,
 * and the agent dashboard over one smsflow engine. `createApp` builds everything from a config so tests can
 * run it on a temp SQLite file; `main.ts` reads the environment and serves it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import pino, { type Logger } from 'pino';
import type { ChannelAdapter } from '../../src/adapters/channels/types.js';
import { createWebchatHub, type WebchatHub, webchatChannel } from '../../src/adapters/channels/webchat.js';
import { postgresStorage } from '../../src/adapters/storage/postgres.js';
import { sqliteStorage } from '../../src/adapters/storage/sqlite.js';
import type { StorageAdapter } from '../../src/adapters/storage/types.js';
import { createBot } from '../../src/core/bot.js';
import { createEngine } from '../../src/engine/engine.js';
import type { Engine, EngineChange } from '../../src/engine/types.js';
import { type RedisEvalClient, redisRateLimitStore } from '../../src/http/redis-rate-limit.js';
import { demoCalendar } from './calendar.js';
import { mountDashboard } from './dashboard.js';
import { type BotRules, defaultRules, salonConfig } from './salon.js';
import { type AppStore, openAppStore } from './store.js';
import { mountWebchat } from './webchat-routes.js';
import { mountWebhooks, providersFromEnv } from './webhooks.js';

/** Configuration of {@link createApp}; `main.ts` fills it from the environment. */
export interface AppConfig {
  /** Public origin the providers call (`https://sms.example.com`), used to verify signatures. */
  publicUrl: string;
  /** SQLite file for conversations (when no `databaseUrl`) and for the app's users. @default './data/smsflow.db' */
  dbPath?: string;
  /** PostgreSQL URL: conversations go there (users stay in `dbPath`). */
  databaseUrl?: string;
  /** Redis URL: webhook rate limits are shared through it, so several processes count together. */
  redisUrl?: string;
  /** Provider secrets and account variables (`TWILIO_AUTH_TOKEN`, …). @default {} */
  env?: Record<string, string | undefined>;
  /** @default a pino logger at `info` */
  logger?: Logger;
  /** First admin, created when no user exists. Without a password a one-time password is generated. */
  adminEmail?: string;
  adminPassword?: string;
  /** Secret for web chat tokens. @default random per start (sessions end with the process) */
  webchatSecret?: string;
  /** The business's number the simulator texts. @default '+14155550199' */
  businessNumber?: string;
  /** Outbox poll interval. @default 500 */
  dispatchIntervalMs?: number;
}

/** What {@link createApp} returns. */
export interface HostApp {
  app: Hono;
  /** The current engine (the rules page may replace it). */
  engine(): Engine;
  storage: StorageAdapter;
  store: AppStore;
  hub: WebchatHub;
  /** Set when a first admin was created; `password` only when it was generated (print it once). */
  bootstrap: { email: string; password?: string } | null;
  /** Applies new rules: rebuilds the bot and swaps the engine without a restart. */
  applyRules(rules: BotRules): Promise<void>;
  close(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Builds the host app and starts its engine (outbox dispatcher running).
 *
 * @param config - See {@link AppConfig}.
 * @returns The Hono app plus handles for tests and `main.ts`.
 * @example
 * const host = await createApp({ publicUrl: 'http://localhost:3000', dbPath: 'data/smsflow.db' });
 * serve({ fetch: host.app.fetch, port: 3000 });
 */
export async function createApp(config: AppConfig): Promise<HostApp> {
  const logger = config.logger ?? pino({ level: 'info' });
  const dbPath = config.dbPath ?? './data/smsflow.db';
  if (dbPath !== ':memory:') mkdirSync(dirname(dbPath), { recursive: true });
  let storage: StorageAdapter;
  if (config.databaseUrl) {
    const pg = postgresStorage({ connectionString: config.databaseUrl });
    await pg.migrate();
    storage = pg;
  } else {
    storage = sqliteStorage({ path: dbPath });
  }
  const store = openAppStore(dbPath);

  let bootstrap: HostApp['bootstrap'] = null;
  if (store.userCount() === 0) {
    const email = config.adminEmail ?? 'admin@localhost';
    const generated = config.adminPassword ? undefined : randomBytes(12).toString('base64url');
    await store.createUser(email, 'admin', config.adminPassword ?? (generated as string));
    bootstrap = generated ? { email, password: generated } : { email };
  }

  const hub = createWebchatHub();
  const webchatSecret = config.webchatSecret ?? randomBytes(32).toString('base64url');
  const webchat = webchatChannel({ sessionSecret: webchatSecret, hub });
  const providers = providersFromEnv(config.env ?? {});
  // The outbox sends SMS through the first configured provider (SMS_PROVIDER picks one explicitly).
  const smsName =
    (config.env?.SMS_PROVIDER as keyof typeof providers | undefined) ?? Object.keys(providers)[0];
  const smsAdapter = smsName ? providers[smsName as keyof typeof providers] : undefined;
  // The engine's outbox sends no status callback URL: ask each send for delivery reports on our status route.
  const sms: ChannelAdapter | undefined = smsAdapter && {
    ...smsAdapter,
    send: (request) =>
      smsAdapter.send({
        ...request,
        statusCallbackUrl: request.statusCallbackUrl ?? `${config.publicUrl}/webhooks/${smsName}/status`,
      }),
  };
  const calendar = demoCalendar();
  const changeListeners = new Set<(change: EngineChange) => void>();
  const engineLogger = logger.child({ component: 'engine' });

  const build = (rules: BotRules) => {
    const engine = createEngine({
      bot: createBot(salonConfig(rules)),
      storage,
      channels: { webchat, ...(sms ? { sms } : {}) },
      actions: { calendar },
      logger: engineLogger,
    });
    engine.onChange((change) => {
      for (const listener of changeListeners) listener(change);
    });
    engine.start({ intervalMs: config.dispatchIntervalMs ?? 500 });
    return engine;
  };
  let engine = build({ ...defaultRules, ...(store.getSetting<BotRules>('rules') ?? {}) });

  const app = new Hono();
  app.onError((error, c) => {
    logger.error({ err: String(error), path: c.req.path }, 'request failed');
    const code = (error as { code?: string }).code;
    return c.json({ error: code ?? 'internal_error', message: code ? error.message : 'Internal error' }, 500);
  });
  app.get('/health', async (c) => {
    await storage.listConversations({ limit: 1 });
    return c.json({ ok: true, storage: storage.name, providers: Object.keys(providers) });
  });
  const simulatorHtml = readFileSync(`${here}/simulator.html`, 'utf8');
  app.get('/simulator', (c) => c.html(simulatorHtml));

  const host: HostApp = {
    app,
    engine: () => engine,
    storage,
    store,
    hub,
    bootstrap,
    async applyRules(rules) {
      const previous = engine;
      // Build first: an invalid config throws here and the running engine stays.
      engine = build(rules);
      store.setSetting('rules', rules);
      await previous.stop();
    },
    async close() {
      await engine.stop();
      await storage.close();
      await redis?.quit();
      store.close();
    },
  };

  // Several webhook processes must count one sender's messages together: keep the buckets in Redis.
  let redis: { eval: RedisEvalClient['eval']; quit(): Promise<unknown> } | undefined;
  if (config.redisUrl) {
    const { Redis } = await import('ioredis');
    redis = new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 });
  }
  const rateLimitStore = redis ? redisRateLimitStore(redis) : undefined;
  mountWebhooks(app, {
    engine: host.engine,
    providers,
    publicUrl: config.publicUrl,
    logger,
    ...(rateLimitStore ? { rateLimitStore } : {}),
  });
  mountWebchat(app, {
    engine: host.engine,
    adapter: webchat,
    hub,
    secret: webchatSecret,
    businessNumber: config.businessNumber ?? '+14155550199',
    onChange: (listener) => {
      changeListeners.add(listener);
      return () => changeListeners.delete(listener);
    },
  });
  mountDashboard(app, {
    host,
    logger,
    secureCookies: config.publicUrl.startsWith('https:'),
    onChange: (listener) => {
      changeListeners.add(listener);
      return () => changeListeners.delete(listener);
    },
  });
  return host;
}
