/**
 * Agent dashboard routes: login with scrypt-hashed passwords, per-account and per-address throttling and an
 * HttpOnly SameSite=Strict session cookie, a CSRF token on every POST, role checks (viewer < agent < admin),
 * live updates over server-sent events.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, Hono, Next } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { HTTPException } from 'hono/http-exception';
import { streamSSE } from 'hono/streaming';
import type { Logger } from 'pino';
import type { EngineChange } from '../../src/engine/types.js';
import type { HostApp } from './app.js';
import type { LoginThrottle } from './login-throttle.js';
import { conversationBody, inboxBody, leadsBody, reportsBody, rulesBody } from './pages.js';
import { computeReports } from './reports.js';
import { type BotRules, defaultRules } from './salon.js';
import { type AppSession, type AppStore, isRole, type Role, roleRank } from './store.js';
import { layout, loginPage } from './views.js';

const SESSION_COOKIE = 'smsflow_sid';
const LOGIN_CSRF_COOKIE = 'smsflow_login_csrf';
const SESSION_TTL_MS = 12 * 3_600_000;
/** Longest agent reply: 10 concatenated GSM-7 segments, as the reply box allows. */
const MAX_REPLY_CHARS = 1600;

type Env = { Variables: { session: AppSession } };

/**
 * The logged-in session of a request, or null (no cookie, expired, or logged out).
 *
 * @param c - The request context.
 * @param store - The app store holding sessions.
 * @returns The session with its user and CSRF token.
 * @example
 * const session = sessionOf(c, host.store); if (session?.user.role === 'admin') …
 */
export function sessionOf(c: Context, store: AppStore): AppSession | null {
  const id = getCookie(c, SESSION_COOKIE);
  return id ? store.getSession(id) : null;
}

/**
 * The client's address: the socket's peer, or with `trustProxy` the last `X-Forwarded-For` entry (the address
 * the proxy in front of us saw; earlier entries are whatever the client wrote).
 *
 * @param c - The request context (served by @hono/node-server).
 * @param trustProxy - True only when a reverse proxy that sets X-Forwarded-For is the sole way in.
 * @returns An address, or `'unknown'` when neither is available.
 * @example
 * clientAddress(c, false) // '127.0.0.1'
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',').pop()?.trim();
    if (forwarded) return forwarded.slice(0, 64);
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // not served by @hono/node-server (app.fetch in a test)
  }
}

/** The form fields of a POST; a body that is not a readable form is a 400, not a 500. */
async function formOf(c: Context): Promise<Record<string, unknown>> {
  try {
    return await c.req.parseBody();
  } catch {
    throw new HTTPException(400, { message: 'The form body could not be read.' });
  }
}

/** A text field of a form: anything else (a file, a repeated `name[]`) reads as empty. */
const field = (form: Record<string, unknown>, name: string): string => {
  const value = form[name];
  return typeof value === 'string' ? value : '';
};

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Validates rules from the form; returns the problems (empty when valid). */
export function validateRules(input: Record<string, unknown>): { rules: BotRules; problems: string[] } {
  // Plain decimals only, as the form's number inputs send: Number() alone would take '0x1', '1e3' or ' '.
  const num = (name: string) => {
    const value = input[name];
    return typeof value === 'string' && /^\d{1,6}(\.\d{1,6})?$/.test(value) ? Number(value) : Number.NaN;
  };
  const rules = {
    confidenceThreshold: num('confidenceThreshold'),
    maxRetries: num('maxRetries'),
    threadTtlDays: num('threadTtlDays'),
  };
  const problems: string[] = [];
  if (!(rules.confidenceThreshold >= 0 && rules.confidenceThreshold <= 1))
    problems.push(
      `confidenceThreshold must be between 0 and 1 (received "${String(input.confidenceThreshold)}").`,
    );
  if (!Number.isInteger(rules.maxRetries) || rules.maxRetries < 1 || rules.maxRetries > 10)
    problems.push(`maxRetries must be a whole number from 1 to 10 (received "${String(input.maxRetries)}").`);
  if (!Number.isInteger(rules.threadTtlDays) || rules.threadTtlDays < 1 || rules.threadTtlDays > 365)
    problems.push(
      `threadTtlDays must be a whole number from 1 to 365 (received "${String(input.threadTtlDays)}").`,
    );
  return { rules, problems };
}

/**
 * Mounts the dashboard on `app`: /login, /logout, / (inbox), /c/:key, /reports, /rules, /users, /events.
 *
 * @param app - The Hono app.
 * @param options - The host (engine, storage, store), logger, cookie security and change feed.
 * @example
 * mountDashboard(app, { host, logger, secureCookies: true, onChange });
 */
