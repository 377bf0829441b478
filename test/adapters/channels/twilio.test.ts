import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  isWithinWhatsAppWindow,
  twilioChannel,
  twilioSignature,
  twimlResponse,
} from '../../../src/adapters/channels/twilio.js';
import type { WebhookRequest } from '../../../src/adapters/channels/types.js';
import { isSmsflowError } from '../../../src/core/errors.js';
import { channelContract } from '../../../src/testing/channel-contract.js';

const dir = 'test/fixtures/twilio';
const secrets = JSON.parse(readFileSync(`${dir}/secrets.json`, 'utf8')) as {
  authToken: string;
  accountSid: string;
};
const NOW = new Date('2026-03-02T15:04:05.000Z');

channelContract({
  name: 'twilio',
  fixturesDir: dir,
  create: ({ baseUrl }) => twilioChannel({ ...secrets, baseUrl, timeoutMs: 2_000 }),
  send: {
    path: /^\/2010-04-01\/Accounts\/ACfakefakefakefakefakefakefake0001\/Messages\.json$/,
    success: { status: 201, body: { sid: 'SMabc', status: 'queued' }, expectProviderMessageId: 'SMabc' },
    failure: {
      status: 400,
      body: { code: 21610, message: 'Attempt to send to unsubscribed recipient', status: 400 },
      expectErrorCode: '21610',
      retryable: false,
      optedOut: true,
    },
    checkRequest: (req) => {
      expect(req.headers.authorization).toBe(
        `Basic ${Buffer.from(`${secrets.accountSid}:${secrets.authToken}`).toString('base64')}`,
      );
      expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
      const form = new URLSearchParams(req.body);
      expect(form.get('To')).toBe('+14155550100');
      expect(form.get('From')).toBe('+14155550199');
      expect(form.get('StatusCallback')).toBe('https://example.com/smsflow/status');
    },
  },
});

// Facts §1.1 vectors (twilio-node spec/validation.spec.js).
const VECTOR_URL = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const VECTOR_PARAMS = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+14158675309',
  Digits: '1234',
  From: '+14158675309',
  To: '+18005551212',
};
const vectorBody = new URLSearchParams(VECTOR_PARAMS).toString();
const post = (url: string, signature: string, body = vectorBody): WebhookRequest => ({
  method: 'POST',
  url,
  headers: { 'x-twilio-signature': signature },
  body,
});

describe('twilio signature (facts §1.1 vectors)', () => {
  const adapter = twilioChannel({ authToken: '12345' });

  it('computes the documented signature', () => {
    const params = Object.fromEntries(Object.entries(VECTOR_PARAMS).map(([k, v]) => [k, [v]]));
    expect(twilioSignature('12345', VECTOR_URL, params)).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
  });
  it('verifies the documented request, and the default port added', () => {
    expect(adapter.verify(post(VECTOR_URL, 'RSOYDt4T1cUTdK1PDd93/VVr8B8='), NOW)).toEqual({ ok: true });
    expect(
      adapter.verify(
        post('https://mycompany.com:443/myapp.php?foo=1&bar=2', 'RSOYDt4T1cUTdK1PDd93/VVr8B8='),
        NOW,
      ).ok,
    ).toBe(true);
  });
  it('verifies the :1234 vector', () => {
    const url = 'http://mycompany.com:1234/myapp.php?foo=1&bar=2';
    expect(adapter.verify(post(url, 'Zmvh+3yNM1Phv2jhDCwEM3q5ebU='), NOW).ok).toBe(true);
  });
  it('verifies a JSON body through bodySHA256, and rejects a changed body', () => {
    const body = '{"property": "value", "boolean": true}';
    const url = `${VECTOR_URL}&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620`;
    expect(adapter.verify(post(url, 'a9nBmqA0ju/hNViExpshrM61xv4=', body), NOW).ok).toBe(true);
    const changed = adapter.verify(
      post(url, 'a9nBmqA0ju/hNViExpshrM61xv4=', body.replace('value', 'valuf')),
      NOW,
    );
    expect(changed).toEqual({ ok: false, reason: 'bodySHA256 does not match the request body' });
  });
  it('rejects a wrong, empty or missing signature', () => {
    expect(adapter.verify(post(VECTOR_URL, 'RSOYDt4T1cUTdK1PDd93/VVr8B8'), NOW).ok).toBe(false);
    expect(adapter.verify(post(VECTOR_URL, ''), NOW).ok).toBe(false);
    expect(adapter.verify({ ...post(VECTOR_URL, 'x'), headers: {} }, NOW)).toEqual({
      ok: false,
      reason: 'missing X-Twilio-Signature header',
    });
  });
  it('signs repeated keys de-duplicated and sorted', () => {
    const a = twilioSignature('t', 'https://x.test/h', { M: ['b', 'a', 'b'] });
    expect(a).toBe(twilioSignature('t', 'https://x.test/h', { M: ['a', 'b'] }));
  });
  it('accepts a query Twilio signed with legacy encoding (%27)', () => {
    const url = "https://example.com/sms?name=O'Brien";
    const sig = twilioSignature('12345', 'https://example.com/sms?name=O%27Brien', {});
    expect(
      adapter.verify({ method: 'GET', url, headers: { 'x-twilio-signature': sig }, body: '' }, NOW).ok,
    ).toBe(true);
  });
});

