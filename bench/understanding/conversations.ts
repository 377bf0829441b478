/**
 * Runs scripted multi-turn conversations through the public API end to end (`createBot`, `createEngine`, memory
 * storage, the memory calendar / CRM / payments / notifier, the proactive coordinator for reminders) and judges
 * each one from observable results only. Issue 25, "Measured, not assumed".
 *
 *   npx tsx bench/understanding/conversations.ts [--verbose] [--category NAME] [--id ID] [--corpus FILE]
 *
 * ## The corpus (`test/fixtures/understanding/conversations.json`, validated by `corpus.ts`)
 * `{ start, minutesBetween?, conversations: [...] }`: the first customer message of every conversation is at
 * `start` (ISO-8601), each later one `minutesBetween` minutes after (default 1). Each conversation:
 * - `id` (kebab-case, unique), `category` (one of `categories` in corpus.ts), `note?` (what it checks);
 * - `turns`: the customer's texts, sent one after the other whatever the bot answers;
 * - `start?`, `minutesBetween?`: this conversation's own clock;
 * - `setup?.booking`: `{ service, start: 'YYYY-MM-DDTHH:mm' }` (business wall clock) an upcoming booking the
 *   contact already has. It is booked on the memory calendar for the contact and remembered in the contact's
 *   profile (`profile.booking`, where the booking flow keeps it), as a booking made through the bot a month
 *   earlier would leave it. `setup?.busy`: `[{ start, minutes = 60 }]` periods another customer holds;
 * - `openerSlots?`: `{ service?, date?: 'YYYY-MM-DD', time?: 'HH:mm' }` what the first message already says;
 * - `expect`: `{ outcome, booking?: { service, date, time: 'HH:mm' | 'HH:mm-HH:mm' }, handoff: false | reason,
 *   faq?: knowledge-base id, lead?: { name?, email? } }`. A time window is for vague times the bot proposes.
 *
 * ## How outcomes are judged (judge.ts), never from reply wording
 * - `expect.booking` (booked, rescheduled, or a polite closing after one): the contact's active bookings on the
 *   calendar are exactly that one, and at most one booking was made. `booked` needs it to be new,
 *   `rescheduled` needs the setup booking to have moved (in place, or cancelled and booked again).
 * - `cancelled`: the setup booking is cancelled and nothing is active. Every other outcome: no booking was made
 *   and the setup booking is untouched (`kept`, `no_booking`, `none`, FAQ, lead, handoff, opt-out).
 * - handoff: with `false`, no `escalation` event at all (else a wrongful handoff); with a reason, an escalation
 *   for it (`retries_exhausted` and `low_confidence` count as one: the bot gave up).
 * - `opted_out`: consent is `opted_out`; any other outcome fails if it is. `faq`: an outbound event keyed
 *   `answer.<id>` (the FAQ flow's or a digression's). `lead_captured`: the memory CRM has a lead for the phone
 *   (with `expect.lead`'s fields). `closed_politely`: the last message got exactly one reply, asked no new
 *   question (`thread.pending`), and caused no clarify, invalid, effect or escalation event.
 * - every message gets a reply while the bot has the thread and the contact has not opted out.
 *
 * ## Metrics (judge.ts `metricsOf`)
 * Booking conversations completed; wrongful handoffs over all conversations; first-message slot retention
 * (`state.thread.slots` after the first message holds the opener's slots; a state without `slots` retains
 * nothing); median customer messages until a booking exists for openers with service, date and time (a
 * conversation that never books counts as Infinity); pass rate per category and overall.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { salonConfig, salonHours, salonServices } from '../../examples/server/salon.js';
import {
  type MemoryBooking,
  memoryCalendar,
  memoryCrm,
  memoryNotifier,
  memoryPayments,
} from '../../src/exports/actions.js';
import { createProactive, inProcessScheduler, type Proactive } from '../../src/exports/proactive.js';
import {
  type Bot,
  type BotConfig,
  type BusinessHours,
  type ChannelAdapter,
  type ConversationState,
  createBot,
  createEngine,
  memoryStorage,
  type SendRequest,
} from '../../src/index.js';
import {
  type Category,
  type Corpus,
  loadCorpus,
  localToIso,
  parseCorpus,
  type ScriptedConversation,
} from './corpus.js';
import {
  type ConversationMetrics,
  type ConversationVerdict,
  type JudgeOptions,
  judgeConversation,
  metricsOf,
  type Observation,
  type ObservedTurn,
} from './judge.js';
import { printReport } from './report.js';

/** Options of {@link runConversations}. */
export interface RunConversationsOptions {
  /** The bot under test. @default the demo salon's `salonConfig()` */
  config?: BotConfig;
  /** Opening hours the memory calendar enforces. @default the salon's */
  hours?: BusinessHours;
  /** Service ids and durations, for setup bookings. @default the salon's */
  services?: readonly { id: string; durationMinutes: number }[];
  /** Only the conversations this accepts. @default all */
  filter?: (conversation: ScriptedConversation) => boolean;
  /** Catalog keys the judge reads; see {@link JudgeOptions}. @default the booking flow's */
  judge?: JudgeOptions;
}

