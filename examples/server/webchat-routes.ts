/**
 * Web chat routes used by the phone simulator (and any chat widget): a session with a bearer token, turns as
 * JSON, replies and delivery states streamed back as server-sent events from the {@link WebchatHub}, and a
 * web-form opt-in to reminder texts.
 */
import { randomUUID } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { ChannelAdapter, WebhookRequest } from '../../src/adapters/channels/types.js';
import { createWebchatToken, type WebchatHub } from '../../src/adapters/channels/webchat.js';
import { tryNormalizePhone } from '../../src/core/phone.js';
import type { Engine, EngineChange } from '../../src/engine/types.js';
import { recordOptIn } from '../../src/proactive/opt-in.js';

/** The disclosure the simulator shows beside its reminders box; recorded with the opt-in (TCPA, CTIA). */
export const REMINDER_DISCLOSURE =
  'Text me appointment reminders from Bella Salon. Msg frequency varies. Msg & data rates may apply. Reply HELP for help, STOP to end.';

const sessionBody = z.object({ phone: z.string().min(1).max(40) });
const optInBody = z.object({ sessionId: z.string().min(1).max(128), phone: z.string().min(1).max(40) });

type Parsed<T> = { ok: true; data: T } | { ok: false; response: Response };

/** Reads a JSON body against `schema`: malformed JSON and wrong shapes are 400s that say what was wrong. */
async function jsonBody<T>(c: Context, schema: z.ZodType<T>): Promise<Parsed<T>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await c.req.text());
  } catch {
    return {
      ok: false,
      response: c.json(
        { error: 'invalid_json', message: 'The body is not JSON. Send {"phone":"+14155550100"}.' },
        400,
      ),
    };
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, data: parsed.data };
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
  return { ok: false, response: c.json({ error: 'invalid_body', message: problems.slice(0, 300) }, 400) };
}

/** What the web chat routes need from the app. */
export interface WebchatRouteOptions {
  engine: () => Engine;
  adapter: ChannelAdapter;
  hub: WebchatHub;
  secret: string;
  /** The business number the simulator texts. */
  businessNumber: string;
  /** Subscribes to engine changes across engine swaps. */
  onChange: (listener: (change: EngineChange) => void) => () => void;
}

async function toRequest(c: Context): Promise<WebhookRequest> {
  const headers: Record<string, string> = {};
  c.req.raw.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  return { method: c.req.method, url: c.req.url, headers, body: await c.req.text() };
}

/** True when `token` is the one {@link createWebchatToken} made for this session and phone. */
function tokenMatches(token: string, sessionId: string, phone: string, secret: string): boolean {
  const iat = /^v1p\.(\d{1,12})\./.exec(token)?.[1];
  if (!iat || sessionId.length === 0 || sessionId.length > 128) return false;
  const expected = createWebchatToken(sessionId, secret, { phone, issuedAt: new Date(Number(iat) * 1000) });
  return expected === token;
}

/**
 * Mounts POST /webchat/session, POST /webchat/messages, POST /webchat/status and GET /webchat/events.
 *
 * @param app - The Hono app.
 * @param options - See {@link WebchatRouteOptions}.
 * @example
 * mountWebchat(app, { engine: () => engine, adapter: webchat, hub, secret, businessNumber, onChange });
 */
