/**
 * A local HTTP stand-in for an SMS provider's send API, shared by the multi-process engine proof and the
 * engine benchmark. Every accepted send is recorded in arrival order with the worker that sent it, so a test
 * can count sends per outbox id and per recipient. Also the channel adapter workers use to reach it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChannelAdapter, SendRequest } from '../../../src/adapters/channels/types.js';

/** One send the fake provider accepted, in arrival order (`seq`). */
export interface RecordedSend {
  seq: number;
  /** The engine's outbox id (sent as the client reference, as real providers allow). */
  id: string;
  to: string;
  text: string;
  /** The `x-worker` header: which process sent it. */
  worker: string;
  providerMessageId: string;
}

/** A running fake provider. */
export interface FakeProvider {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Every accepted send, in arrival order. */
  sends: RecordedSend[];
  /** Sends per outbox id. */
  countsById(): Map<string, number>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Starts the fake provider on 127.0.0.1 (a free port).
 *
 * @returns The provider with its URL and the recorded sends.
 * @example
 * const provider = await startFakeProvider();
 * // ... workers send to `${provider.url}/send`
 * expect(provider.countsById().get('SM1:r0')).toBe(1);
 * await provider.close();
 */
export async function startFakeProvider(): Promise<FakeProvider> {
  const sends: RecordedSend[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void readBody(req).then((body) => {
      if (req.method !== 'POST' || req.url !== '/send') {
        res.writeHead(404).end();
        return;
      }
      const request = JSON.parse(body) as SendRequest;
      const seq = sends.length + 1;
      const providerMessageId = `FP${seq}`;
      sends.push({
        seq,
        id: request.id,
        to: request.to,
        text: request.text,
        worker: String(req.headers['x-worker'] ?? ''),
        providerMessageId,
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ sid: providerMessageId }));
    });
  });
  // Many keep-alive sockets from 4 workers: do not let the default limits drop them mid-run.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sends,
    countsById() {
      const counts = new Map<string, number>();
      for (const s of sends) counts.set(s.id, (counts.get(s.id) ?? 0) + 1);
      return counts;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A channel adapter that sends through the fake provider (`POST <url>/send`), tagging each request with the
 * sending worker so a test can tell a crashed worker's send from its resend.
 *
 * @param url - The fake provider's base URL.
 * @param worker - This process's name, sent as `x-worker`.
 * @returns A {@link ChannelAdapter} named `sms`; network errors are retryable failures, as with real providers.
 * @example
 * const sms = fakeProviderChannel(process.env.PROVIDER_URL!, 'w1');
 */
export function fakeProviderChannel(url: string, worker: string): ChannelAdapter {
  return {
    name: 'sms',
    capabilities: { syncReply: false },
    verify: () => ({ ok: true }),
    parseInbound: () => ({ kind: 'ignored', reason: 'fake provider' }),
    parseStatus: () => ({ providerMessageId: '', status: 'sent', providerStatus: 'sent' }),
    webhookResponse: () => ({ status: 200, contentType: 'text/plain', body: '' }),
    async send(request) {
      try {
        const res = await fetch(`${url}/send`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-worker': worker },
          body: JSON.stringify(request),
        });
        if (!res.ok) return { ok: false, errorCode: String(res.status), message: 'http', retryable: true };
        const { sid } = (await res.json()) as { sid: string };
        return { ok: true, providerMessageId: sid, status: 'queued' };
      } catch (error) {
        return { ok: false, errorCode: 'network', message: String(error), retryable: true };
      }
    },
  };
}
