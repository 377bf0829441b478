import type { Bot } from '../core/bot.js';
import type {
  ConversationState,
  Effect,
  Json,
  OutboundReply,
  StepResult,
  TranscriptEvent,
} from '../core/types.js';

/** What a scripted effect returns; `undefined` leaves the effect unanswered (the flow keeps waiting). */
export type EffectAnswer = { ok: boolean; data?: { [k: string]: unknown } } | undefined;

/** Options of {@link conversation}. */
export interface ConversationOptions {
  /** The customer's number. @default '+14155550100' */
  from?: string;
  /** The business number. @default '+14155550199' */
  to?: string;
  /** Time of the first message; each later message is one minute after the previous. @default 2026-11-24T17:00:00Z */
  start?: Date | string;
  /** Answers effects as they are requested (calendar, CRM, …), synchronously. @default every effect succeeds */
  effects?: (effect: Effect, state: ConversationState) => EffectAnswer;
  /** Starting state (e.g. a returning customer). */
  state?: ConversationState;
}

/**
 * The default effect answers of a scripted conversation: every slot is free, every booking and payment link
 * succeeds with ids derived from the effect id, notifications are delivered.
 */
export function defaultEffectAnswer(effect: Effect): EffectAnswer {
  switch (effect.type) {
    case 'calendar.check':
      return { ok: true, data: { available: true } };
    case 'calendar.book':
    case 'calendar.reschedule':
      return { ok: true, data: { bookingId: String(effect.payload.bookingId ?? `bk-${effect.id}`) } };
    case 'payments.createLink':
      return {
        ok: true,
        data: { paymentId: `pay-${effect.id}`, url: `https://pay.example.com/${effect.id}` },
      };
    default:
      return { ok: true, data: {} };
  }
}

/** One line of the transcript a scripted conversation keeps, for readable failures. */
export interface TranscriptLine {
  who: 'user' | 'bot' | 'event';
  text: string;
}

/**
 * A scripted conversation against a bot, for tests: each call steps the bot at once and each expectation
 * throws with the transcript so far when it fails. Effects are answered by `options.effects`.
 *
 * @example
 * conversation(bot).user('hi').expectReply(/which service/i).user('1').expectReply(/what day/i);
 */
export function conversation(bot: Bot, options: ConversationOptions = {}): Conversation {
  return new Conversation(bot, options);
}

/** The fluent scripted conversation returned by {@link conversation}. */
export class Conversation {
  /** The conversation state after the last step. */
  state: ConversationState | undefined;
  /** Every line so far. */
  readonly transcript: TranscriptLine[] = [];
  /** Every transcript event step produced. */
  readonly events: TranscriptEvent[] = [];
  /** Replies of the last `user()`/`event()` call (including replies caused by effect results). */
  lastReplies: OutboundReply[] = [];
  /** Effects of the last call. */
  lastEffects: Effect[] = [];
  private clock: number;
  private counter = 0;
  private readonly from: string;
  private readonly to: string;

  constructor(
    private readonly bot: Bot,
    private readonly options: ConversationOptions,
  ) {
    this.state = options.state;
    this.clock = Date.parse(String(options.start ?? '2026-11-24T17:00:00Z'));
    this.from = options.from ?? '+14155550100';
    this.to = options.to ?? '+14155550199';
  }

  /** The customer texts `text`; `afterMinutes` moves the clock first. @default afterMinutes 1 */
  user(text: string, afterMinutes = 1): this {
    if (this.counter > 0) this.clock += afterMinutes * 60_000;
    this.lastReplies = [];
    this.lastEffects = [];
    this.transcript.push({ who: 'user', text });
    const result = this.bot.step(this.state, {
      id: `msg-${++this.counter}`,
      from: this.from,
      to: this.to,
      text,
      receivedAt: new Date(this.clock).toISOString(),
    });
    this.absorb(result);
    return this;
  }

  /** Delivers a host or agent event (`agent.release`, `payment.confirmed`, …). */
  event(type: string, data: { [k: string]: Json } = {}, afterMinutes = 0): this {
    this.clock += afterMinutes * 60_000;
    this.lastReplies = [];
    this.lastEffects = [];
    this.transcript.push({ who: 'event', text: type });
    const result = this.bot.step(this.state, {
      kind: 'event',
      id: `evt-${++this.counter}`,
      type,
      at: new Date(this.clock).toISOString(),
      data,
    });
    this.absorb(result);
    return this;
  }

  /** Expects one of the last replies to match. */
  expectReply(pattern: RegExp | string): this {
    const ok = this.lastReplies.some((r) =>
      typeof pattern === 'string' ? r.text.includes(pattern) : pattern.test(r.text),
    );
    if (!ok) this.fail(`expected a reply matching ${String(pattern)}, got ${this.shownReplies()}`);
    return this;
  }

  /** Expects no reply at all to the last input. */
  expectNoReply(): this {
    if (this.lastReplies.length > 0) this.fail(`expected no reply, got ${this.shownReplies()}`);
    return this;
  }

  /** Expects the thread's machine to be in `value` (a string compares with the top-level state). */
  expectState(value: string): this {
    const v = this.state?.thread.machine.value;
    const top = typeof v === 'string' ? v : v && typeof v === 'object' ? Object.keys(v)[0] : String(v);
    if (top !== value) this.fail(`expected state "${value}", got ${JSON.stringify(v)}`);
    return this;
  }

  /** Expects the last input to have requested an effect of `type`. */
  expectEffect(type: string): this {
    if (!this.lastEffects.some((e) => e.type === type)) {
      this.fail(`expected effect ${type}, got [${this.lastEffects.map((e) => e.type).join(', ')}]`);
    }
    return this;
  }

  /** Expects the thread's handoff status (and reason). */
  expectHandoff(status: 'bot' | 'waiting' | 'agent' | 'closed', reason?: string): this {
    const h = this.state?.thread.handoff;
    if (h?.status !== status || (reason !== undefined && h.reason !== reason)) {
      this.fail(`expected handoff ${status}${reason ? ` (${reason})` : ''}, got ${JSON.stringify(h)}`);
    }
    return this;
  }

  private absorb(first: StepResult): void {
    const queue: StepResult[] = [first];
    let guard = 0;
    while (queue.length > 0 && guard++ < 50) {
      const result = queue.shift()!;
      this.state = result.state;
      this.events.push(...result.events);
      for (const r of result.replies) this.transcript.push({ who: 'bot', text: r.text });
      this.lastReplies.push(...result.replies);
      this.lastEffects.push(...result.effects);
      for (const effect of result.effects) {
        const answer = (this.options.effects ?? defaultEffectAnswer)(effect, this.state);
        if (!answer) continue;
        queue.push(
          this.bot.step(this.state, {
            kind: 'event',
            id: `${effect.id}:result`,
            type: 'effect.result',
            at: new Date(this.clock).toISOString(),
            data: {
              effectId: effect.id,
              effect: effect.type,
              threadId: effect.threadId,
              ok: answer.ok,
              data: (answer.data ?? {}) as { [k: string]: Json },
            },
          }),
        );
      }
    }
  }

  private shownReplies(): string {
    return this.lastReplies.length === 0
      ? '(no reply)'
      : this.lastReplies.map((r) => JSON.stringify(r.text)).join(' | ');
  }

  private fail(message: string): never {
    const lines = this.transcript
      .map((l) => `  ${l.who === 'user' ? '>' : l.who === 'bot' ? '<' : '*'} ${l.text}`)
      .join('\n');
    throw new Error(`${message}\n\nTranscript so far:\n${lines}`);
  }
}
