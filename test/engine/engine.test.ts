import { describe, expect, it } from 'vitest';
import type { CalendarAdapter } from '../../src/adapters/actions/types.js';
import { memoryStorage } from '../../src/adapters/storage/memory.js';
import { isSmsflowError } from '../../src/core/errors.js';
import { lostEffects } from '../../src/engine/effects.js';
import { createEngine } from '../../src/engine/engine.js';
import { fakeChannel } from '../support/fake-channel.js';
import { salonBot } from '../support/salon.js';

const bot = salonBot();
const PHONE = '+14155550100';
const KEY = `sms:${PHONE}`;
let clockMs = Date.parse('2026-11-24T17:00:00Z');
const clock = () => new Date(clockMs);
const inbound = (id: string, text: string, from = PHONE) => ({
  id,
  from,
  to: '+14155550199',
  text,
  receivedAt: new Date(clockMs).toISOString(),
  provider: 'twilio',
});

const calendar = (overrides: Partial<CalendarAdapter> = {}): CalendarAdapter => ({
  name: 'test',
  check: async () => ({ available: true }),
  book: async (_req, ctx) => ({ bookingId: `bk-${ctx.effectId}` }),
  reschedule: async (req) => ({ bookingId: req.bookingId }),
  cancel: async () => ({ cancelled: true }),
  ...overrides,
});

function setup(options: Partial<Parameters<typeof createEngine>[0]> = {}) {
  const storage = memoryStorage();
  const sms = fakeChannel('sms');
  const engine = createEngine({
    bot,
    storage,
    channels: { sms },
    actions: { calendar: calendar() },
    clock,
    outbox: { baseBackoffMs: 10 },
    ...options,
  });
  return { storage, sms, engine };
}

