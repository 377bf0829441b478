/**
 * Helpers shared by the host-app tests: a served app on a temp SQLite file, cookies, SSE, the simulator, booking
 * text, large bodies and peak memory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
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

/**
 * Serves createApp on a random port over a temp SQLite file. With `dir`, the database lives there and is kept on
 * close (a restart test serves the same directory twice and removes it itself).
 */
export async function serveApp(config: Partial<AppConfig> & { dir?: string } = {}): Promise<Served> {
  const { dir: given, ...rest } = config;
  const dir = given ?? mkdtempSync(join(tmpdir(), 'smsflow-host-'));
  const host = await createApp({
    publicUrl: 'https://sms.example.test',
    dbPath: join(dir, 'smsflow.db'),
    adminEmail: 'admin@example.com',
    adminPassword: 'admin-password-123',
    logger: pino({ level: 'silent' }),
    dispatchIntervalMs: 50,
    ...rest,
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
      if (!given) rmSync(dir, { recursive: true, force: true });
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

/** Opens a simulator session (optionally opted in to reminders) and its event stream; texts and waits for replies. */
export async function simulator(base: string, phone: string, options: { optIn?: boolean } = {}) {
  const session = (await (
    await fetch(`${base}/webchat/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone }),
    })
  ).json()) as { sessionId: string; token: string; phone: string; to: string };
  const q = new URLSearchParams({ token: session.token, sessionId: session.sessionId, phone: session.phone });
  const stream = sseEvents(await fetch(`${base}/webchat/events?${q}`));
  await stream.next((e) => e.event === 'ready');
  const authorized = { 'content-type': 'application/json', authorization: `Bearer ${session.token}` };
  if (options.optIn) {
    const res = await fetch(`${base}/webchat/optin`, {
      method: 'POST',
      headers: authorized,
      body: JSON.stringify({ sessionId: session.sessionId, phone: session.phone }),
    });
    if (res.status !== 200) throw new Error(`opt-in answered ${res.status}: ${await res.text()}`);
  }
  let n = 0;
  const send = async (text: string) => {
    const res = await fetch(`${base}/webchat/messages`, {
      method: 'POST',
      headers: authorized,
      body: JSON.stringify({
        sessionId: session.sessionId,
        from: session.phone,
        to: session.to,
        text,
        id: `${session.sessionId}-t${++n}`,
      }),
    });
    if (res.status !== 200) throw new Error(`turn answered ${res.status}: ${await res.text()}`);
  };
  const reply = async (pattern: RegExp, timeoutMs?: number) => {
    const e = await stream.next(
      (x) => x.event === 'reply' && pattern.test(JSON.parse(x.data).text),
      timeoutMs,
    );
    return JSON.parse(e.data) as { id: string; text: string; segments: number; encoding: string };
  };
  return { session, send, reply, stream };
}

/** What {@link sendLarge} saw: the status (0 when the server closed the connection without answering). */
export interface LargeResult {
  status: number;
  body: string;
  /** Bytes written before the answer (or the connection's end). */
  sentBytes: number;
}

/**
 * POSTs a body of `bytes` bytes in 64 KiB chunks, stopping as soon as the server answers (a server that refuses
 * early must not make the client push the rest). With `chunked` no Content-Length is sent, so the server has to
 * count. Never holds more than one chunk in memory.
 */
export function sendLarge(
  url: string,
  options: { bytes: number; chunked?: boolean; headers?: Record<string, string> },
): Promise<LargeResult> {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  return new Promise((resolve) => {
    let sentBytes = 0;
    let answered = false;
    const headers: Record<string, string | number> = {
      'content-type': 'application/x-www-form-urlencoded',
      ...options.headers,
    };
    if (!options.chunked) headers['content-length'] = options.bytes;
    // A connection of its own: a body abandoned halfway must not leave a pooled keep-alive socket mid-request.
    const req = httpRequest(url, { method: 'POST', headers, agent: false });
    let status = 0;
    let body = '';
    const done = () => {
      if (answered) return;
      answered = true;
      req.destroy();
      resolve({ status, body, sentBytes });
    };
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (body.length < 10_000) body += d;
      });
      res.on('end', done);
      res.on('error', done);
    });
    req.on('error', () => setTimeout(done, 200));
    const pump = () => {
      while (!answered && status === 0 && sentBytes < options.bytes) {
        const piece =
          options.bytes - sentBytes >= chunk.length ? chunk : chunk.subarray(0, options.bytes - sentBytes);
        sentBytes += piece.length;
        if (!req.write(piece)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered && status === 0) req.end();
    };
    pump();
  });
}

/** Runs `work` while sampling this process's resident memory every 5 ms; returns the peak above the start. */
export async function peakRss<T>(work: () => Promise<T>): Promise<{ result: T; peakExtraBytes: number }> {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, peakExtraBytes: peak - start };
  } finally {
    clearInterval(timer);
  }
}

/** A JSON POST; returns status and text. */
export async function postJson(
  base: string,
  path: string,
  body: string,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, text: await res.text() };
}
