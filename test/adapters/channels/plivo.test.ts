import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  plivoChannel,
  plivoSignature,
  plivoV3Payload,
  plivoXmlResponse,
} from '../../../src/adapters/channels/plivo.js';
import type { WebhookRequest } from '../../../src/adapters/channels/types.js';
import { isSmsflowError } from '../../../src/core/errors.js';
import { channelContract } from '../../../src/testing/channel-contract.js';

const dir = 'test/fixtures/plivo';
const secrets = JSON.parse(readFileSync(`${dir}/secrets.json`, 'utf8')) as {
  authId: string;
  authToken: string;
};
const NOW = new Date('2026-03-02T15:04:05.000Z');

channelContract({
  name: 'plivo',
  fixturesDir: dir,
  create: ({ baseUrl }) => plivoChannel({ ...secrets, baseUrl, timeoutMs: 2_000 }),
  send: {
    path: /^\/v1\/Account\/MAFAKEFAKEFAKEFAKE01\/Message\/$/,
    success: {
      status: 202,
      body: {
        api_id: 'a1',
        message: 'message(s) queued',
        message_uuid: ['db3ce55a-7f1d-11e1-8ea7-1231380bc196'],
      },
      expectProviderMessageId: 'db3ce55a-7f1d-11e1-8ea7-1231380bc196',
    },
    failure: {
      status: 400,
      body: { api_id: 'a2', error: 'dst is invalid' },
      expectErrorCode: '400',
      retryable: false,
    },
    checkRequest: (req) => {
      expect(req.headers.authorization).toBe(
        `Basic ${Buffer.from(`${secrets.authId}:${secrets.authToken}`).toString('base64')}`,
      );
      expect(req.headers['content-type']).toBe('application/json');
      expect(JSON.parse(req.body)).toMatchObject({
        src: '+14155550199',
        dst: '+14155550100',
        url: 'https://example.com/smsflow/status',
      });
    },
  },
});

const VECTOR_BODY = new URLSearchParams({
  From: '+14155550100',
  To: '+14155550199',
  Text: 'Hello',
  Type: 'sms',
  MessageUUID: 'abc',
}).toString();
const VECTOR_URL = 'https://example.com/plivo/sms?b=2&a=1';
const NONCE = '12345678901234567890';

describe('plivo signatures (facts §1.4 vectors)', () => {
  const adapter = plivoChannel({ authId: 'MA1', authToken: 'MY_AUTH_TOKEN' });
  const req = (headers: Record<string, string>, body = VECTOR_BODY, url = VECTOR_URL): WebhookRequest => ({
    method: 'POST',
    url,
    headers,
    body,
  });

  it('V2: the SDK test vector', () => {
    expect(plivoSignature('my_auth_token', 'https://answer.url', '12345', 'v2')).toBe(
      'ehV3IKhLysWBxC1sy8INm0qGoQYdYsHwuoKjsX7FsXc=',
    );
  });
  it('V3: builds the documented string and signature', () => {
    const params = Object.fromEntries([...new URLSearchParams(VECTOR_BODY)].map(([k, v]) => [k, [v]]));
    const payload = plivoV3Payload('POST', VECTOR_URL, params);
    expect(payload).toBe(
      'https://example.com/plivo/sms?a=1&b=2.From+14155550100MessageUUIDabcTextHelloTo+14155550199Typesms',
    );
    expect(plivoSignature('MY_AUTH_TOKEN', payload ?? '', NONCE, 'v3')).toBe(
      'Y0HzkCjZYCRhP8eCdn2nhQaz2yuIGnbXmgrjIMW93Ec=',
    );
  });
  it('V3: verifies the vector, also as one of several comma-separated signatures', () => {
    const sig = 'Y0HzkCjZYCRhP8eCdn2nhQaz2yuIGnbXmgrjIMW93Ec=';
    const headers = { 'x-plivo-signature-v3': sig, 'x-plivo-signature-v3-nonce': NONCE };
    expect(adapter.verify(req(headers), NOW)).toEqual({ ok: true });
    expect(adapter.verify(req({ ...headers, 'x-plivo-signature-v3': `bm9wZQ==, ${sig}` }), NOW).ok).toBe(
      true,
    );
    expect(adapter.verify(req(headers, VECTOR_BODY.replace('Hello', 'Hellp')), NOW).ok).toBe(false);
  });
  it('V2: verifies the vector with the query ignored, also as Ma-V2', () => {
    const sig = 't6yrfmPoszBXymIhpaVBus2fwDmOEiT6y0XpZjg3NAE=';
    expect(
      adapter.verify(req({ 'x-plivo-signature-v2': sig, 'x-plivo-signature-v2-nonce': NONCE }), NOW).ok,
    ).toBe(true);
    expect(
      adapter.verify(req({ 'x-plivo-signature-ma-v2': sig, 'x-plivo-signature-v2-nonce': NONCE }), NOW).ok,
    ).toBe(true);
    expect(
      adapter.verify(req({ 'x-plivo-signature-v2': sig, 'x-plivo-signature-v2-nonce': '1' }), NOW).ok,
    ).toBe(false);
  });
  it('prefers V3: a bad V3 is not rescued by a good V2', () => {
    const headers = {
      'x-plivo-signature-v3': 'bm9wZQ==',
      'x-plivo-signature-v3-nonce': NONCE,
      'x-plivo-signature-v2': 't6yrfmPoszBXymIhpaVBus2fwDmOEiT6y0XpZjg3NAE=',
      'x-plivo-signature-v2-nonce': NONCE,
    };
    expect(adapter.verify(req(headers), NOW)).toEqual({
      ok: false,
      reason: 'X-Plivo-Signature-V3 does not match',
    });
  });
  it('V3 POST without a query or body signs the bare URL', () => {
    expect(plivoV3Payload('POST', 'https://example.com/p', {})).toBe('https://example.com/p');
    expect(plivoV3Payload('POST', 'https://example.com/p', { A: ['1'] })).toBe('https://example.com/p?A1');
    expect(plivoV3Payload('GET', 'https://example.com/p?b=2&a=1&a=0', {})).toBe(
      'https://example.com/p?a=0&a=1&b=2',
    );
    expect(plivoV3Payload('POST', 'not a url', {})).toBeNull();
  });
});

