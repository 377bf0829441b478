/**
 * The engine: idempotency, per-conversation serialisation, the atomic commit, effects fed back as events and
 * the public operations. The outbox dispatcher lives in `outbox.ts`, effect routing in `effects.ts`.
 */
import { randomUUID } from 'node:crypto';
import type { ParsedStatus } from '../adapters/channels/types.js';
import type { LlmTrace } from '../adapters/llm/types.js';
import type { OutboxMessage } from '../adapters/storage/types.js';
import { SmsflowError } from '../core/errors.js';
import { tryNormalizePhone } from '../core/phone.js';
import {
  type ConversationEvent,
  type ConversationState,
  type Effect,
  type InboundMessageInput,
  isoStringOf,
  type Json,
  type OutboundReply,
  type StepResult,
} from '../core/types.js';
import { lostEffects, runEffect } from './effects.js';
import { createDispatcher } from './outbox.js';
import { maskPhone, redactCardNumbers } from './redact.js';
import { answerStaffCommand, type PauseSwitch, parseStaffCommand } from './staff.js';
import type { Engine, EngineChange, EngineLogger, EngineOptions, InboundResult } from './types.js';

const silent: EngineLogger = { debug() {}, info() {}, warn() {}, error() {} };

interface Applied {
  result: StepResult | null;
  replies: OutboundReply[];
  duplicate: boolean;
}

/**
 * Creates the engine: the imperative shell around a bot. Idempotent on the provider's message id, one writer per
 * conversation (optimistic concurrency with retries), state + transcript + outbox in one atomic write, an outbox
 * dispatcher with retries and consent re-checks, and effects fed back as events.
 *
 * @example
 * const engine = createEngine({ bot, storage: sqliteStorage({ path: 'data/smsflow.db' }), channels: { sms: twilio } });
 * engine.start();
 * const { replies } = await engine.handleInbound({ id: 'SM1', from: '+14155550100', to: '+14155550199', text: 'hi', receivedAt: new Date() });
 */
