/**
 * Cross-checks our verifiers against the providers' own SDKs (dev dependencies only): what the SDK signs we
 * accept, what the SDK accepts we accept, and what we sign the SDK accepts.
 */
import { createSecretKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { verifySignature as vonageVerifyJwt } from '@vonage/jwt';
import { SMS } from '@vonage/sms';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signJwt, verifyJwt } from '../../../src/adapters/channels/jwt.js';
import { verifyMessagebirdJwt } from '../../../src/adapters/channels/messagebird.js';
import { sha256Hex } from '../../../src/adapters/channels/shared.js';
import { vonageSignature } from '../../../src/adapters/channels/vonage.js';
import { vonageMessagesChannel } from '../../../src/adapters/channels/vonage-messages.js';

const require = createRequire(import.meta.url);
// jsonwebtoken is what @vonage/jwt signs and verifies with; messagebird ships its verifier as CommonJS.
const jsonwebtoken = require('jsonwebtoken') as {
  sign: (claims: object, secret: string, options: { algorithm: string }) => string;
};
const mbJwt = require('messagebird/lib/webhook-signature-jwt.js') as {
  verify: (url: string, payload: Buffer | null, jwt: string, sk: unknown, opts?: unknown) => Promise<boolean>;
  VerifyOptions: new () => { jwtVerifyOptions: { currentDate?: Date } };
};

const now = new Date('2026-03-02T15:00:00Z');
const iat = Math.floor(now.getTime() / 1000);

describe('@vonage/sms verifySignature agrees with vonageSignature', () => {
  const sms = new SMS({ apiKey: 'k', apiSecret: 's' });
  const methods = {
    md5hash: 'MD5HASH',
    md5: 'MD5HMAC',
    sha1: 'SHA1HMAC',
    sha256: 'SHA256HMAC',
    sha512: 'SHA512HMAC',
  } as const;
  const params = fc.dictionary(
    fc.oneof(
      fc.constantFrom('text', 'msisdn', 'message-timestamp', 'messageId', 'to'),
      fc.string({ minLength: 1, maxLength: 12 }),
    ),
    fc.oneof(fc.string(), fc.constantFrom('a&b=c', '😀', '\u202e', 'x=y&z')),
  );
  for (const [ours, theirs] of Object.entries(methods)) {
    it(`${ours}: the SDK accepts our signature for random params (fast-check)`, () => {
      fc.assert(
        fc.property(params, fc.string({ minLength: 1 }), (p, secret) => {
          const clean = Object.fromEntries(
            Object.entries(p).filter(([k]) => k !== 'sig' && k !== '__proto__'),
          );
          const sig = vonageSignature(clean, secret, ours as keyof typeof methods);
          expect(sms.verifySignature(sig, clean, secret, theirs as never)).toBe(true);
        }),
        { numRuns: 100 },
      );
    });
  }
});

