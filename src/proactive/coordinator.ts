import type { StorageAdapter } from '../adapters/storage/types.js';
import { SmsflowError } from '../core/errors.js';
import { renderTemplate } from '../core/flow.js';
import type { Effect, Json } from '../core/types.js';
import type { EffectOutcome } from '../engine/effects.js';
import type { Engine, EngineLogger } from '../engine/types.js';
import { nextAllowedTime, type QuietHoursOptions, recipientZones, windowFor } from './quiet-hours.js';
import type { JobKind, JobOutcome, ScheduledJob, Scheduler } from './types.js';

/** Options of {@link createProactive}. */
export interface ProactiveOptions {
  engine: Engine;
  scheduler: Scheduler;
  /** @default engine.storage */
  storage?: StorageAdapter;
  /** @default () => new Date() */
  clock?: () => Date;
  /** Sending window in the recipient's local time; `false` turns the check off (not for US traffic). @default 08:00–21:00 */
  quietHours?: QuietHoursOptions | false;
  /** Proactive messages per contact in any 24 h. @default { perContactPerDay: 3 } */
  caps?: { perContactPerDay?: number };
  /** Zone used when neither the profile nor the area code gives one. @default the bot's timeZone */
  defaultTimeZone?: string;
  /** A reminder that cannot go out at least this long before the appointment is dropped. @default 3600000 (1 h) */
  reminderMinLeadMs?: number;
  /** Called with every job's outcome (metrics, tests). */
  onOutcome?: (job: ScheduledJob, outcome: JobOutcome, reason?: string) => void;
  logger?: EngineLogger;
}

