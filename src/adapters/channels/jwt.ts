/**
 * A minimal, dependency-free verifier (and signer, for tests and web chat) of HMAC-signed JSON Web Tokens
 * (RFC 7519, JWS compact form, RFC 7515) — only `HS256`, `HS384` and `HS512`. Providers that sign webhooks
 * with a shared secret (Vonage Messages API, MessageBird) need no more, and owning 150 lines beats a
 * dependency in the webhook hot path. `alg: none` and every asymmetric algorithm are refused by design
 * (RFC 8725 §3.1: the verifier, not the token, picks the algorithms).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The HMAC algorithms this verifier accepts. */
export type JwtAlgorithm = 'HS256' | 'HS384' | 'HS512';

/** Decoded JWT claims: a JSON object. Registered claims are typed, others are `unknown`. */
export interface JwtClaims {
  iss?: unknown;
  iat?: unknown;
  nbf?: unknown;
  exp?: unknown;
  jti?: unknown;
  [claim: string]: unknown;
}

/** Options for {@link verifyJwt}. */
export interface VerifyJwtOptions {
  /** The shared secret (UTF-8 string or raw bytes). */
  secret: string | Uint8Array;
  /** Algorithms accepted; the token's `alg` header must be one of them. @default ['HS256'] */
  algorithms?: readonly JwtAlgorithm[];
  /** The clock used for `nbf`/`exp`/`iat` checks. */
  now: Date;
  /** Seconds of clock skew tolerated on `nbf` and `exp`. @default 0 */
  clockToleranceSeconds?: number;
  /** When set, the `iss` claim must equal it. */
  issuer?: string;
  /** Claims that must be present (e.g. `['jti', 'exp']`). @default [] */
  requiredClaims?: readonly string[];
  /**
   * When set, `iat` must be present and within this many seconds of `now`, both directions. For issuers
   * that send no `exp` (Vonage signed webhooks), this is what bounds a replay.
   */
  maxIatSkewSeconds?: number;
}

/** Outcome of {@link verifyJwt}; `reason` is for logs only and never contains the secret or the token. */
export type VerifyJwtResult =
  | { ok: true; algorithm: JwtAlgorithm; claims: JwtClaims }
  | { ok: false; reason: string };

const HASH_OF: Record<JwtAlgorithm, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
// base64url without padding (RFC 7515 §2); anything else is a malformed token.
const B64URL = /^[A-Za-z0-9_-]*$/;
// Tokens are headers: a hard cap keeps a hostile header from costing us a large HMAC.
const MAX_TOKEN_LENGTH = 8192;

/**
 * Verifies an HS256/384/512 JWT: structure, algorithm allow-list, signature (constant time), then
 * `iss`, `nbf`, `exp`, `iat` and required claims. Pure; never throws.
 *
 * @param token - The compact JWT (`header.payload.signature`), without a `Bearer ` prefix.
 * @param options - Secret, clock and claim rules.
 * @returns `{ ok: true, claims }` or `{ ok: false, reason }`.
 *
 * @example
 * const r = verifyJwt(token, { secret: 'key', algorithms: ['HS256'], now: new Date(), issuer: 'Vonage' });
 * if (!r.ok) console.warn(r.reason);
 */
export function verifyJwt(token: string, options: VerifyJwtOptions): VerifyJwtResult {
  try {
    return verifyUnsafe(token, options);
  } catch {
    // Defensive: verification must never throw on hostile input.
    return { ok: false, reason: 'token could not be processed' };
  }
}

