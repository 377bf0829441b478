/**
 * smsflow: SMS chatbots as XState machines, with a pure `step`, built-in compliance and adapters.
 * Every public export is named here explicitly.
 */

export { type BookingFlowOptions, type BookingService, bookingFlow } from '../machines/booking.js';
export { type Bot, createBot } from './core/bot.js';
export type { BotConfig, ComplianceMessages, ProgramInfo } from './core/bot-config.js';
export {
  type ComplianceIntent,
  type ComplianceMatch,
  defaultComplianceKeywords,
  detectCompliance,
} from './core/compliance.js';
export {
  errorCodes,
  isSmsflowError,
  SmsflowError,
  type SmsflowErrorCode,
  type SmsflowIssue,
} from './core/errors.js';
export {
  defineFlow,
  type EffectParams,
  type EscalateParams,
  type FlowDefinition,
  type FlowEvent,
  type FlowInput,
  flowActions,
  type RememberParams,
  type ReplyParams,
  renderTemplate,
  type SwitchFlowParams,
  type TrackParams,
} from './core/flow.js';
export {
  type CountryCode,
  type NormalizePhoneOptions,
  normalizePhone,
  tryNormalizePhone,
} from './core/phone.js';
export { isGsm7, measureSegments, type SegmentInfo } from './core/segments.js';
export { migrateState } from './core/state.js';
export {
  type Channel,
  type Consent,
  type ConsentStatus,
  type ConversationEvent,
  type ConversationState,
  type Effect,
  type Encoding,
  type EscalationReason,
  type HandoffStatus,
  type InboundMessage,
  type InboundMessageInput,
  inboundMessageSchema,
  type Json,
  type OutboundReply,
  outboundReplySchema,
  STATE_VERSION,
  type StepResult,
  type Thread,
  type TranscriptEvent,
  type Understanding,
  understandingSchema,
} from './core/types.js';
