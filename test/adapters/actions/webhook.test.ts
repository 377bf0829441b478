import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  memoryCalendar,
  memoryCrm,
  memoryNotifier,
  memoryPayments,
} from '../../../src/adapters/actions/memory.js';
import type { ActionContext } from '../../../src/adapters/actions/types.js';
import {
  type ActionWebhookBody,
  signActionBody,
  verifyActionSignature,
  webhookActions,
} from '../../../src/adapters/actions/webhook.js';
import { isSmsflowError } from '../../../src/core/errors.js';
import {
  calendarContract,
  crmContract,
  notifyContract,
  paymentsContract,
} from '../../../src/testing/actions-contract.js';

const SECRET = 'whsec_test_0123456789abcdef0123456789';

/** What the fake receiver does with the next requests; 'adapters' answers like a memory adapter would. */
type Mode = 'adapters' | 'status500' | 'notJson' | 'badShape' | 'extraKeys' | 'slow' | 'empty' | 'custom';
let custom: unknown;

interface Received {
  headers: Record<string, string | string[] | undefined>;
  raw: string;
  body: ActionWebhookBody;
}

// A host's receiver: verifies the signature, dedupes nothing itself (the memory adapters are idempotent on
// effectId), and answers with the adapter's result or 409 with the error message.
let mode: Mode = 'adapters';
let received: Received[] = [];
let backend = freshBackend();
function freshBackend() {
  return {
    calendar: memoryCalendar({ timeZone: 'America/New_York' }),
    crm: memoryCrm(),
    payments: memoryPayments({ baseUrl: 'https://pay.example' }),
    notify: memoryNotifier(),
  };
}

async function answer(body: ActionWebhookBody): Promise<unknown> {
  const ctx: ActionContext = { effectId: body.effectId, contact: body.contact, threadId: body.threadId };
  const p = body.payload as never;
  switch (body.type) {
    case 'calendar.check':
      return backend.calendar.check(p, ctx);
    case 'calendar.book':
      return backend.calendar.book(p, ctx);
    case 'calendar.reschedule':
      return backend.calendar.reschedule(p, ctx);
    case 'calendar.cancel':
      return backend.calendar.cancel(p, ctx);
    case 'crm.upsertLead':
      return backend.crm.upsertLead(p, ctx);
    case 'payments.createLink':
      return backend.payments.createLink(p, ctx);
    case 'payments.cancel':
      return backend.payments.cancel(p, ctx);
    case 'notify.send':
      return backend.notify.notify(p, ctx);
  }
}