describe('twilio parsing', () => {
  const adapter = twilioChannel({ authToken: 't' });
  const req = (params: Record<string, string>): WebhookRequest => ({
    method: 'POST',
    url: 'https://example.com/in',
    headers: {},
    body: new URLSearchParams(params).toString(),
  });

  it.each(['MessageSid', 'From', 'To'])('names the missing field %s', (field) => {
    const params: Record<string, string> = {
      MessageSid: 'SM1',
      From: '+14155550100',
      To: '+15005550006',
      Body: 'x',
    };
    delete params[field];
    try {
      adapter.parseInbound(req(params), NOW);
      expect.unreachable();
    } catch (error) {
      expect(isSmsflowError(error, 'SMSFLOW_ERR_INVALID_WEBHOOK')).toBe(true);
      expect((error as Error).message).toContain(`"${field}"`);
      expect((error as Error).message).toContain('[twilio]');
    }
  });
  it('ignores a status callback posted to the inbound route', () => {
    const parsed = adapter.parseInbound(
      req({ MessageSid: 'SM1', From: '+1', To: '+1', MessageStatus: 'sent' }),
      NOW,
    );
    expect(parsed.kind).toBe('ignored');
  });
  it('clips text to 10,000 characters', () => {
    const parsed = adapter.parseInbound(
      req({ MessageSid: 'SM1', From: '+14155550100', To: '+15005550006', Body: 'a'.repeat(12_000) }),
      NOW,
    );
    expect(parsed.kind === 'message' && parsed.message.text.length).toBe(10_000);
  });
  it.each([
    ['accepted', 'queued'],
    ['scheduled', 'queued'],
    ['sending', 'queued'],
    ['sent', 'sent'],
    ['read', 'read'],
    ['failed', 'failed'],
  ])('maps MessageStatus %s to %s', (raw, ours) => {
    expect(adapter.parseStatus(req({ MessageSid: 'SM1', MessageStatus: raw })).status).toBe(ours);
  });
  it('rejects an unknown status with the known list', () => {
    expect(() => adapter.parseStatus(req({ MessageSid: 'SM1', MessageStatus: 'received' }))).toThrow(
      /Known: accepted/,
    );
  });
});