/** The proactive coordinator: turns flow effects into jobs and jobs into compliant sends. */
export interface Proactive {
  /** Pass to `createEngine({ onEffect })`: handles `schedule.message` and `schedule.event`. */
  handleEffect(
    effect: Effect,
    context: { conversationKey: string },
  ): Promise<EffectOutcome | null | undefined>;
  /** Runs one due job: the scheduler's handler. Returns what happened. */
  handleJob(job: ScheduledJob): Promise<JobOutcome>;
  /** Schedules a job directly (a host's campaign or follow-up). */
  schedule(job: ScheduledJob): Promise<void>;
  /** Starts the scheduler with {@link Proactive.handleJob}. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const MESSAGE_KINDS = new Set<JobKind>(['reminder', 'followup', 'campaign']);
const DAY_MS = 86_400_000;

/**
 * Creates the proactive coordinator. At fire time every message job is checked again, in this order: the
 * conversation exists; consent (opted out → cancelled; never opted in → suppressed); the booking it reminds of
 * is unchanged (`payload.bookingId` + `payload.start` against `profile.booking`; rescheduled or cancelled →
 * cancelled); the per-contact cap; quiet hours in the recipient's local time (moved to the next allowed time, or
 * dropped when a reminder would then be less than `reminderMinLeadMs` before the appointment). Every skip is
 * recorded in the conversation's transcript as a `proactive.skipped` event. Sends go through
 * `engine.dispatch(contact, { type: 'proactive.message' })`, so they land in the transcript and the outbox in
 * one write, as kind `proactive`.
 *
 * @example
 * let proactive: Proactive;
 * const engine = createEngine({ bot, storage, channels, onEffect: (e, c) => proactive.handleEffect(e, c) });
 * proactive = createProactive({ engine, scheduler: inProcessScheduler({ store: sqliteJobStore({ path }) }) });
 * await proactive.start();
 */
export function createProactive(options: ProactiveOptions): Proactive {
  const { engine, scheduler } = options;
  const storage = options.storage ?? engine.storage;
  const clock = options.clock ?? (() => new Date());
  const bot = engine.bot;
  const businessZone = options.defaultTimeZone ?? bot.config.timeZone;
  const cap = options.caps?.perContactPerDay ?? 3;
  const minLead = options.reminderMinLeadMs ?? 3_600_000;
  const logger = options.logger;
  // Jobs of one contact run one at a time in this process, so the cap check and the send do not interleave.
  const lanes = new Map<string, Promise<unknown>>();
  function serialised<T>(key: string, work: () => Promise<T>): Promise<T> {
    const next = (lanes.get(key) ?? Promise.resolve()).then(work, work);
    const tail = next.catch(() => {});
    lanes.set(key, tail);
    void tail.then(() => {
      if (lanes.get(key) === tail) lanes.delete(key);
    });
    return next;
  }

  function outcome(job: ScheduledJob, result: JobOutcome, reason?: string): JobOutcome {
    options.onOutcome?.(job, result, reason);
    logger?.info({ jobId: job.id, kind: job.kind, outcome: result, reason }, 'proactive job');
    return result;
  }

  /** Records a skipped job in the transcript (no reply, no flow change), then reports it. */
  async function skip(job: ScheduledJob, result: JobOutcome, reason: string): Promise<JobOutcome> {
    await engine
      .dispatch(job.contact, {
        id: `proactive:${job.id}:skip`,
        type: 'proactive.skipped',
        channel: job.channel,
        data: { jobId: job.id, kind: job.kind, outcome: result, reason, due: job.at },
      })
      .catch((error) => logger?.warn({ jobId: job.id, err: String(error) }, 'could not record skipped job'));
    return outcome(job, result, reason);
  }

  function renderText(job: ScheduledJob): string {
    const p = job.payload;
    if (typeof p.text === 'string') return p.text;
    const key = String(p.templateKey ?? '');
    const flows = typeof p.flow === 'string' ? [bot.flows.get(p.flow)] : [...bot.flows.values()];
    const template = flows.find((f) => f && f.messages[key] !== undefined)?.messages[key];
    if (template === undefined) {
      throw new SmsflowError(
        'SMSFLOW_ERR_INVALID_CONFIG',
        `Scheduled job "${job.id}" names template "${key.slice(0, 64)}", which no flow's catalog has; add it or send payload.text.`,
      );
    }
    return renderTemplate(template, (p.vars ?? {}) as { [k: string]: Json });
  }

  async function sendMessage(job: ScheduledJob): Promise<JobOutcome> {
    const now = clock();
    const key = `${job.channel}:${job.contact}`;
    const stored = await storage.getConversation(key);
    if (!stored) return outcome(job, 'dropped', 'no_conversation');
    const state = stored.state;
    // Consent first: an opt-out after scheduling cancels the message (CTIA; TCPA revocation).
    if (state.consent.status === 'opted_out') return skip(job, 'cancelled', 'opted_out');
    if (state.consent.status !== 'opted_in') return skip(job, 'suppressed', 'no_opt_in');
    const p = job.payload;
    if (job.kind === 'followup') {
      // A nudge for a lead who went quiet: not if they answered since, moved on, or a person has the thread.
      if (typeof p.threadId === 'string' && state.thread.id !== p.threadId)
        return skip(job, 'cancelled', 'thread_changed');
      if (
        typeof p.quietSince === 'string' &&
        Date.parse(state.thread.lastActivityAt) > Date.parse(p.quietSince)
      ) {
        return skip(job, 'cancelled', 'replied');
      }
      if (state.thread.machine.status === 'done' || state.thread.handoff.status !== 'bot') {
        return skip(job, 'cancelled', 'thread_finished');
      }
    }
    if (typeof p.bookingId === 'string') {
      const booking = state.profile.booking as { id?: Json; start?: Json } | null | undefined;
      if (!booking || booking.id !== p.bookingId) return skip(job, 'cancelled', 'booking_cancelled');
      if (booking.start !== p.start) return skip(job, 'cancelled', 'booking_rescheduled');
    }
    const appointment = typeof p.start === 'string' ? Date.parse(p.start) : Number.NaN;
    const tooLate = (t: Date) => job.kind === 'reminder' && t.getTime() > appointment - minLead;
    if (tooLate(now)) return skip(job, 'dropped', 'too_late');
    if (options.quietHours !== false) {
      const window = windowFor(job.contact, options.quietHours ?? {});
      const { zones } = recipientZones(job.contact, state.profile, businessZone);
      const allowed = nextAllowedTime(now, zones, window);
      if (allowed.getTime() !== now.getTime()) {
        if (tooLate(allowed)) return skip(job, 'dropped', 'too_late_after_quiet_hours');
        // A new id per move keeps schedule() idempotent while this job is still marked running.
        const at = allowed.toISOString();
        await scheduler.schedule({
          ...job,
          id: `${job.id.split('@')[0]}@${at}`,
          at,
          payload: { ...p, movedFrom: (p.movedFrom as Json) ?? job.at },
        });
        return outcome(job, 'moved', at);
      }
    }
    const since = now.getTime() - DAY_MS;
    // Only the last day is read; each row is still checked, for host adapters that ignore createdAfter.
    const recent = (await storage.listOutbox(key, { createdAfter: new Date(since).toISOString() })).filter(
      (m) =>
        m.kind === 'proactive' &&
        Date.parse(m.createdAt) > since &&
        m.status !== 'cancelled' &&
        m.status !== 'failed',
    );
    if (recent.length >= cap) return skip(job, 'capped', `cap_${cap}_per_24h`);
    const result = await engine.dispatch(job.contact, {
      id: `proactive:${job.id}`,
      type: 'proactive.message',
      channel: job.channel,
      data: {
        text: renderText(job),
        kind: job.kind,
        jobId: job.id,
        key: typeof p.templateKey === 'string' ? p.templateKey : 'proactive',
      },
    });
    if (result.duplicate) return outcome(job, 'sent', 'duplicate');
    return outcome(job, result.replies.length > 0 ? 'sent' : 'suppressed');
  }

  const proactive: Proactive = {
    async handleEffect(effect, context) {
      if (effect.type !== 'schedule.message' && effect.type !== 'schedule.event') return undefined;
      const p = effect.payload as { [k: string]: Json };
      const channel = context.conversationKey.split(':')[0] ?? 'sms';
      const contact = String(p.contact ?? context.conversationKey.slice(channel.length + 1));
      const at = String(p.at ?? '');
      if (Number.isNaN(Date.parse(at))) {
        logger?.error({ effect: effect.type, at: at.slice(0, 40) }, 'schedule effect without a valid at');
        return {
          ok: false,
          data: {
            error: 'SMSFLOW_ERR_INVALID_CONFIG',
            message: `at "${at.slice(0, 40)}" is not an ISO time`,
          },
        };
      }
      const kind: JobKind =
        effect.type === 'schedule.event'
          ? 'event'
          : MESSAGE_KINDS.has(p.kind as JobKind)
            ? (p.kind as JobKind)
            : 'followup';
      // The effect id derives from the input id, so a retried step schedules the same job again: a no-op.
      await scheduler.schedule({
        id: effect.id,
        at: new Date(at).toISOString(),
        kind,
        contact,
        channel,
        // The thread the effect came from: a follow-up for an old thread is dropped at fire time.
        payload: { ...p, threadId: effect.threadId },
      });
      return null;
    },

    async handleJob(job) {
      if (job.kind === 'event') {
        // A flow's timer (deposit.expired): the machine decides what it means; consent does not apply.
        const type = String(job.payload.event ?? '');
        await engine.dispatch(job.contact, { id: job.id, type, channel: job.channel, data: job.payload });
        return outcome(job, 'dispatched');
      }
      return serialised(`${job.channel}:${job.contact}`, () => sendMessage(job));
    },

    schedule: (job) => scheduler.schedule(job),
    start: () => scheduler.start(async (job) => void (await proactive.handleJob(job))),
    stop: () => scheduler.stop(),
  };
  return proactive;
}
