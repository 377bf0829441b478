/**
 * The host app: one Hono app that mounts provider webhooks, the web chat routes with the phone simulator,
 * and the agent dashboard over one smsflow engine, with the demo salon's calendar and CRM (SQLite) and the
 * proactive scheduler for booking reminders. `createApp` builds everything from a config so tests can run it on
 * a temp SQLite file; `main.ts` reads the environment and serves it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import pino, { type Logger } from 'pino';
import type { ChannelAdapter } from '../../src/adapters/channels/types.js';
import { createWebchatHub, type WebchatHub, webchatChannel } from '../../src/adapters/channels/webchat.js';
import { postgresStorage } from '../../src/adapters/storage/postgres.js';
import { sqliteStorage } from '../../src/adapters/storage/sqlite.js';
import type { StorageAdapter } from '../../src/adapters/storage/types.js';
import { createBot } from '../../src/core/bot.js';
import { isSmsflowError } from '../../src/core/errors.js';
import { createEngine } from '../../src/engine/engine.js';
import type { Engine, EngineChange } from '../../src/engine/types.js';
import { DEFAULT_MAX_BODY_BYTES } from '../../src/http/read-body.js';
import { type RedisEvalClient, redisRateLimitStore } from '../../src/http/redis-rate-limit.js';
import { createProactive, type Proactive } from '../../src/proactive/coordinator.js';
import { type InProcessScheduler, inProcessScheduler } from '../../src/proactive/in-process.js';
import { sqliteJobStore } from '../../src/proactive/job-store.js';
import { type SqliteCalendar, sqliteCalendar } from './calendar.js';
import { type SqliteCrm, sqliteCrm } from './crm.js';
import { mountDashboard, sessionOf } from './dashboard.js';
import { createLoginThrottle, type LoginThrottleOptions } from './login-throttle.js';
import { type BotRules, defaultRules, salonConfig, salonHours } from './salon.js';
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
  /**
   * Largest request body on every route (login, web chat, dashboard forms, webhooks); larger gets 413 before
   * it is read. @default 65536 (the webhook handlers' own default)
   */
  maxBodyBytes?: number;
  /** Clock of the login throttle, the reminder scheduler and the CRM's timestamps (tests move it). @default now */
  clock?: () => Date;
  /**
   * Read the client address from `X-Forwarded-For` (its last entry) for login throttling. Only behind a reverse
   * proxy that sets it and is the sole way in; otherwise a client picks its own address. @default false
   */
  trustProxy?: boolean;
  /** Login throttling (per account and per address). @default see {@link LoginThrottleOptions} */
  loginThrottle?: Omit<LoginThrottleOptions, 'clock'>;
}

/** Error codes of the library that are the client's doing (or a passing outage), and their HTTP status. */
const STATUS_OF_CODE: ReadonlyMap<string, 400 | 404 | 409 | 413 | 503> = new Map([
  ['SMSFLOW_ERR_NOT_FOUND', 404],
  ['SMSFLOW_ERR_OPTED_OUT', 409],
  ['SMSFLOW_ERR_CONFLICT', 409],
  ['SMSFLOW_ERR_INVALID_MESSAGE', 400],
  ['SMSFLOW_ERR_INVALID_PHONE', 400],
  ['SMSFLOW_ERR_INVALID_WEBHOOK', 400],
  ['SMSFLOW_ERR_PAYLOAD_TOO_LARGE', 413],
  ['SMSFLOW_ERR_STORAGE', 503],
  ['SMSFLOW_ERR_ENGINE_UNAVAILABLE', 503],
]);