describe('twilio send', () => {
  const fakeFetch = (status: number, body: unknown, seen: { url?: string; body?: string } = {}) =>
    (async (url: string, init?: RequestInit) => {
      seen.url = url;
      seen.body = String(init?.body);
      return new Response(JSON.stringify(body), { status });
    }) as typeof fetch;
  const base = { authToken: 't', accountSid: 'AC1', from: '+15005550006' };

  it('prefixes whatsapp: on To and From', async () => {
    const seen: { body?: string } = {};
    const adapter = twilioChannel({ ...base, fetch: fakeFetch(201, { sid: 'SM1' }, seen) });
    await adapter.send({ id: 'o1', to: '+14155550100', text: 'hi', channel: 'whatsapp' });
    const form = new URLSearchParams(seen.body);
    expect(form.get('To')).toBe('whatsapp:+14155550100');
    expect(form.get('From')).toBe('whatsapp:+15005550006');
  });
  it('uses MessagingServiceSid when no from is known', async () => {
    const seen: { body?: string } = {};
    const adapter = twilioChannel({
      authToken: 't',
      accountSid: 'AC1',
      messagingServiceSid: 'MG1',
      fetch: fakeFetch(201, { sid: 'SM1' }, seen),
    });
    await adapter.send({ id: 'o1', to: '+14155550100', text: 'hi', channel: 'sms' });
    expect(new URLSearchParams(seen.body).get('MessagingServiceSid')).toBe('MG1');
  });
  it('explains 63016 (outside the WhatsApp window), not retryable', async () => {
    const adapter = twilioChannel({
      ...base,
      fetch: fakeFetch(400, { code: 63016, message: 'Outside window', status: 400 }),
    });
    const result = await adapter.send({ id: 'o1', to: '+14155550100', text: 'hi', channel: 'whatsapp' });
    expect(result).toMatchObject({ ok: false, errorCode: '63016', retryable: false });
    expect(!result.ok && result.message).toMatch(/ContentSid/);
  });
  it('treats 429 as retryable', async () => {
    const adapter = twilioChannel({
      ...base,
      fetch: fakeFetch(429, { code: 20429, message: 'Too Many Requests' }),
    });
    expect(await adapter.send({ id: 'o1', to: '+14155550100', text: 'hi', channel: 'sms' })).toMatchObject({
      ok: false,
      errorCode: '20429',
      retryable: true,
    });
  });
  it('times out as a retryable failure', async () => {
    const hang = ((_url: string, init?: RequestInit) =>
      new Promise((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))),
      )) as typeof fetch;
    const adapter = twilioChannel({ ...base, fetch: hang, timeoutMs: 50 });
    expect(await adapter.send({ id: 'o1', to: '+14155550100', text: 'hi', channel: 'sms' })).toMatchObject({
      ok: false,
      errorCode: 'timeout',
      retryable: true,
    });
  });
  it('refuses to send without accountSid, naming the option', async () => {
    await expect(
      twilioChannel({ authToken: 't' }).send({ id: 'o', to: '+1', text: 'x', channel: 'sms' }),
    ).rejects.toThrow(/accountSid/);
  });
  it('requires authToken at creation', () => {
    expect(() => twilioChannel({} as never)).toThrow(/\[twilio\] Missing option authToken/);
  });
});

describe('twiml and the WhatsApp window', () => {
  it('writes one escaped <Message> per text, <Response/> for none', () => {
    expect(twimlResponse([])).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(twimlResponse(['a & b', 'c<d\u0000'])).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Message>a &amp; b</Message><Message>c&lt;d</Message></Response>',
    );
    expect(twilioChannel({ authToken: 't' }).webhookResponse(['x']).contentType).toBe('text/xml');
  });
  it('isWithinWhatsAppWindow is true under 24 h only', () => {
    const last = '2026-03-01T10:00:00.000Z';
    expect(isWithinWhatsAppWindow(last, new Date('2026-03-02T09:59:59.999Z'))).toBe(true);
    expect(isWithinWhatsAppWindow(last, new Date('2026-03-02T10:00:00.000Z'))).toBe(false);
    expect(isWithinWhatsAppWindow(last, new Date('2026-03-01T09:00:00.000Z'))).toBe(false);
    expect(isWithinWhatsAppWindow('not a date', NOW)).toBe(false);
  });
});

describe('twilio webhook parsing cost', () => {
  it('parses a body once for verify and parseInbound together (the second parse reuses the first)', () => {
    const channel = twilioChannel({ ...secrets });
    const url = 'https://bot.example.com/sms';
    const body = new URLSearchParams({
      MessageSid: 'SMonce0000000000000000000000000001',
      AccountSid: secrets.accountSid,
      From: '+14155550100',
      To: '+14155550199',
      Body: 'hello',
    }).toString();
    const request: WebhookRequest = {
      method: 'POST',
      url,
      headers: { 'x-twilio-signature': twilioSignature(secrets.authToken, url, { ...fromForm(body) }) },
      body,
    };
    // Each parse of the body decodes its escaped `From` once.
    const decoded: string[] = [];
    const original = globalThis.decodeURIComponent;
    globalThis.decodeURIComponent = (text: string) => {
      decoded.push(text);
      return original(text);
    };
    try {
      expect(channel.verify(request, NOW)).toEqual({ ok: true });
      const parsed = channel.parseInbound(request, NOW);
      expect(parsed.kind === 'message' && parsed.message.text).toBe('hello');
    } finally {
      globalThis.decodeURIComponent = original;
    }
    expect(decoded.filter((text) => text === '%2B14155550100')).toHaveLength(1);
  });
});

function fromForm(body: string): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null);
  // Not parseFormMulti: that would fill the memo the test above counts on.
  for (const [k, v] of new URLSearchParams(body)) out[k] = [...(out[k] ?? []), v];
  return out;
}
