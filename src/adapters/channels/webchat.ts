/**
 * Web chat channel: a browser page (or the phone simulator) posts JSON turns authenticated by a per-session
 * HMAC token, and replies are pushed to an in-process {@link WebchatHub} that the host's server-sent events
 * endpoint streams back. No provider, no HTTP on send. Facts: none needed; the token is our own design.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { type InboundMessage, isoStringOf } from '../../core/types.js';
import {
  adapterError,
  clipInboundText,
  header,
  isRecord,
  mapStatus,
  quote,
  requireOption,
  webhookPhone,
} from './shared.js';
import type { ChannelAdapter, ParsedStatus, SendResult, WebhookRequest } from './types.js';

const NAME = 'webchat';
const MAX_SESSION_ID = 128;

/** A reply as the hub hands it to listeners (and the SSE endpoint to the page). */
export interface WebchatOutbound {
  /** Our outbox id; the page acks `read` with it. */
  id: string;
  /** The contact's phone (E.164) the session uses. */
  to: string;
  from?: string;
  text: string;
  /** ISO time of publication. */
  at: string;
}

/** Receives published replies for one session or phone. */
export type WebchatListener = (message: WebchatOutbound) => void;

/** In-process fan-out of web chat replies to the pages that listen (one SSE stream per page). */
export interface WebchatHub {
  /** Listens to replies for a phone (E.164) or a session id; returns the unsubscribe function. */
  subscribe(sessionOrPhone: string, listener: WebchatListener): () => void;
  /** Publishes a reply to listeners of `message.to` (and of `sessionId` when given); returns how many got it. */
  publish(message: WebchatOutbound, sessionId?: string): number;
}

/**
 * Creates an in-process {@link WebchatHub}. One process only: with several webhook processes, put a
 * pub/sub (e.g. Redis) behind your SSE endpoint instead.
 *
 * @example
 * const hub = createWebchatHub();
 * const off = hub.subscribe('+14155550100', (m) => stream.write(`data: ${JSON.stringify(m)}\n\n`));
 */
export function createWebchatHub(): WebchatHub {
  const listeners = new Map<string, Set<WebchatListener>>();
  return {
    subscribe(key, listener) {
      const set = listeners.get(key) ?? new Set<WebchatListener>();
      set.add(listener);
      listeners.set(key, set);
      return () => {
        set.delete(listener);
        if (set.size === 0 && listeners.get(key) === set) listeners.delete(key);
      };
    },
    publish(message, sessionId) {
      const targets = new Set<WebchatListener>([
        ...(listeners.get(message.to) ?? []),
        ...(sessionId ? (listeners.get(sessionId) ?? []) : []),
      ]);
      let reached = 0;
      for (const listener of targets) {
        try {
          listener(message);
          reached += 1;
        } catch {
          // One broken stream must not stop the others (or the dispatcher).
        }
      }
      return reached;
    },
  };
}

/** Options for {@link createWebchatToken}. */
export interface WebchatTokenOptions {
  /** Bind the token to this phone too: turns must then come `from` it. Recommended. */
  phone?: string;
  /** When the token was issued (for `maxSkewSeconds`). @default new Date() */
  issuedAt?: Date;
}

function tokenMac(secret: string, version: string, sessionId: string, phone: string, iat: string): string {
  // Domain-separated input so a web chat token can never be confused with another HMAC made with the secret.
  return createHmac('sha256', secret)
    .update(`smsflow-webchat\n${version}\n${sessionId}\n${phone}\n${iat}`, 'utf8')
    .digest('base64url');
}

/**
 * Makes the bearer token for a web chat session: `v1.<iat>.<mac>` (or `v1p.…` when bound to a phone),
 * where mac = base64url HMAC-SHA256(secret, session, phone, iat). Give it to the page that owns the session.
 *
 * @param sessionId - The session id (1–128 chars) the page sends in each turn.
 * @param secret - The channel's `sessionSecret`.
 * @returns The token for `Authorization: Bearer <token>`.
 * @example
 * const token = createWebchatToken('sess-1', process.env.WEBCHAT_SECRET!, { phone: '+14155550100' });
 */
export function createWebchatToken(
  sessionId: string,
  secret: string,
  options: WebchatTokenOptions = {},
): string {
  if (typeof sessionId !== 'string' || sessionId.length === 0 || sessionId.length > MAX_SESSION_ID) {
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_CONFIG',
      `Invalid sessionId ${quote(sessionId)}: use 1–128 characters.`,
    );
  }
  requireOption(NAME, secret, 'sessionSecret');
  const version = options.phone ? 'v1p' : 'v1';
  const iat = String(Math.floor((options.issuedAt ?? new Date()).getTime() / 1000));
  return `${version}.${iat}.${tokenMac(secret, version, sessionId, options.phone ?? '', iat)}`;
}

