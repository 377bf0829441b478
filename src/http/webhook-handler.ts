/**
 * Provider webhooks as web-standard `Request → Response` handlers: inbound messages and delivery status
 * callbacks. Every request ends in a deliberate status (docs/http.md has the table): 405 wrong method,
 * 413 body too large, 415 wrong content type, 403 bad signature (nothing stored), 400 malformed, 429/200 rate
 * limited, 503 + Retry-After when the engine could not store the message (the provider redelivers), else 200
 * with the channel's answer. Nothing throws out of a handler; nothing is logged with a secret or a full body.
 */
import type { ChannelAdapter, ParsedStatus, WebhookRequest } from '../adapters/channels/types.js';
import { type ConcatBuffer, createConcatBuffer } from '../adapters/channels/vonage.js';
import type { ComplianceKeywords } from '../core/compliance.js';
import { isSmsflowError, SmsflowError } from '../core/errors.js';
import type { InboundMessage } from '../core/types.js';
import { maskPhone } from '../engine/redact.js';
import type { Engine, EngineLogger } from '../engine/types.js';
import { createLimits, type RateLimitOptions, type WebhookLimits } from './limits.js';
import { DEFAULT_MAX_BODY_BYTES } from './read-body.js';
import {
  ack,
  engineFailure,
  errorAnswer,
  isClientError,
  type LogContext,
  render,
  silentLogger,
  toResponse,
  type WebhookAnswer,
  withFields,
} from './responses.js';
import {
  basePublicUrl,
  contentTypeProblem,
  fromRequest,
  type IncomingWebhook,
  providerContentTypes,
  toWebhookRequest,
} from './webhook-request.js';

export type { RateLimitOptions } from './limits.js';

/** Options of {@link createInboundHandler} and {@link createStatusHandler}. */
export interface WebhookHandlerOptions {
  /** The engine (only `handleInbound` and `handleStatus` are called). */
  engine: Pick<Engine, 'handleInbound' | 'handleStatus'>;
  /**
   * The provider's adapter. Several adapters of the same provider (the new secret first, then the old one)
   * accept a request when any one verifies it: how to rotate a secret without dropping webhooks (docs/security.md).
   */
  channel?: ChannelAdapter | readonly ChannelAdapter[];
  /** Same as `channel` with several adapters; use one of the two. */
  channels?: readonly ChannelAdapter[];
  /** The URL the provider calls, as set in its console; signatures cover it. The request's query string is appended. */
  publicUrl: string;
  /** Largest body accepted (bytes); larger gets 413. @default 65536 */
  maxBodyBytes?: number;
  /** Send replies in the webhook response (TwiML, Plivo XML). @default channel.capabilities.syncReply */
  syncReply?: boolean;
  /** Per-sender and global limits on inbound messages; `false` turns them off. @default { perSender: { points: 20, durationMs: 60000 } } */
  rateLimit?: RateLimitOptions | false;
  /** On a tripped limit: `'retry'` answers 429 + Retry-After (providers that retry on 429), `'drop'` answers the empty ack and logs the drop. @default 'drop' */
  onLimit?: 'retry' | 'drop';
  /** Keywords that always pass the rate limit (opt-outs must never be dropped). @default defaultComplianceKeywords */
  complianceKeywords?: ComplianceKeywords;
  /** @default a silent logger */
  logger?: EngineLogger;
  /** @default () => new Date() */
  clock?: () => Date;
  /** Buffer for multi-part inbound (Vonage concat); `false` processes each part alone. @default createConcatBuffer() when the channel has `capabilities.multipart` */
  multipart?: Pick<ConcatBuffer, 'add'> | false;
  /** Accepted body content types. @default the provider's (`providerContentTypes`), else form and JSON */
  contentTypes?: readonly string[];
  /** `Retry-After` (seconds) sent with 503 when the engine failed. @default 60 */
  retryAfterSeconds?: number;
}

/** A web-standard handler: mount it anywhere that speaks `Request`/`Response` (Hono, Bun, Deno, workers). */
export type WebhookHandler = (request: Request) => Promise<Response>;

/** A handler's transport-neutral core: what {@link WebhookHandler} wraps in `Request`/`Response`. */
export type WebhookCore = (incoming: IncomingWebhook) => Promise<WebhookAnswer>;

