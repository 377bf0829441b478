/**
 * toNodeListener in the shapes hosts mount it: plain node:http, an Express-style raw body already read into
 * `req.body` (a Buffer), and the misconfiguration where a JSON/form parser consumed the body first.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseFormMulti } from '../../src/adapters/channels/shared.js';
import { twilioChannel, twilioSignature } from '../../src/adapters/channels/twilio.js';
import { toNodeListener } from '../../src/http/node-listener.js';
import { createInboundHandler } from '../../src/http/webhook-handler.js';
import { fakeEngine } from './support.js';

const TOKEN = 'node-listener-token';
const PUBLIC = 'https://bot.example.com/sms';
const form = new URLSearchParams({
  MessageSid: 'SM1',
  From: '+14155550100',
  To: '+14155550199',
  Body: 'Hi 😀',
});
const signed = (url = PUBLIC, body = form.toString()) => ({
  'content-type': 'application/x-www-form-urlencoded',
  'x-twilio-signature': twilioSignature(TOKEN, url, parseFormMulti(body)),
});

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** Starts a server whose middleware runs before the listener (what Express would do). */
async function serve(
  before: (req: IncomingMessage & { body?: unknown; originalUrl?: string }) => Promise<void>,
) {
  const engine = fakeEngine();
  const listener = toNodeListener(
    createInboundHandler({
      engine,
      channel: twilioChannel({ authToken: TOKEN, accountSid: 'AC1' }),
      publicUrl: PUBLIC,
    }),
  );
  server = createServer(async (req, res: ServerResponse) => {
    await before(req);
    listener(req, res);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { engine, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('toNodeListener', () => {
  it('streams the body of a plain node:http request', async () => {
    const { engine, origin } = await serve(async () => {});
    const response = await fetch(`${origin}/sms`, {
      method: 'POST',
      headers: signed(),
      body: form.toString(),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/xml');
    expect(await response.text()).toContain('<Message>Got: Hi 😀</Message>');
    expect(engine.inbound[0]?.message.text).toBe('Hi 😀');
  });

  it('uses a raw body an Express raw parser left in req.body, and the query of originalUrl', async () => {
    const { engine, origin } = await serve(async (req) => {
      req.body = await readAll(req); // express.raw({ type: '*/*' })
      req.originalUrl = req.url;
      req.url = '/'; // a router strips its mount path from req.url
    });
    const response = await fetch(`${origin}/sms?tenant=7`, {
      method: 'POST',
      headers: signed(`${PUBLIC}?tenant=7`),
      body: form.toString(),
    });
    expect(response.status).toBe(200);
    expect(engine.inbound).toHaveLength(1);
  });

  it('a body a JSON/form parser consumed → 503 + Retry-After saying how to mount (nothing stored)', async () => {
    const { engine, origin } = await serve(async (req) => {
      await readAll(req);
      req.body = { parsed: true }; // express.urlencoded()
    });
    const response = await fetch(`${origin}/sms`, {
      method: 'POST',
      headers: signed(),
      body: form.toString(),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('60');
    expect((await response.json()).message).toContain('express.raw');
    expect(engine.inbound).toHaveLength(0);
  });

  it('after a 413 the connection still answers (the rest of the body is discarded, not the socket)', async () => {
    const { origin } = await serve(async () => {});
    const big = await fetch(`${origin}/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'x'.repeat(200 * 1024),
    });
    expect(big.status).toBe(413);
    const next = await fetch(`${origin}/sms`, { method: 'POST', headers: signed(), body: form.toString() });
    expect(next.status).toBe(200);
  });
});
