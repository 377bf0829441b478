/**
 * The handlers' behaviour, status by status: methods, limits, content types, signatures (and secret
 * rotation), malformed bodies, engine failures, synchronous replies and retries, Vonage multipart, rate limits
 * with compliance texts let through, and what is (never) logged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFormMulti } from '../../src/adapters/channels/shared.js';
import { twilioChannel, twilioSignature } from '../../src/adapters/channels/twilio.js';
import { vonageChannel, vonageSignature } from '../../src/adapters/channels/vonage.js';
import { SmsflowError } from '../../src/core/errors.js';
import { memoryRateLimitStore, type RateLimitStore } from '../../src/http/rate-limit.js';
import {
  createInboundHandler,
  createStatusHandler,
  type WebhookHandlerOptions,
} from '../../src/http/webhook-handler.js';
import { fakeEngine, recordingLogger, startServer } from './support.js';

const TOKEN = 'test-token-new-0000000000000000';
const OLD_TOKEN = 'test-token-old-0000000000000000';
const URL_IN = 'https://bot.example.com/sms';
const NOW = new Date('2026-03-02T15:00:00.000Z');
const twilio = twilioChannel({ authToken: TOKEN, accountSid: 'ACtest' });

let sid = 0;
/** A Twilio inbound request, signed for `url` with `token`. */
function twilioRequest(
  fields: Record<string, string> = {},
  o: { token?: string; url?: string; contentType?: string; requestUrl?: string } = {},
): Request {
  const params = {
    MessageSid: `SM${String(++sid).padStart(32, '0')}`,
    From: '+14155550100',
    To: '+14155550199',
    Body: 'hello',
    ...fields,
  };
  const body = new URLSearchParams(params).toString();
  const signature = twilioSignature(o.token ?? TOKEN, o.url ?? URL_IN, parseFormMulti(body));
  return new Request(o.requestUrl ?? 'http://internal:8080/sms', {
    method: 'POST',
    headers: {
      'content-type': o.contentType ?? 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature,
    },
    body,
  });
}

function setup(extra: Partial<WebhookHandlerOptions> = {}, engineOptions = {}) {
  const engine = fakeEngine(engineOptions);
  const rec = recordingLogger();
  const handler = createInboundHandler({
    engine,
    channel: twilio,
    publicUrl: URL_IN,
    logger: rec.logger,
    clock: () => NOW,
    ...extra,
  });
  return { engine, handler, ...rec };
}

