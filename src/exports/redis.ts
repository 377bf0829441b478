/** `smsflow/redis`: Redis storage (ioredis). */
export { type RedisStorageOptions, redisStorage } from '../adapters/storage/redis.js';
