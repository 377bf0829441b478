/**
 * Vonage Messages API (`api.nexmo.com/v1/messages`) channel adapter for SMS and WhatsApp: JSON webhooks
 * signed with an HS256 JWT (`Authorization: Bearer …`, signature secret, `payload_hash`), statuses, sending.
 * Facts: sms-facts.md §1.3 (signed-webhooks.md; vonage-java-sdk InboundMessage/MessageStatus).
 */
import type { CountryCode } from '../../core/phone.js';
import type { Channel, InboundMessage } from '../../core/types.js';
import { hexDigestEquals, verifyJwt } from './jwt.js';
import {
  adapterError,
  basicAuth,
  clipInboundText,
  type FetchLike,
  header,
  isRecord,
  isRetryableStatus,
  mapStatus,
  networkFailure,
  postJson,
  quote,
  requireOption,
  sha256Hex,
  webhookPhone,
} from './shared.js';
import type { ChannelAdapter, ParsedStatus, SendResult, WebhookRequest } from './types.js';

const NAME = 'vonage-messages';

/** Options for {@link vonageMessagesChannel}. */
export interface VonageMessagesChannelOptions {
  /** Account signature secret: Vonage signs every webhook JWT with it (HS256). */
  signatureSecret: string;
  /** API key, for Basic auth when sending (with `apiSecret`). */
  apiKey?: string;
  /** API secret, for Basic auth when sending. */
  apiSecret?: string;
  /** Returns a Bearer JWT for an application (e.g. made with `@vonage/jwt` `tokenGenerate`); wins over Basic auth. */
  jwt?: () => string | Promise<string>;
  /** Sender number (E.164, `+` optional) or WhatsApp business number. */
  from: string;
  /** API base URL. @default 'https://api.nexmo.com' */
  baseUrl?: string;
  /** Largest allowed distance between the JWT `iat` and now, in seconds (Vonage sends no `exp`). @default 300 */
  maxSkewSeconds?: number;
  /** Injected `fetch`. @default globalThis.fetch */
  fetch?: FetchLike;
  /** Time budget of one API call. @default 10000 */
  timeoutMs?: number;
  /** Country for national-format numbers in webhooks. */
  defaultCountry?: CountryCode;
}

// Messages API status → ours (MessageStatus.java; messages-status-callbacks).
const STATUS_MAP: Readonly<Record<string, ParsedStatus['status']>> = {
  submitted: 'sent',
  delivered: 'delivered',
  rejected: 'failed',
  undeliverable: 'undelivered',
  read: 'read',
};

const CHANNELS: Readonly<Record<string, Channel>> = { sms: 'sms', whatsapp: 'whatsapp' };
const MEDIA_TYPES = ['image', 'audio', 'video', 'file'] as const;

/** Parses the JSON body to an object; throws `SMSFLOW_ERR_INVALID_WEBHOOK` otherwise. */
function jsonBody(request: WebhookRequest): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(String(request.body));
  } catch (error) {
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_WEBHOOK',
      `The body is not JSON (received ${quote(request.body)}). Vonage Messages webhooks are JSON; keep the raw body.`,
      { cause: error },
    );
  }
  if (!isRecord(value)) {
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_WEBHOOK',
      `The JSON body is not an object: ${quote(request.body)}.`,
    );
  }
  return value;
}

function stringField(body: Record<string, unknown>, field: string): string {
  let value = body[field];
  // Messages API v0.1 sent `{ type, number }` objects for from/to; v1 sends plain strings.
  if (isRecord(value)) value = value.number ?? value.id;
  if (typeof value !== 'string' || value.length === 0) {
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_WEBHOOK',
      `The webhook lacks the required field "${field}" (received ${quote(typeof value === 'object' ? JSON.stringify(value) : value)}). Point the inbound and status webhooks at the right routes.`,
    );
  }
  return value;
}

/**
 * The code of an RFC 7807 problem Vonage returns: the `#1320` fragment of `type` (its documented error
 * code), else a numeric `title` (status webhooks put the code there), else `undefined`.
 */
function problemCode(problem: Record<string, unknown>): string | undefined {
  const fragment = typeof problem.type === 'string' ? /#([\w-]{1,64})$/.exec(problem.type)?.[1] : undefined;
  if (fragment) return fragment;
  const title = problem.title;
  if (typeof title === 'number' || (typeof title === 'string' && /^\d{1,10}$/.test(title)))
    return String(title);
  return undefined;
}

/**
 * Creates the Vonage Messages API channel adapter (SMS and WhatsApp).
 *
 * @param options - Signature secret, credentials and sender; see {@link VonageMessagesChannelOptions}.
 * @returns A {@link ChannelAdapter} named `vonage-messages`.
 * @example
 * const vonage = vonageMessagesChannel({
 *   signatureSecret: process.env.VONAGE_SIGNATURE_SECRET!, apiKey: process.env.VONAGE_API_KEY,
 *   apiSecret: process.env.VONAGE_API_SECRET, from: '+14155550100',
 * });
 */
