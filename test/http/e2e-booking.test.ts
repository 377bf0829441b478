/**
 * End to end over HTTP, per provider: a real engine (salon bot, SQLite in a temp dir, memoryCalendar) behind
 * the provider's inbound and status handlers on a local node:http server, and the channel adapter sending to
 * a local fake of the provider's REST API. A full booking is driven with signed webhooks; then STOP over HTTP
 * must leave exactly one confirmation and no later send to that number (issue 4, "Done when").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryCalendar } from '../../src/adapters/actions/memory.js';
import { sqliteStorage } from '../../src/adapters/storage/sqlite.js';
import type { StorageAdapter } from '../../src/adapters/storage/types.js';
import { createEngine } from '../../src/engine/engine.js';
import type { Engine } from '../../src/engine/types.js';
import { toNodeListener } from '../../src/http/node-listener.js';
import { createInboundHandler, createStatusHandler } from '../../src/http/webhook-handler.js';
import { salonBot, salonHours } from '../support/salon.js';
import {
  type E2eProvider,
  e2eProviders,
  type FakeProviderApi,
  type SignedRequest,
  startFakeProviderApi,
} from './support/fake-provider-api.js';

const CUSTOMER = '+14155550100';
const KEY = `sms:${CUSTOMER}`;
// Tue 2026-11-24 09:00 in Los Angeles: "tomorrow 3pm" is Wed Nov 25, 15:00 (salon open 09–18).
const NOW = new Date('2026-11-24T17:00:00Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const clock = () => new Date(NOW);
const PUBLIC = 'https://bot.example.test';

interface Rig {
  api: FakeProviderApi;
  engine: Engine;
  storage: StorageAdapter;
  calendar: ReturnType<typeof memoryCalendar>;
  sync: boolean;
  /** Posts a signed inbound webhook; returns status and body. */
  post(id: string, text: string): Promise<{ status: number; body: string; request: SignedRequest }>;
  replay(request: SignedRequest): Promise<{ status: number; body: string }>;
  /** Waits (bounded) until the fake API has recorded `n` sends. */
  sendsReach(n: number): Promise<void>;
  /** Stops the dispatcher (waiting for effects in flight) and runs one last pass: nothing left to send. */
  settle(): Promise<void>;
  statusUrl: { public: string; local: string };
  close(): Promise<void>;
}

const open: Rig[] = [];
afterEach(async () => {
  for (const rig of open.splice(0)) await rig.close();
});

async function rig(provider: E2eProvider, syncReply?: boolean): Promise<Rig> {
  const api = await startFakeProviderApi(provider);
  const dir = mkdtempSync(join(tmpdir(), 'smsflow-e2e-'));
  const storage = sqliteStorage({ path: join(dir, 'e2e.db') });
  const calendar = memoryCalendar({ timeZone: 'America/Los_Angeles', hours: { ...salonHours } as never });
  const engine = createEngine({
    bot: salonBot(),
    storage,
    channels: { sms: api.channel },
    actions: { calendar },
    clock,
  });
  const sync = syncReply ?? api.channel.capabilities.syncReply;
  const common = { engine, channel: api.channel, clock, ...(syncReply === undefined ? {} : { syncReply }) };
  const inboundPath = `/webhooks/${provider}`;
  const statusPath = `/webhooks/${provider}/status`;
  const inbound = toNodeListener(createInboundHandler({ ...common, publicUrl: PUBLIC + inboundPath }));
  const status = toNodeListener(createStatusHandler({ ...common, publicUrl: PUBLIC + statusPath }));
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === inboundPath) return inbound(req, res);
    if (path === statusPath) return status(req, res);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const local = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  engine.start({ intervalMs: 20 });

  const replay = async (request: SignedRequest) => {
    const response = await fetch(local + inboundPath, request);
    return { status: response.status, body: await response.text() };
  };
  const r: Rig = {
    api,
    engine,
    storage,
    calendar,
    sync,
    statusUrl: { public: PUBLIC + statusPath, local: local + statusPath },
    async post(id, text) {
      const request = api.inbound(PUBLIC + inboundPath, { id, from: CUSTOMER, text }, NOW_S);
      return { ...(await replay(request)), request };
    },
    replay,
    async sendsReach(n) {
      const deadline = Date.now() + 5_000;
      while (api.sends.length < n && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 10));
      expect(api.sends.length, `sends after waiting: ${JSON.stringify(api.sends)}`).toBe(n);
    },
    async settle() {
      await engine.stop();
      await engine.dispatchOutbox();
    },
    async close() {
      await engine.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await api.close();
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  open.push(r);
  return r;
}

