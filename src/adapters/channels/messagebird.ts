/**
 * MessageBird (legacy `rest.messagebird.com`) channel adapter: `MessageBird-Signature-JWT` verification
 * (HS256/384/512, `url_hash`, `payload_hash`), inbound VMN webhooks, status reports, sending via
 * `POST /messages`. Facts: sms-facts.md §1.5 (messagebird-nodejs `lib/webhook-signature-jwt.js`).
 *
 * Inbound field names are unverified [U] in our facts: we read the common VMN names and their aliases
 * (`originator`, `recipient`/`receiver`, `body`/`payload`, `id`, `createdDatetime`). See docs/adapters/messagebird.md.
 */
import type { CountryCode } from '../../core/phone.js';
import type { InboundMessage } from '../../core/types.js';
import { hexDigestEquals, verifyJwt } from './jwt.js';
import {
  clipInboundText,
  type FetchLike,
  header,
  isRecord,
  isRetryableStatus,
  mapStatus,
  networkFailure,
  parseForm,
  postJson,
  queryOf,
  quote,
  requireField,
  requireOption,
  sha256Hex,
  webhookPhone,
} from './shared.js';
import type { ChannelAdapter, ParsedStatus, SendResult, WebhookRequest } from './types.js';

const NAME = 'messagebird';

/** Options for {@link messagebirdChannel}. */
export interface MessagebirdChannelOptions {
  /** Signing key from the dashboard (Developers → API access → Signing key). */
  signingKey: string;
  /** Live access key for sending. */
  accessKey: string;
  /** Sender: a number (E.164) or an alphanumeric originator (≤ 11 chars). */
  originator: string;
  /** API base URL. @default 'https://rest.messagebird.com' */
  baseUrl?: string;
  /** Seconds of clock skew tolerated on the JWT `nbf`/`exp` (the SDK's default). @default 5 */
  clockToleranceSeconds?: number;
  /** Injected `fetch`. @default globalThis.fetch */
  fetch?: FetchLike;
  /** Time budget of one API call. @default 10000 */
  timeoutMs?: number;
  /** Country for national-format numbers in webhooks. */
  defaultCountry?: CountryCode;
}

// MessageBird status → ours (types/messages.d.ts).
const STATUS_MAP: Readonly<Record<string, ParsedStatus['status']>> = {
  scheduled: 'queued',
  sent: 'sent',
  buffered: 'sent',
  delivered: 'delivered',
  expired: 'undelivered',
  delivery_failed: 'failed',
};

/**
 * Verifies a `MessageBird-Signature-JWT` header value over the exact URL and raw body, with the rules of
 * messagebird-nodejs `webhook-signature-jwt.js`: HS256/384/512, `iss` = `MessageBird`, `nbf`/`exp` with
 * tolerance, `jti` present, `url_hash` = hex SHA-256 of the URL, and `payload_hash` = hex SHA-256 of the
 * body — required when the body is non-empty, checked whenever present. Pure; never throws.
 *
 * @returns `{ ok: true }` or `{ ok: false, reason }`.
 * @example
 * verifyMessagebirdJwt(token, 'https://example.com/path?bar=1&foo=2', 'Hello, World!', key, new Date());
 */
export function verifyMessagebirdJwt(
  token: string,
  url: string,
  body: string,
  signingKey: string,
  now: Date,
  clockToleranceSeconds = 5,
): { ok: true } | { ok: false; reason: string } {
  const result = verifyJwt(token, {
    secret: signingKey,
    algorithms: ['HS256', 'HS384', 'HS512'],
    now,
    clockToleranceSeconds,
    issuer: 'MessageBird',
    // `exp` is required on top of the SDK's rules: a token without it would be valid forever.
    requiredClaims: ['jti', 'url_hash', 'exp'],
  });
  if (!result.ok) return result;
  if (!hexDigestEquals(result.claims.url_hash, sha256Hex(String(url)))) {
    return { ok: false, reason: 'url_hash does not match the URL' };
  }
  const hasBody = typeof body === 'string' && body.length > 0;
  if ('payload_hash' in result.claims) {
    if (!hexDigestEquals(result.claims.payload_hash, sha256Hex(hasBody ? body : ''))) {
      return { ok: false, reason: 'payload_hash does not match the body' };
    }
  } else if (hasBody) {
    return { ok: false, reason: 'body is present but payload_hash is not' };
  }
  return { ok: true };
}

/** Webhook params: the query string, with a JSON or form body merged over it. Never throws. */
function paramsOf(request: WebhookRequest): Record<string, unknown> {
  const out: Record<string, unknown> = Object.assign(Object.create(null), parseForm(queryOf(request.url)));
  const body = typeof request.body === 'string' ? request.body.trim() : '';
  if (body.length === 0) return out;
  if (body.startsWith('{')) {
    try {
      const json: unknown = JSON.parse(body);
      if (isRecord(json)) return Object.assign(out, json);
    } catch {
      // Fall through: treat as a form body.
    }
  }
  return Object.assign(out, parseForm(body));
}