/** What {@link createApp} returns. */
export interface HostApp {
  app: Hono;
  /** The current engine (the rules page may replace it). */
  engine(): Engine;
  storage: StorageAdapter;
  store: AppStore;
  hub: WebchatHub;
  /** The salon's calendar (SQLite, in the app's database file). */
  calendar: SqliteCalendar;
  /** The salon's CRM (SQLite, in the app's database file): the lead flow saves here. */
  crm: SqliteCrm;
  /** Runs booking reminders and lead follow-ups; its jobs live in the app's database file. */
  scheduler: InProcessScheduler;
  /** The current proactive coordinator (swapped with the engine). */
  proactive(): Proactive;
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
  const clock = config.clock ?? (() => new Date());
  const timeZone = salonConfig().timeZone;
  const calendar = sqliteCalendar({ database: store.database, timeZone, hours: salonHours });
  const crm = sqliteCrm({ database: store.database, clock });
  const engineLogger = logger.child({ component: 'engine' });
  // Reminders and follow-ups are jobs in the same file, so a restart still sends them (sqliteJobStore).
  const scheduler = inProcessScheduler({
    store: sqliteJobStore({ database: store.database }),
    clock,
    onError: (job, error) =>
      engineLogger.warn({ jobId: job.id, kind: job.kind, err: String(error).slice(0, 200) }, 'job failed'),
  });
  const changeListeners = new Set<(change: EngineChange) => void>();

  const build = (rules: BotRules) => {
    // The coordinator needs the engine (it sends through engine.dispatch) and the engine hands it the
    // schedule.* effects: the closure reads `coordinator` only when an effect runs, after both exist.
    let coordinator: Proactive | undefined;
    const engine = createEngine({
      bot: createBot(salonConfig(rules)),
      storage,
      channels: { webchat, ...(sms ? { sms } : {}) },
      actions: { calendar, crm },
      onEffect: async (effect, context) => coordinator?.handleEffect(effect, context),
      logger: engineLogger,
    });
    coordinator = createProactive({ engine, scheduler, clock, logger: engineLogger });
    engine.onChange((change) => {
      for (const listener of changeListeners) listener(change);
    });
    engine.start({ intervalMs: config.dispatchIntervalMs ?? 500 });
    return { engine, coordinator };
  };
  let { engine, coordinator } = build({ ...defaultRules, ...(store.getSetting<BotRules>('rules') ?? {}) });
  // Jobs go to whichever coordinator is current: the rules page swaps it with the engine.
  await scheduler.start(async (job) => void (await coordinator.handleJob(job)));

  const maxBodyBytes = config.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const app = new Hono();
  // First of all: no route reads a body over the limit. A declared Content-Length over it is refused before a
  // byte is read; a chunked body is counted as it arrives and refused at the limit (issue 23).
  app.use(
    '*',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) =>
        c.json(
          {
            error: 'payload too large',
            message: `The request body is over ${maxBodyBytes} bytes, the limit of this server.`,
          },
          413,
        ),
    }),
  );
  app.onError((error, c) => {
    if (error instanceof HTTPException)
      return c.json({ error: 'bad_request', message: error.message }, error.status);
    const code = isSmsflowError(error) ? error.code : undefined;
    const status = code ? STATUS_OF_CODE.get(code) : undefined;
    if (code && status) {
      logger.warn({ code, path: c.req.path.slice(0, 200) }, 'request refused');
      return c.json({ error: code, message: error.message.slice(0, 300) }, status);
    }
    logger.error({ err: String(error), path: c.req.path.slice(0, 200) }, 'request failed');
    return c.json({ error: 'internal_error', message: 'Internal error' }, 500);
  });
  // Anyone may ask whether the app is up; what runs it (storage, providers) is only for logged-in admins.
  app.get('/health', async (c) => {
    try {
      await storage.listConversations({ limit: 1 });
    } catch {
      return c.json({ ok: false }, 503);
    }
    if (sessionOf(c, store)?.user.role !== 'admin') return c.json({ ok: true });
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
    calendar,
    crm,
    scheduler,
    proactive: () => coordinator,
    bootstrap,
    async applyRules(rules) {
      const previous = engine;
      // Build first: an invalid config throws here and the running engine stays.
      ({ engine, coordinator } = build(rules));
      store.setSetting('rules', rules);
      await previous.stop();
    },
    async close() {
      await scheduler.stop();
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
    maxBodyBytes,
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
    throttle: createLoginThrottle({ ...config.loginThrottle, clock }),
    trustProxy: config.trustProxy ?? false,
    secureCookies: config.publicUrl.startsWith('https:'),
    onChange: (listener) => {
      changeListeners.add(listener);
      return () => changeListeners.delete(listener);
    },
  });
  return host;
}