describe('engine: inbound', () => {
  it('steps, persists and sends the reply through the outbox with the provider id', async () => {
    const { engine, sms, storage } = setup();
    const r = await engine.handleInbound(inbound('SM1', 'book'));
    expect(r.replies[0]?.text).toMatch(/Which service/);
    await engine.dispatchOutbox();
    expect(sms.sent.map((s) => s.text)).toEqual([r.replies[0]!.text]);
    const [row] = await storage.listOutbox(KEY);
    expect(row).toMatchObject({ status: 'queued', providerMessageId: 'P1', attempts: 1 });
  });

  it('returns the recorded replies for a provider retry and changes nothing', async () => {
    const { engine, storage } = setup();
    const first = await engine.handleInbound(inbound('SM1', 'book'));
    const before = await storage.getConversation(KEY);
    const again = await engine.handleInbound(inbound('SM1', 'book'));
    expect(again.duplicate).toBe(true);
    expect(again.replies).toEqual(first.replies);
    expect((await storage.getConversation(KEY))?.version).toBe(before?.version);
    expect(await storage.listOutbox(KEY)).toHaveLength(1);
  });

  it('records the ids of the replies, not copies; a record written with copies is still answered', async () => {
    const { engine, storage } = setup();
    const first = await engine.handleInbound(inbound('SM1', 'book'));
    expect(await storage.getIdempotency('in:twilio:SM1')).toEqual({
      replyIds: first.replies.map((r) => r.id),
    });
    // A record as releases before this one wrote it: the replies themselves.
    const old = { ...first.replies[0]!, id: 'SMold:r0', text: 'Recorded before' };
    const stored = await storage.getConversation(KEY);
    await storage.commit({
      key: KEY,
      expectedVersion: stored!.version,
      state: stored!.state,
      events: [],
      outbox: [],
      idempotency: { key: 'in:twilio:SMold', result: { replies: [old] } },
    });
    const again = await engine.handleInbound(inbound('SMold', 'book'));
    expect(again).toMatchObject({ duplicate: true, replies: [old] });
  });

  it('processes two messages from one phone arriving at once, in order of arrival', async () => {
    const { engine, storage } = setup();
    await Promise.all([engine.handleInbound(inbound('A', 'book')), engine.handleInbound(inbound('B', '1'))]);
    const stored = await storage.getConversation(KEY);
    expect(stored?.state.seq).toBe(2);
    expect(JSON.stringify(stored?.state.thread.machine.value)).toContain('askTime');
  });

  it('serialises conflicting writers from two engines on one storage with retries', async () => {
    const storage = memoryStorage();
    const a = createEngine({ bot, storage, clock });
    const b = createEngine({ bot, storage, clock });
    await Promise.all([a.handleInbound(inbound('A', 'book')), b.handleInbound(inbound('B', 'hello'))]);
    expect((await storage.getConversation(KEY))?.state.seq).toBe(2);
    expect((await storage.listEvents(KEY)).filter((e) => e.type === 'inbound')).toHaveLength(2);
  });

  it('reads once per step through loadForStep when the storage has it, and twice without it', async () => {
    const counted = (withLoad: boolean) => {
      const base = memoryStorage();
      const calls: string[] = [];
      const storage = {
        ...base,
        loadForStep: withLoad
          ? (key: string, idem: string) => {
              calls.push('loadForStep');
              return base.loadForStep!(key, idem);
            }
          : undefined,
        getIdempotency: (key: string) => {
          calls.push('getIdempotency');
          return base.getIdempotency(key);
        },
        getConversation: (key: string) => {
          calls.push('getConversation');
          return base.getConversation(key);
        },
      };
      return { base, storage, calls };
    };
    for (const withLoad of [true, false]) {
      const { base, storage, calls } = counted(withLoad);
      const engine = createEngine({ bot, storage, clock });
      const first = await engine.handleInbound(inbound('A', 'book'));
      expect(calls).toEqual(withLoad ? ['loadForStep'] : ['getIdempotency', 'getConversation']);
      calls.length = 0;
      const again = await engine.handleInbound(inbound('A', 'book'));
      expect(again).toMatchObject({ duplicate: true, replies: first.replies });
      expect(calls).toEqual(withLoad ? ['loadForStep'] : ['getIdempotency']);
      // A second engine on the same storage wins the race: the retry reads the conversation again.
      calls.length = 0;
      const other = createEngine({ bot, storage: base, clock }); // another process on the same data
      const commit = storage.commit;
      let raced = false;
      storage.commit = async (input) => {
        if (!raced) {
          raced = true;
          await other.handleInbound(inbound('B', 'hello'));
        }
        return commit(input);
      };
      await engine.handleInbound(inbound('C', '1'));
      expect(calls.filter((c) => c === 'getConversation')).toHaveLength(withLoad ? 1 : 2);
      expect((await storage.getConversation(KEY))?.state.seq).toBe(3);
    }
  });

  it('runs effects and feeds their results back as events', async () => {
    const { engine, storage } = setup();
    await engine.handleInbound(inbound('1', 'book'));
    await engine.handleInbound(inbound('2', '1'));
    await engine.handleInbound(inbound('3', 'tomorrow 3pm'));
    await engine.stop();
    const texts = (await storage.listOutbox(KEY)).map((r) => r.text);
    expect(texts.at(-1)).toMatch(/Reply YES to book/);
  });

  it('puts replies caused by quick effects into a synchronous response and marks them sent', async () => {
    const { engine, storage, sms } = setup();
    await engine.handleInbound(inbound('1', 'book'), { syncReply: true });
    await engine.handleInbound(inbound('2', '1'), { syncReply: true });
    const r = await engine.handleInbound(inbound('3', 'tomorrow 3pm'), { syncReply: true });
    expect(r.replies.map((x) => x.text).join(' ')).toMatch(/Reply YES to book/);
    await engine.dispatchOutbox();
    expect(sms.sent).toHaveLength(0);
    expect((await storage.listOutbox(KEY)).every((row) => row.status === 'sent')).toBe(true);
  });

  it('a retry of a message answered with the replies of its effects gets them again, reading only its own rows', async () => {
    const { engine, storage } = setup();
    await engine.handleInbound(inbound('1', 'book'), { syncReply: true });
    await engine.handleInbound(inbound('2', '1'), { syncReply: true });
    const first = await engine.handleInbound(inbound('3', 'tomorrow 3pm'), { syncReply: true });
    const asked: Array<{ idPrefix?: string } | undefined> = [];
    const list = storage.listOutbox.bind(storage);
    storage.listOutbox = (key, options) => {
      asked.push(options);
      return list(key, options);
    };
    const retry = await engine.handleInbound(inbound('3', 'tomorrow 3pm'), { syncReply: true });
    expect(retry.duplicate).toBe(true);
    expect(retry.replies.map((r) => r.text)).toEqual(first.replies.map((r) => r.text));
    // Not the whole history: only the rows of message 3's effects (`3:e…`).
    expect(asked).toEqual([{ idPrefix: '3:e' }]);
  });

  it('answers a failed calendar honestly and escalates', async () => {
    const { engine, storage } = setup({
      actions: { calendar: calendar({ check: async () => Promise.reject(new Error('down')) }) },
    });
    await engine.handleInbound(inbound('1', 'book'));
    await engine.handleInbound(inbound('2', '1'));
    await engine.handleInbound(inbound('3', 'tomorrow 3pm'));
    await engine.stop();
    const stored = await storage.getConversation(KEY);
    expect(stored?.state.thread.handoff).toMatchObject({ status: 'waiting', reason: 'effect_failed' });
  });

  it('masks card numbers before anything is stored', async () => {
    const { engine, storage } = setup();
    await engine.handleInbound(inbound('1', 'my card is 4111 1111 1111 1111'));
    const events = await storage.listEvents(KEY);
    expect(JSON.stringify(events)).not.toContain('4111 1111');
    expect(JSON.stringify(events)).toContain('[card ending 1111]');
  });

  it('rejects an invalid number with a coded error and stores nothing', async () => {
    const { engine, storage } = setup();
    await expect(engine.handleInbound(inbound('1', 'hi', 'garbage'))).rejects.toMatchObject({
      code: 'SMSFLOW_ERR_INVALID_PHONE',
    });
    expect(await storage.listConversations()).toHaveLength(0);
  });
});