export function mountDashboard(
  app: Hono,
  options: {
    host: HostApp;
    logger: Logger;
    secureCookies: boolean;
    onChange: (listener: (change: EngineChange) => void) => () => void;
    throttle: LoginThrottle;
    /** Read the client address from X-Forwarded-For (see {@link clientAddress}). */
    trustProxy: boolean;
  },
): void {
  const { host, logger, throttle } = options;
  const store = host.store;
  const cookieOptions = {
    httpOnly: true,
    sameSite: 'Strict' as const,
    secure: options.secureCookies,
    path: '/',
  };
  const dash = app as unknown as Hono<Env>;

  dash.get('/login', (c) => {
    const csrf = randomBytes(24).toString('base64url');
    setCookie(c, LOGIN_CSRF_COOKIE, csrf, { ...cookieOptions, maxAge: 3600 });
    return c.html(loginPage(csrf));
  });

  dash.post('/login', async (c) => {
    const form = await formOf(c);
    const cookie = getCookie(c, LOGIN_CSRF_COOKIE) ?? '';
    // Double-submit: the form's token must equal the cookie set with the form (no session exists yet).
    if (!cookie || !same(cookie, field(form, '_csrf'))) return c.text('CSRF token missing or wrong.', 403);
    const account = field(form, 'email').trim().toLowerCase().slice(0, 254);
    const ip = clientAddress(c, options.trustProxy);
    // Checked before the password: during a lockout even the right one is refused (no oracle, no scrypt cost).
    const locked = throttle.check(account, ip);
    if (locked) {
      const seconds = Math.ceil(locked.retryAfterMs / 1000);
      logger.warn({ event: 'login_throttled', account, ip, by: locked.by, retryAfterSeconds: seconds });
      c.header('retry-after', String(seconds));
      return c.html(loginPage(cookie, `Too many failed logins. Try again in ${seconds} s.`), 429);
    }
    const user = await store.verifyPassword(account, field(form, 'password'));
    if (!user) {
      const lock = throttle.fail(account, ip);
      // Who and from where, never the password typed.
      logger.warn(
        {
          event: 'login_failed',
          account,
          ip,
          ...(lock ? { lockedForMs: lock.retryAfterMs, by: lock.by } : {}),
        },
        'login refused',
      );
      return c.html(loginPage(cookie, 'Wrong email or password.'), 401);
    }
    throttle.succeed(account);
    const session = store.createSession(user.email, SESSION_TTL_MS);
    setCookie(c, SESSION_COOKIE, session.id, { ...cookieOptions, maxAge: SESSION_TTL_MS / 1000 });
    deleteCookie(c, LOGIN_CSRF_COOKIE, { path: '/' });
    logger.info({ user: user.email }, 'login');
    return c.redirect('/', 303);
  });

  /** Requires a session (redirects pages to /login) and a CSRF token on every POST. */
  const auth = (minimum: Role) => async (c: Context<Env>, next: Next) => {
    const session = sessionOf(c, store);
    if (!session) return c.req.method === 'GET' ? c.redirect('/login', 303) : c.text('Log in first.', 401);
    if (c.req.method === 'POST') {
      const token = c.req.header('x-csrf-token') ?? field(await formOf(c), '_csrf');
      if (!token || !same(token, session.csrf)) return c.text('CSRF token missing or wrong.', 403);
    }
    // A role stored outside the three (a hand-edited row) ranks nowhere: no page at all.
    const rank = roleRank(session.user.role);
    if (rank === null || rank < (roleRank(minimum) as number))
      return c.text(
        `Your role (${session.user.role.slice(0, 40)}) cannot do this; it needs ${minimum}.`,
        403,
      );
    c.set('session', session);
    await next();
  };

  dash.post('/logout', auth('viewer'), (c) => {
    const id = getCookie(c, SESSION_COOKIE);
    if (id) store.deleteSession(id);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/login', 303);
  });

  dash.get('/', auth('viewer'), async (c) => {
    const rows = await host.storage.listConversations({ limit: 200 });
    return c.html(layout('Inbox', inboxBody(rows, c.req.query('status')), c.get('session')));
  });

  const renderConversation = async (c: Context<Env>, notice?: string, status = 200) => {
    const key = c.req.param('key') ?? '';
    const stored = await host.storage.getConversation(key);
    if (!stored)
      return c.html(
        layout('Not found', `<p>No conversation ${key.replace(/[<>&"]/g, '')}.</p>`, c.get('session')),
        404,
      );
    const [events, outbox] = await Promise.all([host.storage.listEvents(key), host.storage.listOutbox(key)]);
    const summary = { key, version: stored.version, state: stored.state, updatedAt: '' };
    const view = { summary, events, outbox, session: c.get('session'), ...(notice ? { notice } : {}) };
    return c.html(
      layout(stored.state.contact.phone, conversationBody(view), c.get('session')),
      status as 200,
    );
  };
  dash.get('/c/:key', auth('viewer'), (c) => renderConversation(c));
  /** Actions on a conversation that does not exist get the 404 page, not the engine's error. */
  const known = async (c: Context<Env>) =>
    (await host.storage.getConversation(c.req.param('key') ?? '')) !== null;

  dash.post('/c/:key/reply', auth('agent'), async (c) => {
    const key = c.req.param('key') ?? '';
    if (!(await known(c))) return renderConversation(c);
    const text = field(await formOf(c), 'text').trim();
    if (!text) return renderConversation(c, 'Write a reply first.', 400);
    // The reply box's own limit (pages.ts), checked here too: a form is only a suggestion to a client.
    if (text.length > MAX_REPLY_CHARS)
      return renderConversation(
        c,
        `A reply is at most ${MAX_REPLY_CHARS} characters (this one has ${text.length}).`,
        400,
      );
    try {
      await host.engine().sendAgentReply(key, text, c.get('session').user.email);
    } catch (error) {
      if ((error as { code?: string }).code === 'SMSFLOW_ERR_OPTED_OUT')
        return renderConversation(c, 'Not sent: this contact opted out.', 409);
      throw error;
    }
    return c.redirect(`/c/${encodeURIComponent(key)}`, 303);
  });

  const move = (path: string, run: (key: string, agent: string) => Promise<void>) =>
    dash.post(`/c/:key/${path}`, auth('agent'), async (c) => {
      const key = c.req.param('key') ?? '';
      if (!(await known(c))) return renderConversation(c);
      await run(key, c.get('session').user.email);
      store.audit(c.get('session').user.email, path, key);
      return c.redirect(`/c/${encodeURIComponent(key)}`, 303);
    });
  move('take', (key, agent) => host.engine().takeThread(key, agent));
  move('release', (key) => host.engine().releaseToBot(key));
  move('close', (key) => host.engine().closeThread(key));

  dash.get('/c/:key/export', auth('admin'), async (c) => {
    const key = c.req.param('key') ?? '';
    const stored = await host.storage.getConversation(key);
    if (!stored) return c.json({ error: 'not_found' }, 404);
    const [events, outbox] = await Promise.all([host.storage.listEvents(key), host.storage.listOutbox(key)]);
    // Exports carry message bodies: every one is audited.
    store.audit(c.get('session').user.email, 'export', key);
    c.header(
      'content-disposition',
      `attachment; filename="transcript-${key.replace(/[^a-z0-9+]/gi, '_')}.json"`,
    );
    return c.json({ key, exportedAt: new Date().toISOString(), state: stored.state, events, outbox });
  });

  dash.get('/leads', auth('viewer'), (c) =>
    c.html(
      layout(
        'Leads',
        leadsBody(host.crm.leads(), host.calendar.bookings(), host.engine().bot.config.timeZone),
        c.get('session'),
      ),
    ),
  );

  dash.get('/reports', auth('viewer'), async (c) =>
    c.html(layout('Reports', reportsBody(await computeReports(host.storage)), c.get('session'))),
  );

  const rulesPage = (c: Context<Env>, notice?: string, status = 200) =>
    c.html(
      layout(
        'Rules',
        rulesBody(
          { ...defaultRules, ...(store.getSetting<BotRules>('rules') ?? {}) },
          store.listUsers(),
          store.listAudit(),
          c.get('session'),
          notice,
        ),
        c.get('session'),
      ),
      status as 200,
    );
  dash.get('/rules', auth('admin'), (c) => rulesPage(c));
  dash.post('/rules', auth('admin'), async (c) => {
    const { rules, problems } = validateRules(await formOf(c));
    if (problems.length > 0) return rulesPage(c, problems.join(' '), 400);
    await host.applyRules(rules);
    store.audit(c.get('session').user.email, 'rules', JSON.stringify(rules));
    return rulesPage(c, 'Saved and applied.');
  });
  dash.post('/users', auth('admin'), async (c) => {
    const form = await formOf(c);
    const role = field(form, 'role');
    if (!isRole(role)) return rulesPage(c, `Role "${role.slice(0, 40)}" is not viewer, agent or admin.`, 400);
    try {
      const user = await store.createUser(field(form, 'email'), role, field(form, 'password'));
      store.audit(c.get('session').user.email, 'user.create', `${user.email} (${role})`);
    } catch (error) {
      return rulesPage(c, (error as Error).message, 400);
    }
    return rulesPage(c, 'User added.');
  });

  dash.get('/events', auth('viewer'), (c) =>
    streamSSE(c, async (stream) => {
      let open = true;
      let pending: (() => void) | null = null;
      const off = options.onChange((change) => {
        void stream.writeSSE({ event: 'change', data: JSON.stringify(change) });
      });
      stream.onAbort(() => {
        open = false;
        off();
        pending?.();
      });
      while (open) {
        await new Promise<void>((resolve) => {
          pending = resolve;
          setTimeout(resolve, 15_000);
        });
        if (open) await stream.write(': keep-alive\n\n');
      }
    }),
  );
}
