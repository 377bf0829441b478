import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hexDigestEquals, signJwt, verifyJwt } from '../../../src/adapters/channels/jwt.js';

const now = new Date('2026-03-02T15:00:00Z');
const t = Math.floor(now.getTime() / 1000);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('verifyJwt', () => {
  it('accepts HS256/384/512 when allowed, and only those', () => {
    for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
      const token = signJwt({ iat: t }, 'k', alg);
      expect(verifyJwt(token, { secret: 'k', now, algorithms: [alg] })).toMatchObject({
        ok: true,
        algorithm: alg,
      });
      expect(
        verifyJwt(token, { secret: 'k', now, algorithms: alg === 'HS256' ? ['HS512'] : ['HS256'] }).ok,
      ).toBe(false);
    }
  });

  it('matches RFC 7515 A.1 (HS256 example token and key)', () => {
    // RFC 7515 Appendix A.1: JWK k (base64url) and the full compact serialisation.
    const key = Buffer.from(
      'AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow',
      'base64url',
    );
    const token =
      'eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    const ok = verifyJwt(token, { secret: key, now: new Date(1_300_819_000_000) });
    expect(ok).toMatchObject({ ok: true, claims: { iss: 'joe', exp: 1300819380 } });
    expect(verifyJwt(token, { secret: key, now: new Date(1_300_819_380_000) })).toMatchObject({
      ok: false,
      reason: 'claim exp is in the past',
    });
  });

  it('refuses alg none, unsigned and malformed tokens', () => {
    const none = `${b64({ alg: 'none' })}.${b64({ iat: t })}.`;
    expect(verifyJwt(none, { secret: 'k', now }).ok).toBe(false);
    expect(verifyJwt(`${b64({ alg: 'none' })}.${b64({ iat: t })}`, { secret: 'k', now }).ok).toBe(false);
    for (const bad of ['', 'a.b', 'a.b.c.d', '!!.??.**', `${b64([1])}.${b64({})}.x`, 'x'.repeat(9000)]) {
      expect(verifyJwt(bad, { secret: 'k', now }).ok).toBe(false);
    }
  });

  it('refuses a non-object payload even when correctly signed', () => {
    const h = b64({ alg: 'HS256' });
    const p = b64([1, 2]);
    const s = createHmac('sha256', 'k').update(`${h}.${p}`).digest('base64url');
    expect(verifyJwt(`${h}.${p}.${s}`, { secret: 'k', now })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('payload'),
    });
  });

  it('refuses a non-canonical signature spelling (trailing bits changed)', () => {
    const token = signJwt({ iat: t }, 'k');
    const sig = token.split('.')[2]!;
    // 32 bytes = 43 chars: the last char carries 4 unused bits; flipping one keeps the bytes but not the spelling.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(sig.at(-1)!);
    const twin = `${token.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(twin.split('.')[2]!, 'base64url')).toEqual(Buffer.from(sig, 'base64url'));
    expect(verifyJwt(twin, { secret: 'k', now }).ok).toBe(false);
  });

  it('checks iss, nbf/exp with tolerance, required claims, iat window and numeric dates', () => {
    const opts = { secret: 'k', now, clockToleranceSeconds: 5 };
    expect(verifyJwt(signJwt({ iss: 'A' }, 'k'), { ...opts, issuer: 'B' }).ok).toBe(false);
    expect(verifyJwt(signJwt({ nbf: t + 5 }, 'k'), opts).ok).toBe(true);
    expect(verifyJwt(signJwt({ nbf: t + 6 }, 'k'), opts).ok).toBe(false);
    expect(verifyJwt(signJwt({ exp: t - 4 }, 'k'), opts).ok).toBe(true);
    expect(verifyJwt(signJwt({ exp: t - 5 }, 'k'), opts).ok).toBe(false);
    expect(verifyJwt(signJwt({ exp: '9999999999' }, 'k'), opts).ok).toBe(false);
    expect(verifyJwt(signJwt({}, 'k'), { ...opts, requiredClaims: ['jti'] }).ok).toBe(false);
    expect(verifyJwt(signJwt({}, 'k'), { ...opts, maxIatSkewSeconds: 10 }).ok).toBe(false);
    expect(verifyJwt(signJwt({ iat: t - 10 }, 'k'), { ...opts, maxIatSkewSeconds: 10 }).ok).toBe(true);
    expect(verifyJwt(signJwt({ iat: t + 11 }, 'k'), { ...opts, maxIatSkewSeconds: 10 }).ok).toBe(false);
  });

  it('never throws on arbitrary input (fast-check, incl. 5,000 chars, NUL, RTL, emoji)', () => {
    const s = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme', minLength: 4900, maxLength: 5000 }),
      fc.constantFrom('\u0000', '\u202e', '😀', 'a.b.c'),
      fc
        .tuple(fc.json(), fc.json(), fc.string())
        .map(
          ([h, p, sig]) =>
            `${Buffer.from(h).toString('base64url')}.${Buffer.from(p).toString('base64url')}.${sig}`,
        ),
    );
    fc.assert(
      fc.property(s, fc.string(), (token, secret) => {
        const r = verifyJwt(token, { secret, now, algorithms: ['HS256', 'HS384', 'HS512'] });
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });
});

describe('hexDigestEquals', () => {
  it('compares case-insensitively and rejects non-hex and other lengths', () => {
    expect(hexDigestEquals('ABCDEF', 'abcdef')).toBe(true);
    expect(hexDigestEquals('abcdee', 'abcdef')).toBe(false);
    expect(hexDigestEquals('abcde', 'abcdef')).toBe(false);
    expect(hexDigestEquals('zzzzzz', 'abcdef')).toBe(false);
    expect(hexDigestEquals(123, 'abcdef')).toBe(false);
  });
});
