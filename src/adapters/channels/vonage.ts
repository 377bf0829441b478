/**
 * Vonage SMS API (the legacy `rest.nexmo.com` API) channel adapter: signed inbound (`sig`, five methods),
 * per-part inbound reassembly, delivery receipts, and sending through `POST /sms/json`.
 * Facts and vectors: sms-facts.md §1.2 (vonage-node-sdk `packages/sms/lib/sms.ts`).
 */
import { createHash } from 'node:crypto';
import type { CountryCode } from '../../core/phone.js';
import { isGsm7 } from '../../core/segments.js';
import type { InboundMessage } from '../../core/types.js';
import {
  adapterError,
  clipInboundText,
  type FetchLike,
  fetchWithTimeout,
  hmacHex,
  isRecord,
  isRetryableStatus,
  mapStatus,
  networkFailure,
  parseForm,
  queryOf,
  quote,
  requireField,
  requireOption,
  safeEqual,
  webhookPhone,
} from './shared.js';
import type { ChannelAdapter, ParsedInbound, ParsedStatus, SendResult, WebhookRequest } from './types.js';

const NAME = 'vonage';

/** The signature methods a Vonage account can be set to (dashboard "Signature method"). */
export type VonageSignatureMethod = 'md5hash' | 'md5' | 'sha1' | 'sha256' | 'sha512';

/** Options for {@link vonageChannel}. */
export interface VonageChannelOptions {
  /** Account API key (`api_key`). */
  apiKey: string;
  /** Account API secret (`api_secret`), used for sending. */
  apiSecret: string;
  /** Signature secret from the dashboard; inbound without a valid `sig` is refused when set. */
  signatureSecret?: string;
  /** Accept unsigned inbound (signing must be enabled by Vonage support). Only when `signatureSecret` is unset. @default false */
  allowUnsigned?: boolean;
  /** Signature method configured on the account. @default 'md5hash' */
  signatureMethod?: VonageSignatureMethod;
  /** Largest allowed distance between the signed `timestamp` and now, in seconds. @default 300 */
  maxSkewSeconds?: number;
  /** API base URL. @default 'https://rest.nexmo.com' */
  baseUrl?: string;
  /** Sender: a number (E.164, `+` optional) or an alphanumeric sender id. */
  from: string;
  /** Injected `fetch` (tests, proxies). @default globalThis.fetch */
  fetch?: FetchLike;
  /** Time budget of one API call. @default 10000 */
  timeoutMs?: number;
  /** Country for national-format numbers in webhooks. */
  defaultCountry?: CountryCode;
}

/** One part of a concatenated inbound SMS, as {@link ChannelAdapter.parseInbound} returns it. */
export type InboundPart = Extract<ParsedInbound, { kind: 'part' }>;

/** A Vonage delivery receipt: {@link ParsedStatus} plus `optedOut` when `err-code` is 9. */
export interface VonageParsedStatus extends ParsedStatus {
  /** True when Vonage says the recipient opted out of the service (DLR `err-code` 9): record an opt-out. */
  optedOut?: boolean;
}

// DLR `status` → ours (sms-facts §1.2). `unknown` means the network sent no final report: it left us.
const STATUS_MAP: Readonly<Record<string, ParsedStatus['status']>> = {
  accepted: 'queued',
  buffered: 'sent',
  unknown: 'sent',
  delivered: 'delivered',
  expired: 'undelivered',
  failed: 'failed',
  rejected: 'failed',
};

/**
 * Builds the Vonage `sig` over webhook params exactly as Vonage does: drop `sig`, sort keys by UTF-16 code
 * unit, replace `&` and `=` inside values with `_`, join as `&k=v…` (leading `&`, no URL-encoding); then
 * MD5HASH = hex md5(string + secret), else hex HMAC(secret, string). Pure.
 *
 * @returns lower-case hex signature
 * @example
 * vonageSignature({ text: 'Hi', timestamp: '1385047698' }, 'secret', 'md5hash')
 */