/** Texts out of a TwiML / Plivo XML answer (the replies of a synchronous provider). */
function xmlTexts(body: string): string[] {
  return [...body.matchAll(/<Message[^>]*>([^<]*)<\/Message>/g)].map((m) =>
    m[1]!
      .replaceAll('&apos;', "'")
      .replaceAll('&quot;', '"')
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
      .replaceAll('&amp;', '&'),
  );
}

const STEPS: Array<[text: string, reply: RegExp]> = [
  ['book', /Which service/],
  ['1', /Haircut\. What day and time/],
  ['tomorrow 3pm', /Haircut on Wed Nov 25 at 3:00 PM\. Reply YES/],
  ['yes', /You are booked: Haircut on Wed Nov 25 at 3:00 PM/],
];

/** Drives the booking, checking each step's reply; returns the signed requests (for the retry checks). */
async function book(r: Rig, provider: string): Promise<SignedRequest[]> {
  const requests: SignedRequest[] = [];
  for (const [i, [text, reply]] of STEPS.entries()) {
    const { status, body, request } = await r.post(`${provider}-m${i + 1}`, text);
    expect(status, body).toBe(200);
    requests.push(request);
    if (r.sync) {
      expect(xmlTexts(body)).toEqual([expect.stringMatching(reply)]);
    } else {
      await r.sendsReach(i + 1);
      expect(r.api.sends[i]).toMatchObject({ to: CUSTOMER, text: expect.stringMatching(reply) });
    }
  }
  expect(r.calendar.bookings()).toEqual([
    expect.objectContaining({
      service: 'haircut',
      start: '2026-11-25T15:00:00-08:00',
      status: 'booked',
      contact: CUSTOMER,
    }),
  ]);
  const conversation = await r.storage.getConversation(KEY);
  expect(conversation?.state.profile.booking).toMatchObject({
    service: 'haircut',
    start: '2026-11-25T15:00:00-08:00',
  });
  return requests;
}

const modes: Array<[E2eProvider, boolean | undefined, string]> = e2eProviders.flatMap(
  (p): Array<[E2eProvider, boolean | undefined, string]> =>
    p === 'twilio' || p === 'plivo'
      ? [
          [p, undefined, 'replies in the webhook response'],
          [p, false, 'replies through the REST API (syncReply: false)'],
        ]
      : [[p, undefined, 'replies through the REST API']],
);

