/**
 * The contract every channel adapter passes (Twilio, Plivo, Vonage, MessageBird, Bird, web chat, and a host's
 * own), run over recorded webhook fixtures: signed fixtures verify and parse, forged and tampered ones fail,
 * parsers throw only `SmsflowError` on junk (fast-check), `send` talks to a local fake provider API.
 * Exported from `smsflow/testing`; imports vitest and fast-check, nothing from `test/`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ChannelAdapter,
  ParsedInbound,
  SendRequest,
  WebhookRequest,
} from '../adapters/channels/types.js';
import { isSmsflowError } from '../core/errors.js';
import { type InboundMessage, inboundMessageSchema } from '../core/types.js';

/** One recorded webhook request, signed with the fake secrets in the same directory's `secrets.json`. */
export interface ChannelFixture {
  description: string;
  /** `inbound` and `status` must verify and parse; `forged` must fail verification. */
  kind: 'inbound' | 'status' | 'forged';
  /** ISO time passed to `verify` and `parseInbound` (freshness windows, `receivedAt`). */
  now: string;
  request: WebhookRequest;
  /** Partial InboundMessage (inbound) or ParsedStatus (status), compared with `toMatchObject`. */
  expect?: Record<string, unknown>;
  /**
   * Parts of the request the provider's signature does not cover, so the matching tamper check is skipped
   * (its name says why): e.g. Plivo V2 signs the URL and nonce only (`['body']`), Vonage SMS signs
   * parameters only (`['url']`).
   */
  unsigned?: Array<'body' | 'url'>;
}

