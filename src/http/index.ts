/**
 * Web-standard webhook handlers (`Request → Response`) for every channel adapter, a Node listener adapter,
 * and the token-bucket rate limiter they use. See docs/http.md (mounting) and docs/security.md.
 */
export { DEFAULT_PER_SENDER, type LimitVerdict, type RateLimitOptions } from './limits.js';
export { toNodeListener } from './node-listener.js';
export {
  type BucketState,
  createRateLimiter,
  type MemoryRateLimitStoreOptions,
  memoryRateLimitStore,
  type RateLimiter,
  type RateLimiterOptions,
  type RateLimitRule,
  type RateLimitStore,
  type TakeResult,
  takeToken,
} from './rate-limit.js';
export { DEFAULT_MAX_BODY_BYTES, readBody } from './read-body.js';
export {
  type RedisEvalClient,
  type RedisRateLimitStoreOptions,
  redisRateLimitStore,
} from './redis-rate-limit.js';
export {
  createInboundHandler,
  createStatusHandler,
  type WebhookHandler,
  type WebhookHandlerOptions,
} from './webhook-handler.js';
export { providerContentTypes } from './webhook-request.js';