/** Options for {@link webchatChannel}. */
export interface WebchatChannelOptions {
  /** Secret the session tokens are made with (≥ 32 random bytes recommended). */
  sessionSecret: string;
  /** Replies are published here; the host's SSE endpoint subscribes to it. */
  hub: WebchatHub;
  /** When set, tokens older (or newer) than this many seconds are refused. @default undefined (no expiry) */
  maxSkewSeconds?: number;
}

function jsonBody(request: WebhookRequest): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(String(request.body));
    if (isRecord(value)) return value;
  } catch {
    // Reported below.
  }
  throw adapterError(
    NAME,
    'SMSFLOW_ERR_INVALID_WEBHOOK',
    `Expected a JSON object { sessionId, from, to, text, id } (received ${quote(request.body)}).`,
  );
}

function field(body: Record<string, unknown>, name: string, max: number): string {
  const value = body[name];
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_WEBHOOK',
      `Field "${name}" must be a string of 1–${max} characters (received ${quote(value)}).`,
    );
  }
  return value;
}

/**
 * Creates the web chat channel adapter: turns are JSON `{ sessionId, from, to, text, id }` with
 * `Authorization: Bearer <createWebchatToken(sessionId, secret)>`; replies go to `hub`.
 *
 * @param options - Session secret and hub; see {@link WebchatChannelOptions}.
 * @returns A {@link ChannelAdapter} named `webchat`.
 * @example
 * const hub = createWebchatHub();
 * const webchat = webchatChannel({ sessionSecret: process.env.WEBCHAT_SECRET!, hub });
 */
export function webchatChannel(options: WebchatChannelOptions): ChannelAdapter {
  const secret = requireOption(NAME, options?.sessionSecret, 'sessionSecret');
  if (!options.hub || typeof options.hub.publish !== 'function') {
    throw adapterError(
      NAME,
      'SMSFLOW_ERR_INVALID_CONFIG',
      'Missing option hub. Pass hub: createWebchatHub().',
    );
  }
  const hub = options.hub;

  return {
    name: NAME,
    capabilities: { syncReply: false },

    verify(request, now) {
      try {
        const match = /^Bearer\s+(v1p?)\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(
          (header(request.headers, 'authorization') ?? '').trim(),
        );
        if (!match) return { ok: false, reason: 'missing or malformed Bearer token' };
        const [, version, iat, mac] = match as unknown as [string, string, string, string];
        const body = JSON.parse(String(request.body)) as unknown;
        if (!isRecord(body) || typeof body.sessionId !== 'string')
          return { ok: false, reason: 'body lacks sessionId' };
        const phone = version === 'v1p' ? String(body.from ?? '') : '';
        const expected = Buffer.from(tokenMac(secret, version, body.sessionId, phone, iat), 'base64url');
        const given = Buffer.from(mac, 'base64url');
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          return { ok: false, reason: 'token does not match the session' };
        }
        if (
          options.maxSkewSeconds !== undefined &&
          Math.abs(now.getTime() / 1000 - Number(iat)) > options.maxSkewSeconds
        ) {
          return { ok: false, reason: `stale: token issued more than ${options.maxSkewSeconds}s from now` };
        }
        return { ok: true };
      } catch {
        return { ok: false, reason: 'request could not be read' };
      }
    },

    parseInbound(request, now) {
      const body = jsonBody(request);
      const sessionId = field(body, 'sessionId', MAX_SESSION_ID);
      const id = field(body, 'id', 100);
      const message: InboundMessage = {
        // Prefixed with the session: a page picks its ids, so it must not collide with another session's.
        id: `webchat:${sessionId}:${id}`,
        from: webhookPhone(NAME, field(body, 'from', 64), 'from'),
        to: field(body, 'to', 64),
        text: clipInboundText(typeof body.text === 'string' ? body.text : ''),
        // The page's clock is not trusted: time is when we received the turn.
        receivedAt: isoStringOf(now.getTime()),
        channel: 'webchat',
        provider: NAME,
        media: [],
      };
      return { kind: 'message', message };
    },

    parseStatus(request): ParsedStatus {
      const body = jsonBody(request);
      const providerMessageId = field(body, 'id', 256);
      const providerStatus = field(body, 'status', 32);
      return {
        providerMessageId,
        status: mapStatus(NAME, providerStatus, { read: 'read', delivered: 'delivered' }),
        providerStatus,
      };
    },

    async send(request): Promise<SendResult> {
      const message: WebchatOutbound = {
        id: request.id,
        to: request.to,
        text: request.text,
        at: new Date().toISOString(),
      };
      if (request.from) message.from = request.from;
      const reached = hub.publish(message);
      // Delivered means a page received it; with no page listening it is only "sent" (the page can reload history).
      return { ok: true, providerMessageId: request.id, status: reached > 0 ? 'delivered' : 'sent' };
    },

    webhookResponse() {
      return { status: 200, contentType: 'application/json', body: '{"ok":true}' };
    },
  };
}
