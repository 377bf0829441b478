import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { signJwt } from '../../../src/adapters/channels/jwt.js';
import { sha256Hex } from '../../../src/adapters/channels/shared.js';
import { vonageMessagesChannel } from '../../../src/adapters/channels/vonage-messages.js';
import { channelContract } from '../../../src/testing/channel-contract.js';

const dir = 'test/fixtures/vonage-messages';
const secrets = JSON.parse(readFileSync(`${dir}/secrets.json`, 'utf8')) as {
  signatureSecret: string;
  apiKey: string;
  apiSecret: string;
};
const create = (baseUrl = 'http://127.0.0.1:9') =>
  vonageMessagesChannel({ ...secrets, baseUrl, from: '+14155550199' });

channelContract({
  name: 'vonage-messages',
  fixturesDir: dir,
  create: ({ baseUrl }) => create(baseUrl),
  send: {
    path: /^\/v1\/messages$/,
    success: {
      status: 202,
      body: { message_uuid: 'aaaaaaaa-bbbb-4ccc-8ddd-0000000000ff' },
      expectProviderMessageId: 'aaaaaaaa-bbbb-4ccc-8ddd-0000000000ff',
    },
    failure: {
      status: 422,
      body: {
        type: 'https://developer.vonage.com/api-errors/messages#1150',
        title: 'Invalid params',
        detail: 'The value of one or more parameters is invalid.',
      },
      expectErrorCode: '1150',
      retryable: false,
    },
    checkRequest: (req) => {
      expect(req.headers.authorization).toBe(
        `Basic ${Buffer.from(`${secrets.apiKey}:${secrets.apiSecret}`).toString('base64')}`,
      );
      const json = JSON.parse(req.body);
      expect(json).toMatchObject({
        message_type: 'text',
        to: '14155550100',
        from: '14155550199',
        channel: 'sms',
        client_ref: 'out-contract-1',
        webhook_url: 'https://example.com/smsflow/status',
      });
    },
  },
});

const NOW = new Date('2026-03-02T15:00:00Z');
const iat = Math.floor(NOW.getTime() / 1000);
const body =
  '{"message_uuid":"u1","from":"14155550100","to":"14155550199","channel":"sms","message_type":"text","text":"hi"}';
const req = (token: string, b = body) => ({
  method: 'POST',
  url: 'https://x.test/in',
  headers: { authorization: `Bearer ${token}` },
  body: b,
});

describe('vonage-messages verify', () => {
  it('accepts iat within maxSkewSeconds and rejects beyond it (no exp in Vonage tokens)', () => {
    const adapter = vonageMessagesChannel({ ...secrets, from: '1', maxSkewSeconds: 60 });
    const at = (skew: number) =>
      signJwt({ iat: iat + skew, payload_hash: sha256Hex(body) }, secrets.signatureSecret);
    expect(adapter.verify(req(at(-60)), NOW)).toEqual({ ok: true });
    expect(adapter.verify(req(at(60)), NOW)).toEqual({ ok: true });
    expect(adapter.verify(req(at(-61)), NOW).ok).toBe(false);
    expect(adapter.verify(req(at(61)), NOW).ok).toBe(false);
  });

  it('requires payload_hash over the exact body and refuses HS512 or a missing Bearer', () => {
    const adapter = create();
    expect(adapter.verify(req(signJwt({ iat }, secrets.signatureSecret)), NOW)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('payload_hash'),
    });
    const ok = signJwt({ iat, payload_hash: sha256Hex(body) }, secrets.signatureSecret);
    expect(adapter.verify(req(ok, `${body} `), NOW).ok).toBe(false);
    expect(
      adapter.verify(
        req(signJwt({ iat, payload_hash: sha256Hex(body) }, secrets.signatureSecret, 'HS512')),
        NOW,
      ).ok,
    ).toBe(false);
    expect(adapter.verify({ ...req(ok), headers: {} }, NOW).ok).toBe(false);
    expect(adapter.verify({ ...req(ok), headers: { authorization: `Basic ${ok}` } }, NOW).ok).toBe(false);
  });
});

describe('vonage-messages parsing and send', () => {
  it('maps every status', () => {
    const adapter = create();
    const map = {
      submitted: 'sent',
      delivered: 'delivered',
      rejected: 'failed',
      undeliverable: 'undelivered',
      read: 'read',
    };
    for (const [raw, ours] of Object.entries(map)) {
      const s = adapter.parseStatus(req('', JSON.stringify({ message_uuid: 'u', status: raw })));
      expect(s.status).toBe(ours);
    }
  });

  it('ignores a status on the inbound route and unsupported channels; reads WhatsApp image captions as text', () => {
    const adapter = create();
    expect(adapter.parseInbound(req('', '{"message_uuid":"u","status":"delivered"}'), NOW).kind).toBe(
      'ignored',
    );
    expect(
      adapter.parseInbound(req('', '{"message_uuid":"u","channel":"viber_service","from":"1","to":"2"}'), NOW)
        .kind,
    ).toBe('ignored');
    const image = adapter.parseInbound(
      req(
        '',
        JSON.stringify({
          message_uuid: 'u',
          channel: 'whatsapp',
          from: '447400123456',
          to: '14155550199',
          message_type: 'image',
          image: { url: 'https://x.test/i.jpg', caption: 'my hair' },
        }),
      ),
      NOW,
    );
    expect(image).toMatchObject({
      kind: 'message',
      message: { text: 'my hair', media: [{ url: 'https://x.test/i.jpg' }], channel: 'whatsapp' },
    });
  });

  it('uses the jwt supplier as Bearer when given, and sends whatsapp on the whatsapp channel', async () => {
    let seen: RequestInit | undefined;
    const adapter = vonageMessagesChannel({
      signatureSecret: 's',
      from: '14155550199',
      jwt: () => 'app.jwt.token',
      fetch: async (_u, init) => {
        seen = init;
        return new Response('{"message_uuid":"m1"}', { status: 202 });
      },
    });
    const r = await adapter.send({ id: 'o1', to: '+447400123456', text: 'hi', channel: 'whatsapp' });
    expect(r).toEqual({ ok: true, providerMessageId: 'm1', status: 'queued' });
    expect((seen?.headers as Record<string, string> | undefined)?.authorization).toBe('Bearer app.jwt.token');
    expect(JSON.parse(String(seen?.body)).channel).toBe('whatsapp');
  });

  it('refuses to start without send credentials', () => {
    expect(() => vonageMessagesChannel({ signatureSecret: 's', from: '1' })).toThrow(/apiKey and apiSecret/);
  });
});
