/**
 * Twilio Programmable Messaging channel: SMS, MMS and WhatsApp (`whatsapp:` addresses) through one adapter.
 * Signature checking follows twilio-node `src/webhooks/webhooks.ts` (facts §1.1); the code is our own.
 */
import { parse as parseQuery, stringify as stringifyQuery } from 'node:querystring';
import type { CountryCode } from '../../core/phone.js';
import { type InboundMessage, isoStringOf, safeParseInboundMessage } from '../../core/types.js';
import type { OutboxStatus } from '../storage/types.js';
import { createHmacSha1, type HmacSha1 } from './hmac-sha1.js';
import {
  adapterError,
  basicAuth,
  clipInboundText,
  escapeXml,
  type FetchLike,
  fetchWithTimeout,
  header,
  isRecord,
  isRetryableStatus,
  type MultiParams,
  mapStatus,
  networkFailure,
  parseFormMulti,
  queryOf,
  quote,
  requestParams,
  requireField,
  requireOption,
  safeEqual,
  sha256Hex,
  verifySafely,
  webhookPhone,
} from './shared.js';
import type {
  ChannelAdapter,
  ParsedInbound,
  ParsedStatus,
  SendRequest,
  SendResult,
  WebhookRequest,
} from './types.js';

const NAME = 'twilio';
const WHATSAPP_PREFIX = /^whatsapp:/i;
/** Twilio error: the recipient replied STOP; sends fail until they reply START (facts §2). */
const OPTED_OUT_CODE = '21610';
/** Twilio error: WhatsApp free-form message outside the 24-hour customer service window (facts §1.1). */
const WHATSAPP_WINDOW_CODE = '63016';
const WHATSAPP_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Options for {@link twilioChannel}. */
export interface TwilioChannelOptions {
  /** Auth token: signs webhooks and, with `accountSid`, authenticates sends. */
  authToken: string;
  /** Account SID (`AC…`); required to send. */
  accountSid?: string;
  /** Default sender (E.164, or `whatsapp:+E164`); a send's own `from` wins. */
  from?: string;
  /** Messaging Service SID (`MG…`), used when no `from` is known; Twilio picks the sender. */
  messagingServiceSid?: string;
  /** REST API origin. @default 'https://api.twilio.com' */
  baseUrl?: string;
  /** Injectable `fetch`. @default globalThis.fetch */
  fetch?: FetchLike;
  /** Time budget for one API call. @default 10000 */
  timeoutMs?: number;
  /** Country for national-format numbers in webhooks. Twilio sends E.164, so rarely needed. */
  defaultCountry?: CountryCode;
}

// Twilio MessageStatus → ours. `sending` means Twilio is still handing the message to the carrier, so it is
// 'queued' (accepted, not yet sent); our own 'sending' means "claimed by a dispatcher" and must not be reused.
const STATUS_MAP: Readonly<Record<string, OutboxStatus>> = {
  accepted: 'queued',
  scheduled: 'queued',
  queued: 'queued',
  sending: 'queued',
  sent: 'sent',
  // Some recipients of a multi-part/group message got it: Twilio does not say all did, so not 'delivered'.
  partially_delivered: 'sent',
  delivered: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
  read: 'read',
  canceled: 'cancelled',
};

/**
 * True when a free-form WhatsApp message may still be sent: less than 24 hours since the user's last inbound
 * message (WhatsApp customer service window). Outside it only an approved template (Twilio `ContentSid`) may
 * be sent, and Twilio answers a free-form send with error 63016. Pure. An unparseable time gives false.
 *
 * @param lastInboundAt - ISO time of the contact's last inbound WhatsApp message
 * @param now - the current time
 * @example
 * isWithinWhatsAppWindow('2025-01-01T10:00:00Z', new Date('2025-01-02T09:59:59Z')) // true
 */
export function isWithinWhatsAppWindow(lastInboundAt: string, now: Date): boolean {
  const last = Date.parse(lastInboundAt);
  const current = now.getTime();
  if (Number.isNaN(last) || Number.isNaN(current)) return false;
  const elapsed = current - last;
  return elapsed >= 0 && elapsed < WHATSAPP_WINDOW_MS;
}

