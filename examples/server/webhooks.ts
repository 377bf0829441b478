/**
 * Provider webhooks: POST /webhooks/<provider> (inbound) and /webhooks/<provider>/status (delivery reports).
 * A provider is enabled when its signing secret is set; otherwise its routes answer 503 with the variable to
 * set. Verification uses PUBLIC_URL + path (never the Host header: a proxy rewrites it, and the provider signed
 * the URL it called).
 */
import type { Context, Hono } from 'hono';
import type { Logger } from 'pino';
import { messagebirdChannel } from '../../src/adapters/channels/messagebird.js';
import { plivoChannel } from '../../src/adapters/channels/plivo.js';
import { twilioChannel } from '../../src/adapters/channels/twilio.js';
import type { ChannelAdapter, WebhookRequest } from '../../src/adapters/channels/types.js';
import { createConcatBuffer, vonageChannel } from '../../src/adapters/channels/vonage.js';
import type { Engine } from '../../src/engine/types.js';

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

/** Reads a Hono request into the adapter's {@link WebhookRequest}, with the public URL the provider called. */
async function toWebhookRequest(c: Context, publicUrl: string): Promise<WebhookRequest> {
  const url = new URL(c.req.url);
  const headers: Record<string, string> = {};
  c.req.raw.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  const body = c.req.method === 'GET' ? '' : await c.req.text();
  return { method: c.req.method, url: `${publicUrl}${url.pathname}${url.search}`, headers, body };
}

/**
 * Mounts the webhook routes on `app`.
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
  },
): void {
  const { providers, publicUrl, logger } = options;
  // Vonage's SMS API delivers long messages in parts; one process holds them until complete.
  const parts = createConcatBuffer({ ttlMs: 3_600_000 });

  for (const name of Object.keys(providerSecrets) as ProviderName[]) {
    const disabled = (c: Context) =>
      c.json(
        {
          error: 'provider_not_configured',
          message: `The ${name} webhook is off: set ${providerSecrets[name]} (see docs/deploying.md) and restart.`,
        },
        503,
      );
    const adapter = providers[name];
    if (!adapter) {
      app.post(`/webhooks/${name}`, disabled);
      app.post(`/webhooks/${name}/status`, disabled);
      continue;
    }

    app.post(`/webhooks/${name}`, async (c) => {
      const request = await toWebhookRequest(c, publicUrl);
      const now = new Date();
      const verified = adapter.verify(request, now);
      if (!verified.ok) {
        // The reason is for our logs only: telling a caller why a signature failed helps forgers.
        logger.warn({ provider: name, reason: verified.reason }, 'webhook refused: bad signature');
        return c.json({ error: 'invalid_signature' }, 403);
      }
      let parsed: ReturnType<ChannelAdapter['parseInbound']>;
      try {
        parsed = adapter.parseInbound(request, now);
      } catch (error) {
        logger.warn({ provider: name, err: String(error) }, 'webhook refused: malformed');
        return c.json({ error: 'invalid_webhook' }, 400);
      }
      const message =
        parsed.kind === 'message' ? parsed.message : parsed.kind === 'part' ? parts.add(parsed, now) : null;
      const ack = adapter.webhookResponse([]);
      if (!message) return c.body(ack.body, ack.status as 200, { 'content-type': ack.contentType });
      const result = await options
        .engine()
        .handleInbound(message, { syncReply: adapter.capabilities.syncReply });
      const texts = adapter.capabilities.syncReply ? result.replies.map((r) => r.text) : [];
      const response = adapter.webhookResponse(texts, message);
      return c.body(response.body, response.status as 200, { 'content-type': response.contentType });
    });

    app.post(`/webhooks/${name}/status`, async (c) => {
      const request = await toWebhookRequest(c, publicUrl);
      if (!adapter.verify(request, new Date()).ok) return c.json({ error: 'invalid_signature' }, 403);
      try {
        await options.engine().handleStatus(adapter.parseStatus(request));
      } catch (error) {
        logger.warn({ provider: name, err: String(error) }, 'status callback refused: malformed');
        return c.json({ error: 'invalid_webhook' }, 400);
      }
      return c.body(null, 204);
    });
  }
}