export function vonageSignature(
  params: Record<string, string>,
  secret: string,
  method: VonageSignatureMethod = 'md5hash',
): string {
  // Default sort is by UTF-16 code unit, which is what Vonage uses (`message-timestamp` < `messageId`).
  const keys = Object.keys(params)
    .filter((k) => k !== 'sig')
    .sort();
  const base = keys.map((k) => `&${k}=${String(params[k]).replace(/[&=]/g, '_')}`).join('');
  if (method === 'md5hash')
    return createHash('md5')
      .update(base + secret, 'utf8')
      .digest('hex');
  return hmacHex(method, secret, base);
}

/** Reads the webhook params: query for GET; for POST the JSON or form body merged over the query. Never throws. */
function paramsOf(request: WebhookRequest): Record<string, string> {
  const out: Record<string, string> = Object.assign(Object.create(null), parseForm(queryOf(request.url)));
  if (String(request.method).toUpperCase() === 'GET' || typeof request.body !== 'string') return out;
  const body = request.body.trim();
  if (body.startsWith('{')) {
    try {
      const json: unknown = JSON.parse(body);
      if (isRecord(json)) {
        // Vonage JSON webhooks carry scalars; sign and read them as the strings the form variant has.
        for (const [k, v] of Object.entries(json)) {
          if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
        }
      }
    } catch {
      // Not JSON after all: treat as a form body below.
    }
    return out;
  }
  return Object.assign(out, parseForm(request.body));
}

/** `YYYY-MM-DD HH:MM:SS` (UTC, Vonage `message-timestamp`) → ISO-8601, or `undefined`. */
function vonageTime(value: string | undefined): string | undefined {
  if (!value || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(value)) return undefined;
  const iso = `${value.replace(' ', 'T')}Z`;
  return Number.isNaN(Date.parse(iso)) ? undefined : new Date(iso).toISOString();
}

/**
 * Pure reassembly of a concatenated inbound SMS: returns the whole message when parts `1..total` are all
 * present (duplicates from Vonage retries are ignored), else `null`. The message id is part 1's
 * `messageId` (stable across retries); the text is the parts joined in part order.
 *
 * @param parts - Parts of one message (same `ref` and sender), in any order.
 * @returns The reassembled message, or `null` while parts are missing.
 * @example
 * const whole = reassembleParts([part2, part1]); // { id: part1.message.id, text: 'Hello world', … }
 */