/**
 * Where a handler made here keeps its core, so `toNodeListener` can call it with Node's request as it is,
 * without building a web `Request` and `Response` around every webhook (a large share of a webhook's cost).
 */
export const webhookCore: unique symbol = Symbol.for('smsflow.webhookCore');

/**
 * The core of a handler made by {@link createInboundHandler} or {@link createStatusHandler}, if it is one.
 *
 * @example
 * coreOf(createInboundHandler({ engine, channel, publicUrl })) // a function; coreOf(async () => r) is undefined
 */
export function coreOf(handler: WebhookHandler): WebhookCore | undefined {
  const core = (handler as WebhookHandler & { [webhookCore]?: unknown })[webhookCore];
  return typeof core === 'function' ? (core as WebhookCore) : undefined;
}

function handlerOf(core: WebhookCore): WebhookHandler {
  const handler: WebhookHandler = async (request) => {
    let incoming: IncomingWebhook;
    try {
      incoming = fromRequest(request);
    } catch {
      // Not a Request at all (a host's mistake): answered, never thrown.
      return toResponse(errorAnswer(400, 'invalid request'));
    }
    return toResponse(await core(incoming));
  };
  Object.defineProperty(handler, webhookCore, { value: core });
  return handler;
}

interface Setup {
  channels: readonly ChannelAdapter[];
  base: string;
  maxBodyBytes: number;
  accepted: readonly string[];
  logger: EngineLogger;
  clock: () => Date;
  retryAfterSeconds: number;
}

function configError(message: string): SmsflowError {
  return new SmsflowError('SMSFLOW_ERR_INVALID_CONFIG', message);
}

function setup(options: WebhookHandlerOptions, fn: string): Setup {
  if (!options || typeof options !== 'object') throw configError(`${fn}: options are required.`);
  const engine = options.engine as Partial<WebhookHandlerOptions['engine']> | undefined;
  if (!engine || typeof engine.handleInbound !== 'function' || typeof engine.handleStatus !== 'function') {
    throw configError(`${fn}: option engine must be an Engine (createEngine({ … })).`);
  }
  if (options.channel !== undefined && options.channels !== undefined) {
    throw configError(`${fn}: pass channel or channels, not both (channels: [newSecret, oldSecret]).`);
  }
  const given = options.channels ?? options.channel;
  const channels: readonly ChannelAdapter[] = Array.isArray(given)
    ? given
    : given
      ? [given as ChannelAdapter]
      : [];
  if (channels.length === 0 || channels.some((c) => !c || typeof c.verify !== 'function')) {
    throw configError(
      `${fn}: option channel must be a channel adapter (e.g. twilioChannel({ … })) or a non-empty array of them.`,
    );
  }
  const name = channels[0]!.name;
  const other = channels.find((c) => c.name !== name);
  if (other) {
    throw configError(
      `${fn}: all channels must be the same provider (received ${JSON.stringify(name)} and ${JSON.stringify(other.name)}). Several adapters are for secret rotation; mount one handler per provider.`,
    );
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw configError(`${fn}: maxBodyBytes must be a positive integer (received ${String(maxBodyBytes)}).`);
  }
  const retryAfterSeconds = options.retryAfterSeconds ?? 60;
  if (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 0) {
    throw configError(
      `${fn}: retryAfterSeconds must be a non-negative integer (received ${String(retryAfterSeconds)}).`,
    );
  }
  return {
    channels,
    base: basePublicUrl(options.publicUrl),
    maxBodyBytes,
    accepted: options.contentTypes ??
      providerContentTypes[name] ?? ['application/x-www-form-urlencoded', 'application/json'],
    logger: options.logger ?? silentLogger,
    clock: options.clock ?? (() => new Date()),
    retryAfterSeconds,
  };
}

type Verified = { webhook: WebhookRequest; channel: ChannelAdapter; now: Date };