export function mountWebchat(app: Hono, options: WebchatRouteOptions): void {
  const { adapter, hub, secret } = options;

  app.post('/webchat/session', async (c) => {
    const body = await jsonBody(c, sessionBody);
    if (!body.ok) return body.response;
    const phone = tryNormalizePhone(body.data.phone, { defaultCountry: 'US' });
    if (!phone)
      return c.json(
        {
          error: 'invalid_phone',
          message: `"${body.data.phone.slice(0, 32)}" is not a phone number; try +14155550100.`,
        },
        400,
      );
    const sessionId = randomUUID();
    // The token is bound to the phone: turns must come from it (webchat adapter, version v1p).
    const token = createWebchatToken(sessionId, secret, { phone });
    return c.json({ sessionId, token, phone, to: options.businessNumber });
  });

  // The simulator's "text me reminders" box: a web-form opt-in, bound to the session's token and number.
  // Reminders are proactive messages and need recorded consent (docs/proactive-messaging.md).
  app.post('/webchat/optin', async (c) => {
    const body = await jsonBody(c, optInBody);
    if (!body.ok) return body.response;
    const token = /^Bearer (\S+)$/.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
    const { sessionId, phone } = body.data;
    if (!tokenMatches(token, sessionId, phone, secret)) return c.json({ error: 'invalid_token' }, 401);
    await recordOptIn(options.engine(), phone, 'web_form', REMINDER_DISCLOSURE, {
      id: `webchat:${sessionId}`,
      business: options.businessNumber,
      channel: 'webchat',
      description: 'appointment reminders',
    });
    return c.json({ ok: true });
  });

  const verified = async (c: Context) => {
    const request = await toRequest(c);
    return { request, ok: adapter.verify(request, new Date()).ok };
  };

  app.post('/webchat/messages', async (c) => {
    const { request, ok } = await verified(c);
    if (!ok) return c.json({ error: 'invalid_token' }, 401);
    let parsed: ReturnType<ChannelAdapter['parseInbound']>;
    try {
      parsed = adapter.parseInbound(request, new Date());
    } catch (error) {
      return c.json({ error: 'invalid_message', message: String((error as Error).message) }, 400);
    }
    if (parsed.kind !== 'message') return c.json({ ok: true, replies: 0 });
    const result = await options.engine().handleInbound(parsed.message);
    return c.json({ ok: true, duplicate: result.duplicate, replies: result.replies.length });
  });

  // The page acks `read` when a reply is on screen.
  app.post('/webchat/status', async (c) => {
    const { request, ok } = await verified(c);
    if (!ok) return c.json({ error: 'invalid_token' }, 401);
    try {
      await options.engine().handleStatus(adapter.parseStatus(request));
    } catch (error) {
      return c.json({ error: 'invalid_status', message: String((error as Error).message) }, 400);
    }
    return c.body(null, 204);
  });

  app.get('/webchat/events', (c) => {
    const token = c.req.query('token') ?? '';
    const sessionId = c.req.query('sessionId') ?? '';
    const phone = c.req.query('phone') ?? '';
    if (!tokenMatches(token, sessionId, phone, secret)) return c.json({ error: 'invalid_token' }, 401);
    const key = `webchat:${phone}`;
    return streamSSE(c, async (stream) => {
      const queue: { event: string; data: string }[] = [];
      let wake: (() => void) | null = null;
      const push = (event: string, data: object) => {
        queue.push({ event, data: JSON.stringify(data) });
        wake?.();
      };
      const offHub = hub.subscribe(phone, (message) => {
        // Segments and encoding live on the outbox row; the hub message carries only the text.
        void options
          .engine()
          .storage.getOutboxMessage(message.id)
          .then((row) =>
            push('reply', {
              ...message,
              segments: row?.segments ?? null,
              encoding: row?.encoding ?? null,
              kind: row?.kind ?? null,
            }),
          );
      });
      const offChange = options.onChange((change) => {
        if (change.type === 'outbox' && change.key === key)
          push('status', { id: change.id, status: change.status });
      });
      let open = true;
      stream.onAbort(() => {
        open = false;
        offHub();
        offChange();
        wake?.();
      });
      await stream.writeSSE({ event: 'ready', data: JSON.stringify({ phone }) });
      while (open) {
        const next = queue.shift();
        if (next) {
          await stream.writeSSE(next);
          continue;
        }
        // Wait for a message or send a keep-alive comment every 15 s (proxies close idle streams).
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 15_000);
        });
        wake = null;
        if (open && queue.length === 0) await stream.write(': keep-alive\n\n');
      }
    });
  });
}
