/**
 * A local fake of each provider's REST API (node:http on 127.0.0.1) for end-to-end tests: it checks the
 * auth header, the path and the fields each adapter sends, records every accepted send, answers in the
 * provider's success shape, and can post signed delivery-status callbacks back to the status handler.
 * Beside it, per provider: the channel adapter pointed at the fake (`baseUrl`) and signed inbound webhooks.
 * Secrets are the fake ones in `test/fixtures/<provider>/secrets.json`; request shapes follow sms-facts.md §1
 * and the recorded fixtures (`test/fixtures/generate*.ts`).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { birdChannel, birdSignature } from '../../../src/adapters/channels/bird.js';
import { signJwt } from '../../../src/adapters/channels/jwt.js';
import { messagebirdChannel } from '../../../src/adapters/channels/messagebird.js';
import { plivoChannel, plivoSignature, plivoV3Payload } from '../../../src/adapters/channels/plivo.js';
import { parseFormMulti, sha256Hex } from '../../../src/adapters/channels/shared.js';
import { twilioChannel, twilioSignature } from '../../../src/adapters/channels/twilio.js';
import type { ChannelAdapter } from '../../../src/adapters/channels/types.js';
import { vonageChannel, vonageSignature } from '../../../src/adapters/channels/vonage.js';
import { vonageMessagesChannel } from '../../../src/adapters/channels/vonage-messages.js';
import { readSecrets } from '../support.js';

/** The providers driven end to end. */
export const e2eProviders = ['twilio', 'plivo', 'vonage', 'vonage-messages', 'messagebird', 'bird'] as const;
/** One of {@link e2eProviders}. */
export type E2eProvider = (typeof e2eProviders)[number];

/** The business number every adapter sends from and receives on. */
export const BUSINESS = '+14155550199';

/** A signed request as a provider would send it (`url` is the public URL; the test maps it to the local server). */
export interface SignedRequest {
  method: 'POST';
  headers: Record<string, string>;
  body: string;
}

/** One send the fake API accepted. */
export interface RecordedSend {
  /** E.164 recipient (normalised from the provider's field). */
  to: string;
  text: string;
  providerMessageId: string;
}

type S = Record<string, string>;
const form = (params: S) => new URLSearchParams(params).toString();
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const plus = (n: string) => (n.startsWith('+') ? n : `+${n}`);
const NONCE = '83120647859223651093';

interface Kit {
  channel(baseUrl: string): ChannelAdapter;
  /** Checks an API call; returns the send or why it is refused (401/400). */
  accept(path: string, headers: IncomingMessage['headers'], body: string): RecordedSend | string;
  /** The provider's success answer for a send. */
  answer(send: RecordedSend): { status: number; json: unknown };
  inbound(url: string, m: { id: string; from: string; text: string }, nowS: number): SignedRequest;
  status(url: string, send: RecordedSend, nowS: number): SignedRequest;
}

