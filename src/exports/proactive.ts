/**
 * `smsflow/proactive`: reminders, follow-ups and campaigns that respect consent, quiet hours, pacing and caps.
 * See docs/proactive-messaging.md.
 */
export { type BullmqSchedulerOptions, bullmqScheduler } from '../adapters/scheduler/bullmq.js';
export type { EffectOutcome } from '../engine/effects.js';
export { areaCodeOf, knownAreaCodes, stateForNumber, zonesForNumber } from '../proactive/area-codes.js';
export { createProactive, type Proactive, type ProactiveOptions } from '../proactive/coordinator.js';
export {
  type InProcessScheduler,
  type InProcessSchedulerOptions,
  inProcessScheduler,
} from '../proactive/in-process.js';
export {
  type ClaimOptions,
  type JobStore,
  memoryJobStore,
  type SqliteJobStoreOptions,
  type StoredJob,
  type StoredJobStatus,
  sqliteJobStore,
} from '../proactive/job-store.js';
export {
  type OptInSource,
  optInConfirmationText,
  type RecordOptInOptions,
  recordOptIn,
  startConversation,
} from '../proactive/opt-in.js';
export {
  createPacer,
  type Pacer,
  type PacingOptions,
  pacedChannel,
  type SendPriority,
} from '../proactive/pacing.js';
export {
  isAllowed,
  nextAllowedTime,
  type QuietHoursOptions,
  recipientZones,
  type Window,
  windowFor,
  type ZoneSource,
} from '../proactive/quiet-hours.js';
export type { JobHandler, JobKind, JobOutcome, ScheduledJob, Scheduler } from '../proactive/types.js';