describe('engine: outbox', () => {
  it('renews the lease while a send is in hand: a slow send is never claimed and sent again by another dispatcher', async () => {
    const storage = memoryStorage();
    const slow = fakeChannel('sms');
    const send = slow.send.bind(slow);
    slow.send = async (request) => {
      await new Promise((r) => setTimeout(r, 2500)); // a pacer or a slow provider: over twice the lease
      return send(request);
    };
    const fast = fakeChannel('sms');
    // Real clocks: the lease (1 s) runs out in real time while the first dispatcher's send is in hand.
    const first = createEngine({ bot, storage, channels: { sms: slow }, outbox: { leaseMs: 1000 } });
    const second = createEngine({ bot, storage, channels: { sms: fast }, outbox: { leaseMs: 1000 } });
    await first.handleInbound({ ...inbound('1', 'book'), receivedAt: new Date().toISOString() });
    const sending = first.dispatchOutbox();
    for (let i = 0; i < 16; i++) {
      await new Promise((r) => setTimeout(r, 180));
      await second.dispatchOutbox();
    }
    await sending;
    expect(slow.sent).toHaveLength(1);
    expect(fast.sent).toHaveLength(0);
    expect((await storage.listOutbox(KEY)).map((r) => [r.status, r.attempts])).toEqual([['queued', 1]]);
  });

  it('re-checks consent at send time: an opt-out between step and send cancels the send', async () => {
    const { engine, sms, storage } = setup();
    await engine.handleInbound(inbound('1', 'book'));
    await engine.handleInbound(inbound('2', 'STOP'));
    await engine.dispatchOutbox();
    expect(sms.sent.map((s) => s.text)).toEqual([expect.stringMatching(/unsubscribed/)]);
    const rows = await storage.listOutbox(KEY);
    expect(rows.map((r) => r.status)).toEqual(['cancelled', 'queued']);
  });

  it('loses nothing when the process dies between persist and send', async () => {
    const storage = memoryStorage();
    const crashed = createEngine({ bot, storage, clock });
    await crashed.handleInbound(inbound('1', 'book'));
    const sms = fakeChannel();
    const restarted = createEngine({ bot, storage, channels: { sms }, clock });
    await restarted.dispatchOutbox();
    expect(sms.sent).toHaveLength(1);
  });

  it('resends a message the provider never confirmed at most once more, and records it', async () => {
    const { engine, sms, storage } = setup({ outbox: { leaseMs: 1000 } });
    await engine.handleInbound(inbound('1', 'book'));
    await engine.handleInbound(inbound('2', '1'));
    const [first, second] = await storage.listOutbox(KEY);
    // A dispatcher claimed both and marked them in flight, then died: `first` on its first send, `second`
    // already on its resend.
    await storage.claimOutbox({ owner: 'dead', now: clock().toISOString(), leaseMs: 1000, limit: 10 });
    await storage.updateOutbox(
      first!.id,
      { status: 'sending', attempts: 1, errorCode: 'in_flight', leaseOwner: 'dead' },
      clock().toISOString(),
    );
    await storage.updateOutbox(
      second!.id,
      { status: 'sending', attempts: 2, errorCode: 'in_flight', leaseOwner: 'dead' },
      clock().toISOString(),
    );
    clockMs += 2000;
    await engine.dispatchOutbox();
    expect(sms.sent.map((m) => m.id)).toEqual([first!.id]);
    expect(await storage.getOutboxMessage(first!.id)).toMatchObject({ status: 'queued', attempts: 2 });
    expect(await storage.getOutboxMessage(second!.id)).toMatchObject({
      status: 'failed',
      errorCode: 'unconfirmed',
    });
  });

  it('retries retryable failures with backoff and fails permanent ones with the provider code', async () => {
    const { engine, sms, storage } = setup();
    sms.next.push({ ok: false, errorCode: '20429', message: 'too many', retryable: true });
    await engine.handleInbound(inbound('1', 'book'));
    await engine.dispatchOutbox();
    let [row] = await storage.listOutbox(KEY);
    expect(row).toMatchObject({ status: 'pending', errorCode: '20429', attempts: 1 });
    clockMs += 20;
    await engine.dispatchOutbox();
    [row] = await storage.listOutbox(KEY);
    expect(row?.status).toBe('queued');
    sms.next.push({ ok: false, errorCode: '21211', message: 'invalid To', retryable: false });
    await engine.handleInbound(inbound('2', '1'));
    await engine.dispatchOutbox();
    expect((await storage.listOutbox(KEY)).at(-1)).toMatchObject({ status: 'failed', errorCode: '21211' });
  });

  it('records a provider opt-out (Twilio 21610) in the conversation', async () => {
    const { engine, sms, storage } = setup();
    sms.next.push({
      ok: false,
      errorCode: '21610',
      message: 'unsubscribed',
      retryable: false,
      optedOut: true,
    });
    await engine.handleInbound(inbound('1', 'book'));
    await engine.dispatchOutbox();
    expect((await storage.getConversation(KEY))?.state.consent).toMatchObject({
      status: 'opted_out',
      via: 'provider',
    });
  });

  it('applies delivery callbacks out of order without downgrading', async () => {
    const { engine, storage } = setup();
    await engine.handleInbound(inbound('1', 'book'));
    await engine.dispatchOutbox();
    await engine.handleStatus({ providerMessageId: 'P1', status: 'delivered', providerStatus: 'delivered' });
    await engine.handleStatus({ providerMessageId: 'P1', status: 'sent', providerStatus: 'sent' });
    expect((await storage.listOutbox(KEY))[0]?.status).toBe('delivered');
  });
});

