/**
 * Helpers shared by the channel adapters (Twilio, Plivo, Vonage, MessageBird/Bird, web chat): form parsing,
 * constant-time comparison, HMAC/hash helpers, XML escaping, `fetch` with a timeout, and the small mapping
 * helpers every adapter needs. Pure except {@link fetchWithTimeout}. Adapters never import each other; they
 * import this file instead.
 */
import * as crypto from 'node:crypto';
import { SmsflowError, type SmsflowErrorCode } from '../../core/errors.js';
import { type CountryCode, tryNormalizePhone } from '../../core/phone.js';
import { MAX_INBOUND_TEXT } from '../../core/types.js';
import type { SendResult, VerifyResult } from './types.js';

/** Longest received value quoted in an error message; webhook bodies may hold personal data. */
const MAX_QUOTED = 64;

/**
 * Quotes a received value for an error message: JSON-quoted and clipped, so a message never carries a full
 * body (STYLE: never log full message bodies).
 *
 * @example
 * quote('x'.repeat(100)) // '"xxxx…" (100 chars)'
 */
export function quote(value: unknown): string {
  if (value === undefined) return 'undefined';
  const text = typeof value === 'string' ? value : String(value);
  if (text.length <= MAX_QUOTED) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, MAX_QUOTED))}… (${text.length} chars)`;
}

/**
 * Makes an adapter-named {@link SmsflowError}: `[smsflow] [twilio] …` (STYLE: adapter errors name their adapter).
 *
 * @example
 * throw adapterError('twilio', 'SMSFLOW_ERR_INVALID_WEBHOOK', 'Missing field "From".');
 */
export function adapterError(
  adapter: string,
  code: SmsflowErrorCode,
  message: string,
  options: { cause?: unknown } = {},
): SmsflowError {
  return new SmsflowError(code, `[${adapter}] ${message}`, options);
}

/**
 * Throws `SMSFLOW_ERR_INVALID_CONFIG` when a required string option is missing or empty.
 *
 * @returns the option value
 * @example
 * const token = requireOption('twilio', options.authToken, 'authToken');
 */
export function requireOption(adapter: string, value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw adapterError(
      adapter,
      'SMSFLOW_ERR_INVALID_CONFIG',
      `Missing option ${name} (received ${quote(value)}). Pass it to ${adapter}Channel({ ${name}: '…' }), usually from an environment variable.`,
    );
  }
  return value;
}

/** Form or query parameters with every value kept, in arrival order. Null prototype: keys are data. */
export type MultiParams = Record<string, string[]>;

/**
 * Parses an `application/x-www-form-urlencoded` string (a POST body or a query string without `?`) keeping
 * repeated keys. Never throws: malformed percent escapes are kept as written (WHATWG URLSearchParams rules).
 * Read-only: a webhook's body is parsed to verify it and again to read it, and the second parse of the same
 * text returns the first one's object (no caller may change it).
 *
 * @example
 * parseFormMulti('a=1&a=2&b=%2B1') // { a: ['1', '2'], b: ['+1'] }
 */
export function parseFormMulti(body: string): Readonly<MultiParams> {
  // An empty query between the two parses of a body must not take the body's place in the memo.
  if (body === '') return Object.create(null);
  if (lastForm !== null && lastForm.body === body) return lastForm.params;
  const out = decodeAsciiForm(body) ?? decodeFormByStandard(body);
  lastForm = { body, params: out };
  return out;
}

/** The WHATWG parser itself, for any text: what {@link decodeAsciiForm} leaves to it. */
function decodeFormByStandard(body: string): MultiParams {
  const out: MultiParams = Object.create(null);
  for (const [key, value] of new URLSearchParams(body)) {
    const list = out[key];
    if (list) list.push(value);
    else out[key] = [value];
  }
  return out;
}

/**
 * The same result as URLSearchParams for a body of ASCII characters whose escapes are well-formed UTF-8 (what
 * providers send), at a fraction of its cost; `null` for anything else (raw non-ASCII characters, a stray `%`,
 * an escape that is not UTF-8), which the WHATWG parser then reads with its replacement rules.
 */
function decodeAsciiForm(body: string): MultiParams | null {
  if (NON_ASCII.test(body)) return null;
  const out: MultiParams = Object.create(null);
  // URLSearchParams drops one leading '?' of a string.
  for (let start = body.charCodeAt(0) === 63 ? 1 : 0; start < body.length; ) {
    let end = body.indexOf('&', start);
    if (end === -1) end = body.length;
    if (end > start) {
      let eq = body.indexOf('=', start);
      if (eq === -1 || eq > end) eq = end;
      const key = decodeFormPiece(body.slice(start, eq));
      const value = eq === end ? '' : decodeFormPiece(body.slice(eq + 1, end));
      if (key === null || value === null) return null;
      const list = out[key];
      if (list) list.push(value);
      else out[key] = [value];
    }
    start = end + 1;
  }
  return out;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** `+` is a space, then percent escapes are UTF-8; `null` when an escape is malformed or not UTF-8. */
function decodeFormPiece(piece: string): string | null {
  const spaced = piece.includes('+') ? piece.replaceAll('+', ' ') : piece;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return null;
  }
}

let lastForm: { body: string; params: Readonly<MultiParams> } | null = null;

/**
 * Parses a form body to single values (the first value of a repeated key).
 *
 * @example
 * parseForm('From=%2B14155550100&Body=Hi') // { From: '+14155550100', Body: 'Hi' }
 */
export function parseForm(body: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  const multi = parseFormMulti(body);
  for (const key in multi) out[key] = multi[key]![0] ?? '';
  return out;
}

/**
 * The query string of a URL (without `?` and `#fragment`), or `''`. Never throws.
 *
 * @example
 * queryOf('https://x.test/sms?a=1#f') // 'a=1'
 */
