import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { signJwt } from '../../../src/adapters/channels/jwt.js';
import { messagebirdChannel, verifyMessagebirdJwt } from '../../../src/adapters/channels/messagebird.js';
import { sha256Hex } from '../../../src/adapters/channels/shared.js';
import { channelContract } from '../../../src/testing/channel-contract.js';

const dir = 'test/fixtures/messagebird';
const secrets = JSON.parse(readFileSync(`${dir}/secrets.json`, 'utf8')) as {
  signingKey: string;
  accessKey: string;
};
const create = (baseUrl = 'http://127.0.0.1:9') =>
  messagebirdChannel({ ...secrets, baseUrl, originator: 'Salon' });

channelContract({
  name: 'messagebird',
  fixturesDir: dir,
  create: ({ baseUrl }) => create(baseUrl),
  send: {
    path: /^\/messages$/,
    success: {
      status: 201,
      body: { id: 'e8077d803532c0b5937c639b60216938', recipients: { totalCount: 1 } },
      expectProviderMessageId: 'e8077d803532c0b5937c639b60216938',
    },
    failure: {
      status: 422,
      body: { errors: [{ code: 9, description: 'no (correct) recipients found', parameter: 'recipients' }] },
      expectErrorCode: '9',
      retryable: false,
    },
    checkRequest: (req) => {
      expect(req.headers.authorization).toBe(`AccessKey ${secrets.accessKey}`);
      expect(JSON.parse(req.body)).toMatchObject({
        originator: '+14155550199',
        recipients: ['14155550100'],
        reference: 'out-contract-1',
        reportUrl: 'https://example.com/smsflow/status',
      });
    },
  },
});

/**
 * The 44 reference vectors of messagebird-nodejs (BSD-2-Clause), `lib/testdata/webhook-signature-jwt-reference.json`,
 * copied unchanged to test/fixtures/messagebird/_jwt-reference.json.
 */
interface Reference {
  name: string;
  method: string;
  secret?: string;
  url: string;
  payload?: string;
  timestamp: string;
  token: string;
  valid: boolean;
  reason?: string;
}
const references = JSON.parse(readFileSync(`${dir}/_jwt-reference.json`, 'utf8')) as Reference[];

describe('MessageBird-Signature-JWT reference vectors (messagebird-nodejs)', () => {
  it('has all 44 vectors, valid and invalid', () => {
    expect(references).toHaveLength(44);
    expect(references.filter((r) => r.valid).length).toBeGreaterThan(10);
    expect(references.filter((r) => !r.valid).length).toBeGreaterThan(10);
  });

  for (const ref of references) {
    it(`${ref.valid ? 'accepts' : 'rejects'}: ${ref.name}${ref.reason ? ` (${ref.reason})` : ''}`, () => {
      // The "none alg" vector has no secret: any key must still reject it.
      const result = verifyMessagebirdJwt(
        ref.token,
        ref.url,
        ref.payload ?? '',
        ref.secret ?? 'any-key',
        new Date(ref.timestamp),
      );
      expect(result.ok).toBe(ref.valid);
    });
  }

  it('applies the 5 s clock tolerance on nbf and exp, and none beyond it', () => {
    const url = 'https://example.com/';
    const nbf = 1_700_000_000;
    const token = signJwt(
      { iss: 'MessageBird', nbf, exp: nbf + 60, jti: 'j', url_hash: sha256Hex(url) },
      'k',
    );
    const at = (s: number) => verifyMessagebirdJwt(token, url, '', 'k', new Date(s * 1000)).ok;
    expect(at(nbf - 5)).toBe(true);
    expect(at(nbf - 6)).toBe(false);
    expect(at(nbf + 64)).toBe(true);
    expect(at(nbf + 65)).toBe(false);
  });

  it('rejects a token without exp, jti, url_hash, or with another issuer', () => {
    const url = 'https://example.com/';
    const base = {
      iss: 'MessageBird',
      nbf: 1_700_000_000,
      exp: 1_700_000_060,
      jti: 'j',
      url_hash: sha256Hex(url),
    };
    const now = new Date(1_700_000_010_000);
    expect(verifyMessagebirdJwt(signJwt(base, 'k'), url, '', 'k', now).ok).toBe(true);
    for (const drop of ['exp', 'jti', 'url_hash'] as const) {
      const { [drop]: _, ...claims } = base;
      expect(verifyMessagebirdJwt(signJwt(claims, 'k'), url, '', 'k', now).ok).toBe(false);
    }
    expect(verifyMessagebirdJwt(signJwt({ ...base, iss: 'Other' }, 'k'), url, '', 'k', now).ok).toBe(false);
  });
});

describe('messagebird parsing', () => {
  it('maps every status and reads statusErrorCode', () => {
    const adapter = create();
    const map = {
      scheduled: 'queued',
      sent: 'sent',
      buffered: 'sent',
      delivered: 'delivered',
      expired: 'undelivered',
      delivery_failed: 'failed',
    };
    for (const [raw, ours] of Object.entries(map)) {
      const s = adapter.parseStatus({
        method: 'GET',
        url: `https://x.test/s?id=m1&status=${raw}`,
        headers: {},
        body: '',
      });
      expect(s).toMatchObject({ providerMessageId: 'm1', status: ours, providerStatus: raw });
    }
  });

  it('reads the receiver/payload aliases of inbound webhooks', () => {
    const adapter = create();
    const body = new URLSearchParams({
      id: 'i1',
      originator: '14155550100',
      receiver: '14155550199',
      payload: 'Hi',
    }).toString();
    const parsed = adapter.parseInbound(
      { method: 'POST', url: 'https://x.test/in', headers: {}, body },
      new Date('2026-01-01T00:00:00Z'),
    );
    expect(parsed).toMatchObject({
      kind: 'message',
      message: {
        id: 'i1',
        from: '+14155550100',
        to: '+14155550199',
        text: 'Hi',
        receivedAt: '2026-01-01T00:00:00.000Z',
      },
    });
  });

  it('throws SMSFLOW_ERR_INVALID_WEBHOOK naming the missing field', () => {
    expect(() =>
      create().parseInbound(
        { method: 'GET', url: 'https://x.test/in?id=1', headers: {}, body: '' },
        new Date(),
      ),
    ).toThrow(/originator/);
  });
});