describe.each(modes)('%s over HTTP (%s, %s)', (provider, syncReply) => {
  it('books tomorrow 3pm with signed webhooks; a retry of the same message gets the same answer', async () => {
    const r = await rig(provider, syncReply);
    const requests = await book(r, provider);
    const before = r.api.sends.length;
    // Step 2 ("1") answers straight from the flow (no effect): its retry must get the same reply.
    const first = await r.post(`${provider}-m2`, '1'); // same id, re-signed as a provider retry would be
    const again = await r.replay(requests[1]!); // the very same bytes
    for (const retry of [first, again]) {
      expect(retry.status).toBe(200);
      if (r.sync) expect(xmlTexts(retry.body)).toEqual([expect.stringMatching(STEPS[1]![1])]);
      else expect(retry.body).toBe(r.api.channel.webhookResponse([]).body);
    }
    await r.settle();
    expect(r.api.sends.length, 'a retry must not send again').toBe(before);
    expect(r.calendar.bookings()).toHaveLength(1);
    expect(r.api.refused).toEqual([]);
  });

  // Replies that came from an effect result (calendar check, booking) rode in the first synchronous response,
  // so a provider retry of that message must get them again.
  const syncMode = syncReply !== false && (provider === 'twilio' || provider === 'plivo');
  if (syncMode) {
    it('a retry of step 3 (answered by an effect result) gets the same XML', async () => {
      const r = await rig(provider, syncReply);
      const requests = await book(r, provider);
      const retry = await r.replay(requests[2]!);
      expect(retry.status).toBe(200);
      expect(xmlTexts(retry.body)).toEqual([expect.stringMatching(STEPS[2]![1])]);
    });
  }

  it('STOP sends one confirmation and nothing after it, not even a reply already waiting in the outbox', async () => {
    const r = await rig(provider, syncReply);
    await book(r, provider);
    const booked = r.api.sends.length;
    if (!r.sync) {
      // A reply waits in the outbox (dispatcher stopped) when STOP arrives: it must be cancelled, not sent.
      await r.engine.stop();
      expect((await r.post(`${provider}-m5`, 'book')).status).toBe(200);
      expect(r.api.sends.length).toBe(booked);
    }
    const stop = await r.post(`${provider}-stop`, 'STOP');
    expect(stop.status).toBe(200);
    r.engine.start({ intervalMs: 20 });
    if (r.sync) {
      expect(xmlTexts(stop.body)).toEqual([expect.stringMatching(/unsubscribed/)]);
    } else {
      await r.sendsReach(booked + 1);
      expect(r.api.sends.at(-1)).toMatchObject({ to: CUSTOMER, text: expect.stringMatching(/unsubscribed/) });
    }
    const confirmed = r.api.sends.length;
    for (const [i, text] of ['book', 'hello?', 'Is 4pm free?'].entries()) {
      const later = await r.post(`${provider}-after-${i}`, text);
      expect(later.status).toBe(200);
      expect(later.body).toBe(r.api.channel.webhookResponse([]).body);
    }
    await r.settle();
    expect(r.api.sends.length, 'nothing may be sent after the STOP confirmation').toBe(confirmed);
    const outbox = await r.storage.listOutbox(KEY);
    expect(outbox.filter((m) => m.status === 'pending' || m.status === 'sending')).toEqual([]);
    if (!r.sync) {
      expect(outbox.filter((m) => m.status === 'cancelled')).toEqual([
        expect.objectContaining({ kind: 'reply', errorCode: 'opted_out' }),
      ]);
    }
    const conversation = await r.storage.getConversation(KEY);
    expect(conversation?.state.consent.status).toBe('opted_out');
    expect(r.api.refused).toEqual([]);
  });

  it('signed delivery callbacks from the provider mark the sent messages delivered', async () => {
    const r = await rig(provider, syncReply);
    await book(r, provider);
    await r.settle();
    for (const send of r.api.sends) {
      expect(await r.api.deliver(send, r.statusUrl.public, r.statusUrl.local, NOW_S)).toBe(200);
    }
    const outbox = await r.storage.listOutbox(KEY);
    const viaApi = outbox.filter((m) => m.providerMessageId);
    expect(viaApi).toHaveLength(r.api.sends.length);
    for (const m of viaApi) expect(m.status).toBe('delivered');
    // A callback signed for another URL is refused and changes nothing.
    if (r.api.sends[0]) {
      expect(await r.api.deliver(r.api.sends[0], `${PUBLIC}/elsewhere`, r.statusUrl.local, NOW_S)).toBe(
        provider === 'vonage' || provider === 'vonage-messages' ? 200 : 403,
      );
    }
  });
});