/** A request the fake provider API received. */
export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/2010-04-01/Accounts/AC…/Messages.json`. */
  url: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: string;
}

/** How {@link channelContract} creates the adapter and fakes the provider's send API. */
export interface ChannelContractOptions {
  /** Shown in the describe block, e.g. `'twilio'`. */
  name: string;
  /** Returns the adapter, configured with the fixtures' secrets, sending to `baseUrl` (the fake API). */
  create: (o: { baseUrl: string }) => ChannelAdapter;
  /** Directory of `*.json` fixtures; `secrets.json` and names starting with `_` are not fixtures. */
  fixturesDir: string;
  send: {
    /** The path (and query) the send must call. */
    path: RegExp;
    /** The fake API's success answer and the provider id `send` must return. */
    success: { status: number; body: unknown; expectProviderMessageId: string };
    /** A refusal and how `send` must classify it. */
    failure?: {
      status: number;
      body: unknown;
      expectErrorCode: string;
      retryable: boolean;
      optedOut?: boolean;
    };
    /** Checks auth and fields of the request the fake API received; throw (or `expect`) to fail. */
    checkRequest?: (req: RecordedRequest) => void;
    /** The message sent in the send cases. @default an SMS from +14155550199 to +14155550100 */
    request?: SendRequest;
  };
  /** When set, every case is skipped and its name starts with `[because <skip>]`. */
  skip?: string;
}

/** Reads every fixture in `dir` (sorted by file name), skipping `secrets.json` and `_*.json`. */
export function loadChannelFixtures(dir: string): Array<ChannelFixture & { file: string }> {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'secrets.json' && !f.startsWith('_'))
    .sort()
    .map((file) => ({ ...(JSON.parse(readFileSync(join(dir, file), 'utf8')) as ChannelFixture), file }));
}

/** Replaces one character of a non-empty string with a different, non-hex one (so `%2B`→`%2x` changes too). */
function tamperLastChar(text: string): string {
  const last = text.at(-1);
  return text.slice(0, -1) + (last === 'x' ? 'y' : 'x');
}

/** Inserts `x` at the end of the URL's path, before the query. */
function tamperPath(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? `${url}x` : `${url.slice(0, cut)}x${url.slice(cut)}`;
}

function messageOf(parsed: ParsedInbound): InboundMessage | undefined {
  return parsed.kind === 'ignored' ? undefined : parsed.message;
}

/** Asserts `fn` returns or throws a SmsflowError, never anything else. */
function onlySmsflowErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!isSmsflowError(error)) {
      throw new Error(
        `expected only SmsflowError, got ${error instanceof Error ? error.stack : String(error)}`,
      );
    }
  }
}

/** True when a JSON or form body holds `text` as one of its string values (at any depth). */
function bodyCarries(body: string, text: string): boolean {
  const found = (v: unknown): boolean =>
    v === text || (typeof v === 'object' && v !== null && Object.values(v).some(found));
  try {
    if (found(JSON.parse(body))) return true;
  } catch {
    // Not JSON: read it as a form.
  }
  return [...new URLSearchParams(body).values()].includes(text);
}

const DEFAULT_SEND: SendRequest = {
  id: 'out-contract-1',
  to: '+14155550100',
  from: '+14155550199',
  text: 'Your appointment is confirmed ✓ Reply STOP to opt out',
  channel: 'sms',
  statusCallbackUrl: 'https://example.com/smsflow/status',
};

interface FakeApi {
  server: Server;
  baseUrl: string;
  requests: RecordedRequest[];
  answer: { status: number; body: unknown };
}

async function startFakeApi(): Promise<FakeApi> {
  const api: FakeApi = {
    server: createServer(),
    baseUrl: '',
    requests: [],
    answer: { status: 200, body: {} },
  };
  api.server.on('request', (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      api.requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const body = typeof api.answer.body === 'string' ? api.answer.body : JSON.stringify(api.answer.body);
      res.writeHead(api.answer.status, { 'content-type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
  api.baseUrl = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  return api;
}

/**
 * Registers the channel contract suite with vitest: fixtures, tampering, fuzzing, send and webhook answers.
 *
 * @param options - see {@link ChannelContractOptions}
 * @example
 * channelContract({
 *   name: 'twilio',
 *   fixturesDir: 'test/fixtures/twilio',
 *   create: ({ baseUrl }) => twilioChannel({ authToken: secrets.authToken, accountSid: secrets.accountSid, baseUrl }),
 *   send: { path: /Messages\.json$/, success: { status: 201, body: { sid: 'SM1' }, expectProviderMessageId: 'SM1' } },
 * });
 */
export function channelContract(options: ChannelContractOptions): void {
  const title = options.skip
    ? `[because ${options.skip}] ${options.name} channel contract`
    : `${options.name} channel contract`;
  const fixtures = options.skip ? [] : loadChannelFixtures(options.fixturesDir);
  const offline = () => options.create({ baseUrl: 'http://127.0.0.1:9' });

  describe.skipIf(Boolean(options.skip))(title, () => {
    it('has at least one inbound and one forged fixture', () => {
      expect(fixtures.some((f) => f.kind === 'inbound')).toBe(true);
      expect(fixtures.some((f) => f.kind === 'forged')).toBe(true);
    });

    for (const fx of fixtures) {
      const now = new Date(fx.now);
      const label = `${fx.file}: ${fx.description}`;
      if (fx.kind === 'forged') {
        it(`rejects forged ${label}`, () => {
          const result = offline().verify(fx.request, now);
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
        });
        continue;
      }
      it(`verifies ${label}`, () => {
        expect(offline().verify(fx.request, now)).toEqual({ ok: true });
      });
      if (fx.kind === 'inbound') {
        it(`parses inbound ${label}`, () => {
          const message = messageOf(offline().parseInbound(fx.request, now));
          expect(message).toBeDefined();
          expect(() => inboundMessageSchema.parse(message)).not.toThrow();
          if (fx.expect) expect(message).toMatchObject(fx.expect);
        });
      } else {
        it(`parses status ${label}`, () => {
          const status = offline().parseStatus(fx.request);
          expect(status.providerMessageId.length).toBeGreaterThan(0);
          if (fx.expect) expect(status).toMatchObject(fx.expect);
        });
      }
      const bodyUnsigned = fx.unsigned?.includes('body');
      const payloadInQuery = fx.request.body.length === 0;
      it(`${bodyUnsigned ? '[skipped because the signature does not cover the body] ' : ''}rejects ${label} with its ${payloadInQuery ? 'query' : 'body'} changed by one character`, () => {
        if (bodyUnsigned) return;
        const request = payloadInQuery
          ? { ...fx.request, url: tamperLastChar(fx.request.url) }
          : { ...fx.request, body: tamperLastChar(fx.request.body) };
        expect(offline().verify(request, now).ok).toBe(false);
      });
      const urlUnsigned = fx.unsigned?.includes('url');
      it(`${urlUnsigned ? '[skipped because the signature does not cover the url] ' : ''}rejects ${label} at another URL path`, () => {
        if (urlUnsigned) return;
        expect(offline().verify({ ...fx.request, url: tamperPath(fx.request.url) }, now).ok).toBe(false);
      });
    }

    it('parsers throw only SmsflowError and verify never throws, on junk (fast-check)', () => {
      const adapter = offline();
      const sample = fixtures[0]?.request ?? {
        method: 'POST',
        url: 'https://example.com/hook',
        headers: {},
        body: '',
      };
      const keys = [...new Set(fixtures.flatMap((f) => [...new URLSearchParams(f.request.body).keys()]))];
      const value = fc.oneof(
        fc.string(),
        fc.string({ unit: 'grapheme', maxLength: 50 }),
        fc.constantFrom('', '\u0000', '+', '😀', '\u202e'),
      );
      const formFromKeys = fc
        .dictionary(keys.length > 0 ? fc.constantFrom(...keys) : fc.string(), value)
        .map((d) => new URLSearchParams(d).toString());
      const body = fc.oneof(
        fc.string(),
        fc.string({ unit: 'grapheme', minLength: 4900, maxLength: 5000 }),
        formFromKeys,
        fc.json(),
        fc.constantFrom('\u0000\u0000', '%', '%E0%A4%A', '{"', '[]', 'null', '\u202eRTL\u202c'),
      );
      const headers = fc.oneof(
        fc.dictionary(fc.string(), fc.string()),
        fc.constant(sample.headers),
        fc.record({ ...Object.fromEntries(Object.keys(sample.headers).map((k) => [k, fc.string()])) }),
      );
      const url = fc.oneof(fc.constant(sample.url), fc.webUrl({ withQueryParameters: true }), fc.string());
      const method = fc.constantFrom('POST', 'GET', 'PUT');
      fc.assert(
        fc.property(method, url, headers, body, (m, u, h, b) => {
          const request: WebhookRequest = {
            method: m,
            url: u,
            headers: h as Record<string, string>,
            body: b,
          };
          const now = new Date(fixtures[0]?.now ?? '2026-01-01T00:00:00Z');
          let verified: unknown;
          expect(() => {
            verified = adapter.verify(request, now);
          }).not.toThrow();
          expect(verified).toHaveProperty('ok');
          onlySmsflowErrors(() => adapter.parseInbound(request, now));
          onlySmsflowErrors(() => adapter.parseStatus(request));
        }),
        { numRuns: 300 },
      );
    });

    describe('send', () => {
      let api: FakeApi;
      beforeAll(async () => {
        api = await startFakeApi();
      });
      afterAll(() => new Promise<void>((resolve) => api.server.close(() => resolve())));
      const sendRequest = options.send.request ?? DEFAULT_SEND;

      it('sends to the provider API and returns its message id', async () => {
        api.requests.length = 0;
        api.answer = options.send.success;
        const result = await options.create({ baseUrl: api.baseUrl }).send(sendRequest);
        expect(result).toMatchObject({
          ok: true,
          providerMessageId: options.send.success.expectProviderMessageId,
        });
        expect(api.requests).toHaveLength(1);
        const received = api.requests[0]!;
        expect(received.method).toBe('POST');
        expect(received.url).toMatch(options.send.path);
        // The text must reach the provider unchanged (UTF-8 intact), whether the body is JSON or a form.
        expect(bodyCarries(received.body, sendRequest.text)).toBe(true);
        options.send.checkRequest?.(received);
      });

      if (options.send.failure) {
        const failure = options.send.failure;
        it(`classifies a refusal (HTTP ${failure.status}, code ${failure.expectErrorCode})`, async () => {
          api.answer = failure;
          const result = await options.create({ baseUrl: api.baseUrl }).send(sendRequest);
          expect(result).toMatchObject({
            ok: false,
            errorCode: failure.expectErrorCode,
            retryable: failure.retryable,
          });
          if (!result.ok) {
            expect(Boolean(result.optedOut)).toBe(Boolean(failure.optedOut));
            expect(result.message).not.toContain(sendRequest.text);
          }
        });
      }

      it('reports HTTP 503 as retryable', async () => {
        api.answer = { status: 503, body: { message: 'Service Unavailable' } };
        const result = await options.create({ baseUrl: api.baseUrl }).send(sendRequest);
        expect(result).toMatchObject({ ok: false, retryable: true });
      });

      it('reports an unreachable API as a retryable network failure, without throwing', async () => {
        const closed = await startFakeApi();
        await new Promise<void>((resolve) => closed.server.close(() => resolve()));
        const result = await options.create({ baseUrl: closed.baseUrl }).send(sendRequest);
        expect(result).toMatchObject({ ok: false, retryable: true });
      });
    });

    it('answers webhooks with 200 and a content type, with and without replies', () => {
      const adapter = offline();
      const inbound = fixtures.find((f) => f.kind === 'inbound');
      const message = inbound
        ? messageOf(adapter.parseInbound(inbound.request, new Date(inbound.now)))
        : undefined;
      const empty = adapter.webhookResponse([], message);
      expect(empty.status).toBe(200);
      expect(empty.contentType.length).toBeGreaterThan(0);
      const reply = adapter.webhookResponse(['Tom & Jerry <3 😀'], message);
      expect(reply.status).toBe(200);
      expect(reply.contentType.length).toBeGreaterThan(0);
      if (adapter.capabilities.syncReply) {
        expect(reply.body).toContain('Tom &amp; Jerry &lt;3 😀');
        expect(reply.body).not.toContain('Tom & Jerry');
      }
    });
  });
}