/**
 * Computes `X-Twilio-Signature` for a URL and its POST parameters: Base64(HMAC-SHA1(token, url + sorted
 * `key+value` pairs)). Repeated keys are de-duplicated and sorted (twilio-node `toFormUrlEncodedParam`). Pure.
 *
 * @example
 * twilioSignature('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', { Digits: ['1234'] })
 */
export function twilioSignature(authToken: string, url: string, params: Readonly<MultiParams>): string {
  let data = url;
  for (const key of Object.keys(params).sort()) {
    const values = params[key]!;
    if (values.length === 1) data += key + values[0];
    else for (const value of [...new Set(values)].sort()) data += key + value;
  }
  return signerFor(authToken).base64(data);
}

/** Signers by auth token: a process holds one token, or two while rotating. */
const signers = new Map<string, HmacSha1>();

function signerFor(authToken: string): HmacSha1 {
  let signer = signers.get(authToken);
  if (!signer) {
    if (signers.size >= 16) signers.clear(); // bounded, for a host that signs with many accounts' tokens
    signer = createHmacSha1(authToken);
    signers.set(authToken, signer);
  }
  return signer;
}

/** Scheme, authority split as twilio-node does, without normalising the rest of the URL. */
function splitUrl(
  url: string,
): { scheme: string; userInfo: string; host: string; port: string; rest: string } | null {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (!match) return null;
  const [prefix, scheme = '', authority = ''] = match;
  const userInfoEnd = authority.lastIndexOf('@');
  const hostAndPort = authority.slice(userInfoEnd + 1);
  // A colon starts the port only after the closing bracket of an IPv6 literal.
  const portStart = hostAndPort.indexOf(':', hostAndPort.lastIndexOf(']') + 1);
  return {
    scheme,
    userInfo: authority.slice(0, userInfoEnd + 1),
    host: portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart),
    port: portStart === -1 ? '' : hostAndPort.slice(portStart),
    rest: url.slice(prefix.length),
  };
}

function withoutPort(url: string): string {
  const p = splitUrl(url);
  return p ? p.scheme + p.userInfo + p.host + p.rest : url;
}

function withDefaultPort(url: string): string {
  const p = splitUrl(url);
  if (!p || p.port) return url;
  return p.scheme + p.userInfo + p.host + (p.scheme.toLowerCase() === 'https://' ? ':443' : ':80') + p.rest;
}

// Some back ends signed the query as Node's legacy `querystring` encodes it (`'` → `%27`): twilio-node
// accepts that form too.
function withLegacyQuery(url: string): string {
  const at = url.indexOf('?');
  if (at === -1 || at === url.length - 1) return url;
  return `${url.slice(0, at)}?${stringifyQuery(parseQuery(url.slice(at + 1)))}`;
}

let lastCandidate: { url: string; first: string } | null = null;

/**
 * Every URL form Twilio may have signed: as received with the port stripped or the default port added, then
 * the WHATWG-normalised URL in the same two forms, each also with the legacy-encoded query (facts §1.1 step 3).
 */
function* urlCandidates(url: string): Generator<string> {
  // Lazily, most likely first: a genuine request almost always matches the URL as configured, which is the
  // same text on every webhook of a route, so its first form is remembered.
  if (lastCandidate?.url !== url) lastCandidate = { url, first: withoutPort(url) };
  const first = lastCandidate.first;
  yield first;
  const seen = new Set<string>([first]);
  const fresh = (u: string) => {
    if (seen.has(u)) return false;
    seen.add(u);
    return true;
  };
  const withPort = withDefaultPort(url);
  if (fresh(withPort)) yield withPort;
  if (!URL.canParse(url)) return;
  const normalized = new URL(url).toString();
  for (const u of [withoutPort(normalized), withDefaultPort(normalized)]) {
    if (fresh(u)) yield u;
    const legacy = withLegacyQuery(u);
    if (fresh(legacy)) yield legacy;
  }
}