export function queryOf(url: string): string {
  const at = url.indexOf('?');
  if (at === -1) return '';
  const fragment = url.indexOf('#');
  if (fragment === -1) return url.slice(at + 1);
  return fragment < at ? '' : url.slice(at + 1, fragment);
}

/**
 * Parameters of a webhook request: the query string for GET, else the form body merged over the query.
 *
 * @example
 * requestParams({ method: 'GET', url: 'https://x/?From=1', headers: {}, body: '' }) // { From: '1' }
 */
export function requestParams(request: {
  method: string;
  url: string;
  body: string;
}): Record<string, string> {
  const query = queryOf(request.url);
  if (request.method.toUpperCase() === 'GET') return parseForm(query);
  const body = parseForm(request.body);
  // Most webhook URLs carry no query: then the body's own (new) object is the answer.
  return query === '' ? body : Object.assign(parseForm(query), body);
}

/**
 * Case-insensitive header lookup (the HTTP layer lower-cases names; hosts calling adapters directly may not).
 *
 * @example
 * header({ 'x-twilio-signature': 'abc' }, 'X-Twilio-Signature') // 'abc'
 */
export function header(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const lower = name.toLowerCase();
  const direct = headers[lower];
  if (typeof direct === 'string') return direct;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === lower && typeof value === 'string') return value;
  }
  return undefined;
}

/**
 * Constant-time comparison of a received signature with the expected one (`timingSafeEqual` over the UTF-8
 * bytes, as the SDKs do with `scmp`). Values of different byte lengths are unequal at once: every caller
 * compares digests, whose length the algorithm fixes and is no secret (the JWT, Bird and web chat checks do
 * the same). Hashing both sides first, as this did before, cost two SHA-256 per webhook for nothing.
 *
 * @example
 * safeEqual(received, expected) // true only when identical
 */
export function safeEqual(a: string, b: string): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && crypto.timingSafeEqual(left, right);
}

// SHA-256 of UTF-8 text or bytes, through one-shot `crypto.hash` (Node 20.12+) where present: no Hash object
// per call. Serves safeEqual and sha256Hex alike.
const oneShotHash = (
  crypto as {
    hash?: (algorithm: string, data: string | Buffer, encoding: 'buffer' | 'hex') => Buffer | string;
  }
).hash;
function sha256(data: string | Buffer): Buffer;
function sha256(data: string | Buffer, encoding: 'hex'): string;
function sha256(data: string | Buffer, encoding?: 'hex'): Buffer | string {
  if (oneShotHash) return oneShotHash('sha256', data, encoding ?? 'buffer');
  const hash = crypto.createHash('sha256').update(data);
  return encoding ? hash.digest(encoding) : hash.digest();
}

/** Digest names the providers use for webhook signatures. */
export type HmacAlgorithm = 'sha1' | 'sha256' | 'sha512' | 'md5';

