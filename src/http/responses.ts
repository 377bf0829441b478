/**
 * The answers the webhook handlers give: JSON errors, the channel's answer, and the one server error
 * (503 + Retry-After) for an engine that could not store a message. An answer is plain data; it becomes a
 * web `Response` ({@link toResponse}) or is written straight to Node's response (`toNodeListener`).
 */
import type { ChannelAdapter } from '../adapters/channels/types.js';
import { isSmsflowError } from '../core/errors.js';
import type { EngineLogger } from '../engine/types.js';

/** Fields every log line of a request carries (provider, route, masked sender, ids; never bodies or secrets). */
export type LogContext = Record<string, unknown>;

/**
 * `context` with more fields, as a new object: `{ ...context, ...fields }` in the same key order. Not written as
 * `{ ...context, messageId }`: on Node 20 (V8 11) a spread followed by keys the source lacks builds a new hidden
 * class on every call, about a microsecond each, and these run on every message.
 *
 * @example
 * withFields({ provider: 'twilio' }, { messageId: 'SM1' }) // { provider: 'twilio', messageId: 'SM1' }
 */
export function withFields(context: LogContext, fields: LogContext): LogContext {
  return Object.assign({}, context, fields);
}

/** A logger that drops everything (the default). */
export const silentLogger: EngineLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** What a handler answers: status, headers (lower-case names) and the body text (`null`: none). */
export interface WebhookAnswer {
  status: number;
  headers: Record<string, string>;
  body: string | null;
}

// Statuses whose responses must not have a body (Fetch spec "null body status"); new Response('', 204) throws.
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * The web-standard `Response` of an answer.
 *
 * @example
 * toResponse(errorAnswer(403, 'invalid signature')).status // 403
 */
export function toResponse(answer: WebhookAnswer): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}

/**
 * A JSON error response: `{ "error": "<short>", "message": "<how to fix>" }`.
 *
 * @example
 * errorAnswer(403, 'invalid signature') // 403 {"error":"invalid signature"}
 */
export function errorAnswer(
  status: number,
  error: string,
  message?: string,
  headers: Record<string, string> = {},
): WebhookAnswer {
  const body = message === undefined ? { error } : { error, message };
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/**
 * A channel's `webhookResponse` as an answer.
 *
 * @example
 * render(twilio.webhookResponse(['Hi'], message)) // 200 text/xml <Response><Message>Hi</Message></Response>
 */
export function render(answer: { status: number; contentType: string; body: string }): WebhookAnswer {
  const body = NULL_BODY.has(answer.status) ? null : answer.body;
  return { status: answer.status, headers: { 'content-type': answer.contentType }, body };
}

/**
 * The channel's empty acknowledgement (no replies): what stops a provider from redelivering.
 *
 * @example
 * ack(vonage) // 200 text/plain ''
 */
export function ack(channel: ChannelAdapter): WebhookAnswer {
  return render(channel.webhookResponse([]));
}

/**
 * True for errors about the request itself (malformed message or number): retrying cannot help, so 400.
 *
 * @example
 * isClientError(new SmsflowError('SMSFLOW_ERR_INVALID_PHONE', '…')) // true
 */
export function isClientError(error: unknown): boolean {
  return (
    isSmsflowError(error, 'SMSFLOW_ERR_INVALID_MESSAGE') ||
    isSmsflowError(error, 'SMSFLOW_ERR_INVALID_PHONE') ||
    isSmsflowError(error, 'SMSFLOW_ERR_INVALID_WEBHOOK')
  );
}

/**
 * 503 + Retry-After for an engine failure (storage down, conflict retries exhausted, a bug): nothing was
 * stored, and Twilio/Plivo/Vonage/Bird redeliver on a non-2xx, so the message is not lost. The only 5xx the
 * handlers send.
 *
 * @example
 * engineFailure(new SmsflowError('SMSFLOW_ERR_STORAGE', 'down'), logger, { provider: 'twilio' }, 60) // 503
 */
export function engineFailure(
  error: unknown,
  logger: EngineLogger,
  context: LogContext,
  retryAfterSeconds: number,
): WebhookAnswer {
  const code = isSmsflowError(error) ? error.code : 'unknown';
  // Clipped: an unknown error's message could quote a message body.
  const message = (error instanceof Error ? error.message : String(error)).slice(0, 200);
  logger.error(
    withFields(context, { code, err: message }),
    'webhook not processed: asked the provider to retry',
  );
  return errorAnswer(503, 'temporarily unavailable', 'The message was not stored; send it again later.', {
    'retry-after': String(retryAfterSeconds),
  });
}