export function vonageMessagesChannel(options: VonageMessagesChannelOptions): ChannelAdapter {
  const secret = requireOption(NAME, options?.signatureSecret, 'signatureSecret');
  const from = requireOption(NAME, options.from, 'from');
  if (!options.jwt && !(options.apiKey && options.apiSecret)) {
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_CONFIG',
      'Missing send credentials: pass apiKey and apiSecret (Basic auth), or jwt: () => token for an application.',
    );
  }
  const maxSkew = options.maxSkewSeconds ?? 300;
  const baseUrl = (options.baseUrl ?? 'https://api.nexmo.com').replace(/\/+$/, '');
  const country = options.defaultCountry;

  return {
    name: NAME,
    capabilities: { syncReply: false },

    verify(request, now) {
      const auth = header(request.headers, 'authorization') ?? '';
      const match = /^Bearer\s+(\S+)$/i.exec(auth.trim());
      if (!match) return { ok: false, reason: 'missing Bearer token' };
      // signed-webhooks.md: HS256 with the signature secret; no `exp`, so `iat` bounds replays.
      const result = verifyJwt(match[1]!, {
        secret,
        algorithms: ['HS256'],
        now,
        maxIatSkewSeconds: maxSkew,
      });
      if (!result.ok) return { ok: false, reason: result.reason };
      const body = typeof request.body === 'string' ? request.body : '';
      // payload_hash binds the token to these exact bytes; without it a token could be replayed on any body.
      if (!hexDigestEquals(result.claims.payload_hash, sha256Hex(body))) {
        return { ok: false, reason: 'payload_hash does not match the body' };
      }
      return { ok: true };
    },

    parseInbound(request, now) {
      const body = jsonBody(request);
      if (typeof body.status === 'string' && body.message_type === undefined) {
        return { kind: 'ignored', reason: 'a status callback reached the inbound route' };
      }
      const id = stringField(body, 'message_uuid');
      const channel = CHANNELS[String(body.channel ?? 'sms')];
      if (!channel) return { kind: 'ignored', reason: `unsupported channel ${quote(body.channel)}` };
      const type = String(body.message_type ?? 'text');
      const media: InboundMessage['media'] = [];
      let text = '';
      if (type === 'text') {
        text = typeof body.text === 'string' ? body.text : '';
      } else if ((MEDIA_TYPES as readonly string[]).includes(type) && isRecord(body[type])) {
        const item = body[type] as Record<string, unknown>;
        if (typeof item.url === 'string') media.push({ url: item.url.slice(0, 4096) });
        if (typeof item.caption === 'string') text = item.caption;
      } else {
        return { kind: 'ignored', reason: `unsupported message_type ${quote(type)}` };
      }
      const timestamp = typeof body.timestamp === 'string' ? Date.parse(body.timestamp) : Number.NaN;
      const message: InboundMessage = {
        id,
        from: webhookPhone(NAME, stringField(body, 'from'), 'from', country),
        to: webhookPhone(NAME, stringField(body, 'to'), 'to', country),
        text: clipInboundText(text),
        receivedAt: Number.isNaN(timestamp) ? now.toISOString() : new Date(timestamp).toISOString(),
        channel,
        provider: NAME,
        media,
      };
      return { kind: 'message', message };
    },

    parseStatus(request) {
      const body = jsonBody(request);
      const providerMessageId = stringField(body, 'message_uuid');
      const providerStatus = stringField(body, 'status');
      const result: ParsedStatus = {
        providerMessageId,
        status: mapStatus(NAME, providerStatus, STATUS_MAP),
        providerStatus,
      };
      if (isRecord(body.error)) {
        const code = problemCode(body.error);
        if (code) result.errorCode = code;
      }
      if (typeof body.timestamp === 'string' && !Number.isNaN(Date.parse(body.timestamp))) {
        result.at = new Date(body.timestamp).toISOString();
      }
      return result;
    },

    async send(request): Promise<SendResult> {
      const payload: Record<string, unknown> = {
        message_type: 'text',
        text: request.text,
        // The Messages API wants numbers without '+' (messages.ts).
        to: request.to.replace(/^\+/, ''),
        from: (request.from ?? from).replace(/^\+/, ''),
        channel: request.channel === 'whatsapp' ? 'whatsapp' : 'sms',
        client_ref: request.id,
      };
      if (request.statusCallbackUrl) payload.webhook_url = request.statusCallbackUrl;
      const authorization = options.jwt
        ? `Bearer ${await options.jwt()}`
        : basicAuth(options.apiKey ?? '', options.apiSecret ?? '');
      const out = await postJson(
        options.fetch,
        `${baseUrl}/v1/messages`,
        payload,
        { authorization },
        options.timeoutMs,
      );
      if (out.kind === 'network') return networkFailure(NAME, out);
      const json = isRecord(out.json) ? out.json : {};
      if (out.status >= 200 && out.status < 300 && typeof json.message_uuid === 'string') {
        return { ok: true, providerMessageId: json.message_uuid, status: 'queued' };
      }
      const title = typeof json.title === 'string' ? json.title : '';
      return {
        ok: false,
        errorCode: problemCode(json) ?? `http_${out.status}`,
        message: `[${NAME}] Send failed with HTTP ${out.status} ${quote(typeof json.detail === 'string' ? json.detail : title)}`,
        retryable: isRetryableStatus(out.status),
      };
    },

    webhookResponse() {
      // Any 2xx acknowledges; replies go out through the API.
      return { status: 200, contentType: 'text/plain', body: '' };
    },
  };
}
