/**
 * Agent dashboard routes: login with scrypt-hashed passwords and an HttpOnly SameSite=Strict session cookie,
 * a CSRF token on every POST, role checks (viewer < agent < admin), live updates over server-sent events.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, Hono, Next } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import type { Logger } from 'pino';
import type { EngineChange } from '../../src/engine/types.js';
import type { HostApp } from './app.js';
import { conversationBody, inboxBody, reportsBody, rulesBody } from './pages.js';
import { computeReports } from './reports.js';
import { type BotRules, defaultRules } from './salon.js';
import type { AppSession, Role } from './store.js';
import { layout, loginPage } from './views.js';

const SESSION_COOKIE = 'smsflow_sid';
const LOGIN_CSRF_COOKIE = 'smsflow_login_csrf';
const SESSION_TTL_MS = 12 * 3_600_000;
const RANK: Record<Role, number> = { viewer: 0, agent: 1, admin: 2 };

type Env = { Variables: { session: AppSession } };

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Validates rules from the form; returns the problems (empty when valid). */
export function validateRules(input: Record<string, unknown>): { rules: BotRules; problems: string[] } {
  const num = (name: string) => Number(input[name]);
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
  },
): void {
  const { host, logger } = options;
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
    const form = await c.req.parseBody();
    const cookie = getCookie(c, LOGIN_CSRF_COOKIE) ?? '';
    // Double-submit: the form's token must equal the cookie set with the form (no session exists yet).
    if (!cookie || !same(cookie, String(form._csrf ?? '')))
      return c.text('CSRF token missing or wrong.', 403);
    const user = await store.verifyPassword(String(form.email ?? ''), String(form.password ?? ''));
    if (!user) {
      logger.warn({ event: 'login_failed' }, 'login refused');
      return c.html(loginPage(cookie, 'Wrong email or password.'), 401);
    }
    const session = store.createSession(user.email, SESSION_TTL_MS);
    setCookie(c, SESSION_COOKIE, session.id, { ...cookieOptions, maxAge: SESSION_TTL_MS / 1000 });
    deleteCookie(c, LOGIN_CSRF_COOKIE, { path: '/' });
    logger.info({ user: user.email }, 'login');
    return c.redirect('/', 303);
  });

  /** Requires a session (redirects pages to /login) and a CSRF token on every POST. */
  const auth = (minimum: Role) => async (c: Context<Env>, next: Next) => {
    const id = getCookie(c, SESSION_COOKIE);
    const session = id ? store.getSession(id) : null;
    if (!session) return c.req.method === 'GET' ? c.redirect('/login', 303) : c.text('Log in first.', 401);
    if (c.req.method === 'POST') {
      const header = c.req.header('x-csrf-token');
      const token = header ?? String((await c.req.parseBody())._csrf ?? '');
      if (!token || !same(token, session.csrf)) return c.text('CSRF token missing or wrong.', 403);
    }
    if (RANK[session.user.role] < RANK[minimum])
      return c.text(`Your role (${session.user.role}) cannot do this; it needs ${minimum}.`, 403);
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

  dash.post('/c/:key/reply', auth('agent'), async (c) => {
    const key = c.req.param('key') ?? '';
    const text = String((await c.req.parseBody()).text ?? '').trim();
    if (!text) return renderConversation(c, 'Write a reply first.', 400);
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
    const { rules, problems } = validateRules(await c.req.parseBody());
    if (problems.length > 0) return rulesPage(c, problems.join(' '), 400);
    await host.applyRules(rules);
    store.audit(c.get('session').user.email, 'rules', JSON.stringify(rules));
    return rulesPage(c, 'Saved and applied.');
  });
  dash.post('/users', auth('admin'), async (c) => {
    const form = await c.req.parseBody();
    const role = String(form.role ?? '') as Role;
    if (!(role in RANK)) return rulesPage(c, `Role "${role}" is not viewer, agent or admin.`, 400);
    try {
      const user = await store.createUser(String(form.email ?? ''), role, String(form.password ?? ''));
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
