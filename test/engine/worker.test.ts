import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseFormMulti } from '../../src/adapters/channels/shared.js';
import { twilioChannel, twilioSignature } from '../../src/adapters/channels/twilio.js';
import { memoryStorage } from '../../src/adapters/storage/memory.js';
import { sqliteStorage } from '../../src/adapters/storage/sqlite.js';
import { isSmsflowError } from '../../src/core/errors.js';
import { createEngine } from '../../src/engine/engine.js';
import type { EngineChange, EngineLogger } from '../../src/engine/types.js';
import { engineInWorker, serveEngine, type WorkerEngine } from '../../src/engine/worker.js';
import { createInboundHandler } from '../../src/http/webhook-handler.js';
import { instantCalendar } from '../support/instant-calendar.js';
import { salonBot } from '../support/salon.js';

const BOOT = new URL('../support/ts-worker.mjs', import.meta.url);
const ENTRY = new URL('./support/engine-worker.ts', import.meta.url).href;
const CLOCK_MS = Date.parse('2026-11-24T17:00:00Z'); // a Tuesday: the salon is open
const PHONE = '+14155550100';
const dir = mkdtempSync(join(tmpdir(), 'smsflow-worker-'));
let dbCount = 0;
const engines: WorkerEngine[] = [];

afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function start(data: Record<string, unknown> = {}, options: Parameters<typeof engineInWorker>[1] = {}) {
  const dbPath = join(dir, `db${dbCount++}.sqlite`);
  const engine = engineInWorker(BOOT, {
    ...options,
    workerData: { entry: ENTRY, dbPath, clockMs: CLOCK_MS, ...data },
  });
  engines.push(engine);
  return { engine, dbPath };
}

const inbound = (id: string, text: string, from = PHONE) => ({
  id,
  from,
  to: '+14155550199',
  text,
  receivedAt: new Date(CLOCK_MS).toISOString(),
  provider: 'twilio',
});

const recordingLogger = () => {
  const lines: string[] = [];
  const log =
    (level: string) =>
    (obj: object, msg = '') =>
      lines.push(`${level} ${msg} ${JSON.stringify(obj)}`);
  const logger: EngineLogger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
  };
  return { logger, lines };
};