function verifyTwilio(
  authToken: string,
  request: WebhookRequest,
): { ok: true } | { ok: false; reason: string } {
  const signature = header(request.headers, 'x-twilio-signature');
  if (!signature) return { ok: false, reason: 'missing X-Twilio-Signature header' };
  const query = queryOf(request.url);
  const bodyHash = query === '' ? null : new URLSearchParams(query).get('bodySHA256');
  // JSON bodies: Twilio signs the URL alone and puts the body's SHA-256 in the query (facts §1.1 step 4).
  // GET: the parameters are already in the signed URL.
  const params: Readonly<MultiParams> =
    bodyHash !== null || request.method.toUpperCase() === 'GET' ? {} : parseFormMulti(request.body);
  let matched = false;
  // Stops at the first form that matches: which form Twilio signed is no secret (the URL is public), and a
  // forged request still costs every form. Each comparison itself is constant-time.
  for (const candidate of urlCandidates(request.url)) {
    if (safeEqual(signature, twilioSignature(authToken, candidate, params))) {
      matched = true;
      break;
    }
  }
  if (!matched) return { ok: false, reason: 'X-Twilio-Signature does not match the URL and parameters' };
  if (bodyHash !== null && !safeEqual(bodyHash.toLowerCase(), sha256Hex(Buffer.from(request.body, 'utf8')))) {
    return { ok: false, reason: 'bodySHA256 does not match the request body' };
  }
  return { ok: true };
}

function stripWhatsApp(address: string): string {
  return address.replace(WHATSAPP_PREFIX, '');
}

function receivedAt(now: Date): string {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_CONFIG',
      `parseInbound needs a valid Date as now, got ${quote(now)}.`,
    );
  }
  return isoStringOf(now.getTime());
}

function parseTwilioInbound(
  options: TwilioChannelOptions,
  request: WebhookRequest,
  now: Date,
): ParsedInbound {
  const params = requestParams(request);
  const status = params.MessageStatus;
  // A delivery callback posted to the inbound route carries MessageStatus; inbound messages do not.
  if (status !== undefined && status !== 'received' && status !== 'receiving') {
    return {
      kind: 'ignored',
      reason: `status callback (MessageStatus ${quote(status)}) on the inbound route`,
    };
  }
  const id = requireField(NAME, params, 'MessageSid');
  const fromRaw = requireField(NAME, params, 'From');
  const toRaw = requireField(NAME, params, 'To');
  const channel = WHATSAPP_PREFIX.test(fromRaw) ? 'whatsapp' : 'sms';
  const media: { url: string; contentType?: string }[] = [];
  // MediaUrl{N} counts from 0 (facts §1.1); the schema caps media at 20.
  for (let n = 0; n < 20 && params[`MediaUrl${n}`]; n++) {
    const contentType = params[`MediaContentType${n}`];
    media.push({ url: params[`MediaUrl${n}`] as string, ...(contentType ? { contentType } : {}) });
  }
  const candidate = {
    id,
    from: webhookPhone(NAME, stripWhatsApp(fromRaw), 'From', options.defaultCountry),
    to: webhookPhone(NAME, stripWhatsApp(toRaw), 'To', options.defaultCountry),
    text: clipInboundText(params.Body ?? ''),
    receivedAt: receivedAt(now),
    channel,
    provider: NAME,
    media,
  };
  const parsed = safeParseInboundMessage(candidate);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_WEBHOOK',
      `The inbound webhook does not form a valid message (${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}).`,
    );
  }
  return { kind: 'message', message: parsed.data };
}

function parseTwilioStatus(request: WebhookRequest): ParsedStatus {
  const params = requestParams(request);
  const providerMessageId = requireField(NAME, params, 'MessageSid');
  const providerStatus = requireField(NAME, params, 'MessageStatus');
  const status = mapStatus(NAME, providerStatus, STATUS_MAP);
  const errorCode = params.ErrorCode;
  return { providerMessageId, status, providerStatus, ...(errorCode ? { errorCode } : {}) };
}

function failureFrom(status: number, json: unknown): SendResult {
  const body = isRecord(json) ? json : {};
  const code = body.code !== undefined && body.code !== null ? String(body.code) : String(status);
  const detail = typeof body.message === 'string' ? body.message.slice(0, 300) : `HTTP ${status}`;
  if (code === OPTED_OUT_CODE) {
    return { ok: false, errorCode: code, message: `[twilio] ${detail}`, retryable: false, optedOut: true };
  }
  if (code === WHATSAPP_WINDOW_CODE) {
    return {
      ok: false,
      errorCode: code,
      message: `[twilio] ${detail}. WhatsApp allows free-form messages only within 24 hours of the user's last message; outside it send an approved template (ContentSid).`,
      retryable: false,
    };
  }
  // Twilio's 20429 is its own "too many requests" code.
  return {
    ok: false,
    errorCode: code,
    message: `[twilio] ${detail}`,
    retryable: isRetryableStatus(status) || code === '20429',
  };
}

