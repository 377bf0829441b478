/**
 * toNodeListener in the shapes hosts mount it: plain node:http, an Express-style raw body already read into
 * `req.body` (a Buffer), and the misconfiguration where a JSON/form parser consumed the body first. Every case
 * runs twice: through the handler's core with Node's request as it is (handlers made by createInboundHandler),
 * and through a web `Request` (any other handler), which must answer alike.
 */
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseFormMulti } from '../../src/adapters/channels/shared.js';
import { twilioChannel, twilioSignature } from '../../src/adapters/channels/twilio.js';
import { toNodeListener } from '../../src/http/node-listener.js';
import { coreOf, createInboundHandler, type WebhookHandler } from '../../src/http/webhook-handler.js';
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

for (const path of ['core', 'web Request'] as const) {
  /** Starts a server whose middleware runs before the listener (what Express would do). */
  async function serve(
    before: (req: IncomingMessage & { body?: unknown; originalUrl?: string }) => Promise<void>,
    maxBodyBytes?: number,
  ) {
    const engine = fakeEngine();
    const inbound = createInboundHandler({
      engine,
      channel: twilioChannel({ authToken: TOKEN, accountSid: 'AC1' }),
      publicUrl: PUBLIC,
      ...(maxBodyBytes ? { maxBodyBytes } : {}),
    });
    // A plain wrapper hides the core: the listener then builds a web Request, as for a host's own handler.
    const handler: WebhookHandler = path === 'core' ? inbound : (r) => inbound(r);
    expect(coreOf(handler) !== undefined).toBe(path === 'core');
    const listener = toNodeListener(handler);
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

  describe(`toNodeListener (${path})`, () => {
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

    it('counts the bytes of a chunked body without Content-Length: 413 past the limit', async () => {
      const { engine, origin } = await serve(async () => {}, 1000);
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${origin}/sms`, { method: 'POST', headers: signed() }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        for (let i = 0; i < 8; i++) req.write('x'.repeat(500)); // chunked: no Content-Length
        req.end();
      });
      expect(status).toBe(413);
      expect(engine.inbound).toHaveLength(0);
    });

    it('refuses invalid UTF-8 with 400 and a client that goes away mid-body stores nothing', async () => {
      const { engine, origin } = await serve(async () => {});
      const bad = await fetch(`${origin}/sms`, {
        method: 'POST',
        headers: signed(),
        body: new Uint8Array([0x46, 0x72, 0x6f, 0x6d, 0x3d, 0xc3, 0x28]),
      });
      expect(bad.status).toBe(400);
      expect((await bad.json()).message).toContain('not valid UTF-8');
      await new Promise<void>((resolve) => {
        const req = request(`${origin}/sms`, {
          method: 'POST',
          headers: { ...signed(), 'content-length': '5000' },
        });
        req.on('error', () => resolve());
        req.write('MessageSid=SM9&');
        setTimeout(() => req.destroy(), 50);
      });
      const next = await fetch(`${origin}/sms`, { method: 'POST', headers: signed(), body: form.toString() });
      expect(next.status).toBe(200);
      expect(engine.inbound.map((i) => i.message.id)).toEqual(['SM1']);
    });
  });
}
