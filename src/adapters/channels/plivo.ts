/**
 * Plivo SMS/MMS channel. Signatures: V3 (`X-Plivo-Signature-V3`, preferred) and V2 (`X-Plivo-Signature-V2`,
 * `X-Plivo-Signature-Ma-V2`), following plivo-node `lib/utils/v3Security.js` and `lib/utils/security.js`
 * (facts §1.4); the code is our own.
 */
import type { CountryCode } from '../../core/phone.js';
import { type InboundMessage, isoStringOf, safeParseInboundMessage } from '../../core/types.js';
import type { OutboxStatus } from '../storage/types.js';
import {
  adapterError,
  anySignatureMatches,
  basicAuth,
  clipInboundText,
  escapeXml,
  type FetchLike,
  header,
  hmacBase64,
  isRecord,
  isRetryableStatus,
  type MultiParams,
  mapStatus,
  networkFailure,
  parseFormMulti,
  postJson,
  quote,
  requestParams,
  requireField,
  requireOption,
  safeEqual,
  verifySafely,
  webhookPhone,
} from './shared.js';
import type {
  ChannelAdapter,
  ParsedInbound,
  ParsedStatus,
  SendRequest,
  SendResult,
  VerifyResult,
  WebhookRequest,
} from './types.js';

const NAME = 'plivo';

/** Options for {@link plivoChannel}. */
export interface PlivoChannelOptions {
  /** Auth ID (`MA…`/`SA…`): the account in the API path and the Basic auth user. */
  authId: string;
  /** Auth token: signs webhooks and authenticates sends. */
  authToken: string;
  /** Default sender number (E.164) or alphanumeric sender ID; a send's own `from` wins. */
  from?: string;
  /** REST API origin. @default 'https://api.plivo.com' */
  baseUrl?: string;
  /** Injectable `fetch`. @default globalThis.fetch */
  fetch?: FetchLike;
  /** Time budget for one API call; Plivo itself waits 8 s for webhook answers. @default 10000 */
  timeoutMs?: number;
  /** Country for national-format numbers in webhooks (Plivo sends digits without `+`). */
  defaultCountry?: CountryCode;
}

// Plivo Status → ours (facts §1.4). Older docs list `rejected`: a refusal before sending, so 'failed'.
const STATUS_MAP: Readonly<Record<string, OutboxStatus>> = {
  queued: 'queued',
  sent: 'sent',
  delivered: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
  rejected: 'failed',
  read: 'read',
};