function verifyUnsafe(token: string, options: VerifyJwtOptions): VerifyJwtResult {
  if (typeof token !== 'string' || token.length === 0) return { ok: false, reason: 'token is missing' };
  if (token.length > MAX_TOKEN_LENGTH)
    return { ok: false, reason: `token is longer than ${MAX_TOKEN_LENGTH}` };
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: `token has ${parts.length} parts, expected 3` };
  const [h, p, s] = parts as [string, string, string];
  if (!B64URL.test(h) || !B64URL.test(p) || !B64URL.test(s)) {
    return { ok: false, reason: 'token is not base64url' };
  }
  const header = parseJsonObject(Buffer.from(h, 'base64url').toString('utf8'));
  if (!header) return { ok: false, reason: 'token header is not a JSON object' };
  const alg = header.alg;
  const allowed = options.algorithms ?? ['HS256'];
  if (typeof alg !== 'string' || !(allowed as readonly string[]).includes(alg)) {
    return { ok: false, reason: `algorithm ${JSON.stringify(String(alg)).slice(0, 20)} is not allowed` };
  }
  const algorithm = alg as JwtAlgorithm;
  const expected = createHmac(HASH_OF[algorithm], options.secret).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, 'base64url');
  // Re-encoding rejects non-canonical signatures (stray trailing bits), so one token has one spelling.
  if (given.toString('base64url') !== s || !constantTimeEqual(given, expected)) {
    return { ok: false, reason: 'signature is invalid' };
  }
  const claims = parseJsonObject(Buffer.from(p, 'base64url').toString('utf8')) as JwtClaims | null;
  if (!claims) return { ok: false, reason: 'token payload is not a JSON object' };
  return checkClaims(claims, algorithm, options);
}

function checkClaims(claims: JwtClaims, algorithm: JwtAlgorithm, options: VerifyJwtOptions): VerifyJwtResult {
  const now = Math.floor(options.now.getTime() / 1000);
  const tolerance = options.clockToleranceSeconds ?? 0;
  for (const name of options.requiredClaims ?? []) {
    if (!(name in claims)) return { ok: false, reason: `claim ${name} is missing` };
  }
  if (options.issuer !== undefined && claims.iss !== options.issuer) {
    return { ok: false, reason: `claim iss is not ${options.issuer}` };
  }
  for (const name of ['nbf', 'exp', 'iat'] as const) {
    if (claims[name] !== undefined && !isNumericDate(claims[name])) {
      return { ok: false, reason: `claim ${name} is not a number` };
    }
  }
  // RFC 7519 §4.1.5: reject before nbf; same rule as jose (nbf > now + tolerance).
  if (typeof claims.nbf === 'number' && claims.nbf > now + tolerance) {
    return { ok: false, reason: 'claim nbf is in the future' };
  }
  // RFC 7519 §4.1.4: reject on or after exp; same rule as jose (exp <= now - tolerance).
  if (typeof claims.exp === 'number' && claims.exp <= now - tolerance) {
    return { ok: false, reason: 'claim exp is in the past' };
  }
  if (options.maxIatSkewSeconds !== undefined) {
    if (typeof claims.iat !== 'number') return { ok: false, reason: 'claim iat is missing' };
    if (Math.abs(now - claims.iat) > options.maxIatSkewSeconds) {
      return { ok: false, reason: `claim iat is more than ${options.maxIatSkewSeconds}s from now` };
    }
  }
  return { ok: true, algorithm, claims };
}

/**
 * Signs claims as an HS256/384/512 JWT. Used by tests, fixture generators and anything that needs to
 * produce a token the verifier accepts. Pure.
 *
 * @param claims - The payload claims (JSON object).
 * @param secret - The shared secret.
 * @param algorithm - `HS256` (default), `HS384` or `HS512`.
 * @returns The compact JWT.
 *
 * @example
 * signJwt({ iss: 'Vonage', iat: 1700000000 }, 'secret') // 'eyJhbGciOiJIUzI1NiIs…'
 */
export function signJwt(
  claims: JwtClaims,
  secret: string | Uint8Array,
  algorithm: JwtAlgorithm = 'HS256',
): string {
  const h = Buffer.from(JSON.stringify({ alg: algorithm, typ: 'JWT' })).toString('base64url');
  const p = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const s = createHmac(HASH_OF[algorithm], secret).update(`${h}.${p}`).digest('base64url');
  return `${h}.${p}.${s}`;
}

/**
 * Compares a claimed hex digest with an expected one in constant time, case-insensitively. Pure; false
 * for non-strings, non-hex or wrong lengths.
 *
 * @example
 * hexDigestEquals('ABCD', 'abcd') // true
 */
export function hexDigestEquals(claimed: unknown, expectedHex: string): boolean {
  if (
    typeof claimed !== 'string' ||
    claimed.length !== expectedHex.length ||
    !/^[0-9a-fA-F]*$/.test(claimed)
  ) {
    return false;
  }
  return constantTimeEqual(
    Buffer.from(claimed.toLowerCase(), 'hex'),
    Buffer.from(expectedHex.toLowerCase(), 'hex'),
  );
}

/** Constant-time equality of two byte strings; unequal lengths are unequal (length is not secret). */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