/** Method, body, content type, signature: the checks both handlers share. An answer means "stop here". */
async function admit(
  incoming: IncomingWebhook,
  s: Setup,
  log: LogContext,
): Promise<Verified | WebhookAnswer> {
  const method = incoming.method;
  if (method !== 'POST' && method !== 'GET') {
    s.logger.warn(withFields(log, { method }), 'webhook refused: method not allowed');
    return errorAnswer(
      405,
      'method not allowed',
      `Use POST (or GET where the provider sends GET), not ${method}.`,
      {
        allow: 'GET, POST',
      },
    );
  }
  let body: string;
  try {
    body = method === 'GET' ? '' : await incoming.readBody(s.maxBodyBytes);
  } catch (error) {
    const tooLarge = isSmsflowError(error, 'SMSFLOW_ERR_PAYLOAD_TOO_LARGE');
    s.logger.warn(
      withFields(log, { code: isSmsflowError(error) ? error.code : 'unknown' }),
      'webhook refused: body unreadable',
    );
    return errorAnswer(
      tooLarge ? 413 : 400,
      tooLarge ? 'payload too large' : 'invalid body',
      messageOf(error),
    );
  }
  const webhook = toWebhookRequest(incoming, s.base, body);
  const now = s.clock();
  const reasons: string[] = [];
  for (const [index, channel] of s.channels.entries()) {
    let reason: string;
    try {
      const result = channel.verify(webhook, now);
      if (result.ok) {
        // secretIndex > 0: the old secret still in use; when it stops appearing the rotation can be finished.
        if (index > 0)
          s.logger.info(withFields(log, { secretIndex: index }), 'webhook verified with a previous secret');
        // Content type only after the signature: an unauthenticated caller learns nothing about the provider.
        const contentType = incoming.headers['content-type'] ?? null;
        const problem = contentTypeProblem(contentType, body, s.accepted);
        if (problem) {
          s.logger.warn(withFields(log, { contentType }), 'webhook refused: content type');
          return errorAnswer(415, 'unsupported media type', problem);
        }
        return { webhook, channel, now };
      }
      reason = result.reason;
    } catch {
      reason = 'verify threw';
    }
    reasons.push(reason);
  }
  // The reasons say what failed (missing header, stale, mismatch), never the secret or the expected value.
  s.logger.warn(withFields(log, { reasons }), 'webhook refused: invalid signature');
  return errorAnswer(403, 'invalid signature');
}

function messageOf(error: unknown): string {
  return error instanceof Error
    ? error.message.replace(/^\[smsflow\] /, '')
    : 'The request could not be read.';
}

/**
 * Creates the inbound-message webhook handler: verify → parse → (reassemble parts) → rate limit (compliance
 * keywords always pass) → `engine.handleInbound` → the channel's answer, with the replies when `syncReply`.
 * A provider retry of the same message gets the same replies (the engine returns what it recorded).
 *
 * @param options - Engine, channel adapter(s), public URL and limits; see {@link WebhookHandlerOptions}.
 * @returns A `(Request) => Promise<Response>` that never rejects.
 * @throws SmsflowError `SMSFLOW_ERR_INVALID_CONFIG` at creation for bad options (never per request).
 * @example
 * const inbound = createInboundHandler({ engine, channel: twilio, publicUrl: 'https://bot.example.com/sms' });
 * http.createServer(toNodeListener(inbound)).listen(3000);
 */