export function createEngine(options: EngineOptions): Engine {
  const { bot, storage } = options;
  const clock = options.clock ?? (() => new Date());
  const logger = options.logger ?? silent;
  const redact = options.redact ?? redactCardNumbers;
  const maxRetries = options.maxConflictRetries ?? 20;
  const awaitEffectsMs = options.awaitEffectsMs ?? 2000;
  const listeners = new Set<(change: EngineChange) => void>();
  const queues = new Map<string, Promise<unknown>>();
  const background = new Set<Promise<unknown>>();
  const defaultCountry = bot.config.defaultCountry ?? 'US';
  const staffNumbers = new Set(
    (options.staffNumbers ?? [])
      .map((n) => tryNormalizePhone(n, { defaultCountry }))
      .filter((n): n is string => n !== null),
  );
  const pause: PauseSwitch = { paused: false };
  let recovery: NodeJS.Timeout | null = null;

  const emit = (change: EngineChange) => {
    for (const l of listeners) {
      try {
        l(change);
      } catch (error) {
        logger.warn({ err: String(error) }, 'change listener failed');
      }
    }
  };

  // One writer per conversation inside this process (arrival order); across processes the version check decides.
  function serialised<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = queues.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => {});
    queues.set(key, tail);
    void tail.then(() => {
      if (queues.get(key) === tail) queues.delete(key);
    });
    return next;
  }

  function conversationKey(channel: string, phone: string): string {
    const normalised = tryNormalizePhone(phone, { defaultCountry });
    if (!normalised) {
      throw new SmsflowError(
        'SMSFLOW_ERR_INVALID_PHONE',
        `"${String(phone).slice(0, 64)}" is not a valid phone number.`,
      );
    }
    return `${channel}:${normalised}`;
  }

  function toOutbox(
    reply: OutboundReply,
    key: string,
    threadId: string,
    now: string,
    delivery: Delivery,
  ): OutboxMessage {
    const sentInResponse = delivery === 'response';
    return {
      id: reply.id,
      conversationKey: key,
      threadId,
      channel: reply.channel,
      to: reply.to,
      ...(reply.from ? { from: reply.from } : {}),
      text: reply.text,
      segments: reply.segments,
      encoding: reply.encoding,
      kind: reply.kind,
      status: sentInResponse ? 'sent' : 'pending',
      ...(sentInResponse ? { provider: 'webhook-response' } : {}),
      attempts: 0,
      nextAttemptAt: typeof delivery === 'object' ? delivery.holdUntil : now,
      createdAt: now,
      updatedAt: now,
    };
  }

  /** Load → step → atomic commit, retried on version conflicts; duplicates return what was recorded. */
  async function apply(
    key: string,
    idempotencyKey: string,
    build: (state: ConversationState | undefined) => Promise<StepResult>,
    delivery: Delivery,
  ): Promise<Applied> {
    // One read where the adapter offers it (idempotency record and conversation together), else two.
    const loaded = storage.loadForStep ? await storage.loadForStep(key, idempotencyKey) : undefined;
    const recorded = loaded ? loaded.recorded : await storage.getIdempotency(idempotencyKey);
    if (recorded) return { result: null, replies: await repliesOf(recorded), duplicate: true };
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      const stored = attempt === 0 && loaded ? loaded.conversation : await storage.getConversation(key);
      const result = await build(stored?.state);
      const now = isoStringOf(clock().getTime());
      const commit = await storage.commit({
        key,
        expectedVersion: stored?.version ?? 0,
        state: result.state,
        events: result.events,
        outbox: result.replies.map((r) => toOutbox(r, key, result.state.thread.id, now, delivery)),
        // The replies themselves are in the outbox rows of this commit: the record names them.
        idempotency: { key: idempotencyKey, result: { replyIds: result.replies.map((r) => r.id) } },
      });
      if (commit.ok) {
        emit({ type: 'conversation', key });
        return { result, replies: result.replies, duplicate: false };
      }
      if (commit.reason === 'duplicate')
        return { result: null, replies: await repliesOf(commit.result), duplicate: true };
      // Another writer won: back off a little (jittered) and step again on the fresh state.
      await sleep(Math.min(50, 2 ** attempt) * Math.random());
    }
    throw new SmsflowError(
      'SMSFLOW_ERR_CONFLICT',
      `Conversation ${key} kept changing under ${maxRetries} retries; try again.`,
    );
  }

  /**
   * The replies a recorded message or event gave: their outbox rows, named by id (`{ replyIds }`), or the replies
   * themselves in records written before (`{ replies }`).
   */
  async function repliesOf(recorded: Json): Promise<OutboundReply[]> {
    const { replies, replyIds } = recorded as { replies?: unknown; replyIds?: unknown };
    if (Array.isArray(replies)) return replies as OutboundReply[];
    if (!Array.isArray(replyIds)) return [];
    const rows = await Promise.all(replyIds.map((id) => storage.getOutboxMessage(String(id))));
    return rows.filter((row): row is OutboxMessage => row !== null).map(replyOf);
  }

  async function applyEvent(
    key: string,
    event: ConversationEvent,
    delivery: Delivery = 'outbox',
  ): Promise<Applied> {
    return apply(
      key,
      `ev:${event.id}`,
      async (state) => {
        if (!state) throw new SmsflowError('SMSFLOW_ERR_NOT_FOUND', `No conversation ${key}.`);
        return bot.step(state, event);
      },
      delivery,
    );
  }

  /** Runs effects and feeds each result back as an event; follows chains (a result asking for more effects). */
  async function runEffects(key: string, effects: Effect[], collect: Collector | null): Promise<void> {
    const actions = options.actions ?? {};
    await Promise.all(
      effects.map(async (effect) => {
        const controller = new AbortController();
        const onEffect = options.onEffect;
        const outcome = await runEffect(
          actions,
          effect,
          controller.signal,
          onEffect ? (e) => onEffect(e, { conversationKey: key }) : undefined,
        );
        if (!outcome) return;
        // Replies that may still ride in the webhook response are held back from the dispatcher until then.
        const inTime = collect !== null && !collect.responded;
        const applied = await serialised(key, () =>
          applyEvent(
            key,
            {
              kind: 'event',
              id: `${effect.id}:result`,
              type: 'effect.result',
              at: clock().toISOString(),
              data: {
                effectId: effect.id,
                effect: effect.type,
                threadId: effect.threadId,
                ok: outcome.ok,
                data: outcome.data,
              },
            },
            inTime ? { holdUntil: collect.holdUntil } : 'outbox',
          ),
        );
        if (!outcome.ok) logger.warn({ effect: effect.type, error: outcome.data.error }, 'effect failed');
        if (collect && !collect.responded) collect.replies.push(...applied.replies);
        else if (applied.replies.length > 0) dispatcher.kick();
        if (applied.result && applied.result.effects.length > 0)
          await runEffects(key, applied.result.effects, collect);
      }),
    );
  }

  function track(promise: Promise<unknown>): void {
    background.add(promise);
    void promise.finally(() => background.delete(promise));
  }

  const dispatcher = createDispatcher({
    storage,
    channels: options.channels ?? {},
    clock,
    logger,
    settings: options.outbox ?? {},
    onOptedOut: async (row) => {
      // The provider says the number opted out (e.g. Twilio 21610): record it in the conversation.
      await serialised(row.conversationKey, () =>
        applyEvent(row.conversationKey, {
          kind: 'event',
          id: `optout:${row.id}`,
          type: 'consent.opted_out',
          at: clock().toISOString(),
        }),
      ).catch((error) => logger.warn({ err: String(error) }, 'could not record provider opt-out'));
    },
    onChange: emit,
  });

  const engine: Engine = {
    bot,
    storage,
    async handleInbound(input: InboundMessageInput, handleOptions = {}): Promise<InboundResult> {
      const channel = input.channel ?? 'sms';
      const key = conversationKey(channel, input.from);
      const message: InboundMessageInput = { ...input, text: redact(String(input.text ?? '')) };
      const idempotencyKey = `in:${input.provider ?? channel}:${input.id}`;
      const phone = key.slice(channel.length + 1);
      // Staff commands need the database, so the engine answers them and hands the answer to step as data.
      const command = staffNumbers.has(phone) ? parseStaffCommand(message.text) : null;
      if (command && !(await storage.getIdempotency(idempotencyKey))) {
        const reply = await answerStaffCommand(command, {
          storage,
          now: clock(),
          timeZone: bot.config.timeZone,
          pause,
        });
        message.understanding = { intent: 'staff', confidence: 1, source: 'rules', entities: { reply } };
      }
      const syncReply = handleOptions.syncReply === true;
      const started = Date.now();
      const applied = await serialised(key, () =>
        apply(
          key,
          idempotencyKey,
          async (state) => {
            if (pause.paused && !command && bot.startsNewThread(state, message.receivedAt)) {
              // Paused by staff: a new conversation goes to a person (recorded as understanding, like any rule).
              return bot.step(state, {
                ...message,
                understanding: { intent: 'paused', confidence: 1, source: 'rules' },
              });
            }
            if (options.llm && !message.understanding && bot.startsNewThread(state, message.receivedAt)) {
              const traces: LlmTrace[] = [];
              const understanding = await bot.understandWithModel(message.text, options.llm, {
                context: { flow: state?.thread.flow ?? 'new' },
                onTrace: (t) => traces.push(t),
              });
              const result = bot.step(state, { ...message, understanding });
              const at = result.events[0]?.at ?? clock().toISOString();
              for (const [i, trace] of traces.entries()) {
                result.events.push({
                  id: `${input.id}:llm${i}`,
                  threadId: result.state.thread.id,
                  at,
                  type: 'llm',
                  data: trace as unknown as { [k: string]: Json },
                });
              }
              return result;
            }
            if (options.understand && !message.understanding) {
              const understanding = await options.understand(message.text, state);
              if (understanding) return bot.step(state, { ...message, understanding });
            }
            return bot.step(state, message);
          },
          syncReply ? 'response' : 'outbox',
        ),
      );
      logger.info(
        {
          conversation: maskedKey(key),
          messageId: input.id,
          duplicate: applied.duplicate,
          replies: applied.replies.length,
          ms: Date.now() - started,
        },
        'inbound handled',
      );
      logger.debug({ messageId: input.id, text: message.text }, 'inbound body');
      const replies = [...applied.replies];
      if (applied.duplicate && syncReply) {
        // A provider retry of a message answered in its webhook response: the replies that came from its
        // effects (`<id>:e0:result:r0`, …) rode in that response too, so they belong in the repeat.
        // Only those rows are read; the check on each id stays for host adapters that ignore `idPrefix`.
        const prefix = `${input.id}:e`;
        for (const row of await storage.listOutbox(key, { idPrefix: prefix })) {
          if (row.id.startsWith(prefix) && row.status !== 'cancelled') replies.push(replyOf(row));
        }
      }
      if (applied.result && applied.result.effects.length > 0) {
        const holdUntil = new Date(clock().getTime() + awaitEffectsMs + HOLD_MARGIN_MS).toISOString();
        const collect: Collector | null = syncReply ? { responded: false, replies: [], holdUntil } : null;
        const work = runEffects(key, applied.result.effects, collect).catch((error) =>
          logger.error({ err: String(error) }, 'effects failed'),
        );
        track(work);
        if (collect) {
          await Promise.race([work, sleep(awaitEffectsMs)]);
          collect.responded = true;
          // These replies go out in the response: mark them sent before the hold ends so the dispatcher skips them.
          const now = clock().toISOString();
          for (const reply of collect.replies) {
            await storage.updateOutbox(reply.id, { status: 'sent' }, now);
            replies.push(reply);
          }
        }
      }
      if (!syncReply && !applied.duplicate) dispatcher.kick();
      return { replies, duplicate: applied.duplicate, conversationKey: key };
    },

    async handleStatus(status: ParsedStatus) {
      const row = await storage.applyDeliveryStatus(
        status.providerMessageId,
        status.status,
        clock().toISOString(),
        status.errorCode,
      );
      if (row) emit({ type: 'outbox', key: row.conversationKey, id: row.id, status: row.status });
      return row;
    },

    async dispatch(contact, event) {
      const key = conversationKey(event.channel ?? 'sms', contact);
      const applied = await serialised(key, () =>
        applyEvent(key, {
          kind: 'event',
          id: event.id,
          type: event.type,
          at: clock().toISOString(),
          data: event.data ?? {},
        }),
      );
      if (applied.result && applied.result.effects.length > 0) {
        track(
          runEffects(key, applied.result.effects, null).catch((error) =>
            logger.error({ err: String(error) }, 'effects failed'),
          ),
        );
      }
      if (applied.replies.length > 0) dispatcher.kick();
      return { replies: applied.replies, duplicate: applied.duplicate };
    },

    async sendAgentReply(key, text, agent) {
      const applied = await serialised(key, () =>
        applyEvent(key, {
          kind: 'event',
          id: `agent:${randomUUID()}`,
          type: 'agent.reply',
          at: clock().toISOString(),
          data: { text: redact(text), agent: agent ?? null },
        }),
      );
      const reply = applied.replies[0];
      if (!reply)
        throw new SmsflowError(
          'SMSFLOW_ERR_OPTED_OUT',
          `Conversation ${key} opted out; the agent reply was not sent.`,
        );
      dispatcher.kick();
      return reply;
    },

    async releaseToBot(key) {
      const applied = await serialised(key, () =>
        applyEvent(key, {
          kind: 'event',
          id: `release:${randomUUID()}`,
          type: 'agent.release',
          at: clock().toISOString(),
        }),
      );
      if (applied.replies.length > 0) dispatcher.kick();
    },

    async closeThread(key) {
      await serialised(key, () =>
        applyEvent(key, {
          kind: 'event',
          id: `close:${randomUUID()}`,
          type: 'agent.close',
          at: clock().toISOString(),
        }),
      );
    },

    async takeThread(key, agent) {
      await serialised(key, () =>
        applyEvent(key, {
          kind: 'event',
          id: `take:${randomUUID()}`,
          type: 'agent.take',
          at: clock().toISOString(),
          data: { agent: agent ?? null },
        }),
      );
    },

    dispatchOutbox: () => dispatcher.runOnce(),
    start(startOptions) {
      dispatcher.start(startOptions?.intervalMs ?? 1000);
      if (recovery) return;
      // Effects lost in a crash: once now, then every minute (another process may have died meanwhile).
      const sweep = () =>
        track(
          engine
            .recoverEffects()
            .catch((error) => logger.error({ err: String(error) }, 'effect recovery failed')),
        );
      sweep();
      recovery = setInterval(sweep, RECOVERY_EVERY_MS);
      recovery.unref?.();
    },
    async stop() {
      if (recovery) clearInterval(recovery);
      recovery = null;
      await dispatcher.stop();
      await Promise.allSettled([...background]);
    },
    async recoverEffects(recoverOptions = {}) {
      const now = clock().getTime();
      const conversations = await storage.listConversations({
        updatedAfter: new Date(now - (recoverOptions.lookbackMs ?? 86_400_000)).toISOString(),
        limit: recoverOptions.limit ?? 1000,
      });
      let ran = 0;
      for (const { key, state } of conversations) {
        // A person has the thread, or the contact opted out: nothing is done on the bot's behalf.
        if (state.thread.handoff.status !== 'bot' || state.consent.status === 'opted_out') continue;
        const events = await storage.listEvents(key, { threadId: state.thread.id });
        const lost = lostEffects(events, now - (recoverOptions.olderThanMs ?? 60_000));
        if (lost.length === 0) continue;
        logger.warn(
          { conversation: maskedKey(key), effects: lost.map((e) => e.type) },
          'running again effects whose result was never recorded',
        );
        // The same effect ids: adapters dedupe on them, and a result recorded meanwhile makes this one a duplicate.
        await runEffects(key, lost, null);
        ran += lost.length;
      }
      return ran;
    },
    async purgeOlderThan(days) {
      return storage.purge(new Date(clock().getTime() - days * 86_400_000).toISOString());
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return engine;
}

/** Where a step's replies go: the webhook response, the outbox now, or the outbox after a hold. */
type Delivery = 'response' | 'outbox' | { holdUntil: string };

interface Collector {
  responded: boolean;
  replies: OutboundReply[];
  holdUntil: string;
}

const HOLD_MARGIN_MS = 5_000;
const RECOVERY_EVERY_MS = 60_000;

/** `sms:+14155550100` → `sms:` and the masked number, for logs. */
function maskedKey(key: string): string {
  const at = key.indexOf(':');
  return `${key.slice(0, at + 1)}${maskPhone(key.slice(at + 1))}`;
}

function replyOf(row: OutboxMessage): OutboundReply {
  return {
    id: row.id,
    to: row.to,
    ...(row.from ? { from: row.from } : {}),
    channel: row.channel,
    text: row.text,
    segments: row.segments,
    encoding: row.encoding,
    kind: row.kind,
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