/** One conversation's result: its verdict, the exchange, and where the thread ended. */
export interface ConversationResult extends ConversationVerdict {
  id: string;
  category: Category;
  expected: ScriptedConversation['expect'];
  turns: { text: string; replies: string[] }[];
  handoff: { status: string; reason: string | null };
  consent: string;
}

/** What {@link runConversations} returns. */
export interface ConversationRun {
  metrics: ConversationMetrics;
  results: ConversationResult[];
}

const BUSINESS = '+14155550199';

/**
 * Runs every conversation of a corpus through a fresh engine (memory storage and memory actions) and judges it.
 *
 * @param corpus - A corpus object (validated here with zod; invalid input throws listing every issue).
 * @param options - The bot and calendar under test, and a filter.
 * @returns The metrics and one result per conversation.
 * @example
 * const { metrics } = await runConversations(loadCorpus());
 * console.log(metrics.bookingCompleted.rate);
 */
export async function runConversations(
  corpus: unknown,
  options: RunConversationsOptions = {},
): Promise<ConversationRun> {
  const parsed: Corpus = parseCorpus(corpus);
  const config = options.config ?? salonConfig();
  const bot = createBot(config);
  const services = options.services ?? salonServices;
  const conversations = parsed.conversations.filter(options.filter ?? (() => true));
  for (const c of conversations) {
    for (const id of [c.setup?.booking?.service, c.expect.booking?.service, c.openerSlots?.service]) {
      if (id !== undefined && !services.some((s) => s.id === id))
        throw new Error(`Conversation "${c.id}" names service "${id}", which the bot does not offer.`);
    }
  }
  const results: ConversationResult[] = [];
  for (const [index, conversation] of conversations.entries()) {
    const phone = `+1415${String(5_200_000 + index).padStart(7, '0')}`;
    results.push(
      await runOne(bot, conversation, {
        phone,
        start: conversation.start ?? parsed.start,
        minutesBetween: conversation.minutesBetween ?? parsed.minutesBetween,
        hours: options.hours ?? salonHours,
        services,
        judge: options.judge ?? {},
      }),
    );
  }
  return { metrics: metricsOf(results), results };
}

interface RunContext {
  phone: string;
  start: string;
  minutesBetween: number;
  hours: BusinessHours;
  services: readonly { id: string; durationMinutes: number }[];
  judge: JudgeOptions;
}

async function runOne(
  bot: Bot,
  conversation: ScriptedConversation,
  run: RunContext,
): Promise<ConversationResult> {
  const timeZone = bot.config.timeZone;
  const startMs = Date.parse(run.start);
  let now = startMs;
  const clock = () => new Date(now);
  const storage = memoryStorage();
  const calendar = memoryCalendar({
    timeZone,
    hours: run.hours,
    busy: (conversation.setup?.busy ?? []).map((b) => ({
      start: localToIso(b.start, timeZone),
      durationMinutes: b.minutes,
    })),
  });
  const crm = memoryCrm();
  const sent: SendRequest[] = [];
  const channel = capturingChannel(sent);
  let proactive: Proactive | undefined;
  const engine = createEngine({
    bot,
    storage,
    clock,
    channels: { sms: channel },
    actions: {
      calendar,
      crm,
      payments: memoryPayments({ baseUrl: 'http://localhost:3000' }),
      notify: memoryNotifier(),
    },
    // Reminders are scheduled (never fired: the clock does not reach them), as the demo salon does.
    onEffect: (effect, context) => proactive!.handleEffect(effect, context),
  });
  proactive = createProactive({ engine, scheduler: inProcessScheduler({ clock }), clock });
  const key = `sms:${run.phone}`;

  const setupBookingId = await seedBooking(bot, conversation, run, calendar, storage, startMs);
  const bookingsBefore = calendar.bookings();
  const turns: ObservedTurn[] = [];
  let slotsAfterFirst: unknown;
  let state = (await storage.getConversation(key))?.state ?? null;
  for (const [i, text] of conversation.turns.entries()) {
    now = startMs + i * run.minutesBetween * 60_000;
    const before = state;
    const active = (b: MemoryBooking) => b.status === 'booked' && b.contact === run.phone;
    const activeBefore = calendar.bookings().filter(active).length;
    const messageId = `${conversation.id}-m${i + 1}`;
    await engine.handleInbound({ id: messageId, from: run.phone, to: BUSINESS, text, receivedAt: clock() });
    // Without start() the engine dispatches nothing by itself: stop() waits for the effects in flight (and the
    // replies they cause), then the outbox is drained through the capturing channel.
    await engine.stop();
    while ((await engine.dispatchOutbox()) > 0) {}
    state = (await storage.getConversation(key))?.state ?? null;
    if (i === 0) slotsAfterFirst = (state?.thread as { slots?: unknown } | undefined)?.slots;
    const ofThis = (id: string) => id.startsWith(`${messageId}:`);
    turns.push({
      text,
      replies: sent.filter((s) => ofThis(s.id)).map((s) => s.text),
      events: (await storage.listEvents(key)).filter((e) => ofThis(e.id)),
      handoffBefore: before?.thread.handoff.status ?? 'bot',
      consentBefore: before?.consent.status ?? 'unknown',
      pendingBefore: before?.thread.pending,
      pendingAfter: state?.thread.pending,
      activeBookingsBefore: activeBefore,
      createdSoFar: calendar.bookings().length - bookingsBefore.length,
    });
  }
  await engine.stop();
  const observation: Observation = {
    phone: run.phone,
    timeZone,
    bookingsBefore,
    bookingsAfter: calendar.bookings(),
    setupBookingId,
    leads: crm.leads(),
    state,
    turns,
    slotsAfterFirst,
  };
  const verdict = judgeConversation(conversation, observation, run.judge);
  return {
    id: conversation.id,
    category: conversation.category,
    expected: conversation.expect,
    ...verdict,
    turns: turns.map((t) => ({ text: t.text, replies: t.replies })),
    handoff: {
      status: state?.thread.handoff.status ?? 'bot',
      reason: state?.thread.handoff.reason ?? null,
    },
    consent: state?.consent.status ?? 'unknown',
  };
}