let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      if (!verifyActionSignature(raw, req.headers['smsflow-signature'] as string, SECRET, new Date())) {
        res.writeHead(401).end('bad signature');
        return;
      }
      const body = JSON.parse(raw) as ActionWebhookBody;
      received.push({ headers: req.headers, raw, body });
      const json = (status: number, value: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (mode === 'status500') return void res.writeHead(500).end('internal error');
      if (mode === 'notJson') return void res.writeHead(200).end('<html>ok</html>');
      if (mode === 'badShape') return void json(200, { available: 'yes', bookingId: 7, delivered: 'y' });
      if (mode === 'extraKeys') return void json(200, { bookingId: 'bk_1', internalNote: 'VIP, pays cash' });
      if (mode === 'custom') return void json(200, custom);
      if (mode === 'empty') return void res.writeHead(204).end();
      if (mode === 'slow') return void setTimeout(() => json(200, { available: true }), 500);
      try {
        json(200, await answer(body));
      } catch (error) {
        json(409, { error: (error as Error).message });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/smsflow/actions?token=secret-in-query`;
});
afterAll(async () => {
  server.closeAllConnections(); // undici keeps connections alive for 4 s; do not wait for them
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const fresh = () => {
  mode = 'adapters';
  received = [];
  backend = freshBackend();
  return webhookActions({ url, secret: SECRET, timeoutMs: 2_000 });
};
calendarContract({ name: 'webhook', create: () => fresh().calendar });
crmContract({ name: 'webhook', create: () => fresh().crm });
paymentsContract({ name: 'webhook', create: () => fresh().payments });
notifyContract({ name: 'webhook', create: () => fresh().notify });

const ctx: ActionContext = { effectId: 'SM1:e0', contact: '+14155550100', threadId: 'th-1' };
const check = { service: 'haircut', start: '2030-06-04T10:00:00-04:00', durationMinutes: 30 };

async function providerError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(isSmsflowError(error, 'SMSFLOW_ERR_PROVIDER'), String(error)).toBe(true);
  const message = (error as Error).message;
  expect(message).toMatch(/^\[smsflow\] \[webhook\] /);
  // The query (and its token) never appears in an error.
  expect(message).not.toContain('secret-in-query');
  return message;
}

describe('webhookActions', () => {
  beforeEach(() => {
    mode = 'adapters';
    received = [];
    backend = freshBackend();
  });

  it('posts the documented body with signature and idempotency-key headers', async () => {
    const actions = webhookActions({ url, secret: SECRET, now: () => new Date('2026-01-01T00:00:00Z') });
    // The fake receiver checks against its own clock, so a fixed past clock is refused…
    await providerError(actions.calendar.check(check, ctx));
    expect(received).toEqual([]);
    // …and the real clock is accepted.
    await webhookActions({ url, secret: SECRET }).calendar.check(check, ctx);
    const [{ headers, raw, body }] = received as [Received];
    expect(body).toEqual({
      type: 'calendar.check',
      effectId: 'SM1:e0',
      contact: '+14155550100',
      threadId: 'th-1',
      payload: check,
    });
    expect(headers['idempotency-key']).toBe('SM1:e0');
    expect(headers['content-type']).toBe('application/json');
    const signature = String(headers['smsflow-signature']);
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const t = signature.slice(2, signature.indexOf(','));
    expect(signature).toBe(`t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${raw}`).digest('hex')}`);
  });

  it('names every type after its method', async () => {
    const a = webhookActions({ url, secret: SECRET });
    const { bookingId } = await a.calendar.book(check, { ...ctx, effectId: 'b:e0' });
    await a.calendar.reschedule(
      { bookingId, start: '2030-06-04T12:00:00-04:00' },
      { ...ctx, effectId: 'r:e0' },
    );
    await a.calendar.cancel({ bookingId }, { ...ctx, effectId: 'c:e0' });
    await a.crm.upsertLead({ phone: '+14155550100', fields: {}, tags: [] }, ctx);
    const { paymentId } = await a.payments.createLink(
      { amountCents: 100, currency: 'USD', description: 'd' },
      ctx,
    );
    await a.payments.cancel({ paymentId }, ctx);
    await a.notify.notify({ text: 't', kind: 'notify.team', contact: '+14155550100' }, ctx);
    expect(received.map((r) => r.body.type)).toEqual([
      'calendar.book',
      'calendar.reschedule',
      'calendar.cancel',
      'crm.upsertLead',
      'payments.createLink',
      'payments.cancel',
      'notify.send',
    ]);
    expect(backend.calendar.bookings()[0]).toMatchObject({ bookingId, status: 'cancelled' });
  });

  it('a receiver refuses a wrong secret', async () => {
    const message = await providerError(
      webhookActions({ url, secret: 'another-secret-0123456789' }).calendar.check(check, ctx),
    );
    expect(message).toContain('HTTP 401');
    expect(received).toEqual([]);
  });

  it('a receiver refuses a body changed after signing', async () => {
    const tamper: typeof fetch = (input, init) =>
      fetch(input, { ...init, body: String(init?.body).replace('haircut', 'color') });
    const message = await providerError(
      webhookActions({ url, secret: SECRET, fetch: tamper }).calendar.check(check, ctx),
    );
    expect(message).toContain('HTTP 401 "bad signature"');
    expect(received).toEqual([]);
  });

  it('refuses a payment url that is not http(s) and alternatives that are not ISO times', async () => {
    mode = 'custom';
    custom = { paymentId: 'pay_1', url: 'javascript:alert(1)' };
    const link = { amountCents: 100, currency: 'USD', description: 'd' };
    expect(
      await providerError(webhookActions({ url, secret: SECRET }).payments.createLink(link, ctx)),
    ).toContain('- url:');
    custom = { available: false, alternatives: ['tomorrow at 3'] };
    expect(await providerError(webhookActions({ url, secret: SECRET }).calendar.check(check, ctx))).toContain(
      '- alternatives.0:',
    );
  });

  it('non-2xx answers reject with the status, the host error clipped', async () => {
    mode = 'status500';
    const message = await providerError(webhookActions({ url, secret: SECRET }).calendar.book(check, ctx));
    expect(message).toContain('calendar.book: http://127.0.0.1:');
    expect(message).toContain('HTTP 500 "internal error"');
    mode = 'adapters';
    await webhookActions({ url, secret: SECRET }).calendar.book(check, ctx);
    const conflict = await providerError(
      webhookActions({ url, secret: SECRET }).calendar.book(check, { ...ctx, effectId: 'SM2:e0' }),
    );
    expect(conflict).toContain('HTTP 409');
  });

  it('a body that is not JSON, or not the expected shape, rejects with the issues', async () => {
    mode = 'notJson';
    expect(await providerError(webhookActions({ url, secret: SECRET }).calendar.check(check, ctx))).toContain(
      'not JSON: "<html>ok</html>"',
    );
    mode = 'badShape';
    const error = await webhookActions({ url, secret: SECRET })
      .calendar.check(check, ctx)
      .catch((e: unknown) => e);
    expect(isSmsflowError(error, 'SMSFLOW_ERR_PROVIDER')).toBe(true);
    expect((error as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(['available']);
    expect((error as Error).message).toContain('{"available":false');
    await providerError(webhookActions({ url, secret: SECRET }).calendar.book(check, ctx));
    await providerError(
      webhookActions({ url, secret: SECRET }).notify.notify({ text: 't', kind: 'k', contact: '+1' }, ctx),
    );
  });

  it('drops keys the host added, and accepts an empty answer for notify only', async () => {
    mode = 'extraKeys';
    expect(await webhookActions({ url, secret: SECRET }).calendar.book(check, ctx)).toEqual({
      bookingId: 'bk_1',
    });
    mode = 'empty';
    expect(
      await webhookActions({ url, secret: SECRET }).notify.notify(
        { text: 't', kind: 'k', contact: '+1' },
        ctx,
      ),
    ).toEqual({
      delivered: true,
    });
    await providerError(webhookActions({ url, secret: SECRET }).payments.cancel({ paymentId: 'p' }, ctx));
  });

  it('times out with a clear message', async () => {
    mode = 'slow';
    const started = Date.now();
    const message = await providerError(
      webhookActions({ url, secret: SECRET, timeoutMs: 100 }).calendar.check(check, ctx),
    );
    expect(message).toContain('no answer from http://127.0.0.1:');
    expect(message).toContain('within 100 ms');
    expect(Date.now() - started).toBeLessThan(450);
  });

  it("aborts when the engine's signal aborts", async () => {
    mode = 'slow';
    const controller = new AbortController();
    const pending = webhookActions({ url, secret: SECRET }).calendar.check(check, {
      ...ctx,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    expect(await providerError(pending)).toContain('aborted by the engine');
    expect(
      await providerError(
        webhookActions({ url, secret: SECRET }).calendar.check(check, { ...ctx, signal: controller.signal }),
      ),
    ).toContain('before it was sent');
  });

  it('a network failure names the origin only', async () => {
    const message = await providerError(
      webhookActions({ url: 'http://127.0.0.1:9/x?token=secret-in-query', secret: SECRET }).crm.upsertLead(
        { phone: '+14155550100', fields: {}, tags: [] },
        ctx,
      ),
    );
    expect(message).toContain('could not reach http://127.0.0.1:9');
  });

  it('rejects a bad configuration without quoting the secret', () => {
    expect(() => webhookActions({ url: 'ftp://x', secret: SECRET })).toThrow(/\[webhook\] Option url/);
    expect(() => webhookActions({ url, secret: 'short-secret' })).toThrow(/12 characters/);
    expect(() => webhookActions({ url, secret: 'short-secret' })).not.toThrow(/short-secret/);
    expect(() => webhookActions({ url, secret: SECRET, timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});

describe('verifyActionSignature', () => {
  const body = '{"type":"calendar.check","effectId":"SM1:e0"}';
  const t = 1_767_225_600; // 2026-01-01T00:00:00Z
  const now = new Date(t * 1000);
  const header = signActionBody(body, SECRET, t);

  it('accepts a fresh, matching signature (Date or epoch ms)', () => {
    expect(header).toBe(`t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex')}`);
    expect(verifyActionSignature(body, header, SECRET, now)).toBe(true);
    expect(verifyActionSignature(body, header, SECRET, now.getTime() + 299_000)).toBe(true);
  });

  it('refuses a tampered body, a wrong secret, a tampered or missing signature', () => {
    expect(verifyActionSignature(body.replace('SM1', 'SM2'), header, SECRET, now)).toBe(false);
    expect(verifyActionSignature(body, header, `${SECRET}x`, now)).toBe(false);
    const flipped = header.slice(0, -1) + (header.endsWith('0') ? '1' : '0');
    expect(verifyActionSignature(body, flipped, SECRET, now)).toBe(false);
    expect(verifyActionSignature(body, undefined, SECRET, now)).toBe(false);
    expect(verifyActionSignature(body, `t=${t}`, SECRET, now)).toBe(false);
    expect(verifyActionSignature(body, header.replace(/^t=\d+/, `t=${t + 1}`), SECRET, now)).toBe(false);
    expect(verifyActionSignature(body, 'garbage', SECRET, now)).toBe(false);
  });

  it('refuses a stale or future timestamp outside the tolerance', () => {
    expect(verifyActionSignature(body, header, SECRET, now.getTime() + 301_000)).toBe(false);
    expect(verifyActionSignature(body, header, SECRET, now.getTime() - 301_000)).toBe(false);
    expect(verifyActionSignature(body, header, SECRET, now.getTime() + 900_000, 1000)).toBe(true);
  });

  it('accepts any of several v1 entries (secret rotation)', () => {
    const old = signActionBody(body, 'old-secret-0123456789', t).split(',')[1];
    expect(verifyActionSignature(body, `t=${t},${old},${header.split(',')[1]}`, SECRET, now)).toBe(true);
    expect(verifyActionSignature(body, `t=${t},${old}`, SECRET, now)).toBe(false);
  });
});
