/** Helpers shared by the host-app tests: a served app on a temp SQLite file, cookies, SSE, booking text. */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import pino from 'pino';
import { type AppConfig, createApp, type HostApp } from '../../examples/server/app.js';

export interface Served {
  host: HostApp;
  base: string;
  close(): Promise<void>;
}

/** Serves createApp on a random port over a temp SQLite file. */
export async function serveApp(config: Partial<AppConfig> = {}): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'smsflow-host-'));
  const host = await createApp({
    publicUrl: 'https://sms.example.test',
    dbPath: join(dir, 'smsflow.db'),
    adminEmail: 'admin@example.com',
    adminPassword: 'admin-password-123',
    logger: pino({ level: 'silent' }),
    dispatchIntervalMs: 50,
    ...config,
  });
  const server = serve({ fetch: host.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    base,
    async close() {
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await host.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A tiny cookie jar over fetch (no redirects followed, so tests see 303s). */
export function browser(base: string) {
  const jar = new Map<string, string>();
  const request = async (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(`${base}${path}`, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = (pair ?? '').split('=');
      if (name) jar.set(name.trim(), value.join('='));
    }
    return res;
  };
  const form = (path: string, fields: Record<string, string>) =>
    request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  return {
    jar,
    request,
    form,
    /** Logs in through the form; returns the login response. */
    async login(email: string, password: string) {
      const page = await (await request('/login')).text();
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
      return form('/login', { _csrf: csrf, email, password });
    },
    /** The CSRF token printed in a page's forms. */
    async csrfOf(path: string) {
      const page = await (await request(path)).text();
      return /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    },
  };
}

/** Reads server-sent events from a response into a list; `next` waits for a matching event. */
export function sseEvents(res: Response) {
  const events: { event: string; data: string }[] = [];
  const waiters: (() => void)[] = [];
  const reader = res.body?.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    for (;;) {
      const chunk = await reader?.read().catch(() => undefined);
      if (!chunk || chunk.done) return;
      buffer += decoder.decode(chunk.value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = [...block.matchAll(/^data: (.*)$/gm)].map((m) => m[1]).join('\n');
        if (data) events.push({ event, data });
        for (const w of waiters.splice(0)) w();
        end = buffer.indexOf('\n\n');
      }
    }
  })();
  return {
    events,
    async next(match: (e: { event: string; data: string }) => boolean, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      let seen = 0;
      for (;;) {
        for (; seen < events.length; seen++) {
          const e = events[seen] as { event: string; data: string };
          if (match(e)) {
            seen += 1;
            events.splice(0, seen);
            return e;
          }
        }
        if (Date.now() > deadline) throw new Error(`no matching SSE event; got ${JSON.stringify(events)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    cancel: () => reader?.cancel().catch(() => {}),
  };
}

/** A weekday name 2–6 days ahead on which the salon is open (Tue–Fri), so "<day> 3pm" books. */
export function openDayName(now = new Date()): string {
  for (let ahead = 2; ahead <= 7; ahead++) {
    const day = new Date(now.getTime() + ahead * 86_400_000);
    const weekday = new Intl.DateTimeFormat('en-US', {
      weekday: 'long',
      timeZone: 'America/Los_Angeles',
    }).format(day);
    if (['Tuesday', 'Wednesday', 'Thursday', 'Friday'].includes(weekday)) return weekday;
  }
  return 'Wednesday';
}