/**
 * Base64 HMAC of UTF-8 `data` (Twilio: SHA-1; Plivo, Bird: SHA-256).
 *
 * @example
 * hmacBase64('sha1', '12345', 'https://mycompany.com/myapp.php?foo=1&bar=2…')
 */
export function hmacBase64(algorithm: HmacAlgorithm, key: string | Buffer, data: string | Buffer): string {
  return crypto.createHmac(algorithm, key).update(data).digest('base64');
}

/**
 * Lower-case hex HMAC of UTF-8 `data` (Vonage SMS signatures).
 *
 * @example
 * hmacHex('sha256', 'secret', '&a=1')
 */
export function hmacHex(algorithm: HmacAlgorithm, key: string | Buffer, data: string | Buffer): string {
  return crypto.createHmac(algorithm, key).update(data).digest('hex');
}

/**
 * Lower-case hex SHA-256 of UTF-8 `data` (Twilio `bodySHA256`, Vonage/MessageBird `payload_hash`).
 *
 * @example
 * sha256Hex('{"property": "value", "boolean": true}') // '0a1ff763…6620'
 */
export function sha256Hex(data: string | Buffer): string {
  return sha256(data, 'hex');
}

/**
 * Verifies a header that may list several comma-separated signatures (Plivo V3 during key rotation):
 * true when any entry equals `expected`, compared in constant time.
 *
 * @example
 * anySignatureMatches('old=,new=', 'new=') // true
 */
export function anySignatureMatches(headerValue: string, expected: string): boolean {
  let matched = false;
  // No early exit: every entry is compared so timing does not reveal which one matched.
  for (const candidate of headerValue.split(',')) {
    if (safeEqual(candidate.trim(), expected)) matched = true;
  }
  return matched;
}

// XML 1.0 §2.2 Char: these code points cannot appear in a document even escaped, so they are dropped.
const XML_INVALID =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Escapes text for XML element content or a double- or single-quoted attribute, and drops characters XML 1.0
 * forbids (NUL, most C0 controls, lone surrogates), so a reply can never break the TwiML/Plivo XML document.
 *
 * @example
 * escapeXml('Tom & "Jerry" <3') // 'Tom &amp; &quot;Jerry&quot; &lt;3'
 */