/**
 * The setup booking: on the calendar for the contact, and in the profile of a conversation whose last thread
 * went idle just past the thread TTL (built by the bot's own step, so the state has whatever shape this version writes).
 */
async function seedBooking(
  bot: Bot,
  conversation: ScriptedConversation,
  run: RunContext,
  calendar: ReturnType<typeof memoryCalendar>,
  storage: ReturnType<typeof memoryStorage>,
  startMs: number,
): Promise<string | null> {
  const wanted = conversation.setup?.booking;
  if (!wanted) return null;
  const service = run.services.find((s) => s.id === wanted.service)!;
  const start = localToIso(wanted.start, bot.config.timeZone);
  // Past the thread TTL, so the first message of the conversation starts a new thread with this profile.
  const earlier = new Date(startMs - ((bot.config.threadTtlDays ?? 7) + 1) * 86_400_000);
  const seed = bot.step(undefined, {
    id: `${conversation.id}-setup`,
    from: run.phone,
    to: BUSINESS,
    text: 'hi',
    receivedAt: earlier,
  });
  const { bookingId } = await calendar.book(
    { service: service.id, start, durationMinutes: service.durationMinutes },
    { effectId: `${conversation.id}-setup:e0`, contact: run.phone, threadId: seed.state.thread.id },
  );
  const state: ConversationState = {
    ...seed.state,
    profile: { ...seed.state.profile, booking: { id: bookingId, service: service.id, start } },
    tags: [...new Set([...seed.state.tags, 'booked'])],
  };
  const committed = await storage.commit({
    key: state.contact.key,
    expectedVersion: 0,
    state,
    events: [],
    outbox: [],
    idempotency: { key: `in:sms:${conversation.id}-setup`, result: { replyIds: [] } },
  });
  if (!committed.ok) throw new Error(`Could not seed the booking of "${conversation.id}".`);
  return bookingId;
}

/** A channel that accepts every send and keeps it. */
function capturingChannel(sent: SendRequest[]): ChannelAdapter {
  return {
    name: 'capture',
    capabilities: { syncReply: false },
    verify: () => ({ ok: true }),
    parseInbound: () => ({ kind: 'ignored', reason: 'outbound only' }),
    parseStatus: () => ({ providerMessageId: '', status: 'sent', providerStatus: 'sent' }),
    webhookResponse: () => ({ status: 200, contentType: 'text/plain', body: '' }),
    async send(request) {
      sent.push(request);
      return { ok: true, providerMessageId: `cap-${sent.length}`, status: 'delivered' };
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      verbose: { type: 'boolean', default: false },
      category: { type: 'string' },
      id: { type: 'string' },
      corpus: { type: 'string' },
    },
  });
  const corpus = loadCorpus(values.corpus ?? undefined);
  const run = await runConversations(corpus, {
    filter: (c) =>
      (values.category === undefined || c.category === values.category) &&
      (values.id === undefined || c.id === values.id),
  });
  printReport(run, { verbose: values.verbose === true });
}
