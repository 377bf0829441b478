import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { WebhookRequest } from '../../../src/adapters/channels/types.js';
import {
  createConcatBuffer,
  type InboundPart,
  reassembleParts,
  vonageChannel,
  vonageSignature,
} from '../../../src/adapters/channels/vonage.js';
import { isSmsflowError } from '../../../src/core/errors.js';
import { channelContract } from '../../../src/testing/channel-contract.js';

const dir = 'test/fixtures/vonage';
const secrets = JSON.parse(readFileSync(`${dir}/secrets.json`, 'utf8')) as {
  apiKey: string;
  apiSecret: string;
  signatureSecret: string;
  signatureMethod: 'sha256';
};
const create = (baseUrl = 'http://127.0.0.1:9') =>
  vonageChannel({ ...secrets, baseUrl, from: '+14155550199' });

channelContract({
  name: 'vonage',
  fixturesDir: dir,
  create: ({ baseUrl }) => create(baseUrl),
  send: {
    path: /^\/sms\/json$/,
    success: {
      status: 200,
      body: {
        'message-count': '1',
        messages: [{ to: '14155550100', 'message-id': '0A0000001234567B', status: '0' }],
      },
      expectProviderMessageId: '0A0000001234567B',
    },
    failure: {
      status: 200,
      body: { 'message-count': '1', messages: [{ status: '1', 'error-text': 'Throughput Rate Exceeded' }] },
      expectErrorCode: '1',
      retryable: true,
    },
    checkRequest: (req) => {
      const form = new URLSearchParams(req.body);
      expect(form.get('api_key')).toBe(secrets.apiKey);
      expect(form.get('to')).toBe('14155550100');
      expect(form.get('from')).toBe('14155550199');
      // The contract's text has ✓ (not GSM-7), so it must go as unicode.
      expect(form.get('type')).toBe('unicode');
      expect(form.get('client-ref')).toBe('out-contract-1');
      expect(form.get('callback')).toBe('https://example.com/smsflow/status');
    },
  },
});

// sms-facts.md §1.2 vector (vonage-node-sdk packages/sms/__tests__/__dataSets__/signature.ts).
const VECTOR = {
  'message-timestamp': '2013-11-21 15:27:30',
  messageId: '020000001B0FE827',
  msisdn: '14843472194',
  text: 'Test again',
  timestamp: '1385047698',
  to: '13239877404',
  type: 'text',
};
const VECTOR_SECRET = 'my_secret_key_for_testing';
const VECTOR_NOW = new Date(1385047698 * 1000 + 30_000);