/** `scheme://host[:port]/path` of a URL, as plivo-node builds it (no user info, query or fragment). */
function baseOf(url: string): string | null {
  const match = /^([a-z][a-z0-9+.-]*):\/\/(?:[^/?#@]*@)?([^/?#]*)([^?#]*)/i.exec(url);
  if (!match) return null;
  const [, scheme, hostPort, path] = match;
  return `${scheme}://${hostPort}${path}`;
}

/** `k=v&…` sorted by key, values sorted per key; values stay decoded, as plivo-node joins them. */
function sortedQuery(params: MultiParams): string {
  const parts: string[] = [];
  for (const key of Object.keys(params).sort()) {
    for (const value of [...(params[key] ?? [])].sort()) parts.push(`${key}=${value}`);
  }
  return parts.join('&');
}

/** `keyvalue…` sorted by key, values sorted per key. */
function sortedPairs(params: MultiParams): string {
  let out = '';
  for (const key of Object.keys(params).sort()) {
    for (const value of [...(params[key] ?? [])].sort()) out += key + value;
  }
  return out;
}

/**
 * The string Plivo V3 signs (without the trailing `.nonce`). POST: base URL, then `?` + sorted query and `.`
 * when the query is non-empty, then the sorted body params as `keyvalue`; GET: base URL + `?` + sorted query.
 * Pure; null when the URL has no scheme.
 *
 * @example
 * plivoV3Payload('POST', 'https://example.com/plivo/sms?b=2&a=1', { Text: ['Hello'] })
 * // 'https://example.com/plivo/sms?a=1&b=2.TextHello'
 */
export function plivoV3Payload(method: string, url: string, bodyParams: MultiParams): string | null {
  const base = baseOf(url);
  if (base === null) return null;
  const queryStart = url.split('#', 1)[0]?.indexOf('?') ?? -1;
  const query = sortedQuery(
    queryStart === -1 ? {} : parseFormMulti(url.split('#', 1)[0]?.slice(queryStart + 1) ?? ''),
  );
  if (method.toUpperCase() === 'GET') return query.length > 0 ? `${base}?${query}` : base;
  const hasBody = Object.keys(bodyParams).length > 0;
  // plivo-node construct_get_url: `?` when there is a query or a body; `.` only when there are both.
  let out = base;
  if (query.length > 0 || hasBody) out += `?${query}`;
  if (query.length > 0 && hasBody) out += '.';
  return out + sortedPairs(bodyParams);
}

/**
 * Computes a Plivo signature: Base64(HMAC-SHA256(token, payload + separator + nonce)); V3 uses `.` as the
 * separator, V2 none. Pure.
 *
 * @example
 * plivoSignature('my_auth_token', 'https://answer.url', '12345', 'v2') // 'ehV3IKhL…FsXc='
 */
export function plivoSignature(
  authToken: string,
  payload: string,
  nonce: string,
  version: 'v2' | 'v3',
): string {
  return hmacBase64(
    'sha256',
    authToken,
    Buffer.from(`${payload}${version === 'v3' ? '.' : ''}${nonce}`, 'utf8'),
  );
}

function verifyPlivo(authToken: string, request: WebhookRequest): VerifyResult {
  const v3 = header(request.headers, 'x-plivo-signature-v3');
  if (v3) {
    // V3 covers the query and body, so it decides alone when present (no fallback to the weaker V2).
    const nonce = header(request.headers, 'x-plivo-signature-v3-nonce');
    if (!nonce) return { ok: false, reason: 'X-Plivo-Signature-V3 without X-Plivo-Signature-V3-Nonce' };
    const params = request.method.toUpperCase() === 'GET' ? {} : parseFormMulti(request.body);
    const payload = plivoV3Payload(request.method, request.url, params);
    if (payload === null) return { ok: false, reason: 'request URL has no scheme' };
    return anySignatureMatches(v3, plivoSignature(authToken, payload, nonce, 'v3'))
      ? { ok: true }
      : { ok: false, reason: 'X-Plivo-Signature-V3 does not match' };
  }
  const v2 = header(request.headers, 'x-plivo-signature-v2');
  const ma = header(request.headers, 'x-plivo-signature-ma-v2');
  if (!v2 && !ma)
    return { ok: false, reason: 'missing X-Plivo-Signature-V3 and X-Plivo-Signature-V2 headers' };
  const nonce = header(request.headers, 'x-plivo-signature-v2-nonce');
  if (!nonce) return { ok: false, reason: 'X-Plivo-Signature-V2 without X-Plivo-Signature-V2-Nonce' };
  const base = baseOf(request.url);
  if (base === null) return { ok: false, reason: 'request URL has no scheme' };
  // V2 signs only the URL without its query, plus the nonce: the body is not covered (documented limit).
  const expected = plivoSignature(authToken, base, nonce, 'v2');
  const v2ok = v2 !== undefined && safeEqual(v2, expected);
  const maOk = ma !== undefined && safeEqual(ma, expected);
  return v2ok || maOk ? { ok: true } : { ok: false, reason: 'X-Plivo-Signature-V2 does not match' };
}

function parsePlivoInbound(options: PlivoChannelOptions, request: WebhookRequest, now: Date): ParsedInbound {
  const params = requestParams(request);
  // Delivery reports carry Status; inbound messages do not.
  if (params.Status !== undefined) {
    return {
      kind: 'ignored',
      reason: `status callback (Status ${quote(params.Status)}) on the inbound route`,
    };
  }
  const id = requireField(NAME, params, 'MessageUUID');
  const from = webhookPhone(NAME, requireField(NAME, params, 'From'), 'From', options.defaultCountry);
  const to = webhookPhone(NAME, requireField(NAME, params, 'To'), 'To', options.defaultCountry);
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_CONFIG',
      `parseInbound needs a valid Date as now, got ${quote(now)}.`,
    );
  }
  const media: { url: string }[] = [];
  // Media1..N counts from 1 (facts §1.4); the schema caps media at 20.
  for (let n = 1; n <= 20 && params[`Media${n}`]; n++) media.push({ url: params[`Media${n}`] as string });
  const parsed = safeParseInboundMessage({
    id,
    from,
    to,
    // SMS text is `Text`; MMS carries it in `Body`.
    text: clipInboundText(params.Text ?? params.Body ?? ''),
    receivedAt: isoStringOf(now.getTime()),
    channel: params.Type?.toLowerCase() === 'whatsapp' ? 'whatsapp' : 'sms',
    provider: NAME,
    media,
  });
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_WEBHOOK',
      `The inbound webhook does not form a valid message (${detail}).`,
    );
  }
  return { kind: 'message', message: parsed.data };
}

function parsePlivoStatus(request: WebhookRequest): ParsedStatus {
  const params = requestParams(request);
  const providerMessageId = requireField(NAME, params, 'MessageUUID');
  const providerStatus = requireField(NAME, params, 'Status');
  const status = mapStatus(NAME, providerStatus, STATUS_MAP);
  const sequence =
    params.Sequence !== undefined && /^[0-9]{1,15}$/.test(params.Sequence)
      ? Number(params.Sequence)
      : undefined;
  // Plivo sends ErrorCode only for failed/undelivered; an empty value means none.
  const errorCode = params.ErrorCode ? params.ErrorCode : undefined;
  return {
    providerMessageId,
    status,
    providerStatus,
    ...(errorCode !== undefined ? { errorCode } : {}),
    ...(sequence !== undefined ? { sequence } : {}),
  };
}

