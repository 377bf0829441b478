/**
 * The inbound handler's rate limits: one bucket per sender (stops a bot-to-bot auto-reply loop or a flood
 * from one number) and an optional global bucket. Compliance keywords (STOP, HELP, START, and plain-language
 * opt-outs) always pass: a message a limit would stop is let through when it is one (they take a token like any
 * message while tokens are left). An opt-out must never be dropped (CTIA; FCC 24-24 "any
 * reasonable means"). A failing store lets messages through: a limiter must not lose a customer's message.
 */
import { type ComplianceKeywords, detectCompliance } from '../core/compliance.js';
import type { InboundMessage } from '../core/types.js';
import type { EngineLogger } from '../engine/types.js';
import {
  createRateLimiter,
  memoryRateLimitStore,
  type RateLimiter,
  type RateLimitRule,
  type RateLimitStore,
  syncTakeOf,
  type TakeResult,
  validateRule,
} from './rate-limit.js';

/** Rate limits of an inbound webhook handler. */
export interface RateLimitOptions {
  /** Messages per sender (per channel). `false` turns it off. @default { points: 20, durationMs: 60000 } */
  perSender?: RateLimitRule | false;
  /** Messages from all senders of this handler (or of every handler sharing `store` and `keyPrefix`). @default false */
  global?: RateLimitRule | false;
  /** Where the buckets live; use `redisRateLimitStore(redis)` with several processes. @default memoryRateLimitStore() */
  store?: RateLimitStore;
  /** Prefix of bucket keys. @default 'smsflow:rl:' */
  keyPrefix?: string;
}

/** Which limit tripped and when to come back. */
export interface LimitVerdict {
  limit: 'per-sender' | 'global';
  retryAfterMs: number;
}

/** The compiled limits of one handler. */
export interface WebhookLimits {
  /**
   * `null` when the message may pass, else the tripped limit. Never throws, never rejects. Answers at once (no
   * promise) with the memory store.
   */
  check(
    message: InboundMessage,
    logger: EngineLogger,
    context: object,
  ): LimitVerdict | null | Promise<LimitVerdict | null>;
}

/** Default per-sender limit: 20 messages a minute, far above a person typing, far below a reply loop. */
export const DEFAULT_PER_SENDER: RateLimitRule = { points: 20, durationMs: 60_000 };

/**
 * Compiles {@link RateLimitOptions} for one provider's handler.
 *
 * @param provider - Channel name, part of the per-sender key (`sender:twilio:+14155550100`).
 * @param keywords - Compliance keywords that bypass the limits.
 * @throws SmsflowError `SMSFLOW_ERR_INVALID_CONFIG` for a bad rule.
 * @example
 * const limits = createLimits({ global: { points: 100, durationMs: 1000 } }, 'twilio');
 */
export function createLimits(
  options: RateLimitOptions,
  provider: string,
  keywords?: ComplianceKeywords,
): WebhookLimits {
  const store = options.store ?? memoryRateLimitStore();
  const keyPrefix = options.keyPrefix ?? 'smsflow:rl:';
  const make = (rule: RateLimitRule | false | undefined, where: string): RateLimiter | null =>
    rule === false || rule === undefined
      ? null
      : createRateLimiter({ ...validateRule(rule, where), store, keyPrefix });
  const perSender = make(options.perSender ?? DEFAULT_PER_SENDER, 'rateLimit.perSender');
  const global = make(options.global, 'rateLimit.global');
  const senderKey = (message: InboundMessage) => `sender:${provider}:${message.from}`;
  const tripped = (limit: LimitVerdict['limit'], r: TakeResult): LimitVerdict | null =>
    r.allowed ? null : { limit, retryAfterMs: r.retryAfterMs };
  const storeFailed = (logger: EngineLogger, context: object, error: unknown) =>
    logger.warn(
      { ...context, err: error instanceof Error ? error.message.slice(0, 200) : String(error) },
      'rate-limit store failed: message let through',
    );

  /** The limit the message trips, if any; a store failure lets it through. */
  const trips = async (
    message: InboundMessage,
    logger: EngineLogger,
    context: object,
  ): Promise<LimitVerdict | null> => {
    try {
      // Per sender first, so one flooding number is stopped before it spends the global budget.
      const verdict = perSender ? tripped('per-sender', await perSender.consume(senderKey(message))) : null;
      return verdict ?? (global ? tripped('global', await global.consume('global')) : null);
    } catch (error) {
      storeFailed(logger, context, error);
      return null;
    }
  };

  // The memory store answers synchronously: the same buckets and keys as the limiters above, no promises.
  const take = syncTakeOf(store);
  const tripsNow =
    take &&
    ((message: InboundMessage, logger: EngineLogger, context: object): LimitVerdict | null => {
      const nowMs = Date.now();
      try {
        const verdict = perSender
          ? tripped('per-sender', take(keyPrefix + senderKey(message), perSender.rule, nowMs))
          : null;
        return verdict ?? (global ? tripped('global', take(`${keyPrefix}global`, global.rule, nowMs)) : null);
      } catch (error) {
        storeFailed(logger, context, error);
        return null;
      }
    });

  /**
   * Only a message a limit would stop is read for compliance (most messages pass, and reading them all cost as
   * much as the limiter). optedOut: false keeps "YES" ordinary text here, so it is no way around the limit;
   * STOP/HELP/START and plain-language opt-outs always pass.
   */
  const unlessCompliance = (
    verdict: LimitVerdict | null,
    message: InboundMessage,
    logger: EngineLogger,
    context: object,
  ): LimitVerdict | null => {
    if (!verdict) return null;
    const compliance = detectCompliance(message.text, keywords, { optedOut: false });
    if (!compliance) return verdict;
    logger.debug(
      { ...context, intent: compliance.intent, limit: verdict.limit },
      'compliance text: passed a tripped rate limit',
    );
    return null;
  };

  return {
    check(message, logger, context) {
      if (tripsNow) return unlessCompliance(tripsNow(message, logger, context), message, logger, context);
      return trips(message, logger, context).then((verdict) =>
        unlessCompliance(verdict, message, logger, context),
      );
    },
  };
}