describe('engineInWorker', () => {
  it('answers like the same engine in-process, message for message', async () => {
    const { engine } = start();
    const local = createEngine({
      bot: salonBot(),
      storage: memoryStorage(),
      actions: { calendar: instantCalendar('test') },
      clock: () => new Date(CLOCK_MS),
    });
    const texts = ['book', '1', 'tomorrow 3pm', 'yes', 'HELP'];
    for (const [i, text] of texts.entries()) {
      const remote = await engine.handleInbound(inbound(`SM${i}`, text), { syncReply: true });
      const here = await local.handleInbound(inbound(`SM${i}`, text), { syncReply: true });
      expect(remote).toEqual(here);
    }
    // A provider retry of the same message id: the recorded replies, nothing applied again.
    const again = await engine.handleInbound(inbound('SM1', '1'), { syncReply: true });
    expect(again.duplicate).toBe(true);
    expect(again.replies.map((r) => r.text)).toEqual(
      (await local.handleInbound(inbound('SM1', '1'), { syncReply: true })).replies.map((r) => r.text),
    );
  });

  it('serves many concurrent calls (one per sender) and keeps each conversation in order', async () => {
    const { engine, dbPath } = start();
    const senders = Array.from({ length: 60 }, (_, i) => `+1415555${String(2000 + i)}`);
    for (const [step, text] of ['book', '1'].entries()) {
      const results = await Promise.all(
        senders.map((from, i) => engine.handleInbound(inbound(`SM${step}-${i}`, text, from))),
      );
      expect(results.every((r) => !r.duplicate && r.replies.length > 0)).toBe(true);
    }
    await engine.close();
    const storage = sqliteStorage({ path: dbPath });
    try {
      for (const from of senders) {
        const events = await storage.listEvents(`sms:${from}`);
        expect(events.filter((e) => e.type === 'inbound').map((e) => e.data.text)).toEqual(['book', '1']);
      }
    } finally {
      await storage.close();
    }
  });

  it('keeps the code of a SmsflowError, so the webhook handler still answers 400 for a bad message', async () => {
    const { engine } = start();
    const error = await engine.handleInbound(inbound('SMbad', 'hi', 'not a phone')).catch((e: unknown) => e);
    expect(isSmsflowError(error)).toBe(true);
    expect((error as { code: string }).code).toMatch(/^SMSFLOW_ERR_INVALID_(MESSAGE|PHONE)$/);
    expect((error as Error).message).not.toMatch(/\[smsflow\] \[smsflow\]/);
    await expect(engine.sendAgentReply(`sms:${PHONE}`, 'hello?')).rejects.toSatisfy((e: unknown) =>
      isSmsflowError(e),
    );
  });

  it('fails only the call whose argument cannot be sent to the worker', async () => {
    const { engine } = start();
    const good = engine.handleInbound(inbound('SMok', 'book'));
    const bad = engine.handleInbound({
      ...inbound('SMfn', 'book', '+14155550101'),
      text: (() => 'x') as never,
    });
    await expect(bad).rejects.toThrow(/could not be cloned/);
    expect((await good).replies[0]?.text).toMatch(/Which service/);
  });

  it('forwards onChange events and stops them on unsubscribe', async () => {
    const { engine } = start();
    const seen: EngineChange[] = [];
    const off = engine.onChange((c) => seen.push(c));
    await engine.handleInbound(inbound('SMc1', 'book'));
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toContainEqual({ type: 'conversation', key: `sms:${PHONE}` });
    off();
    const before = seen.length;
    await engine.handleInbound(inbound('SMc2', '1'));
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.length).toBe(before);
  });

  it('fails calls in flight with SMSFLOW_ERR_ENGINE_UNAVAILABLE when the worker dies, then starts a new one', async () => {
    const { logger, lines } = recordingLogger();
    const { engine } = start({}, { restartDelayMs: 200, logger });
    await engine.handleInbound(inbound('SM1', 'book'));
    const changes: EngineChange[] = [];
    engine.onChange((c) => changes.push(c));
    const crashed = engine.handleInbound(inbound('SM2', 'CRASH'));
    await expect(crashed).rejects.toSatisfy((e: unknown) =>
      isSmsflowError(e, 'SMSFLOW_ERR_ENGINE_UNAVAILABLE'),
    );
    expect(lines.some((l) => l.startsWith('error engine worker exited'))).toBe(true);
    // Within the restart delay: refused at once, no new worker.
    await expect(engine.handleInbound(inbound('SM3', '1'))).rejects.toThrow(/less than 200 ms ago/);
    await new Promise((r) => setTimeout(r, 250));
    // A new worker on the same database: the conversation goes on where it was, and listeners still hear.
    const next = await engine.handleInbound(inbound('SM3', '1'));
    expect(next.replies[0]?.text).toMatch(/What day and time/);
    await new Promise((r) => setTimeout(r, 50));
    expect(changes).toContainEqual({ type: 'conversation', key: `sms:${PHONE}` });
  });

  it('answers 503 with Retry-After over HTTP when the worker dies mid-message', async () => {
    const { engine } = start({}, { restartDelayMs: 0 });
    const token = 'fake-twilio-auth-token-for-tests-0001';
    const url = 'https://bot.example.com/sms';
    const handler = createInboundHandler({
      engine,
      channel: twilioChannel({ authToken: token, accountSid: 'ACfake', from: '+14155550199' }),
      publicUrl: url,
    });
    const post = (sid: string, text: string) => {
      const body = new URLSearchParams({
        MessageSid: sid,
        AccountSid: 'ACfake',
        From: PHONE,
        To: '+14155550199',
        Body: text,
      }).toString();
      return handler(
        new Request(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': twilioSignature(token, url, parseFormMulti(body)),
          },
          body,
        }),
      );
    };
    const crash = await post('SMx1', 'CRASH');
    expect(crash.status).toBe(503);
    expect(crash.headers.get('retry-after')).toBe('60');
    const ok = await post('SMx2', 'book');
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/<Message>Which service/);
    // STOP through the worker: confirmed once, and the agent can no longer text the number.
    const stop = await post('SMx3', 'STOP');
    expect(await stop.text()).toMatch(/unsubscribed/i);
    await expect(engine.sendAgentReply(`sms:${PHONE}`, 'still there?')).rejects.toSatisfy((e: unknown) =>
      isSmsflowError(e, 'SMSFLOW_ERR_OPTED_OUT'),
    );
  });

  it('reports a worker that cannot build its engine, on every call', async () => {
    const { logger, lines } = recordingLogger();
    const { engine } = start({ failStart: true }, { restartDelayMs: 0, logger });
    const error = await engine.handleInbound(inbound('SM1', 'book')).catch((e: unknown) => e);
    expect(isSmsflowError(error, 'SMSFLOW_ERR_ENGINE_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toMatch(/could not start: .*no database configured/);
    await new Promise((r) => setTimeout(r, 100));
    expect(lines.some((l) => l.includes('engine worker failed to start'))).toBe(true);
    // The next call tries a new worker, which fails the same way.
    await expect(engine.handleInbound(inbound('SM2', 'book'))).rejects.toThrow(/no database configured/);
  });

  it('reports a worker module that cannot be loaded', async () => {
    const { logger, lines } = recordingLogger();
    const engine = engineInWorker(new URL('./support/no-such-module.mjs', import.meta.url), { logger });
    engines.push(engine);
    const error = await engine.handleInbound(inbound('SM1', 'book')).catch((e: unknown) => e);
    expect(isSmsflowError(error, 'SMSFLOW_ERR_ENGINE_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toMatch(/worker failed: .*no-such-module/);
    expect(lines.some((l) => l.startsWith('error engine worker failed'))).toBe(true);
  });

  it('close() stops the worker cleanly; later calls are refused', async () => {
    const { engine, dbPath } = start();
    engine.start({ intervalMs: 50 });
    await engine.handleInbound(inbound('SM1', 'book'));
    await engine.close();
    await expect(engine.handleInbound(inbound('SM2', '1'))).rejects.toSatisfy((e: unknown) =>
      isSmsflowError(e, 'SMSFLOW_ERR_ENGINE_UNAVAILABLE'),
    );
    await engine.close(); // twice is fine
    await engine.stop(); // and stopping a closed engine too
    // The database was closed, not torn: another connection reads what the worker committed.
    const storage = sqliteStorage({ path: dbPath });
    try {
      expect((await storage.getConversation(`sms:${PHONE}`))?.version).toBe(1);
    } finally {
      await storage.close();
    }
  });

  it('close() terminates a worker that does not stop in time, failing what was in flight', async () => {
    const { logger, lines } = recordingLogger();
    const { engine } = start({}, { closeTimeoutMs: 200, logger });
    await engine.handleInbound(inbound('SM0', 'book')); // the worker is up
    const hanging = engine.handleInbound(inbound('SM1', 'HANG'));
    await engine.close();
    await expect(hanging).rejects.toSatisfy((e: unknown) =>
      isSmsflowError(e, 'SMSFLOW_ERR_ENGINE_UNAVAILABLE'),
    );
    expect(lines.join('\n')).toMatch(/did not stop in time; terminated/);
    expect(lines.join('\n')).not.toMatch(/engine worker exited/); // closing is not a failure
  });

  it('refuses bad options and serveEngine on the main thread', () => {
    expect(() => engineInWorker(BOOT, { restartDelayMs: -1 })).toThrow(/restartDelayMs/);
    expect(() => engineInWorker(BOOT, { closeTimeoutMs: -1 })).toThrow(/closeTimeoutMs/);
    expect(() => serveEngine(() => ({}) as never)).toThrow(/worker thread/);
  });
});