function jsonBody(body: string): Record<string, unknown> {
  try {
    const value = JSON.parse(body) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function twilioKit(): Kit {
  const s = readSecrets<{ authToken: string; accountSid: string }>('twilio');
  const sign = (url: string, body: string): SignedRequest => ({
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilioSignature(s.authToken, url, parseFormMulti(body)),
    },
    body,
  });
  return {
    channel: (baseUrl) => twilioChannel({ ...s, from: BUSINESS, baseUrl }),
    accept(path, headers, body) {
      if (path !== `/2010-04-01/Accounts/${s.accountSid}/Messages.json`) return `path ${path}`;
      if (headers.authorization !== basic(s.accountSid, s.authToken)) return 'auth';
      const p = Object.fromEntries(new URLSearchParams(body));
      if (!p.To || !p.Body || p.From !== BUSINESS) return `fields ${Object.keys(p).join(',')}`;
      return { to: p.To, text: p.Body, providerMessageId: `SM${randomUUID().replaceAll('-', '')}` };
    },
    answer: (send) => ({ status: 201, json: { sid: send.providerMessageId, status: 'queued' } }),
    inbound: (url, m) =>
      sign(
        url,
        form({
          MessageSid: m.id,
          AccountSid: s.accountSid,
          From: m.from,
          To: BUSINESS,
          Body: m.text,
          NumMedia: '0',
        }),
      ),
    status: (url, send) =>
      sign(
        url,
        form({
          MessageSid: send.providerMessageId,
          MessageStatus: 'delivered',
          AccountSid: s.accountSid,
          To: send.to,
        }),
      ),
  };
}

function plivoKit(): Kit {
  const s = readSecrets<{ authId: string; authToken: string }>('plivo');
  const sign = (url: string, body: string): SignedRequest => ({
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-plivo-signature-v3': plivoSignature(
        s.authToken,
        plivoV3Payload('POST', url, parseFormMulti(body)) ?? '',
        NONCE,
        'v3',
      ),
      'x-plivo-signature-v3-nonce': NONCE,
    },
    body,
  });
  return {
    channel: (baseUrl) => plivoChannel({ ...s, from: BUSINESS, baseUrl }),
    accept(path, headers, body) {
      if (path !== `/v1/Account/${s.authId}/Message/`) return `path ${path}`;
      if (headers.authorization !== basic(s.authId, s.authToken)) return 'auth';
      const p = jsonBody(body);
      if (typeof p.dst !== 'string' || typeof p.text !== 'string' || p.src !== BUSINESS) return 'fields';
      return { to: plus(p.dst), text: p.text, providerMessageId: randomUUID() };
    },
    answer: (send) => ({
      status: 202,
      json: { api_id: randomUUID(), message: 'message(s) queued', message_uuid: [send.providerMessageId] },
    }),
    inbound: (url, m) =>
      sign(
        url,
        form({ From: m.from.slice(1), To: BUSINESS.slice(1), Text: m.text, Type: 'sms', MessageUUID: m.id }),
      ),
    status: (url, send) =>
      sign(
        url,
        form({
          MessageUUID: send.providerMessageId,
          Status: 'delivered',
          From: BUSINESS.slice(1),
          To: send.to.slice(1),
          Sequence: '3',
        }),
      ),
  };
}

function vonageKit(): Kit {
  const s = readSecrets<{ apiKey: string; apiSecret: string; signatureSecret: string }>('vonage');
  const signed = (p: S, nowS: number): SignedRequest => {
    const params: S = { ...p, 'api-key': s.apiKey, timestamp: String(nowS), nonce: randomUUID() };
    params.sig = vonageSignature(params, s.signatureSecret, 'sha256');
    return {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form(params),
    };
  };
  return {
    channel: (baseUrl) => vonageChannel({ ...s, signatureMethod: 'sha256', from: BUSINESS, baseUrl }),
    accept(path, _headers, body) {
      if (path !== '/sms/json') return `path ${path}`;
      const p = Object.fromEntries(new URLSearchParams(body));
      // The SMS API authenticates with api_key/api_secret in the form, not a header.
      if (p.api_key !== s.apiKey || p.api_secret !== s.apiSecret) return 'auth';
      if (!p.to || !p.text || p.from !== BUSINESS.slice(1) || !p['client-ref']) return 'fields';
      return {
        to: plus(p.to),
        text: p.text,
        providerMessageId: randomUUID().replaceAll('-', '').slice(0, 16),
      };
    },
    answer: (send) => ({
      status: 200,
      json: {
        'message-count': '1',
        messages: [{ to: send.to.slice(1), 'message-id': send.providerMessageId, status: '0' }],
      },
    }),
    inbound: (_url, m, nowS) =>
      signed(
        { msisdn: m.from.slice(1), to: BUSINESS.slice(1), messageId: m.id, text: m.text, type: 'text' },
        nowS,
      ),
    status: (_url, send, nowS) =>
      signed(
        {
          msisdn: send.to.slice(1),
          to: BUSINESS.slice(1),
          messageId: send.providerMessageId,
          status: 'delivered',
          'err-code': '0',
        },
        nowS,
      ),
  };
}