describe('vonage signature (facts vectors)', () => {
  it('computes MD5HASH, SHA1 HMAC and SHA256 HMAC as the SDK test vectors', () => {
    expect(vonageSignature(VECTOR, VECTOR_SECRET, 'md5hash')).toBe('d2e7b1dc968737c5998ad624e02f90b7');
    expect(vonageSignature(VECTOR, VECTOR_SECRET, 'sha1')).toBe('27d0d05c2876c7cb1720dbcdba4d492e1e55c09a');
    expect(vonageSignature(VECTOR, VECTOR_SECRET, 'sha256')).toBe(
      'ddb8397c2b90aac7f3882d306475c9a5058c92322eef43c92b298b6e0fc0d330',
    );
  });

  it('ignores a sig param and replaces & and = inside values with _', () => {
    const base = vonageSignature({ a: 'x_y_z' }, 's', 'sha256');
    expect(vonageSignature({ a: 'x&y=z', sig: 'whatever' }, 's', 'sha256')).toBe(base);
  });

  for (const method of ['md5hash', 'md5', 'sha1', 'sha256', 'sha512'] as const) {
    it(`verifies a GET signed with ${method}, upper- or lower-case, and rejects a changed text`, () => {
      const adapter = vonageChannel({
        apiKey: 'k',
        apiSecret: 's',
        from: '14155550199',
        signatureSecret: VECTOR_SECRET,
        signatureMethod: method,
      });
      const sig = vonageSignature(VECTOR, VECTOR_SECRET, method);
      const req = (p: Record<string, string>): WebhookRequest => ({
        method: 'GET',
        url: `https://x.test/in?${new URLSearchParams(p)}`,
        headers: {},
        body: '',
      });
      expect(adapter.verify(req({ ...VECTOR, sig }), VECTOR_NOW)).toEqual({ ok: true });
      expect(adapter.verify(req({ ...VECTOR, sig: sig.toUpperCase() }), VECTOR_NOW)).toEqual({ ok: true });
      expect(adapter.verify(req({ ...VECTOR, text: 'Test agaim', sig }), VECTOR_NOW).ok).toBe(false);
    });
  }

  it('rejects a valid signature whose timestamp is outside maxSkewSeconds, both directions', () => {
    const adapter = vonageChannel({
      apiKey: 'k',
      apiSecret: 's',
      from: '1',
      signatureSecret: VECTOR_SECRET,
      maxSkewSeconds: 60,
    });
    const url = `https://x.test/in?${new URLSearchParams({ ...VECTOR, sig: vonageSignature(VECTOR, VECTOR_SECRET) })}`;
    const req = { method: 'GET', url, headers: {}, body: '' };
    expect(adapter.verify(req, new Date(1385047698 * 1000 + 59_000)).ok).toBe(true);
    const late = adapter.verify(req, new Date(1385047698 * 1000 + 61_000));
    expect(late).toMatchObject({ ok: false, reason: expect.stringContaining('stale') });
    expect(adapter.verify(req, new Date(1385047698 * 1000 - 61_000)).ok).toBe(false);
  });

  it('refuses to start without signatureSecret unless allowUnsigned is explicit', () => {
    expect(() => vonageChannel({ apiKey: 'k', apiSecret: 's', from: '1' })).toThrow(/signatureSecret/);
    const open = vonageChannel({ apiKey: 'k', apiSecret: 's', from: '1', allowUnsigned: true });
    expect(open.verify({ method: 'GET', url: 'https://x.test/', headers: {}, body: '' }, new Date())).toEqual(
      {
        ok: true,
      },
    );
  });

  it('rejects an unknown signatureMethod with SMSFLOW_ERR_INVALID_CONFIG quoting it', () => {
    try {
      vonageChannel({
        apiKey: 'k',
        apiSecret: 's',
        from: '1',
        signatureSecret: 'x',
        signatureMethod: 'sha384' as 'sha1',
      });
      expect.unreachable();
    } catch (error) {
      expect(isSmsflowError(error, 'SMSFLOW_ERR_INVALID_CONFIG')).toBe(true);
      expect(String(error)).toContain('"sha384"');
    }
  });
});

function part(n: number, total: number, text: string, ref = '42', from = '+14155550100'): InboundPart {
  return {
    kind: 'part',
    ref,
    part: n,
    total,
    message: {
      id: `m${n}`,
      from,
      to: '+14155550199',
      text,
      receivedAt: `2026-03-02T15:00:0${n}.000Z`,
      channel: 'sms',
      provider: 'vonage',
      media: [],
    },
  };
}