/** First string (or number, as string) among `fields`, else `undefined`. */
function pick(params: Record<string, unknown>, ...fields: string[]): string | undefined {
  for (const f of fields) {
    const v = params[f];
    if (typeof v === 'string' && v.length > 0) return v;
    // MessageBird JSON sends msisdns as numbers (`recipient: 31612345678`).
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  }
  return undefined;
}

function isoOrUndefined(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/**
 * Creates the MessageBird (legacy REST API) channel adapter.
 *
 * @param options - Signing key, access key and originator; see {@link MessagebirdChannelOptions}.
 * @returns A {@link ChannelAdapter} named `messagebird`.
 * @example
 * const mb = messagebirdChannel({
 *   signingKey: process.env.MESSAGEBIRD_SIGNING_KEY!, accessKey: process.env.MESSAGEBIRD_ACCESS_KEY!,
 *   originator: '+31612345678',
 * });
 */
export function messagebirdChannel(options: MessagebirdChannelOptions): ChannelAdapter {
  const signingKey = requireOption(NAME, options?.signingKey, 'signingKey');
  const accessKey = requireOption(NAME, options.accessKey, 'accessKey');
  const originator = requireOption(NAME, options.originator, 'originator');
  const tolerance = options.clockToleranceSeconds ?? 5;
  const baseUrl = (options.baseUrl ?? 'https://rest.messagebird.com').replace(/\/+$/, '');
  const country = options.defaultCountry;

  return {
    name: NAME,
    capabilities: { syncReply: false },

    verify(request, now) {
      const token = header(request.headers, 'messagebird-signature-jwt');
      if (!token) return { ok: false, reason: 'missing MessageBird-Signature-JWT header' };
      return verifyMessagebirdJwt(token.trim(), request.url, request.body, signingKey, now, tolerance);
    },

    parseInbound(request, now) {
      const params = paramsOf(request);
      const id = requireField(NAME, { id: pick(params, 'id', 'message_id', 'mid') }, 'id');
      const sender = requireField(NAME, { originator: pick(params, 'originator', 'sender') }, 'originator');
      const to = requireField(NAME, { recipient: pick(params, 'recipient', 'receiver') }, 'recipient');
      const message: InboundMessage = {
        id,
        from: webhookPhone(NAME, sender, 'originator', country),
        to: webhookPhone(NAME, to, 'recipient', country),
        text: clipInboundText(pick(params, 'body', 'payload', 'message') ?? ''),
        receivedAt: isoOrUndefined(pick(params, 'createdDatetime', 'receivedDatetime')) ?? now.toISOString(),
        channel: 'sms',
        provider: NAME,
        media: [],
      };
      return { kind: 'message', message };
    },

    parseStatus(request) {
      const params = paramsOf(request);
      const providerMessageId = requireField(NAME, { id: pick(params, 'id') }, 'id');
      const providerStatus = requireField(NAME, { status: pick(params, 'status') }, 'status');
      const result: ParsedStatus = {
        providerMessageId,
        status: mapStatus(NAME, providerStatus, STATUS_MAP),
        providerStatus,
      };
      const errorCode = pick(params, 'statusErrorCode');
      if (errorCode && errorCode !== '0') result.errorCode = errorCode.slice(0, 64);
      const at = isoOrUndefined(pick(params, 'statusDatetime'));
      if (at) result.at = at;
      return result;
    },

    async send(request): Promise<SendResult> {
      const payload: Record<string, unknown> = {
        originator: request.from ?? originator,
        recipients: [request.to.replace(/^\+/, '')],
        body: request.text,
        // Status reports are only sent when `reference` is set (sms-facts §1.5).
        reference: request.id,
      };
      if (request.statusCallbackUrl) payload.reportUrl = request.statusCallbackUrl;
      const out = await postJson(
        options.fetch,
        `${baseUrl}/messages`,
        payload,
        { authorization: `AccessKey ${accessKey}` },
        options.timeoutMs,
      );
      if (out.kind === 'network') return networkFailure(NAME, out);
      const json = isRecord(out.json) ? out.json : {};
      if (out.status >= 200 && out.status < 300 && typeof json.id === 'string') {
        return { ok: true, providerMessageId: json.id, status: 'queued' };
      }
      const first = Array.isArray(json.errors) && isRecord(json.errors[0]) ? json.errors[0] : {};
      const code = first.code;
      return {
        ok: false,
        errorCode: typeof code === 'number' || typeof code === 'string' ? String(code) : `http_${out.status}`,
        message: `[${NAME}] Send failed with HTTP ${out.status} ${quote(first.description ?? '')}`,
        retryable: isRetryableStatus(out.status),
      };
    },

    webhookResponse() {
      return { status: 200, contentType: 'text/plain', body: 'OK' };
    },
  };
}