async function sendPlivo(
  options: PlivoChannelOptions,
  authId: string,
  request: SendRequest,
): Promise<SendResult> {
  if (request.channel !== 'sms') {
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_CONFIG',
      `Cannot send on channel ${quote(request.channel)}; the plivo adapter sends 'sms' (and MMS with mediaUrls).`,
    );
  }
  const src = request.from ?? options.from;
  if (!src) {
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_CONFIG',
      'No sender: set plivoChannel({ from }) or pass from on the send.',
    );
  }
  const payload: Record<string, unknown> = { src, dst: request.to, text: request.text };
  if (request.statusCallbackUrl) Object.assign(payload, { url: request.statusCallbackUrl, method: 'POST' });
  if (request.mediaUrls && request.mediaUrls.length > 0)
    Object.assign(payload, { type: 'mms', media_urls: request.mediaUrls });
  const base = (options.baseUrl ?? 'https://api.plivo.com').replace(/\/+$/, '');
  const outcome = await postJson(
    options.fetch,
    `${base}/v1/Account/${encodeURIComponent(authId)}/Message/`,
    payload,
    { authorization: basicAuth(authId, options.authToken) },
    options.timeoutMs,
  );
  if (outcome.kind === 'network') return networkFailure(NAME, outcome);
  const body = isRecord(outcome.json) ? outcome.json : {};
  if (outcome.status < 200 || outcome.status >= 300) {
    // Plivo errors are `{ api_id, error }` with a text error; the HTTP status is the only stable code.
    const detail =
      typeof body.error === 'string' ? body.error : isRecord(body.error) ? JSON.stringify(body.error) : '';
    return {
      ok: false,
      errorCode: String(outcome.status),
      message: `[plivo] HTTP ${outcome.status}${detail ? `: ${detail.slice(0, 300)}` : ''}`,
      retryable: isRetryableStatus(outcome.status),
    };
  }
  const uuids = body.message_uuid;
  const first = Array.isArray(uuids) ? uuids[0] : undefined;
  if (typeof first !== 'string' || first.length === 0) {
    // Accepted but unreadable: not retryable, since a retry could send the message twice.
    return {
      ok: false,
      errorCode: 'invalid_response',
      message: `[plivo] HTTP ${outcome.status} without message_uuid: ${quote(outcome.text)}`,
      retryable: false,
    };
  }
  return { ok: true, providerMessageId: first, status: 'queued' };
}

/**
 * Plivo XML for a webhook answer: one `<Message src dst>` per text, replying from the number the user wrote
 * to; `<Response/>` for no reply. Pure. Plivo numbers are written without `+`, as Plivo sends them.
 *
 * @example
 * plivoXmlResponse(['Hi'], { from: '+14155550100', to: '+14155550199' })
 * // '<?xml …?><Response><Message src="14155550199" dst="14155550100">Hi</Message></Response>'
 */
export function plivoXmlResponse(
  texts: readonly string[],
  message?: Pick<InboundMessage, 'from' | 'to'>,
): string {
  const replies = texts.filter((t) => t.length > 0);
  const head = '<?xml version="1.0" encoding="UTF-8"?>';
  if (replies.length === 0) return `${head}<Response/>`;
  if (!message) {
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_CONFIG',
      'webhookResponse needs the inbound message to address Plivo XML replies (src/dst); pass it as the second argument.',
    );
  }
  const src = escapeXml(message.to.replace(/^\+/, ''));
  const dst = escapeXml(message.from.replace(/^\+/, ''));
  const body = replies.map((t) => `<Message src="${src}" dst="${dst}">${escapeXml(t)}</Message>`).join('');
  return `${head}<Response>${body}</Response>`;
}

/**
 * Creates the Plivo channel adapter (SMS, MMS). Verification and parsing are pure; `send` calls the Message API.
 *
 * @param options - see {@link PlivoChannelOptions}; `authId` and `authToken` are required
 * @returns a {@link ChannelAdapter} named `plivo`
 * @example
 * const plivo = plivoChannel({ authId: process.env.PLIVO_AUTH_ID!, authToken: process.env.PLIVO_AUTH_TOKEN!, from: '+14155550199' });
 */
export function plivoChannel(options: PlivoChannelOptions): ChannelAdapter {
  const authId = requireOption(NAME, options?.authId, 'authId');
  const authToken = requireOption(NAME, options?.authToken, 'authToken');
  const config = { ...options, authToken };
  return {
    name: NAME,
    capabilities: { syncReply: true },
    verify: (request) => verifySafely(() => verifyPlivo(authToken, request)),
    parseInbound: (request, now) => parsePlivoInbound(config, request, now),
    parseStatus: (request) => parsePlivoStatus(request),
    send: (request) => sendPlivo(config, authId, request),
    webhookResponse: (texts, message) => ({
      status: 200,
      contentType: 'application/xml',
      body: plivoXmlResponse(texts, message),
    }),
  };
}