async function sendTwilio(options: TwilioChannelOptions, request: SendRequest): Promise<SendResult> {
  const accountSid = requireOption(NAME, options.accountSid, 'accountSid');
  if (request.channel !== 'sms' && request.channel !== 'whatsapp') {
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_CONFIG',
      `Cannot send on channel ${quote(request.channel)}; the twilio adapter sends 'sms' and 'whatsapp'.`,
    );
  }
  const whatsapp = request.channel === 'whatsapp';
  const address = (n: string) => (whatsapp ? `whatsapp:${stripWhatsApp(n)}` : stripWhatsApp(n));
  const form = new URLSearchParams({ To: address(request.to) });
  const from = request.from ?? options.from;
  if (from) form.set('From', address(from));
  else if (options.messagingServiceSid) form.set('MessagingServiceSid', options.messagingServiceSid);
  else {
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_CONFIG',
      'No sender: set twilioChannel({ from }) or ({ messagingServiceSid }), or pass from on the send.',
    );
  }
  form.set('Body', request.text);
  for (const url of request.mediaUrls ?? []) form.append('MediaUrl', url);
  if (request.statusCallbackUrl) form.set('StatusCallback', request.statusCallbackUrl);
  const base = (options.baseUrl ?? 'https://api.twilio.com').replace(/\/+$/, '');
  const outcome = await fetchWithTimeout(
    options.fetch,
    `${base}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`,
    {
      method: 'POST',
      headers: {
        authorization: basicAuth(accountSid, options.authToken),
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
    },
    options.timeoutMs,
  );
  if (outcome.kind === 'network') return networkFailure(NAME, outcome);
  if (outcome.status < 200 || outcome.status >= 300) return failureFrom(outcome.status, outcome.json);
  const body = isRecord(outcome.json) ? outcome.json : {};
  if (typeof body.sid !== 'string' || body.sid.length === 0) {
    // Accepted but unreadable: not retryable, since a retry could send the message twice.
    return {
      ok: false,
      errorCode: 'invalid_response',
      message: `[twilio] HTTP ${outcome.status} without a message sid: ${quote(outcome.text)}`,
      retryable: false,
    };
  }
  const raw = typeof body.status === 'string' ? body.status.toLowerCase() : 'queued';
  return { ok: true, providerMessageId: body.sid, status: STATUS_MAP[raw] ?? 'queued' };
}

/**
 * TwiML for a webhook answer: one `<Message>` per text, or `<Response/>` for no reply. Pure.
 *
 * @example
 * twimlResponse(['Hi & welcome']) // '<?xml …?><Response><Message>Hi &amp; welcome</Message></Response>'
 */
export function twimlResponse(texts: readonly string[]): string {
  const messages = texts.filter((t) => t.length > 0).map((t) => `<Message>${escapeXml(t)}</Message>`);
  const inner = messages.length === 0 ? '<Response/>' : `<Response>${messages.join('')}</Response>`;
  return `<?xml version="1.0" encoding="UTF-8"?>${inner}`;
}

/**
 * Creates the Twilio channel adapter (SMS, MMS, WhatsApp). Verification and parsing are pure; `send` calls
 * the Messages API.
 *
 * @param options - see {@link TwilioChannelOptions}; `authToken` is required
 * @returns a {@link ChannelAdapter} named `twilio`
 * @example
 * const twilio = twilioChannel({ authToken: process.env.TWILIO_AUTH_TOKEN!, accountSid: 'AC…', from: '+15005550006' });
 * if (!twilio.verify(request, new Date()).ok) return new Response('forbidden', { status: 403 });
 */
export function twilioChannel(options: TwilioChannelOptions): ChannelAdapter {
  const authToken = requireOption(NAME, options?.authToken, 'authToken');
  const config = { ...options, authToken };
  return {
    name: NAME,
    capabilities: { syncReply: true },
    verify: (request) => verifySafely(() => verifyTwilio(authToken, request)),
    parseInbound: (request, now) => parseTwilioInbound(config, request, now),
    parseStatus: (request) => parseTwilioStatus(request),
    send: (request) => sendTwilio(config, request),
    webhookResponse: (texts: string[], _message?: InboundMessage) => ({
      status: 200,
      contentType: 'text/xml',
      body: twimlResponse(texts),
    }),
  };
}
