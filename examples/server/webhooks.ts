/**
 * Provider webhooks: POST /webhooks/<provider> (inbound) and /webhooks/<provider>/status (delivery reports).
 * A provider is enabled when its signing secret is set; otherwise its routes answer 503 with the variable to
 * set. The routes are the library's webhook handlers (src/http); verification uses PUBLIC_URL + path (never
 * the Host header: a proxy rewrites it, and the provider signed the URL it called).
 */
import type { Context, Hono } from 'hono';
import type { Logger } from 'pino';
import { messagebirdChannel } from '../../src/adapters/channels/messagebird.js';
import { plivoChannel } from '../../src/adapters/channels/plivo.js';
import { twilioChannel } from '../../src/adapters/channels/twilio.js';
import type { ChannelAdapter } from '../../src/adapters/channels/types.js';
import { createConcatBuffer, vonageChannel } from '../../src/adapters/channels/vonage.js';
import type { Engine, EngineLogger } from '../../src/engine/types.js';
import type { RateLimitStore } from '../../src/http/rate-limit.js';
import {
  createInboundHandler,
  createStatusHandler,
  type WebhookHandlerOptions,
} from '../../src/http/webhook-handler.js';

/** Providers the host app mounts, with the env variable that enables each. */
export const providerSecrets = {
  twilio: 'TWILIO_AUTH_TOKEN',
  vonage: 'VONAGE_SIGNATURE_SECRET',
  plivo: 'PLIVO_AUTH_TOKEN',
  messagebird: 'MESSAGEBIRD_SIGNING_KEY',
} as const;

/** A provider name the host app knows. */
export type ProviderName = keyof typeof providerSecrets;

/**
 * Builds the channel adapters whose secret is set in `env`. Sending needs the account variables too; without
 * them the adapter still verifies and parses webhooks, and sends fail with the adapter's own error.
 *
 * @param env - Usually `process.env`.
 * @returns Adapters by provider name (only the enabled ones).
 * @example
 * const providers = providersFromEnv({ TWILIO_AUTH_TOKEN: 'x' }); // { twilio }
 */
export function providersFromEnv(
  env: Record<string, string | undefined>,
): Partial<Record<ProviderName, ChannelAdapter>> {
  const out: Partial<Record<ProviderName, ChannelAdapter>> = {};
  if (env.TWILIO_AUTH_TOKEN)
    out.twilio = twilioChannel({
      authToken: env.TWILIO_AUTH_TOKEN,
      ...(env.TWILIO_ACCOUNT_SID ? { accountSid: env.TWILIO_ACCOUNT_SID } : {}),
      ...(env.TWILIO_FROM ? { from: env.TWILIO_FROM } : {}),
      ...(env.TWILIO_MESSAGING_SERVICE_SID ? { messagingServiceSid: env.TWILIO_MESSAGING_SERVICE_SID } : {}),
    });
  if (env.VONAGE_SIGNATURE_SECRET)
    out.vonage = vonageChannel({
      apiKey: env.VONAGE_API_KEY ?? 'unset',
      apiSecret: env.VONAGE_API_SECRET ?? 'unset',
      signatureSecret: env.VONAGE_SIGNATURE_SECRET,
      signatureMethod: (env.VONAGE_SIGNATURE_METHOD as 'sha256' | undefined) ?? 'md5hash',
      from: env.VONAGE_FROM ?? 'unset',
    });
  if (env.PLIVO_AUTH_TOKEN)
    out.plivo = plivoChannel({
      authId: env.PLIVO_AUTH_ID ?? 'unset',
      authToken: env.PLIVO_AUTH_TOKEN,
      ...(env.PLIVO_FROM ? { from: env.PLIVO_FROM } : {}),
    });
  if (env.MESSAGEBIRD_SIGNING_KEY)
    out.messagebird = messagebirdChannel({
      signingKey: env.MESSAGEBIRD_SIGNING_KEY,
      accessKey: env.MESSAGEBIRD_ACCESS_KEY ?? 'unset',
      originator: env.MESSAGEBIRD_ORIGINATOR ?? 'unset',
    });
  return out;
}

/** The engine calls the handlers make, resolved per request (the rules page may swap engines). */
function engineProxy(engine: () => Engine): WebhookHandlerOptions['engine'] {
  return {
    handleInbound: (message, handleOptions) => engine().handleInbound(message, handleOptions),
    handleStatus: (status) => engine().handleStatus(status),
  };
}

/**
 * Mounts the webhook routes on `app`: the library's handlers ({@link createInboundHandler},
 * {@link createStatusHandler}), so the host app gets their body limit (413), rate limits (STOP always passes),
 * signature checks (403, nothing stored), malformed-input answers (400) and 503 + Retry-After when storage is
 * down (docs/http.md). Hono hands the web-standard request over as is (`c.req.raw`).
 *
 * @param app - The Hono app.
 * @param options - Engine getter (the rules page may swap engines), enabled providers, public URL, logger.
 * @example
 * mountWebhooks(app, { engine: () => engine, providers, publicUrl: 'https://sms.example.com', logger });
 */
export function mountWebhooks(
  app: Hono,
  options: {
    engine: () => Engine;
    providers: Partial<Record<ProviderName, ChannelAdapter>>;
    publicUrl: string;
    logger: Logger;
    /** Shared rate-limit buckets (Redis when several processes serve webhooks). @default in memory */
    rateLimitStore?: RateLimitStore;
    /** Largest body, the app's one limit (its middleware refuses larger ones first). @default 65536 */
    maxBodyBytes?: number;
  },
): void {
  const { providers, publicUrl } = options;
  const engine = engineProxy(options.engine);
  const logger: EngineLogger = options.logger.child({ component: 'webhooks' });
  // Vonage's SMS API delivers long messages in parts; one process holds them until complete.
  const multipart = createConcatBuffer({ ttlMs: 3_600_000 });
  const base = publicUrl.replace(/\/+$/, '');

  for (const name of Object.keys(providerSecrets) as ProviderName[]) {
    const inboundPath = `/webhooks/${name}`;
    const statusPath = `/webhooks/${name}/status`;
    const adapter = providers[name];
    if (!adapter) {
      const disabled = (c: Context) =>
        c.json(
          {
            error: 'provider_not_configured',
            message: `The ${name} webhook is off: set ${providerSecrets[name]} (see docs/deploying.md) and restart.`,
          },
          503,
        );
      app.on(['GET', 'POST'], inboundPath, disabled);
      app.on(['GET', 'POST'], statusPath, disabled);
      continue;
    }
    // Signatures cover the URL the provider called: PUBLIC_URL + path, never the Host header.
    const common = {
      engine,
      channel: adapter,
      logger,
      ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
    };
    const rateLimit = options.rateLimitStore ? { store: options.rateLimitStore } : undefined;
    const inbound = createInboundHandler({
      ...common,
      publicUrl: base + inboundPath,
      ...(adapter.capabilities.multipart ? { multipart } : {}),
      ...(rateLimit ? { rateLimit } : {}),
    });
    const status = createStatusHandler({ ...common, publicUrl: base + statusPath });
    app.on(['GET', 'POST'], inboundPath, (c) => inbound(c.req.raw));
    app.on(['GET', 'POST'], statusPath, (c) => status(c.req.raw));
  }
}