function vonageMessagesKit(): Kit {
  const s = readSecrets<{ signatureSecret: string; apiKey: string; apiSecret: string }>('vonage-messages');
  const signed = (body: string, nowS: number): SignedRequest => {
    const claims = {
      iat: nowS,
      jti: randomUUID(),
      iss: 'Vonage',
      payload_hash: sha256Hex(body),
      api_key: s.apiKey,
    };
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${signJwt(claims, s.signatureSecret)}`,
      },
      body,
    };
  };
  return {
    channel: (baseUrl) => vonageMessagesChannel({ ...s, from: BUSINESS, baseUrl }),
    accept(path, headers, body) {
      if (path !== '/v1/messages') return `path ${path}`;
      if (headers.authorization !== basic(s.apiKey, s.apiSecret)) return 'auth';
      const p = jsonBody(body);
      if (
        typeof p.to !== 'string' ||
        typeof p.text !== 'string' ||
        p.channel !== 'sms' ||
        p.message_type !== 'text'
      )
        return 'fields';
      return { to: plus(p.to), text: p.text, providerMessageId: randomUUID() };
    },
    answer: (send) => ({ status: 202, json: { message_uuid: send.providerMessageId } }),
    inbound: (_url, m, nowS) =>
      signed(
        JSON.stringify({
          channel: 'sms',
          message_uuid: m.id,
          to: BUSINESS.slice(1),
          from: m.from.slice(1),
          timestamp: new Date(nowS * 1000).toISOString(),
          text: m.text,
          message_type: 'text',
        }),
        nowS,
      ),
    status: (_url, send, nowS) =>
      signed(
        JSON.stringify({
          message_uuid: send.providerMessageId,
          to: send.to.slice(1),
          from: BUSINESS.slice(1),
          timestamp: new Date(nowS * 1000).toISOString(),
          status: 'delivered',
          channel: 'sms',
        }),
        nowS,
      ),
  };
}

function messagebirdKit(): Kit {
  const s = readSecrets<{ signingKey: string; accessKey: string }>('messagebird');
  const signed = (url: string, body: string, contentType: string, nowS: number): SignedRequest => {
    const claims = {
      iss: 'MessageBird',
      nbf: nowS,
      exp: nowS + 60,
      jti: randomUUID(),
      url_hash: sha256Hex(url),
      payload_hash: sha256Hex(body),
    };
    return {
      method: 'POST',
      headers: {
        'content-type': contentType,
        'messagebird-signature-jwt': signJwt(claims, s.signingKey, 'HS256'),
      },
      body,
    };
  };
  return {
    channel: (baseUrl) => messagebirdChannel({ ...s, originator: BUSINESS, baseUrl }),
    accept(path, headers, body) {
      if (path !== '/messages') return `path ${path}`;
      if (headers.authorization !== `AccessKey ${s.accessKey}`) return 'auth';
      const p = jsonBody(body);
      const to = Array.isArray(p.recipients) ? p.recipients[0] : undefined;
      if (typeof to !== 'string' || typeof p.body !== 'string' || typeof p.reference !== 'string')
        return 'fields';
      return { to: plus(to), text: p.body, providerMessageId: randomUUID().replaceAll('-', '') };
    },
    answer: (send) => ({ status: 201, json: { id: send.providerMessageId, direction: 'mt' } }),
    inbound: (url, m, nowS) =>
      signed(
        url,
        JSON.stringify({ id: m.id, recipient: BUSINESS.slice(1), originator: m.from.slice(1), body: m.text }),
        'application/json',
        nowS,
      ),
    status: (url, send, nowS) =>
      signed(
        url,
        form({ id: send.providerMessageId, recipient: send.to.slice(1), status: 'delivered' }),
        'application/x-www-form-urlencoded',
        nowS,
      ),
  };
}

function birdKit(): Kit {
  const s = readSecrets<{ signingKey: string; accessKey: string; workspaceId: string; channelId: string }>(
    'bird',
  );
  const signed = (url: string, body: string, nowS: number): SignedRequest => ({
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'messagebird-request-timestamp': String(nowS),
      'messagebird-signature': birdSignature(s.signingKey, String(nowS), url, body),
    },
    body,
  });
  return {
    channel: (baseUrl) => birdChannel({ ...s, number: BUSINESS, baseUrl }),
    accept(path, headers, body) {
      if (path !== `/workspaces/${s.workspaceId}/channels/${s.channelId}/messages`) return `path ${path}`;
      if (headers.authorization !== `AccessKey ${s.accessKey}`) return 'auth';
      const p = jsonBody(body) as {
        receiver?: { contacts?: Array<{ identifierValue?: unknown }> };
        body?: { text?: { text?: unknown } };
      };
      const to = p.receiver?.contacts?.[0]?.identifierValue;
      const text = p.body?.text?.text;
      if (typeof to !== 'string' || typeof text !== 'string') return 'fields';
      return { to, text, providerMessageId: randomUUID() };
    },
    answer: (send) => ({ status: 202, json: { id: send.providerMessageId, status: 'accepted' } }),
    inbound: (url, m, nowS) =>
      signed(
        url,
        JSON.stringify({
          service: 'channels',
          event: 'sms.inbound',
          payload: {
            id: m.id,
            sender: { contact: { identifierKey: 'phonenumber', identifierValue: m.from } },
            body: { type: 'text', text: { text: m.text } },
            direction: 'incoming',
          },
        }),
        nowS,
      ),
    status: (url, send, nowS) =>
      signed(
        url,
        JSON.stringify({
          service: 'channels',
          event: 'sms.outbound',
          payload: { id: send.providerMessageId, status: 'delivered', direction: 'outgoing' },
        }),
        nowS,
      ),
  };
}

const kits: Record<E2eProvider, () => Kit> = {
  twilio: twilioKit,
  plivo: plivoKit,
  vonage: vonageKit,
  'vonage-messages': vonageMessagesKit,
  messagebird: messagebirdKit,
  bird: birdKit,
};

/** A running fake provider API plus the provider's signing side. */
export interface FakeProviderApi {
  origin: string;
  /** Every accepted send, in order. */
  sends: RecordedSend[];
  /** Refused API calls (wrong auth, path or fields), with the reason: a test expects none. */
  refused: string[];
  /** The channel adapter with `baseUrl` pointing at this fake. */
  channel: ChannelAdapter;
  /** A signed inbound webhook for `publicUrl`, as the provider would post it at `nowS` (Unix seconds). */
  inbound(publicUrl: string, m: { id: string; from: string; text: string }, nowS: number): SignedRequest;
  /** Posts a signed `delivered` callback for `send` to `localUrl` (signed for `publicUrl`); returns the HTTP status. */
  deliver(send: RecordedSend, publicUrl: string, localUrl: string, nowS: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Starts the fake API of `provider` on 127.0.0.1.
 *
 * @example
 * const api = await startFakeProviderApi('twilio');
 * const engine = createEngine({ bot, storage, channels: { sms: api.channel } });
 */
export async function startFakeProviderApi(provider: E2eProvider): Promise<FakeProviderApi> {
  const kit = kits[provider]();
  const sends: RecordedSend[] = [];
  const refused: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '/').split('?')[0]!;
      const verdict = req.method === 'POST' ? kit.accept(path, req.headers, body) : `method ${req.method}`;
      if (typeof verdict === 'string') {
        refused.push(verdict);
        res.writeHead(verdict === 'auth' ? 401 : 400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: verdict }));
        return;
      }
      sends.push(verdict);
      const { status, json } = kit.answer(verdict);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    sends,
    refused,
    channel: kit.channel(origin),
    inbound: (publicUrl, m, nowS) => kit.inbound(publicUrl, m, nowS),
    async deliver(send, publicUrl, localUrl, nowS) {
      const signed = kit.status(publicUrl, send, nowS);
      const response = await fetch(localUrl, signed);
      await response.arrayBuffer();
      return response.status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
