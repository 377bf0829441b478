/**
 * Fuzzing the handlers with fast-check: random methods, headers and bodies (5,000 chars, emoji, NUL, RTL,
 * invalid UTF-8 bytes) never make a handler throw, and the status is always a deliberate one; 503 appears only
 * when the engine throws. Correctly signed Twilio requests with any text always reach the engine intact.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { birdChannel } from '../../src/adapters/channels/bird.js';
import { parseFormMulti } from '../../src/adapters/channels/shared.js';
import { twilioChannel, twilioSignature } from '../../src/adapters/channels/twilio.js';
import type { ChannelAdapter } from '../../src/adapters/channels/types.js';
import { vonageChannel } from '../../src/adapters/channels/vonage.js';
import { createWebchatHub, webchatChannel } from '../../src/adapters/channels/webchat.js';
import { createInboundHandler, createStatusHandler } from '../../src/http/webhook-handler.js';
import { fakeEngine, startServer } from './support.js';

const ALLOWED = [200, 204, 400, 403, 405, 413, 415, 429];
const TOKEN = 'fuzz-token';
const PUBLIC = 'https://bot.example.com/in';

const channels: ChannelAdapter[] = [
  twilioChannel({ authToken: TOKEN, accountSid: 'AC1' }),
  vonageChannel({ apiKey: 'k', apiSecret: 's', signatureSecret: 'sig', from: '+14155550199' }),
  webchatChannel({ sessionSecret: 'fuzz-webchat-secret', hub: createWebchatHub() }),
  birdChannel({ signingKey: 'k', accessKey: 'a', workspaceId: 'w', channelId: 'c', number: '+14155550199' }),
];

const text = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.constantFrom(
    '',
    'x'.repeat(5000),
    '😀'.repeat(1250),
    'a\u0000b\u0000',
    'שלום עולם مرحبا',
    '\u202eRTL override',
    'STOP',
    '{"sessionId":"s","from":"+14155550100","to":"x","text":"hi","id":"1"}',
    'From=%2B14155550100&To=%2B14155550199&MessageSid=SM1&Body=hi',
    'msisdn=14155550100&to=14155550199&messageId=1&text=hi&concat=true&concat-part=9&concat-total=2',
  ),
);
const body = fc.oneof(
  text,
  fc.uint8Array({ maxLength: 300 }),
  fc.constant(new Uint8Array([0xff, 0xfe, 0xc3, 0x28, 0x00])),
  fc.constant(new Uint8Array(70 * 1024).fill(0x61)),
);
const method = fc.constantFrom('GET', 'POST', 'post', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'FOO');
const headers = fc.record(
  {
    'content-type': fc.constantFrom(
      'application/x-www-form-urlencoded',
      'application/json',
      'application/json; charset=latin1',
      'text/plain',
      'multipart/form-data; boundary=x',
      '',
    ),
    'x-twilio-signature': fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x21-\x7e]/g, '')),
    authorization: fc.constantFrom('Bearer v1.1.abc', 'Bearer x', 'Basic Zm9vOmJhcg=='),
    'messagebird-signature': fc.base64String({ maxLength: 44 }),
    'content-length': fc.constantFrom('0', '5', '99999999', 'abc'),
  },
  { requiredKeys: [] },
);
const query = fc.constantFrom(
  '',
  '?a=1',
  '?sig=abc&timestamp=1',
  '?%ZZ',
  '?msisdn=1&to=2&messageId=3&text=hi',
);

function makeRequest(m: string, h: Record<string, string>, b: string | Uint8Array, q: string): Request {
  const hasBody = !['GET', 'HEAD'].includes(m.toUpperCase());
  const { 'content-length': _ignored, ...rest } = h;
  return new Request(`http://127.0.0.1/in${q}`, {
    method: m,
    headers: rest,
    ...(hasBody ? { body: b as BodyInit } : {}),
  });
}

describe('fuzz: handlers answer every request with a deliberate status', () => {
  for (const channel of channels) {
    it(`${channel.name}: inbound and status handlers never throw, status ∈ {${ALLOWED.join(',')}}`, async () => {
      const engine = fakeEngine();
      const options = { engine, channel, publicUrl: PUBLIC, maxBodyBytes: 64 * 1024 };
      const inbound = createInboundHandler(options);
      const status = createStatusHandler(options);
      await fc.assert(
        fc.asyncProperty(method, headers, body, query, fc.boolean(), async (m, h, b, q, useStatus) => {
          const response = await (useStatus ? status : inbound)(makeRequest(m, h, b, q));
          expect(ALLOWED).toContain(response.status);
          await response.arrayBuffer();
        }),
        { numRuns: 150 },
      );
    });
  }

  it('503 (with Retry-After) only when the engine throws', async () => {
    const engine = fakeEngine({ fail: () => new Error('storage down') });
    const handler = createInboundHandler({
      engine,
      channel: channels[0]!,
      publicUrl: PUBLIC,
      rateLimit: false,
    });
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 400 }), async (t) => {
        const form = new URLSearchParams({
          MessageSid: 'SM1',
          From: '+14155550100',
          To: '+14155550199',
          Body: t,
        });
        const signature = twilioSignature(TOKEN, PUBLIC, parseFormMulti(form.toString()));
        const response = await handler(
          new Request('http://127.0.0.1/in', {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
            body: form.toString(),
          }),
        );
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('60');
      }),
      { numRuns: 50 },
    );
  });

  it('signed Twilio requests with any text (emoji, NUL, RTL, 5,000 chars) reach the engine intact', async () => {
    const engine = fakeEngine();
    const handler = createInboundHandler({
      engine,
      channel: channels[0]!,
      publicUrl: PUBLIC,
      rateLimit: false,
    });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'grapheme', maxLength: 300 }),
          fc.constantFrom('x'.repeat(5000), 'a\u0000שלום😀'),
        ),
        async (t) => {
          const form = new URLSearchParams({
            MessageSid: `SM${++n}`,
            From: '+14155550100',
            To: '+14155550199',
            Body: t,
          });
          const signature = twilioSignature(TOKEN, PUBLIC, parseFormMulti(form.toString()));
          const response = await handler(
            new Request('http://127.0.0.1/in', {
              method: 'POST',
              headers: {
                'content-type': 'application/x-www-form-urlencoded',
                'x-twilio-signature': signature,
              },
              body: form.toString(),
            }),
          );
          expect(response.status).toBe(200);
          expect(engine.inbound.at(-1)?.message.text).toBe(t);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('fuzz through node:http', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => server.close());

  it('random requests over a real socket: never a crash, status always deliberate', async () => {
    const engine = fakeEngine();
    server.use(createInboundHandler({ engine, channel: channels[0]!, publicUrl: PUBLIC }));
    await fc.assert(
      fc.asyncProperty(method, headers, body, query, async (m, h, b, q) => {
        const hasBody = !['GET', 'HEAD'].includes(m.toUpperCase());
        const { 'content-length': _ignored, ...rest } = h;
        const response = await fetch(`${server.origin}/in${q}`, {
          method: m,
          headers: rest,
          ...(hasBody ? { body: b as BodyInit } : {}),
        });
        expect(ALLOWED).toContain(response.status);
        await response.arrayBuffer();
      }),
      { numRuns: 60 },
    );
    expect(engine.inbound).toHaveLength(0);
  });
});

describe('parseFormMulti (fuzzed)', () => {
  const reference = (text: string) => {
    const out: Record<string, string[]> = Object.create(null); // keys such as 'valueOf' are data
    for (const [key, value] of new URLSearchParams(text)) out[key] = [...(out[key] ?? []), value];
    return { ...out };
  };

  it('matches URLSearchParams on any text, also when the same text comes again (its one-entry memo)', () => {
    const formish = fc.array(
      fc.tuple(
        fc.string({ unit: 'grapheme' }),
        fc.oneof(fc.string(), fc.constantFrom('%', '%zz', '+', '%F0%9F', '%E2%82%AC')),
      ),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(formish, fc.string(), (pairs, other) => {
        const text = pairs.map(([k, v]) => `${k}=${v}`).join('&');
        const first = parseFormMulti(text);
        expect({ ...first }).toEqual(reference(text));
        // The same content as a different string object, after another text in between and right after.
        expect({ ...parseFormMulti(`${text}`) }).toEqual(reference(text));
        expect({ ...parseFormMulti(other) }).toEqual(reference(other));
        expect({ ...parseFormMulti(text.slice(0)) }).toEqual(reference(text));
      }),
      { numRuns: 300 },
    );
  });

  it('matches URLSearchParams on ASCII bodies with any percent escapes (its fast path), valid UTF-8 or not', () => {
    const hex = (n: number) => n.toString(16).padStart(2, '0');
    const byteEscape = fc
      .integer({ min: 0, max: 255 })
      .chain((b) => fc.constantFrom(`%${hex(b)}`, `%${hex(b).toUpperCase()}`));
    // Whole UTF-8 characters escaped byte by byte, as providers send them (emoji, accents, RTL).
    const encodedChar = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 2 }).map(encodeURIComponent);
    const piece = fc
      .array(
        fc.oneof(
          fc.string({ unit: fc.constantFrom(...'az09+=&~*-._ '.split('')) }),
          byteEscape,
          encodedChar,
          fc.constant('%'),
        ),
        {
          maxLength: 8,
        },
      )
      .map((parts) => parts.join(''));
    for (const text of [
      '?a=1&b',
      '%C0%80',
      'a=%ED%A0%80',
      'b=%F4%90%80%80',
      '%EF%BB%BFx=1',
      'n=%00',
      'a=b=c',
      '&&=&',
      'k',
      '+%2B+=+',
    ]) {
      expect({ ...parseFormMulti(text) }).toEqual(reference(text));
    }
    fc.assert(
      fc.property(piece, (text) => {
        expect({ ...parseFormMulti(text) }).toEqual(reference(text));
      }),
      { numRuns: 2_000 },
    );
  });
});
