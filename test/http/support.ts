/**
 * Test helpers for the HTTP handlers: a fake Engine (records what it was given, replies like a bot, can be
 * told to fail), a recording logger, and a real `node:http` server on 127.0.0.1 driven through toNodeListener.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ParsedStatus } from '../../src/adapters/channels/types.js';
import type { InboundMessageInput, OutboundReply } from '../../src/core/types.js';
import type { EngineLogger, InboundResult } from '../../src/engine/types.js';
import { toNodeListener } from '../../src/http/node-listener.js';
import type { WebhookHandler } from '../../src/http/webhook-handler.js';
import type { ChannelFixture } from '../../src/testing/channel-contract.js';

/** A fake engine: replies `Got: <text>` once per new message id, returns the recorded replies on a retry. */
export function fakeEngine(options: { fail?: () => unknown; replies?: (text: string) => string[] } = {}) {
  const inbound: Array<{ message: InboundMessageInput; syncReply: boolean | undefined }> = [];
  const statuses: ParsedStatus[] = [];
  const recorded = new Map<string, OutboundReply[]>();
  const replyTexts = options.replies ?? ((text: string) => [`Got: ${text.slice(0, 20)}`]);
  return {
    inbound,
    statuses,
    async handleInbound(message: InboundMessageInput, o?: { syncReply?: boolean }): Promise<InboundResult> {
      if (options.fail) throw options.fail();
      inbound.push({ message, syncReply: o?.syncReply });
      const conversationKey = `${message.channel ?? 'sms'}:${message.from}`;
      const previous = recorded.get(message.id);
      if (previous) return { replies: previous, duplicate: true, conversationKey };
      const replies = replyTexts(message.text).map(
        (text, i): OutboundReply => ({
          id: `${message.id}:r${i}`,
          to: message.from,
          from: message.to,
          channel: message.channel ?? 'sms',
          text,
          segments: 1,
          encoding: 'GSM-7',
          kind: 'reply',
        }),
      );
      recorded.set(message.id, replies);
      return { replies, duplicate: false, conversationKey };
    },
    async handleStatus(status: ParsedStatus) {
      if (options.fail) throw options.fail();
      statuses.push(status);
      return null;
    },
  };
}

/** A logger that keeps every line, to assert on reasons (and on what is never logged). */
export function recordingLogger() {
  const lines: Array<{ level: string; obj: object; msg?: string }> = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, ...(msg === undefined ? {} : { msg }) });
    };
  const logger: EngineLogger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines, text: () => JSON.stringify(lines) };
}

/** A real HTTP server on 127.0.0.1 whose handler can be swapped per test. */
export async function startServer(): Promise<{
  origin: string;
  use(handler: WebhookHandler): void;
  close(): Promise<void>;
}> {
  let current: WebhookHandler = async () => new Response('no handler', { status: 404 });
  const server: Server = createServer((req, res) => toNodeListener(current)(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    use(handler) {
      current = handler;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reads the recorded fixtures of one provider (not secrets.json or `_*.json`). */
export function readFixtures(provider: string): Array<{ file: string; fixture: ChannelFixture }> {
  const dir = join('test/fixtures', provider);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'secrets.json' && !f.startsWith('_'))
    .sort()
    .map((file) => ({ file, fixture: JSON.parse(readFileSync(join(dir, file), 'utf8')) as ChannelFixture }));
}

/** Reads `test/fixtures/<provider>/secrets.json`. */
export function readSecrets<T>(provider: string): T {
  return JSON.parse(readFileSync(join('test/fixtures', provider, 'secrets.json'), 'utf8')) as T;
}

/** Splits a fixture URL into the public URL (no query) and the path + query to request locally. */
export function splitUrl(url: string): { publicUrl: string; pathAndQuery: string } {
  const u = new URL(url);
  const at = url.indexOf('?');
  return { publicUrl: at === -1 ? url : url.slice(0, at), pathAndQuery: u.pathname + u.search };
}