describe('plivo parsing', () => {
  const adapter = plivoChannel({ authId: 'MA1', authToken: 't' });
  const req = (params: Record<string, string>): WebhookRequest => ({
    method: 'POST',
    url: 'https://example.com/in',
    headers: {},
    body: new URLSearchParams(params).toString(),
  });

  it.each(['MessageUUID', 'From', 'To'])('names the missing field %s', (field) => {
    const params: Record<string, string> = {
      MessageUUID: 'u1',
      From: '14155550100',
      To: '14155550199',
      Text: 'x',
    };
    delete params[field];
    try {
      adapter.parseInbound(req(params), NOW);
      expect.unreachable();
    } catch (error) {
      expect(isSmsflowError(error, 'SMSFLOW_ERR_INVALID_WEBHOOK')).toBe(true);
      expect((error as Error).message).toContain(`"${field}"`);
    }
  });
  it('keeps a short code in To', () => {
    const parsed = adapter.parseInbound(
      req({ MessageUUID: 'u1', From: '14155550100', To: '24273', Text: 'HELP' }),
      NOW,
    );
    expect(parsed.kind === 'message' && parsed.message.to).toBe('24273');
  });
  it('rejects a From that is not a number', () => {
    expect(() =>
      adapter.parseInbound(req({ MessageUUID: 'u1', From: 'hello', To: '14155550199' }), NOW),
    ).toThrow(/Field "From" is not a phone number: "hello"/);
  });
  it('maps rejected to failed and ignores a non-numeric Sequence', () => {
    const status = adapter.parseStatus(req({ MessageUUID: 'u1', Status: 'rejected', Sequence: 'x' }));
    expect(status).toEqual({ providerMessageId: 'u1', status: 'failed', providerStatus: 'rejected' });
  });
  it('ignores a delivery report posted to the inbound route', () => {
    const parsed = adapter.parseInbound(req({ MessageUUID: 'u1', From: '1', To: '2', Status: 'sent' }), NOW);
    expect(parsed.kind).toBe('ignored');
  });
});

describe('plivo send and XML', () => {
  const reply = (status: number, body: unknown) =>
    (async () => new Response(JSON.stringify(body), { status })) as unknown as typeof fetch;

  it('sends MMS with media_urls and type mms', async () => {
    let sent: unknown;
    const fetchImpl = (async (_url: string, init?: RequestInit) => {
      sent = JSON.parse(String(init?.body));
      return new Response(JSON.stringify({ message_uuid: ['u1'] }), { status: 202 });
    }) as typeof fetch;
    const adapter = plivoChannel({ authId: 'MA1', authToken: 't', from: '+14155550199', fetch: fetchImpl });
    const result = await adapter.send({
      id: 'o',
      to: '+14155550100',
      text: 'pic',
      channel: 'sms',
      mediaUrls: ['https://x/1.jpg'],
    });
    expect(result).toEqual({ ok: true, providerMessageId: 'u1', status: 'queued' });
    expect(sent).toMatchObject({ type: 'mms', media_urls: ['https://x/1.jpg'], src: '+14155550199' });
  });
  it('treats 5xx as retryable and a 2xx without message_uuid as a non-retryable invalid response', async () => {
    const a = plivoChannel({
      authId: 'MA1',
      authToken: 't',
      from: '+1',
      fetch: reply(500, { error: 'boom' }),
    });
    expect(await a.send({ id: 'o', to: '+1', text: 'x', channel: 'sms' })).toMatchObject({
      ok: false,
      retryable: true,
    });
    const b = plivoChannel({
      authId: 'MA1',
      authToken: 't',
      from: '+1',
      fetch: reply(202, { message: 'queued' }),
    });
    expect(await b.send({ id: 'o', to: '+1', text: 'x', channel: 'sms' })).toMatchObject({
      ok: false,
      errorCode: 'invalid_response',
      retryable: false,
    });
  });
  it('requires authId and authToken', () => {
    expect(() => plivoChannel({ authToken: 't' } as never)).toThrow(/\[plivo\] Missing option authId/);
    expect(() => plivoChannel({ authId: 'MA' } as never)).toThrow(/Missing option authToken/);
  });
  it('answers with Plivo XML from the number the user wrote to', () => {
    const message = { from: '+14155550100', to: '+14155550199' };
    expect(plivoXmlResponse(['A & B'], message)).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Message src="14155550199" dst="14155550100">A &amp; B</Message></Response>',
    );
    expect(plivoXmlResponse([])).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(() => plivoXmlResponse(['x'])).toThrow(/needs the inbound message/);
    expect(plivoChannel({ authId: 'MA1', authToken: 't' }).webhookResponse([]).contentType).toBe(
      'application/xml',
    );
  });
});