describe('methods, sizes and content types', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => server.close());

  for (const method of ['PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']) {
    it(`${method} → 405 with Allow, engine not called (node:http)`, async () => {
      const { engine, handler } = setup();
      server.use(handler);
      const response = await fetch(`${server.origin}/sms`, { method });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, POST');
      expect(engine.inbound).toHaveLength(0);
    });
  }

  it('something that is not a Request → 400, never a rejection', async () => {
    const { engine, handler } = setup();
    for (const bad of [null, {}, { method: 'POST', url: 'x' }] as unknown as Request[]) {
      const response = await handler(bad);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: 'invalid request' });
    }
    expect(engine.inbound).toHaveLength(0);
  });

  it('a body over maxBodyBytes → 413 with the limit in the message (node:http)', async () => {
    const { engine, handler } = setup({ maxBodyBytes: 1024 });
    server.use(handler);
    const response = await fetch(`${server.origin}/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `Body=${'x'.repeat(70 * 1024)}`,
    });
    expect(response.status).toBe(413);
    expect((await response.json()).message).toContain('the limit is 1024');
    expect(engine.inbound).toHaveLength(0);
  });

  it('a streamed body is cancelled once over the limit, without reading the rest', async () => {
    const { handler } = setup({ maxBodyBytes: 64 * 1024 });
    let pulled = 0;
    const chunk = new Uint8Array(16 * 1024).fill(65);
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        if (pulled > 10_000) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const response = await handler(
      new Request('http://x/sms', { method: 'POST', body: stream, duplex: 'half' } as RequestInit),
    );
    expect(response.status).toBe(413);
    // 64 KiB is 4 chunks; the 5th trips the limit. A small read-ahead is allowed, 160 MB is not.
    expect(pulled).toBeLessThan(10);
  });

  it('a signed request with a content type the provider never sends → 415', async () => {
    const { engine, handler } = setup();
    const response = await handler(twilioRequest({}, { contentType: 'application/json' }));
    expect(response.status).toBe(415);
    expect((await response.json()).message).toContain('application/x-www-form-urlencoded');
    expect(engine.inbound).toHaveLength(0);
  });

  it('a charset other than UTF-8 → 415', async () => {
    const { handler } = setup();
    const response = await handler(
      twilioRequest({}, { contentType: 'application/x-www-form-urlencoded; charset=iso-8859-1' }),
    );
    expect(response.status).toBe(415);
  });

  it('invalid UTF-8 bytes → 400, engine not called', async () => {
    const { engine, handler } = setup();
    const body = Buffer.concat([Buffer.from('Body=hi&From=%2B1415'), Buffer.from([0xff, 0xfe, 0xc3])]);
    const response = await handler(
      new Request('http://x/sms', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      }),
    );
    expect(response.status).toBe(400);
    expect((await response.json()).message).toContain('not valid UTF-8');
    expect(engine.inbound).toHaveLength(0);
  });
});

describe('signatures and secret rotation', () => {
  it('a forged signature → 403 {error:"invalid signature"}, nothing stored, reason logged', async () => {
    const { engine, handler, lines } = setup();
    const response = await handler(twilioRequest({}, { token: 'attacker' }));
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ error: 'invalid signature' });
    expect(engine.inbound).toHaveLength(0);
    expect(lines.find((l) => l.msg === 'webhook refused: invalid signature')?.level).toBe('warn');
  });

  it('verifies against publicUrl, never the Host the request came in on; the query string is appended', async () => {
    const { engine, handler } = setup();
    const signedForQuery = twilioRequest(
      {},
      { url: `${URL_IN}?tenant=7`, requestUrl: 'http://evil.example:9999/anything?tenant=7' },
    );
    expect((await handler(signedForQuery)).status).toBe(200);
    // Signed for the attacker's host: refused although it is the Host of the request.
    const forHost = twilioRequest(
      {},
      { url: 'http://evil.example/sms', requestUrl: 'http://evil.example/sms' },
    );
    expect((await handler(forHost)).status).toBe(403);
    expect(engine.inbound).toHaveLength(1);
  });

  it('channels: [new, old] accepts either secret and logs when the old one is used', async () => {
    const old = twilioChannel({ authToken: OLD_TOKEN, accountSid: 'ACtest' });
    const { engine, handler, lines } = setup({ channel: undefined, channels: [twilio, old] });
    expect((await handler(twilioRequest({}, { token: TOKEN }))).status).toBe(200);
    expect((await handler(twilioRequest({}, { token: OLD_TOKEN }))).status).toBe(200);
    expect((await handler(twilioRequest({}, { token: 'neither' }))).status).toBe(403);
    expect(engine.inbound).toHaveLength(2);
    expect(lines.filter((l) => l.msg === 'webhook verified with a previous secret')).toHaveLength(1);
    const refused = lines.find((l) => l.msg === 'webhook refused: invalid signature');
    expect(refused?.obj).toMatchObject({ reasons: [expect.any(String), expect.any(String)] });
  });

  it('channel: [a, b] works too; mixed providers, channel+channels and bad options are config errors', () => {
    const engine = fakeEngine();
    const old = twilioChannel({ authToken: OLD_TOKEN, accountSid: 'ACtest' });
    expect(() => createInboundHandler({ engine, channel: [twilio, old], publicUrl: URL_IN })).not.toThrow();
    const vonage = vonageChannel({ apiKey: 'k', apiSecret: 's', signatureSecret: 'x', from: '+14155550199' });
    const bad: Array<[Partial<WebhookHandlerOptions>, string]> = [
      [{ channel: [twilio, vonage] }, 'same provider'],
      [{ channels: [twilio], channel: twilio }, 'not both'],
      [{ channel: [] }, 'non-empty array'],
      [{ publicUrl: '/sms' }, 'absolute http(s) URL'],
      [{ maxBodyBytes: 0 }, 'maxBodyBytes'],
      [{ channel: vonage, syncReply: true }, 'replies would be lost'],
      [{ rateLimit: { perSender: { points: 0, durationMs: 1000 } } }, 'rateLimit.perSender'],
      [{ onLimit: 'later' as 'drop' }, 'onLimit'],
    ];
    for (const [extra, text] of bad) {
      expect(() =>
        createInboundHandler({
          engine,
          channel: twilio,
          publicUrl: URL_IN,
          ...extra,
        } as WebhookHandlerOptions),
      ).toThrow(
        expect.objectContaining({
          code: 'SMSFLOW_ERR_INVALID_CONFIG',
          message: expect.stringContaining(text),
        }),
      );
    }
  });
});

describe('parsing and engine outcomes', () => {
  it('missing required field → 400 naming the field', async () => {
    const { engine, handler } = setup();
    const request = twilioRequest({ From: '' });
    const response = await handler(request);
    expect(response.status).toBe(400);
    expect((await response.json()).message).toContain('"From"');
    expect(engine.inbound).toHaveLength(0);
  });

  it('a status callback on the inbound route is acknowledged and ignored', async () => {
    const { engine, handler } = setup();
    const response = await handler(twilioRequest({ MessageStatus: 'delivered' }));
    expect(response.status).toBe(200);
    expect(engine.inbound).toHaveLength(0);
  });

  it('syncReply: the replies ride in the TwiML; a provider retry gets the same reply with 200', async () => {
    const { engine, handler } = setup();
    const first = twilioRequest({ MessageSid: 'SMretry', Body: 'book <3 & more' });
    const retry = twilioRequest({ MessageSid: 'SMretry', Body: 'book <3 & more' });
    const a = await handler(first);
    const b = await handler(retry);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    const body = await a.text();
    expect(body).toContain('<Message>Got: book &lt;3 &amp; more</Message>');
    expect(await b.text()).toBe(body);
    expect(engine.inbound.map((i) => i.syncReply)).toEqual([true, true]);
  });

  it('syncReply: false answers the empty TwiML and tells the engine to use the outbox', async () => {
    const { engine, handler } = setup({ syncReply: false });
    const response = await handler(twilioRequest());
    expect(await response.text()).toContain('<Response/>');
    expect(engine.inbound[0]?.syncReply).toBe(false);
  });

  const transient: Array<[string, () => unknown]> = [
    ['SMSFLOW_ERR_STORAGE', () => new SmsflowError('SMSFLOW_ERR_STORAGE', 'postgres is down')],
    ['SMSFLOW_ERR_CONFLICT', () => new SmsflowError('SMSFLOW_ERR_CONFLICT', 'retries exhausted')],
    ['an unknown error', () => new TypeError('boom')],
    ['a thrown string', () => 'weird'],
  ];
  for (const [name, fail] of transient) {
    it(`engine throws ${name} → 503 with Retry-After, logged at error`, async () => {
      const { handler, lines } = setup({ retryAfterSeconds: 120 }, { fail });
      const response = await handler(twilioRequest());
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('120');
      expect(lines.some((l) => l.level === 'error')).toBe(true);
    });
  }

  for (const code of ['SMSFLOW_ERR_INVALID_MESSAGE', 'SMSFLOW_ERR_INVALID_PHONE'] as const) {
    it(`engine throws ${code} → 400 (a retry cannot help)`, async () => {
      const { handler } = setup({}, { fail: () => new SmsflowError(code, 'bad input') });
      const response = await handler(twilioRequest());
      expect(response.status).toBe(400);
      expect((await response.json()).message).toBe('bad input');
    });
  }

  it('5,000 chars, emoji, RTL and NUL are processed; the text is never logged', async () => {
    const { engine, handler, text } = setup();
    const body = `${'ש'.repeat(2000)}😀\u0000${'x'.repeat(2997)}`;
    const response = await handler(twilioRequest({ Body: body }));
    expect(response.status).toBe(200);
    expect(engine.inbound[0]?.message.text).toBe(body);
    expect(text()).not.toContain('שששש');
    expect(text()).not.toContain(TOKEN);
  });

  it('logs a handled message with its context fields in order: provider, route, id, masked sender, outcome', async () => {
    const { handler, lines } = setup();
    const response = await handler(twilioRequest({ MessageSid: 'SMlogged' }));
    expect(response.status).toBe(200);
    const handled = lines.find((l) => l.msg === 'inbound handled');
    expect(handled?.level).toBe('info');
    expect(Object.entries(handled?.obj ?? {})).toEqual([
      ['provider', 'twilio'],
      ['route', 'inbound'],
      ['messageId', 'SMlogged'],
      ['from', expect.not.stringContaining('5550100')],
      ['replies', 1],
      ['duplicate', false],
    ]);
  });
});

describe('status handler', () => {
  function statusRequest(fields: Record<string, string>, token = TOKEN): Request {
    const body = new URLSearchParams(fields).toString();
    return new Request('http://x/status', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilioSignature(token, `${URL_IN}/status`, parseFormMulti(body)),
      },
      body,
    });
  }
  const make = (engine: ReturnType<typeof fakeEngine>) =>
    createStatusHandler({ engine, channel: twilio, publicUrl: `${URL_IN}/status` });

  it('applies a status; an unknown message id is still acknowledged with 200', async () => {
    const engine = fakeEngine();
    const response = await make(engine)(statusRequest({ MessageSid: 'SM1', MessageStatus: 'delivered' }));
    expect(response.status).toBe(200);
    expect(engine.statuses[0]).toMatchObject({ providerMessageId: 'SM1', status: 'delivered' });
  });

  it('forged → 403; unknown status value → 400; engine down → 503', async () => {
    const engine = fakeEngine();
    expect(
      (await make(engine)(statusRequest({ MessageSid: 'SM1', MessageStatus: 'delivered' }, 'x'))).status,
    ).toBe(403);
    expect(
      (await make(engine)(statusRequest({ MessageSid: 'SM1', MessageStatus: 'teleported' }))).status,
    ).toBe(400);
    expect(engine.statuses).toHaveLength(0);
    const down = fakeEngine({ fail: () => new SmsflowError('SMSFLOW_ERR_STORAGE', 'down') });
    const response = await make(down)(statusRequest({ MessageSid: 'SM1', MessageStatus: 'delivered' }));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('60');
  });
});

describe('Vonage multipart', () => {
  const secret = 'vonage-sig-secret';
  const vonage = vonageChannel({
    apiKey: 'k',
    apiSecret: 's',
    signatureSecret: secret,
    signatureMethod: 'sha256',
    from: '+14155550199',
  });
  function part(n: number, text: string, messageId: string): Request {
    const params: Record<string, string> = {
      msisdn: '14155550100',
      to: '14155550199',
      messageId,
      text,
      type: 'text',
      timestamp: String(NOW.getTime() / 1000),
      concat: 'true',
      'concat-ref': '7',
      'concat-total': '2',
      'concat-part': String(n),
    };
    params.sig = vonageSignature(params, secret, 'sha256');
    return new Request('http://x/vonage', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
  }

  it('buffers parts with a 200 ack and processes the whole message once complete', async () => {
    const engine = fakeEngine();
    const handler = createInboundHandler({ engine, channel: vonage, publicUrl: URL_IN, clock: () => NOW });
    expect((await handler(part(2, ' world', 'm2'))).status).toBe(200);
    expect((await handler(part(2, ' world', 'm2'))).status).toBe(200); // Vonage retry of the same part
    expect(engine.inbound).toHaveLength(0);
    expect((await handler(part(1, 'Hello', 'm1'))).status).toBe(200);
    expect(engine.inbound).toHaveLength(1);
    expect(engine.inbound[0]?.message).toMatchObject({ id: 'm1', text: 'Hello world', from: '+14155550100' });
  });

  it('multipart: false processes each part alone', async () => {
    const engine = fakeEngine();
    const handler = createInboundHandler({
      engine,
      channel: vonage,
      publicUrl: URL_IN,
      clock: () => NOW,
      multipart: false,
    });
    await handler(part(2, ' world', 'm2'));
    expect(engine.inbound[0]?.message.text).toBe(' world');
  });
});

// The memory store is read synchronously (no promise per message); any other store through its async `take`.
// Both paths must give the same verdicts: the second store is the memory store behind a plain async wrapper.
const asyncMemoryStore = (): RateLimitStore => {
  const inner = memoryRateLimitStore();
  return { take: (key, rule, nowMs) => inner.take(key, rule, nowMs) };
};
describe.each([
  ['the memory store (synchronous path)', () => undefined],
  ['an async store', asyncMemoryStore],
])('rate limits, %s', (_name, makeStore) => {
  // A new store for each handler, as the default is.
  const tight = () => ({ perSender: { points: 2, durationMs: 60_000 }, store: makeStore() });

  it("default 'drop': over the per-sender limit the provider gets the empty ack, the engine nothing, the log a reason", async () => {
    const { engine, handler, lines } = setup({ rateLimit: tight() });
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const response = await handler(twilioRequest());
      statuses.push(response.status);
      if (i === 3) expect(await response.text()).toContain('<Response/>');
    }
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(engine.inbound).toHaveLength(2);
    const dropped = lines.filter((l) => l.msg === 'rate limited: message dropped');
    expect(dropped).toHaveLength(2);
    expect(dropped[0]?.obj).toMatchObject({ limit: 'per-sender', from: '+1415***0100' });
    // Another sender has its own bucket.
    expect((await handler(twilioRequest({ From: '+14155550111' }))).status).toBe(200);
    expect(engine.inbound).toHaveLength(3);
  });

  it("onLimit 'retry': 429 with Retry-After (seconds until a token is back)", async () => {
    const { handler } = setup({ rateLimit: tight(), onLimit: 'retry' });
    await handler(twilioRequest());
    await handler(twilioRequest());
    const response = await handler(twilioRequest());
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('30');
  });

  it('STOP, HELP, START and plain-language opt-outs are never rate-limited away', async () => {
    const { engine, handler } = setup({ rateLimit: tight(), onLimit: 'retry' });
    await handler(twilioRequest());
    await handler(twilioRequest());
    expect((await handler(twilioRequest())).status).toBe(429);
    for (const text of ['STOP', 'stop!!', 'HELP', 'START', 'please stop texting me', 'Unsubscribe']) {
      expect((await handler(twilioRequest({ Body: text }))).status).toBe(200);
    }
    expect(engine.inbound.map((i) => i.message.text).slice(2)).toEqual([
      'STOP',
      'stop!!',
      'HELP',
      'START',
      'please stop texting me',
      'Unsubscribe',
    ]);
    // "yes" is an everyday answer, not a way around the limit.
    expect((await handler(twilioRequest({ Body: 'yes' }))).status).toBe(429);
  });

  it('a global limit counts all senders', async () => {
    const { engine, handler } = setup({
      rateLimit: { perSender: false, global: { points: 3, durationMs: 1000 }, store: makeStore() },
      onLimit: 'retry',
    });
    const statuses = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await handler(twilioRequest({ From: `+1415555010${i}` }))).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(engine.inbound).toHaveLength(3);
  });

  it('an opt-out passes a global limit too, and takes a token like any message while tokens are left', async () => {
    const { engine, handler } = setup({
      rateLimit: { perSender: false, global: { points: 2, durationMs: 60_000 }, store: makeStore() },
      onLimit: 'retry',
    });
    expect((await handler(twilioRequest({ From: '+14155550101', Body: 'STOP' }))).status).toBe(200);
    expect((await handler(twilioRequest({ From: '+14155550102' }))).status).toBe(200);
    expect((await handler(twilioRequest({ From: '+14155550103' }))).status).toBe(429); // STOP took the first token
    expect((await handler(twilioRequest({ From: '+14155550104', Body: 'stop texting me' }))).status).toBe(
      200,
    );
    expect(engine.inbound.map((i) => i.message.text)).toEqual([
      'STOP',
      expect.any(String),
      'stop texting me',
    ]);
  });

  it('a failing store lets messages through (and says so in the log)', async () => {
    const broken: RateLimitStore = {
      take: async () => {
        throw new Error('redis down');
      },
    };
    const { engine, handler, lines } = setup({ rateLimit: { ...tight(), store: broken } });
    for (let i = 0; i < 3; i++) expect((await handler(twilioRequest())).status).toBe(200);
    expect(engine.inbound).toHaveLength(3);
    expect(lines.some((l) => l.msg === 'rate-limit store failed: message let through')).toBe(true);
  });

  it('rateLimit: false turns limits off', async () => {
    const { engine, handler } = setup({ rateLimit: false });
    for (let i = 0; i < 30; i++) await handler(twilioRequest());
    expect(engine.inbound).toHaveLength(30);
  });
});
