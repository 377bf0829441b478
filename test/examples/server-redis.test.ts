import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twilioSignature } from '../../src/adapters/channels/twilio.js';
import { type Served, serveApp } from './server-helpers.js';

const REDIS_URL = process.env.REDIS_URL;
const TOKEN = 'redis-test-token';

describe.skipIf(!REDIS_URL)(
  `${REDIS_URL ? '' : '[because REDIS_URL is not set] '}host app with REDIS_URL`,
  () => {
    let served: Served;
    let redis: Redis;
    beforeAll(async () => {
      served = await serveApp({ redisUrl: REDIS_URL!, env: { TWILIO_AUTH_TOKEN: TOKEN } });
      redis = new Redis(REDIS_URL!);
    });
    afterAll(async () => {
      await served?.close();
      await redis?.quit();
    });

    it('keeps webhook rate-limit buckets in Redis, so several processes count one sender together', async () => {
      const from = `+1415555${String(Math.floor(Math.random() * 9000) + 1000)}`;
      const params = {
        MessageSid: `SM${randomUUID().replace(/-/g, '')}`,
        From: from,
        To: '+14155550199',
        Body: 'HELP',
        AccountSid: 'AC1',
      };
      const multi = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, [v]]));
      const res = await fetch(`${served.base}/webhooks/twilio`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilioSignature(TOKEN, 'https://sms.example.test/webhooks/twilio', multi),
        },
        body: new URLSearchParams(params).toString(),
      });
      expect(res.status).toBe(200);
      // HELP bypasses the limiter (compliance is never rate-limited), so send an ordinary text too.
      const params2 = { ...params, MessageSid: `SM${randomUUID().replace(/-/g, '')}`, Body: 'book' };
      const multi2 = Object.fromEntries(Object.entries(params2).map(([k, v]) => [k, [v]]));
      const res2 = await fetch(`${served.base}/webhooks/twilio`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilioSignature(TOKEN, 'https://sms.example.test/webhooks/twilio', multi2),
        },
        body: new URLSearchParams(params2).toString(),
      });
      expect(res2.status).toBe(200);
      const keys = await redis.keys('smsflow:rl:*');
      expect(keys.some((k) => k.includes(from))).toBe(true);
    });
  },
);