export function reassembleParts(parts: readonly InboundPart[]): InboundMessage | null {
  const first = parts[0];
  if (!first) return null;
  const byNumber = new Map<number, InboundPart>();
  for (const p of parts)
    if (p.part >= 1 && p.part <= first.total && !byNumber.has(p.part)) byNumber.set(p.part, p);
  if (byNumber.size !== first.total) return null;
  const ordered = [...byNumber.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
  const head = ordered[0]!;
  return { ...head.message, text: clipInboundText(ordered.map((p) => p.message.text).join('')) };
}

/** Options for {@link createConcatBuffer}. */
export interface ConcatBufferOptions {
  /** Parts older than this are dropped (a message whose parts never all arrive). @default 86400000 (Vonage retries for 24 h) */
  ttlMs?: number;
  /** Most incomplete messages held at once; the oldest is dropped beyond it (bounds memory). @default 10000 */
  maxPending?: number;
}

/** An in-memory buffer that collects inbound parts until a message is complete. */
export interface ConcatBuffer {
  /** Adds a part; returns the whole message when this part completes it, else `null`. */
  add(part: InboundPart, now: Date): InboundMessage | null;
  /** Number of incomplete messages held. */
  readonly size: number;
}

/**
 * Creates an in-process buffer for {@link InboundPart}s. Keyed by sender, recipient and `concat-ref`
 * (the ref is only unique per sender). One process only: behind a load balancer, pin Vonage to one
 * instance or reassemble in shared storage.
 *
 * @example
 * const buffer = createConcatBuffer({ ttlMs: 3_600_000 });
 * const parsed = vonage.parseInbound(req, now);
 * const message = parsed.kind === 'part' ? buffer.add(parsed, now) : parsed.kind === 'message' ? parsed.message : null;
 */
export function createConcatBuffer(options: ConcatBufferOptions = {}): ConcatBuffer {
  const ttlMs = options.ttlMs ?? 86_400_000;
  const maxPending = options.maxPending ?? 10_000;
  // Map keeps insertion order, so the first entry is always the oldest.
  const pending = new Map<string, { firstAt: number; parts: InboundPart[] }>();
  return {
    add(part, now) {
      const t = now.getTime();
      for (const [key, entry] of pending) {
        if (t - entry.firstAt <= ttlMs) break;
        pending.delete(key);
      }
      const key = `${part.message.from}|${part.message.to}|${part.ref}|${part.total}`;
      const entry = pending.get(key) ?? { firstAt: t, parts: [] };
      entry.parts.push(part);
      const whole = reassembleParts(entry.parts);
      if (whole) {
        pending.delete(key);
        return whole;
      }
      if (!pending.has(key)) {
        pending.set(key, entry);
        if (pending.size > maxPending) pending.delete(pending.keys().next().value as string);
      }
      return null;
    },
    get size() {
      return pending.size;
    },
  };
}

/**
 * Creates the Vonage SMS API channel adapter.
 *
 * @param options - Credentials, signature settings and sender; see {@link VonageChannelOptions}.
 * @returns A {@link ChannelAdapter} named `vonage`.
 * @example
 * const vonage = vonageChannel({
 *   apiKey: process.env.VONAGE_API_KEY!, apiSecret: process.env.VONAGE_API_SECRET!,
 *   signatureSecret: process.env.VONAGE_SIGNATURE_SECRET, signatureMethod: 'sha256', from: '+14155550100',
 * });
 */
export function vonageChannel(options: VonageChannelOptions): ChannelAdapter {
  const apiKey = requireOption(NAME, options?.apiKey, 'apiKey');
  const apiSecret = requireOption(NAME, options.apiSecret, 'apiSecret');
  const from = requireOption(NAME, options.from, 'from');
  const method = options.signatureMethod ?? 'md5hash';
  if (!['md5hash', 'md5', 'sha1', 'sha256', 'sha512'].includes(method)) {
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_CONFIG',
      `Unknown signatureMethod ${quote(method)}. Use the dashboard's method: 'md5hash', 'md5', 'sha1', 'sha256' or 'sha512'.`,
    );
  }
  if (!options.signatureSecret && options.allowUnsigned !== true) {
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_CONFIG',
      'Missing option signatureSecret. Ask Vonage to enable signed webhooks and pass the secret, or pass allowUnsigned: true to accept unsigned inbound knowingly.',
    );
  }
  const maxSkew = options.maxSkewSeconds ?? 300;
  const baseUrl = (options.baseUrl ?? 'https://rest.nexmo.com').replace(/\/+$/, '');
  const phoneCountry = options.defaultCountry;

  return {
    name: NAME,
    capabilities: { syncReply: false, multipart: true },

    verify(request, now) {
      try {
        const secret = options.signatureSecret;
        if (!secret) return { ok: true };
        const params = paramsOf(request);
        const sig = params.sig;
        if (!sig) return { ok: false, reason: 'missing sig parameter' };
        // Case-insensitive hex (SDK compares upper-cased); constant time via safeEqual.
        if (!safeEqual(sig.toLowerCase(), vonageSignature(params, secret, method))) {
          return { ok: false, reason: 'sig does not match' };
        }
        // Vonage documents no freshness rule; the signed `timestamp` bounds replays (sms-facts §1.2).
        const ts = Number(params.timestamp);
        if (!params.timestamp || !Number.isFinite(ts))
          return { ok: false, reason: 'missing signed timestamp' };
        if (Math.abs(now.getTime() / 1000 - ts) > maxSkew) {
          return { ok: false, reason: `stale: timestamp ${ts} is more than ${maxSkew}s from now` };
        }
        return { ok: true };
      } catch {
        return { ok: false, reason: 'request could not be read' };
      }
    },

    parseInbound(request, now) {
      const params = paramsOf(request);
      const id = requireField(NAME, params, 'messageId');
      const sender = requireField(NAME, params, 'msisdn');
      const to = requireField(NAME, params, 'to');
      const type = params.type ?? 'text';
      if (type === 'binary') return { kind: 'ignored', reason: 'binary SMS (no text)' };
      const message: InboundMessage = {
        id,
        from: webhookPhone(NAME, sender, 'msisdn', phoneCountry),
        to: webhookPhone(NAME, to, 'to', phoneCountry),
        text: clipInboundText(params.text ?? ''),
        receivedAt: vonageTime(params['message-timestamp']) ?? now.toISOString(),
        channel: 'sms',
        provider: NAME,
        media: [],
      };
      if (params.concat !== 'true') return { kind: 'message', message };
      const ref = requireField(NAME, params, 'concat-ref');
      const total = Number(requireField(NAME, params, 'concat-total'));
      const part = Number(requireField(NAME, params, 'concat-part'));
      // A UDH counts parts in one octet: 1..255.
      if (
        !Number.isInteger(total) ||
        !Number.isInteger(part) ||
        total < 1 ||
        total > 255 ||
        part < 1 ||
        part > total
      ) {
        throw adapterError(
          NAME,
          'SMSFLOW_ERR_INVALID_WEBHOOK',
          `Invalid concat-part ${quote(params['concat-part'])} of concat-total ${quote(params['concat-total'])}; expected 1 ≤ part ≤ total ≤ 255.`,
        );
      }
      return { kind: 'part', ref, part, total, message };
    },

    parseStatus(request): VonageParsedStatus {
      const params = paramsOf(request);
      const providerMessageId = requireField(NAME, params, 'messageId');
      const providerStatus = requireField(NAME, params, 'status');
      const status = mapStatus(NAME, providerStatus, STATUS_MAP);
      const errCode = params['err-code'];
      const result: VonageParsedStatus = { providerMessageId, status, providerStatus };
      if (errCode && errCode !== '0') result.errorCode = errCode;
      // err-code 9: "recipient opted out of the service" (sms-facts §1.2, delivery-receipts.md).
      if (errCode === '9') result.optedOut = true;
      const at = vonageTime(params['message-timestamp']);
      if (at) result.at = at;
      return result;
    },

    async send(request): Promise<SendResult> {
      const form = new URLSearchParams({
        api_key: apiKey,
        api_secret: apiSecret,
        // Vonage wants numbers without '+'; alphanumeric senders pass through unchanged.
        from: (request.from ?? from).replace(/^\+/, ''),
        to: request.to.replace(/^\+/, ''),
        text: request.text,
        // client-ref is at most 40 characters (sms-facts §1.2).
        'client-ref': request.id.slice(0, 40),
      });
      // Vonage sends text as GSM-7 unless told otherwise; anything outside GSM 03.38 needs type=unicode.
      if (!isGsm7(request.text)) form.set('type', 'unicode');
      if (request.statusCallbackUrl) form.set('callback', request.statusCallbackUrl);
      const out = await fetchWithTimeout(
        options.fetch,
        `${baseUrl}/sms/json`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: form.toString(),
        },
        options.timeoutMs,
      );
      if (out.kind === 'network') return networkFailure(NAME, out);
      const first = isRecord(out.json) && Array.isArray(out.json.messages) ? out.json.messages[0] : undefined;
      if (out.status >= 200 && out.status < 300 && isRecord(first)) {
        const status = String(first.status ?? '');
        const messageId = first['message-id'];
        if (status === '0' && typeof messageId === 'string') {
          return { ok: true, providerMessageId: messageId, status: 'queued' };
        }
        return {
          ok: false,
          errorCode: status || 'unknown',
          message: `[${NAME}] Send refused: status ${quote(status)} ${quote(first['error-text'] ?? '')}`,
          // 1 = throttled, 5 = internal error: both succeed later (SDK enums/SMSStatus).
          retryable: status === '1' || status === '5',
        };
      }
      return {
        ok: false,
        errorCode: `http_${out.status}`,
        message: `[${NAME}] Send failed with HTTP ${out.status}`,
        retryable: isRetryableStatus(out.status),
      };
    },

    webhookResponse() {
      // No synchronous reply on Vonage: a 200 (or 204) stops its 24-hour resend (inbound-sms.md).
      return { status: 200, contentType: 'text/plain', body: '' };
    },
  };
}
