/**
 * Bird (`api.bird.com`, the successor of MessageBird) Channels API adapter for SMS: `messagebird-signature`
 * verification, `sms.inbound` and `sms.outbound` webhook events, sending through the channel's messages
 * endpoint. Facts: sms-facts.md §1.5 (docs.bird.com verifying-a-webhook, channels-api messaging).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { CountryCode } from '../../core/phone.js';
import type { InboundMessage } from '../../core/types.js';
import {
  adapterError,
  clipInboundText,
  type FetchLike,
  header,
  isRecord,
  isRetryableStatus,
  networkFailure,
  postJson,
  quote,
  requireOption,
  webhookPhone,
} from './shared.js';
import type { ChannelAdapter, ParsedStatus, SendResult, WebhookRequest } from './types.js';

const NAME = 'bird';

/** Options for {@link birdChannel}. */
export interface BirdChannelOptions {
  /** Signing key of the webhook subscription. */
  signingKey: string;
  /** Access key (`Authorization: AccessKey …`) for sending. */
  accessKey: string;
  /** Workspace id (UUID). */
  workspaceId: string;
  /** SMS channel id (UUID). */
  channelId: string;
  /**
   * The channel's own number (E.164). Bird's inbound events name the receiving connector, not its number;
   * this becomes `InboundMessage.to`. @default channelId
   */
  number?: string;
  /** API base URL. @default 'https://api.bird.com' */
  baseUrl?: string;
  /** Largest allowed distance between `messagebird-request-timestamp` and now, in seconds. @default 300 */
  maxSkewSeconds?: number;
  /** Injected `fetch`. @default globalThis.fetch */
  fetch?: FetchLike;
  /** Time budget of one API call. @default 10000 */
  timeoutMs?: number;
  /** Country for national-format numbers in webhooks. */
  defaultCountry?: CountryCode;
}

// Bird message status → ours. The full list is not documented [U sms-facts §1.5]: unknown values map to
// `sent` (rank 3) so a late event can never demote `delivered` and Bird does not retry for 8 hours.
const STATUS_MAP: Readonly<Record<string, ParsedStatus['status']>> = {
  accepted: 'queued',
  scheduled: 'queued',
  processing: 'queued',
  sending: 'sent',
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  sending_failed: 'failed',
  failed: 'failed',
  rejected: 'failed',
  delivery_failed: 'undelivered',
  undelivered: 'undelivered',
  expired: 'undelivered',
};

/**
 * Computes the Bird `messagebird-signature`: Base64 HMAC-SHA256(key, timestamp + "\n" + URL + "\n" +
 * raw 32-byte SHA-256 of the body). Pure.
 *
 * @example
 * birdSignature('secureSigningKey', '1700000000', 'https://example.com/webhooks/bird', '{"hello":"world"}')
 * // 'PALwYBMDXhFvqLcWuSBRcnDVRxxOmkY+Z54E0XP6owA='
 */
export function birdSignature(signingKey: string, timestamp: string, url: string, body: string): string {
  const bodyHash = createHash('sha256').update(body, 'utf8').digest();
  return createHmac('sha256', signingKey)
    .update(Buffer.concat([Buffer.from(`${timestamp}\n${url}\n`, 'utf8'), bodyHash]))
    .digest('base64');
}

function eventOf(request: WebhookRequest): { event: string; payload: Record<string, unknown> } {
  let value: unknown;
  try {
    value = JSON.parse(String(request.body));
  } catch (error) {
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_WEBHOOK',
      `The body is not JSON (received ${quote(request.body)}). Bird webhooks are JSON; keep the raw body.`,
      { cause: error },
    );
  }
  if (!isRecord(value) || !isRecord(value.payload)) {
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_WEBHOOK',
      `Expected a Bird event { service, event, payload } (received ${quote(request.body)}).`,
    );
  }
  return { event: typeof value.event === 'string' ? value.event : '', payload: value.payload };
}

function stringAt(root: unknown, path: readonly string[]): string | undefined {
  let node: unknown = root;
  for (const key of path) node = isRecord(node) ? node[key] : undefined;
  return typeof node === 'string' && node.length > 0 ? node : undefined;
}

function required(value: string | undefined, field: string): string {
  if (value === undefined) {
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_WEBHOOK',
      `The event lacks "${field}". Subscribe the inbound route to sms.inbound and the status route to sms.outbound.`,
    );
  }
  return value;
}

/**
 * Creates the Bird (Channels API) SMS channel adapter.
 *
 * @param options - Signing key, access key, workspace and channel; see {@link BirdChannelOptions}.
 * @returns A {@link ChannelAdapter} named `bird`.
 * @example
 * const bird = birdChannel({
 *   signingKey: process.env.BIRD_SIGNING_KEY!, accessKey: process.env.BIRD_ACCESS_KEY!,
 *   workspaceId: process.env.BIRD_WORKSPACE_ID!, channelId: process.env.BIRD_CHANNEL_ID!, number: '+14155550100',
 * });
 */