export function escapeXml(text: string): string {
  return text
    .replace(XML_INVALID, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * `Authorization` header value for HTTP Basic auth.
 *
 * @example
 * basicAuth('AC123', 'token') // 'Basic QUMxMjM6dG9rZW4='
 */
export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** A `fetch`-compatible function; adapters take one in their options so tests and hosts can inject it. */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** What a provider API call gave: an HTTP response (any status) or a network failure / timeout. */
export type HttpOutcome =
  | { kind: 'response'; status: number; text: string; json: unknown }
  | { kind: 'network'; timedOut: boolean; message: string };

/** Default time budget for one provider API call, connect to last byte. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Calls `fetch` with an abort timeout and reads the whole body. Never throws: network errors and timeouts
 * come back as `{ kind: 'network' }`; `json` is the parsed body or `undefined` when it is not JSON.
 *
 * @param fetchImpl - injectable fetch; `undefined` uses the global one
 * @param timeoutMs - aborts the request after this many milliseconds
 * @example
 * const out = await fetchWithTimeout(fetch, url, { method: 'POST', body }, 10_000);
 * if (out.kind === 'network') return networkFailure(out);
 */
export async function fetchWithTimeout(
  fetchImpl: FetchLike | undefined,
  url: string,
  init: RequestInit,
  timeoutMs: number = DEFAULT_TIMEOUT_MS,
): Promise<HttpOutcome> {
  // The global fetch is looked up per call, so a test or host that replaces it later is honoured.
  const send: FetchLike = fetchImpl ?? ((input, requestInit) => fetch(input, requestInit));
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await send(url, { ...init, signal: controller.signal });
    const text = await response.text();
    let json: unknown;
    try {
      json = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { kind: 'response', status: response.status, text, json };
  } catch (error) {
    const timedOut = controller.signal.aborted;
    const message = timedOut
      ? `no response within ${timeoutMs} ms`
      : error instanceof Error
        ? error.message
        : String(error);
    return { kind: 'network', timedOut, message };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * POSTs a JSON body and accepts JSON back, through {@link fetchWithTimeout} (never throws).
 *
 * @example
 * const out = await postJson(options.fetch, `${base}/messages`, payload, { authorization }, options.timeoutMs);
 */
export function postJson(
  fetchImpl: FetchLike | undefined,
  url: string,
  payload: unknown,
  headers: Record<string, string>,
  timeoutMs?: number,
): Promise<HttpOutcome> {
  return fetchWithTimeout(
    fetchImpl,
    url,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify(payload),
    },
    timeoutMs,
  );
}

/**
 * True for HTTP statuses where trying again later may succeed: 408, 429 and 5xx.
 *
 * @example
 * isRetryableStatus(503) // true
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * The {@link SendResult} for a network failure or timeout: always retryable (the dispatcher backs off).
 * `errorCode` is `'timeout'` or `'network'`.
 *
 * @example
 * if (out.kind === 'network') return networkFailure('twilio', out);
 */
export function networkFailure(adapter: string, outcome: { timedOut: boolean; message: string }): SendResult {
  return {
    ok: false,
    errorCode: outcome.timedOut ? 'timeout' : 'network',
    message: `[${adapter}] ${outcome.timedOut ? 'Timed out' : 'Network error'}: ${outcome.message}`,
    retryable: true,
  };
}

/**
 * True when `value` is a plain object (not null, not an array).
 *
 * @example
 * isRecord({}) // true
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a required, non-empty string field from parsed webhook params; throws `SMSFLOW_ERR_INVALID_WEBHOOK`
 * naming the field when it is absent.
 *
 * @example
 * const sid = requireField('twilio', params, 'MessageSid');
 */
export function requireField(adapter: string, params: Record<string, unknown>, field: string): string {
  const value = params[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw adapterError(
      adapter,
      'SMSFLOW_ERR_INVALID_WEBHOOK',
      `The webhook lacks the required field "${field}" (received ${quote(value)}). Point the provider's webhook at the right route (inbound vs status) and keep the body unmodified.`,
    );
  }
  return value;
}

/**
 * Normalises a webhook address to E.164; a short code (3–8 digits, e.g. a US short code in `To`) is kept
 * as written because it has no E.164 form. Throws `SMSFLOW_ERR_INVALID_WEBHOOK` naming the field otherwise.
 *
 * @example
 * webhookPhone('plivo', '14155550100', 'From') // '+14155550100'
 */
export function webhookPhone(
  adapter: string,
  value: string,
  field: string,
  defaultCountry?: CountryCode,
): string {
  const e164 = tryNormalizePhone(value, defaultCountry ? { defaultCountry } : {});
  if (e164 !== null) return e164;
  if (/^[0-9]{3,8}$/.test(value)) return value;
  throw adapterError(
    adapter,
    'SMSFLOW_ERR_INVALID_WEBHOOK',
    `Field "${field}" is not a phone number: ${quote(value)}. Expected E.164 such as +14155550100 (set defaultCountry for national numbers).`,
  );
}

/**
 * Clips inbound text to {@link MAX_INBOUND_TEXT}: the channel layer truncates, never step (core/types.ts).
 * Never splits a surrogate pair.
 *
 * @example
 * clipInboundText('x'.repeat(20_000)).length // 10000
 */
export function clipInboundText(text: string): string {
  if (text.length <= MAX_INBOUND_TEXT) return text;
  let end = MAX_INBOUND_TEXT;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end);
}

/**
 * Maps a provider's raw status to ours with a lookup table; throws `SMSFLOW_ERR_INVALID_WEBHOOK` listing the
 * known values when the status is unknown.
 *
 * @example
 * mapStatus('plivo', 'delivered', { delivered: 'delivered' }) // 'delivered'
 */
export function mapStatus<T extends string>(
  adapter: string,
  raw: string,
  table: Readonly<Record<string, T>>,
): T {
  const mapped = Object.hasOwn(table, raw.toLowerCase()) ? table[raw.toLowerCase()] : undefined;
  if (mapped === undefined) {
    throw adapterError(
      adapter,
      'SMSFLOW_ERR_INVALID_WEBHOOK',
      `Unknown delivery status ${quote(raw)}. Known: ${Object.keys(table).join(', ')}. Is this a status callback?`,
    );
  }
  return mapped;
}

/**
 * Runs a signature check that must never throw: a request too malformed to read is simply not verified.
 *
 * @example
 * verify: (request) => verifySafely(() => verifyTwilio(authToken, request)),
 */
export function verifySafely(check: () => VerifyResult): VerifyResult {
  try {
    return check();
  } catch (error) {
    return {
      ok: false,
      reason: `unreadable request: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