describe('vonage multipart', () => {
  it('reassembles parts in part order, ignoring duplicates, with part 1 as the id', () => {
    const whole = reassembleParts([part(3, 3, 'C'), part(1, 3, 'A'), part(3, 3, 'C'), part(2, 3, 'B')]);
    expect(whole).toMatchObject({ id: 'm1', text: 'ABC', receivedAt: '2026-03-02T15:00:01.000Z' });
    expect(reassembleParts([part(1, 3, 'A'), part(3, 3, 'C')])).toBeNull();
    expect(reassembleParts([])).toBeNull();
  });

  it('buffers parts per sender until complete, expires old ones, bounds memory', () => {
    const buffer = createConcatBuffer({ ttlMs: 60_000, maxPending: 2 });
    const t0 = new Date('2026-03-02T15:00:00Z');
    expect(buffer.add(part(2, 2, ' world'), t0)).toBeNull();
    // Same ref from another sender is another message.
    expect(buffer.add(part(1, 2, 'other', '42', '+14155550111'), t0)).toBeNull();
    expect(buffer.size).toBe(2);
    expect(buffer.add(part(1, 2, 'Hello'), t0)?.text).toBe('Hello world');
    expect(buffer.size).toBe(1);
    // After the TTL, a lone part 2 cannot complete the expired part 1.
    expect(buffer.add(part(2, 2, '!', '42', '+14155550111'), new Date(t0.getTime() + 61_000))).toBeNull();
    expect(buffer.size).toBe(1);
    buffer.add(part(1, 2, 'x', '1'), t0);
    buffer.add(part(1, 2, 'y', '2'), t0);
    expect(buffer.size).toBe(2);
  });

  it('parses a concat webhook into a part and refuses impossible part numbers', () => {
    const adapter = create();
    const fx = JSON.parse(readFileSync(`${dir}/inbound-concat-part.json`, 'utf8'));
    const parsed = adapter.parseInbound(fx.request, new Date(fx.now));
    expect(parsed).toMatchObject({ kind: 'part', ref: '42', part: 2, total: 2 });
    const bad = { ...fx.request, body: fx.request.body.replace('concat-part=2', 'concat-part=3') };
    expect(() => adapter.parseInbound(bad, new Date(fx.now))).toThrow(/concat-part/);
  });
});

describe('vonage parsing and send', () => {
  it('maps every DLR status', () => {
    const adapter = create();
    const map = {
      accepted: 'queued',
      buffered: 'sent',
      unknown: 'sent',
      delivered: 'delivered',
      expired: 'undelivered',
      failed: 'failed',
      rejected: 'failed',
    };
    for (const [raw, ours] of Object.entries(map)) {
      const body = new URLSearchParams({ messageId: 'x', status: raw, 'err-code': '0' }).toString();
      const s = adapter.parseStatus({ method: 'POST', url: 'https://x.test/s', headers: {}, body });
      expect(s.status).toBe(ours);
      expect(s.errorCode).toBeUndefined();
    }
    expect(() =>
      adapter.parseStatus({
        method: 'POST',
        url: 'https://x.test/s',
        headers: {},
        body: 'messageId=x&status=weird',
      }),
    ).toThrow(/weird/);
  });

  it('ignores binary inbound and clips very long text', () => {
    const adapter = create();
    const base = { msisdn: '14155550100', to: '14155550199', messageId: 'b1' };
    const bin = adapter.parseInbound(
      {
        method: 'GET',
        url: `https://x.test/?${new URLSearchParams({ ...base, type: 'binary' })}`,
        headers: {},
        body: '',
      },
      new Date(),
    );
    expect(bin.kind).toBe('ignored');
    const long = adapter.parseInbound(
      {
        method: 'POST',
        url: 'https://x.test/',
        headers: {},
        body: new URLSearchParams({ ...base, text: 'a'.repeat(12_000) }).toString(),
      },
      new Date(),
    );
    expect(long.kind === 'message' && long.message.text.length).toBe(10_000);
  });

  it('sends GSM-7 text without type=unicode and maps HTTP 401 to a non-retryable failure', async () => {
    const calls: string[] = [];
    const adapter = vonageChannel({
      ...secrets,
      from: 'Salon',
      fetch: async (_url, init) => {
        calls.push(String(init?.body));
        return new Response('{"type":"unauthorized"}', { status: 401 });
      },
    });
    const result = await adapter.send({ id: 'o1', to: '+14155550100', text: 'Hello [1] €', channel: 'sms' });
    expect(result).toMatchObject({ ok: false, errorCode: 'http_401', retryable: false });
    const form = new URLSearchParams(calls[0]);
    expect(form.get('type')).toBeNull();
    expect(form.get('from')).toBe('Salon');
  });
});