describe('engine: handoff and events', () => {
  it('agent replies go through the outbox; hand back asks the pending question again', async () => {
    const { engine, sms, storage } = setup();
    await engine.handleInbound(inbound('1', 'book'));
    await engine.handleInbound(inbound('2', 'HUMAN'));
    await engine.handleInbound(inbound('3', 'hello?'));
    await engine.sendAgentReply(KEY, 'Hi, this is Ann from the salon.', 'ann@example.com');
    await engine.releaseToBot(KEY);
    await engine.dispatchOutbox();
    expect(sms.sent.map((s) => s.text)).toEqual([
      expect.stringMatching(/Which service/),
      expect.stringMatching(/getting a person/),
      'Hi, this is Ann from the salon.',
      expect.stringMatching(/Which service/),
    ]);
    expect((await storage.getConversation(KEY))?.state.thread.handoff.status).toBe('bot');
  });

  it('refuses an agent reply to an opted-out number', async () => {
    const { engine } = setup();
    await engine.handleInbound(inbound('1', 'STOP'));
    await expect(engine.sendAgentReply(KEY, 'hello')).rejects.toSatisfy((e) =>
      isSmsflowError(e, 'SMSFLOW_ERR_OPTED_OUT'),
    );
  });

  it('delivers external events to a thread idempotently', async () => {
    const { engine, storage } = setup();
    await engine.handleInbound(inbound('1', 'book'));
    const a = await engine.dispatch(PHONE, {
      id: 'crm-1',
      type: 'crm.owner_assigned',
      data: { owner: 'ann' },
    });
    const b = await engine.dispatch(PHONE, {
      id: 'crm-1',
      type: 'crm.owner_assigned',
      data: { owner: 'ann' },
    });
    expect([a.duplicate, b.duplicate]).toEqual([false, true]);
    expect((await storage.listEvents(KEY)).filter((e) => e.type === 'event')).toHaveLength(1);
  });

  it('purges transcripts older than the retention window', async () => {
    const { engine, storage } = setup();
    await engine.handleInbound(inbound('1', 'book'));
    clockMs += 40 * 86_400_000;
    await engine.handleInbound(inbound('2', 'hi'));
    const purged = await engine.purgeOlderThan(30);
    expect(purged).toBeGreaterThan(0);
    expect(
      (await storage.listEvents(KEY)).every((e) => e.at >= new Date(clockMs - 30 * 86_400_000).toISOString()),
    ).toBe(true);
  });
});

