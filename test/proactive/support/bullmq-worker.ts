// A worker process for the BullMQ multi-process test: counts each job it runs in Redis. A job with
// payload.slowMs sleeps on its first run (so the test can SIGKILL the process mid-job) and completes on a rerun.
import { Redis } from 'ioredis';
import { bullmqScheduler } from '../../../src/adapters/scheduler/bullmq.js';

const url = process.env.REDIS_URL!;
const queueName = process.env.QUEUE!;
const redis = new Redis(url);
const scheduler = bullmqScheduler({ connection: { url }, queueName, concurrency: 20, lockDurationMs: 2000 });
await scheduler.start(async (job) => {
  const runs = await redis.incr(`${queueName}:runs:${job.id}`);
  if (typeof job.payload.slowMs === 'number' && runs === 1) {
    await redis.set(`${queueName}:started:${job.id}`, String(process.pid));
    await new Promise((r) => setTimeout(r, job.payload.slowMs as number));
  }
  await redis
    .multi()
    .incr(`${queueName}:total`)
    .sadd(`${queueName}:done`, job.id)
    .hset(`${queueName}:by`, job.id, String(process.pid))
    .exec();
});
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void scheduler
    .stop()
    .then(() => redis.quit())
    .then(() => process.exit(0));
});
