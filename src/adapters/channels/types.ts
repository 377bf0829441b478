import type { Channel, InboundMessage } from '../../core/types.js';
import type { OutboxStatus } from '../storage/types.js';

/**
 * A webhook request as the HTTP layer hands it to a channel adapter: the raw body is kept so signatures
 * can be checked over the exact bytes. `url` is the public URL the provider called (configuration, never
 * taken from `Host`).
 */
export interface WebhookRequest {
  method: string;
  /** The full public URL the provider called, including the query string. */
  url: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The raw body as received (UTF-8). */
  body: string;
}

/** What parsing an inbound webhook gives: a message, a part of a multi-part message, or nothing to process. */
export type ParsedInbound =
  | { kind: 'message'; message: InboundMessage }
  /** One part of a concatenated SMS (Vonage `concat`); the channel reassembles with {@link ChannelAdapter.reassemble}. */
  | { kind: 'part'; ref: string; part: number; total: number; message: InboundMessage }
  | { kind: 'ignored'; reason: string };

/** A delivery status callback mapped to the engine's status set. */
export interface ParsedStatus {
  providerMessageId: string;
  status: OutboxStatus;
  /** The provider's raw status value. */
  providerStatus: string;
  errorCode?: string;
  /** Order hint when the provider has one (Plivo `Sequence`). */
  sequence?: number;
  at?: string;
}

/** An outbound message as a channel sends it. */
export interface SendRequest {
  /** Our outbox id; sent as the provider's client reference where it has one. */
  id: string;
  to: string;
  from?: string;
  text: string;
  channel: Channel;
  mediaUrls?: string[];
  /** Status callback URL, when the host wants delivery reports. */
  statusCallbackUrl?: string;
}

/** Outcome of a send: accepted with the provider's id, or refused with the provider's error code. */
export type SendResult =
  | { ok: true; providerMessageId: string; status: OutboxStatus }
  | {
      ok: false;
      /** The provider's error code, e.g. Twilio `21610`. */
      errorCode: string;
      message: string;
      /** True when trying again later may succeed (5xx, 429, network). */
      retryable: boolean;
      /** True when the provider says the recipient opted out (Twilio 21610, Vonage 9): record an opt-out. */
      optedOut?: boolean;
    };

/** Outcome of signature verification; `reason` is logged, never sent back to the caller. */
export type VerifyResult = { ok: true } | { ok: false; reason: string };

/**
 * One interface for every provider (Twilio, Vonage, Plivo, MessageBird/Bird, web chat). Parsing and
 * verification are pure over the request; `send` is the only I/O and uses `fetch`.
 */
export interface ChannelAdapter {
  /** Also the subpath export and docs page name: `twilio`, `vonage`, `plivo`, `messagebird`, `bird`, `webchat`. */
  readonly name: string;
  /** Verifies the provider's signature over the exact request; `now` is used for freshness windows. */
  verify(request: WebhookRequest, now: Date): VerifyResult;
  /** Parses an inbound webhook; throws `SMSFLOW_ERR_INVALID_WEBHOOK` on malformed input. */
  parseInbound(request: WebhookRequest, now: Date): ParsedInbound;
  /** Parses a delivery status callback; throws `SMSFLOW_ERR_INVALID_WEBHOOK` on malformed input. */
  parseStatus(request: WebhookRequest): ParsedStatus;
  /** Sends through the provider's REST API. Never throws for provider errors: returns `ok: false`. */
  send(request: SendRequest): Promise<SendResult>;
  /**
   * The body the provider expects back from an inbound webhook. With `texts` non-empty and a synchronous
   * reply format (TwiML, Plivo XML) the replies go back in the response; else an empty acknowledgement.
   */
  webhookResponse(
    texts: string[],
    message?: InboundMessage,
  ): { status: number; contentType: string; body: string };
  /** Optional capabilities. */
  readonly capabilities: {
    /** Replies can ride in the webhook response (TwiML, Plivo XML). */
    syncReply: boolean;
    /** Inbound can arrive in parts that must be reassembled (Vonage SMS API). */
    multipart?: boolean;
  };
}
