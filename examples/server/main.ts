/**
 * Entry point of the host app (`npm start`): reads the environment, builds the app and serves it with
 * @hono/node-server. See docs/host-app.md for every variable.
 */
import { serve } from '@hono/node-server';
import pino from 'pino';
import { createApp } from './app.js';

const port = Number(process.env.PORT ?? 3000);
const publicUrl = (process.env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });

const host = await createApp({
  publicUrl,
  dbPath: process.env.SMSFLOW_DB ?? './data/smsflow.db',
  ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
  ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
  env: process.env,
  logger,
  ...(process.env.SMSFLOW_ADMIN_EMAIL ? { adminEmail: process.env.SMSFLOW_ADMIN_EMAIL } : {}),
  ...(process.env.SMSFLOW_ADMIN_PASSWORD ? { adminPassword: process.env.SMSFLOW_ADMIN_PASSWORD } : {}),
  ...(process.env.WEBCHAT_SECRET ? { webchatSecret: process.env.WEBCHAT_SECRET } : {}),
  ...(process.env.BUSINESS_NUMBER ? { businessNumber: process.env.BUSINESS_NUMBER } : {}),
  trustProxy: process.env.TRUST_PROXY === '1',
});

const server = serve({ fetch: host.app.fetch, port }, () => {
  logger.info({ port, publicUrl, storage: host.storage.name }, 'smsflow host app listening');
  // Plain console lines: the first thing a person running `npm start` needs to see.
  console.log(`\n  Phone simulator:  ${publicUrl}/simulator`);
  console.log(`  Agent dashboard:  ${publicUrl}/`);
  if (host.bootstrap?.password) {
    // Printed once, never logged through pino (logs are shipped elsewhere); set SMSFLOW_ADMIN_PASSWORD to choose it.
    console.log(`  First admin:      ${host.bootstrap.email} / ${host.bootstrap.password}  (shown once)`);
  } else if (host.bootstrap) {
    console.log(`  First admin:      ${host.bootstrap.email} (password from SMSFLOW_ADMIN_PASSWORD)`);
  }
  console.log('');
});

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  server.close();
  await host.close();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
