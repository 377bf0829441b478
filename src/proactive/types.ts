import type { Json } from '../core/types.js';

/** Why a job exists: a booking reminder, a follow-up of a quiet lead, a flow's timer event, a campaign send. */
export type JobKind = 'reminder' | 'followup' | 'event' | 'campaign';

/**
 * One scheduled job. Plain JSON, so every scheduler (memory, SQLite, BullMQ) stores it as is.
 *
 * @example
 * const job: ScheduledJob = { id: 'rem:b1:24h', at: '2026-03-01T17:00:00.000Z', kind: 'reminder',
 *   contact: '+14155550100', channel: 'sms', payload: { bookingId: 'b1' } };
 */
export interface ScheduledJob {
  /** Unique and deterministic (derived from the effect or booking), so scheduling twice keeps one job. */
  id: string;
  /** ISO time the job is due. */
  at: string;
  kind: JobKind;
  /** E.164 number of the contact. */
  contact: string;
  /** Channel of the conversation (`sms`, `whatsapp`, `webchat`). */
  channel: string;
  payload: { [key: string]: Json };
}

/** Runs one due job. A rejection marks the job failed (it is not retried); a crash is retried once. */
export type JobHandler = (job: ScheduledJob) => Promise<void>;

/**
 * A scheduler adapter. Implementations: {@link inProcessScheduler} (timers + a job store, the embedded default)
 * and `bullmqScheduler` (Redis, many processes). All pass `schedulerContract` from `smsflow/testing`.
 *
 * Guarantees: `schedule` is idempotent on `job.id`; a due job is handled by exactly one process; a process that
 * dies mid-job does not lose it (the job runs again, at most once more).
 */
export interface Scheduler {
  readonly name: string;
  /** Adds a job; a second call with the same id changes nothing. */
  schedule(job: ScheduledJob): Promise<void>;
  /** Removes a job that has not started. Returns true when a pending job was removed. */
  cancel(id: string): Promise<boolean>;
  /** Starts handing due jobs to `handler`. */
  start(handler: JobHandler): Promise<void>;
  /** Stops taking jobs and waits for the ones in flight. */
  stop(): Promise<void>;
  /** Pending jobs, soonest first (not every adapter can list cheaply). */
  list?(): Promise<ScheduledJob[]>;
}

/** Outcome of a job, recorded by the job store and the proactive coordinator. */
export type JobOutcome =
  | 'sent'
  | 'dispatched'
  | 'moved'
  | 'cancelled'
  | 'dropped'
  | 'capped'
  | 'suppressed'
  | 'failed';