describe('@vonage/jwt and jsonwebtoken agree with the Messages API verifier', () => {
  const secret = 'fake-vonage-messages-secret-0000';
  const body =
    '{"message_uuid":"u1","from":"14155550100","to":"14155550199","channel":"sms","message_type":"text","text":"hi"}';
  const adapter = vonageMessagesChannel({ signatureSecret: secret, apiKey: 'k', apiSecret: 's', from: '1' });

  it('accepts a Vonage-style webhook token signed by jsonwebtoken (HS256), and @vonage/jwt accepts ours', () => {
    const theirs = jsonwebtoken.sign(
      {
        iat,
        jti: 'c2a2e4b0-0000-4000-8000-000000000001',
        iss: 'Vonage',
        payload_hash: sha256Hex(body),
        api_key: 'k',
      },
      secret,
      { algorithm: 'HS256' },
    );
    expect(
      adapter.verify(
        { method: 'POST', url: 'https://x.test/', headers: { authorization: `Bearer ${theirs}` }, body },
        now,
      ),
    ).toEqual({ ok: true });
    expect(vonageVerifyJwt(theirs, secret)).toBe(true);
    const ours = signJwt({ iat, payload_hash: sha256Hex(body) }, secret);
    // @vonage/jwt checks the signature (and exp when present) with the real clock; no exp here.
    expect(vonageVerifyJwt(ours, secret)).toBe(true);
    expect(vonageVerifyJwt(ours, 'other-secret')).toBe(false);
  });

  it('agrees with @vonage/jwt on tampered tokens (fast-check)', () => {
    const token = signJwt({ iat, payload_hash: sha256Hex(body) }, secret);
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.constantFrom('A', 'b', '-', '_', '0'), (i, c) => {
        const t = token.slice(0, i) + c + token.slice(i + 1);
        const oursOk = verifyJwt(t, { secret, now }).ok;
        // We are at least as strict as the SDK: whatever we accept, it accepts.
        if (oursOk) expect(vonageVerifyJwt(t, secret)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('messagebird webhook-signature-jwt agrees with verifyMessagebirdJwt', () => {
  const key = 'fake-messagebird-signing-key-000';
  const sdkVerify = async (token: string, url: string, body: string, at: Date) => {
    const opts = new mbJwt.VerifyOptions();
    opts.jwtVerifyOptions = { ...opts.jwtVerifyOptions, currentDate: at };
    try {
      return await mbJwt.verify(
        url,
        body.length > 0 ? Buffer.from(body) : null,
        token,
        createSecretKey(Buffer.from(key)),
        opts,
      );
    } catch {
      return false;
    }
  };

  it('both accept our tokens and both reject them on another URL or body (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.webUrl({ withQueryParameters: true }),
        fc.oneof(
          fc.constant(''),
          fc.string({ minLength: 1 }),
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }),
        ),
        fc.constantFrom('HS256', 'HS384', 'HS512') as fc.Arbitrary<'HS256' | 'HS384' | 'HS512'>,
        async (url, body, alg) => {
          const claims: Record<string, unknown> = {
            iss: 'MessageBird',
            nbf: iat,
            exp: iat + 60,
            jti: 'j1',
            url_hash: sha256Hex(url),
          };
          if (body.length > 0) claims.payload_hash = sha256Hex(body);
          const token = signJwt(claims, key, alg);
          expect(verifyMessagebirdJwt(token, url, body, key, now).ok).toBe(true);
          expect(await sdkVerify(token, url, body, now)).toBe(true);
          const other = `${url}x`;
          expect(verifyMessagebirdJwt(token, other, body, key, now).ok).toBe(false);
          expect(await sdkVerify(token, other, body, now)).toBe(false);
          const tampered = `${body}!`;
          expect(verifyMessagebirdJwt(token, url, tampered, key, now).ok).toBe(false);
          expect(await sdkVerify(token, url, tampered, now)).toBe(false);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('gives the same verdict as the SDK on every reference vector', async () => {
    const refs = JSON.parse(readFileSync('test/fixtures/messagebird/_jwt-reference.json', 'utf8')) as Array<{
      secret?: string;
      url: string;
      payload?: string;
      timestamp: string;
      token: string;
      valid: boolean;
    }>;
    for (const ref of refs) {
      const at = new Date(ref.timestamp);
      const opts = new mbJwt.VerifyOptions();
      opts.jwtVerifyOptions = { ...opts.jwtVerifyOptions, currentDate: at };
      let sdk: boolean;
      try {
        sdk = await mbJwt.verify(
          ref.url,
          ref.payload === undefined ? null : Buffer.from(ref.payload),
          ref.token,
          ref.secret ? createSecretKey(Buffer.from(ref.secret)) : null,
          opts,
        );
      } catch {
        sdk = false;
      }
      const ours = verifyMessagebirdJwt(
        ref.token,
        ref.url,
        ref.payload ?? '',
        ref.secret ?? 'any-key',
        at,
      ).ok;
      expect({ token: ref.token.slice(-8), ours }).toEqual({ token: ref.token.slice(-8), ours: sdk });
      expect(ours).toBe(ref.valid);
    }
  });
});