export function birdChannel(options: BirdChannelOptions): ChannelAdapter {
  const signingKey = requireOption(NAME, options?.signingKey, 'signingKey');
  const accessKey = requireOption(NAME, options.accessKey, 'accessKey');
  const workspaceId = requireOption(NAME, options.workspaceId, 'workspaceId');
  const channelId = requireOption(NAME, options.channelId, 'channelId');
  const maxSkew = options.maxSkewSeconds ?? 300;
  const baseUrl = (options.baseUrl ?? 'https://api.bird.com').replace(/\/+$/, '');
  const country = options.defaultCountry;

  return {
    name: NAME,
    capabilities: { syncReply: false },

    verify(request, now) {
      try {
        const signature = header(request.headers, 'messagebird-signature');
        const timestamp = header(request.headers, 'messagebird-request-timestamp');
        if (!signature || !timestamp) return { ok: false, reason: 'missing messagebird-signature headers' };
        const expected = Buffer.from(
          birdSignature(signingKey, timestamp, request.url, request.body),
          'base64',
        );
        const given = Buffer.from(signature.trim(), 'base64');
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          return { ok: false, reason: 'messagebird-signature does not match' };
        }
        // The signed timestamp is in seconds; bound it so a captured request cannot be replayed later.
        const ts = Number(timestamp);
        if (!/^\d{1,12}$/.test(timestamp.trim()) || Math.abs(now.getTime() / 1000 - ts) > maxSkew) {
          return {
            ok: false,
            reason: `stale: timestamp ${quote(timestamp)} is more than ${maxSkew}s from now`,
          };
        }
        return { ok: true };
      } catch {
        return { ok: false, reason: 'request could not be read' };
      }
    },

    parseInbound(request, now) {
      const { event, payload } = eventOf(request);
      if (event !== 'sms.inbound')
        return { kind: 'ignored', reason: `event ${quote(event)} is not sms.inbound` };
      const id = required(stringAt(payload, ['id']), 'payload.id');
      const sender = required(stringAt(payload, ['sender', 'contact', 'identifierValue']), 'payload.sender');
      const to =
        stringAt(payload, ['receiver', 'connector', 'identifierValue']) ??
        options.number ??
        stringAt(payload, ['channelId']) ??
        channelId;
      const bodyType = stringAt(payload, ['body', 'type']) ?? 'text';
      if (bodyType !== 'text') return { kind: 'ignored', reason: `unsupported body type ${quote(bodyType)}` };
      const createdAt = Date.parse(stringAt(payload, ['createdAt']) ?? '');
      const message: InboundMessage = {
        id,
        from: webhookPhone(NAME, sender, 'sender.contact.identifierValue', country),
        to: /^\+?\d+$/.test(to) ? webhookPhone(NAME, to, 'receiver', country) : to.slice(0, 64),
        text: clipInboundText(stringAt(payload, ['body', 'text', 'text']) ?? ''),
        receivedAt: Number.isNaN(createdAt) ? now.toISOString() : new Date(createdAt).toISOString(),
        channel: 'sms',
        provider: NAME,
        media: [],
      };
      return { kind: 'message', message };
    },

    parseStatus(request) {
      const { payload } = eventOf(request);
      const providerMessageId = required(stringAt(payload, ['id']), 'payload.id');
      const providerStatus = required(stringAt(payload, ['status']), 'payload.status');
      const result: ParsedStatus = {
        providerMessageId,
        status: STATUS_MAP[providerStatus.toLowerCase()] ?? 'sent',
        providerStatus,
      };
      const failure = isRecord(payload.failure) ? payload.failure : undefined;
      const code = failure?.code ?? payload.reason;
      if (typeof code === 'string' || typeof code === 'number') result.errorCode = String(code).slice(0, 64);
      const at = Date.parse(stringAt(payload, ['lastStatusAt']) ?? stringAt(payload, ['updatedAt']) ?? '');
      if (!Number.isNaN(at)) result.at = new Date(at).toISOString();
      return result;
    },

    async send(request): Promise<SendResult> {
      const payload = {
        receiver: { contacts: [{ identifierValue: request.to }] },
        body: { type: 'text', text: { text: request.text } },
        reference: request.id,
      };
      const out = await postJson(
        options.fetch,
        `${baseUrl}/workspaces/${encodeURIComponent(workspaceId)}/channels/${encodeURIComponent(channelId)}/messages`,
        payload,
        { authorization: `AccessKey ${accessKey}` },
        options.timeoutMs,
      );
      if (out.kind === 'network') return networkFailure(NAME, out);
      const json = isRecord(out.json) ? out.json : {};
      if (out.status >= 200 && out.status < 300 && typeof json.id === 'string') {
        return { ok: true, providerMessageId: json.id, status: 'queued' };
      }
      const code = json.code;
      return {
        ok: false,
        errorCode: typeof code === 'string' || typeof code === 'number' ? String(code) : `http_${out.status}`,
        message: `[${NAME}] Send failed with HTTP ${out.status} ${quote(typeof json.message === 'string' ? json.message : '')}`,
        retryable: isRetryableStatus(out.status),
      };
    },

    webhookResponse() {
      return { status: 200, contentType: 'text/plain', body: '' };
    },
  };
}