export function createInboundHandler(options: WebhookHandlerOptions): WebhookHandler {
  const s = setup(options, 'createInboundHandler');
  const first = s.channels[0]!;
  const syncReply = options.syncReply ?? first.capabilities.syncReply;
  if (syncReply && !first.capabilities.syncReply) {
    throw configError(
      `createInboundHandler: syncReply is true but the ${first.name} channel cannot reply in the webhook response; replies would be lost. Leave syncReply unset.`,
    );
  }
  const multipart =
    options.multipart === false
      ? null
      : (options.multipart ?? (first.capabilities.multipart ? createConcatBuffer() : null));
  const limits: WebhookLimits | null =
    options.rateLimit === false
      ? null
      : createLimits(options.rateLimit ?? {}, first.name, options.complianceKeywords);
  const onLimit = options.onLimit ?? 'drop';
  if (onLimit !== 'retry' && onLimit !== 'drop') {
    throw configError(
      `createInboundHandler: onLimit must be 'retry' or 'drop' (received ${JSON.stringify(onLimit)}).`,
    );
  }
  const engine = options.engine;

  return handlerOf(async (incoming) => {
    const log: LogContext = { provider: first.name, route: 'inbound' };
    try {
      const admitted = await admit(incoming, s, log);
      if (!('webhook' in admitted)) return admitted;
      const { webhook, channel, now } = admitted;
      let message: InboundMessage | null;
      try {
        const parsed = channel.parseInbound(webhook, now);
        if (parsed.kind === 'ignored') {
          s.logger.info(withFields(log, { reason: parsed.reason }), 'webhook ignored');
          return ack(channel);
        }
        message = parsed.kind === 'part' && multipart ? multipart.add(parsed, now) : parsed.message;
        if (!message) {
          s.logger.info(withFields(log, { messageId: parsed.message.id }), 'message part buffered');
          return ack(channel);
        }
      } catch (error) {
        s.logger.warn(
          withFields(log, { code: isSmsflowError(error) ? error.code : 'unknown' }),
          'webhook refused: malformed',
        );
        return errorAnswer(400, 'invalid webhook', messageOf(error));
      }
      const who = withFields(log, { messageId: message.id, from: maskPhone(message.from) });
      if (limits) {
        const checked = limits.check(message, s.logger, who);
        const verdict = checked instanceof Promise ? await checked : checked;
        if (verdict) {
          if (onLimit === 'retry') {
            s.logger.warn(
              withFields(who, { limit: verdict.limit }),
              'rate limited: asked the provider to retry',
            );
            return errorAnswer(429, 'rate limited', `Too many messages (${verdict.limit} limit).`, {
              'retry-after': String(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))),
            });
          }
          s.logger.warn(withFields(who, { limit: verdict.limit }), 'rate limited: message dropped');
          return ack(channel);
        }
      }
      let texts: string[];
      try {
        const result = await engine.handleInbound(message, { syncReply });
        texts = syncReply ? result.replies.map((r) => r.text) : [];
        s.logger.info(
          withFields(who, { replies: result.replies.length, duplicate: result.duplicate }),
          'inbound handled',
        );
      } catch (error) {
        if (isClientError(error)) {
          s.logger.warn(
            withFields(who, { code: (error as SmsflowError).code }),
            'inbound refused by the engine',
          );
          return errorAnswer(400, 'invalid message', messageOf(error));
        }
        return engineFailure(error, s.logger, who, s.retryAfterSeconds);
      }
      return render(channel.webhookResponse(texts, message));
    } catch (error) {
      return engineFailure(error, s.logger, log, s.retryAfterSeconds);
    }
  });
}

/**
 * Creates the delivery-status webhook handler: verify → `parseStatus` → `engine.handleStatus` → 200 ack.
 * A status for a message the engine does not know is acknowledged (and logged), so the provider stops.
 *
 * @param options - Engine, channel adapter(s) and public URL; rate limits do not apply to status callbacks.
 * @returns A `(Request) => Promise<Response>` that never rejects.
 * @example
 * const status = createStatusHandler({ engine, channel: twilio, publicUrl: 'https://bot.example.com/sms/status' });
 */
export function createStatusHandler(options: WebhookHandlerOptions): WebhookHandler {
  const s = setup(options, 'createStatusHandler');
  const first = s.channels[0]!;
  const engine = options.engine;
  return handlerOf(async (incoming) => {
    const log: LogContext = { provider: first.name, route: 'status' };
    try {
      const admitted = await admit(incoming, s, log);
      if (!('webhook' in admitted)) return admitted;
      const { webhook, channel } = admitted;
      let status: ParsedStatus;
      try {
        status = channel.parseStatus(webhook);
      } catch (error) {
        s.logger.warn(
          withFields(log, { code: isSmsflowError(error) ? error.code : 'unknown' }),
          'status refused: malformed',
        );
        return errorAnswer(400, 'invalid webhook', messageOf(error));
      }
      const what = withFields(log, { providerMessageId: status.providerMessageId, status: status.status });
      try {
        const updated = await engine.handleStatus(status);
        if (updated) s.logger.info(what, 'status applied');
        else s.logger.info(what, 'status for an unknown message acknowledged');
      } catch (error) {
        if (isClientError(error)) {
          s.logger.warn(
            withFields(what, { code: (error as SmsflowError).code }),
            'status refused by the engine',
          );
          return errorAnswer(400, 'invalid status', messageOf(error));
        }
        return engineFailure(error, s.logger, what, s.retryAfterSeconds);
      }
      return ack(channel);
    } catch (error) {
      return engineFailure(error, s.logger, log, s.retryAfterSeconds);
    }
  });
}