describe('engine: opt-out while a send is unconfirmed', () => {
  it('marks a possibly-sent message failed (unconfirmed), not cancelled, and does not resend it', async () => {
    const storage = memoryStorage();
    const sms = fakeChannel();
    const engine = createEngine({ bot, storage, channels: { sms }, clock, outbox: { leaseMs: 1000 } });
    await engine.handleInbound(inbound('u1', 'book'));
    const [row] = await storage.listOutbox(KEY);
    await storage.claimOutbox({ owner: 'dead', now: clock().toISOString(), leaseMs: 1000, limit: 10 });
    await storage.updateOutbox(
      row!.id,
      { status: 'sending', attempts: 1, errorCode: 'in_flight', leaseOwner: 'dead' },
      clock().toISOString(),
    );
    await engine.handleInbound(inbound('u2', 'STOP'));
    clockMs += 2000;
    await engine.dispatchOutbox();
    expect(await storage.getOutboxMessage(row!.id)).toMatchObject({
      status: 'failed',
      errorCode: 'unconfirmed',
    });
    expect(sms.sent.map((s) => s.text)).toEqual([expect.stringMatching(/unsubscribed/)]);
  });
});

describe('engine: effects lost in a crash', () => {
  /** A conversation waiting in `checking` whose calendar check died with its process (it never answers). */
  async function lostCheck() {
    clockMs = Date.parse('2026-11-24T17:00:00Z'); // a Tuesday morning in the salon's zone: "tomorrow 3pm" is open
    const storage = memoryStorage();
    const died = createEngine({
      bot,
      storage,
      clock,
      actions: { calendar: calendar({ check: () => new Promise(() => {}) }) },
    });
    for (const [i, text] of ['book', '1', 'tomorrow 3pm'].entries())
      await died.handleInbound(inbound(`c${i}`, text));
    expect((await storage.getConversation(KEY))?.state.thread.machine.value).toBe('checking');
    const checks: string[] = [];
    const restarted = createEngine({
      bot,
      storage,
      clock,
      actions: {
        calendar: calendar({
          check: async (_req, ctx) => {
            checks.push(ctx.effectId);
            return { available: true };
          },
        }),
      },
    });
    return { storage, restarted, checks };
  }

  it('runs the check again with the same effect id; the conversation goes on and is not stuck', async () => {
    const { storage, restarted, checks } = await lostCheck();
    // Still inside the window an action may take: left alone.
    expect(await restarted.recoverEffects()).toBe(0);
    clockMs += 2 * 60_000;
    // The customer wrote meanwhile ("hello?"): the flow is still waiting, so the check is still owed.
    await restarted.handleInbound(inbound('c3', 'hello?'));
    expect(await restarted.recoverEffects()).toBe(1);
    expect(checks).toEqual(['c2:e0']);
    const state = (await storage.getConversation(KEY))!.state;
    expect(state.thread.machine.value).toBe('confirm');
    const answer = (await storage.listOutbox(KEY)).find((r) => r.id.startsWith('c2:e0:result'));
    expect(answer?.text).toMatch(/Reply YES to book/);
    // Recorded now: a second pass has nothing to do.
    expect(await restarted.recoverEffects()).toBe(0);
  });

  it('leaves the effect alone when a person has the thread or the contact opted out', async () => {
    const taken = await lostCheck();
    await taken.restarted.takeThread(KEY, 'ana');
    clockMs += 2 * 60_000;
    expect(await taken.restarted.recoverEffects()).toBe(0);
    const stopped = await lostCheck();
    await stopped.restarted.handleInbound(inbound('c9', 'STOP'));
    clockMs += 2 * 60_000;
    expect(await stopped.restarted.recoverEffects()).toBe(0);
    expect([...taken.checks, ...stopped.checks]).toEqual([]);
  });

  it('lostEffects: only awaited effects without a result, old enough, after which the flow did not move on', () => {
    const ev = (
      id: string,
      type: string,
      data: Record<string, unknown>,
      at = '2026-01-01T00:00:00.000Z',
    ) => ({
      id,
      threadId: 't',
      at,
      type,
      data: data as never,
      conversationKey: KEY,
      seq: 0,
    });
    const effect = (input: string, type: string, at?: string) =>
      ev(`${input}:t1`, 'effect', { effectId: `${input}:e0`, type, payload: { service: 'cut' } }, at);
    const cutoff = Date.parse('2026-01-01T00:01:00.000Z');
    const events = [
      effect('a', 'calendar.check'), // answered below
      ev('a:e0:result:t0', 'event', { type: 'effect.result', data: { effectId: 'a:e0' } }),
      effect('b', 'notify.team'), // nobody waits for it
      effect('c', 'calendar.book'), // the flow moved on after it (a transition from a later input)
      ev('c:t2', 'transition', { to: 'booking' }), // the same input's own transition does not count
      ev('d:t1', 'transition', { to: 'askTime' }),
      effect('e', 'crm.upsertLead'), // lost: owed
      effect('f', 'payments.createLink', '2026-01-01T00:05:00.000Z'), // too recent
    ];
    expect(lostEffects(events, cutoff)).toEqual([
      { id: 'e:e0', type: 'crm.upsertLead', threadId: 't', payload: { service: 'cut' } },
    ]);
  });

  it('start() runs the recovery, and stop() ends it', async () => {
    const { storage, restarted, checks } = await lostCheck();
    clockMs += 2 * 60_000;
    restarted.start({ intervalMs: 60_000 });
    await restarted.stop(); // waits for the pass start() began
    expect(checks).toEqual(['c2:e0']);
    expect((await storage.getConversation(KEY))?.state.thread.machine.value).toBe('confirm');
  });
});
