/**
 * smsflow: SMS chatbots as XState machines, with a pure `step`, built-in compliance and adapters.
 * Every public export is named here explicitly.
 */

export { type BookingFlowOptions, type BookingService, bookingFlow } from '../machines/booking.js';
export { type FaqTriageOptions, faqTriageFlow, type KnowledgeEntry } from '../machines/faq-triage.js';
export {
  type LeadQualificationOptions,
  type LeadScoring,
  leadQualificationFlow,
} from '../machines/lead-qualification.js';
export type {
  ActionContext,
  Actions,
  CalendarAdapter,
  CrmAdapter,
  NotifyAdapter,
  PaymentsAdapter,
} from './adapters/actions/types.js';
export type {
  ChannelAdapter,
  ParsedInbound,
  ParsedStatus,
  SendRequest,
  SendResult,
  VerifyResult,
  WebhookRequest,
} from './adapters/channels/types.js';
export type {
  LlmAdapter,
  LlmClassification,
  LlmContext,
  LlmExtraction,
  LlmTrace,
} from './adapters/llm/types.js';
export { type MemoryStorageOptions, memoryStorage } from './adapters/storage/memory.js';
export {
  type CommitInput,
  type CommitResult,
  type ConversationSummary,
  type LoadedForStep,
  type OutboxMessage,
  type OutboxStatus,
  type OutboxUpdate,
  outboxStatusRank,
  type StorageAdapter,
  type StoredConversation,
  type StoredEvent,
} from './adapters/storage/types.js';
export { type Bot, createBot } from './core/bot.js';
export type { BotConfig, ComplianceMessages, ProgramInfo } from './core/bot-config.js';
export {
  type Classification,
  type Classifier,
  type IntentExamples,
  type IntentScore,
  type TrainClassifierOptions,
  trainClassifier,
} from './core/classifier.js';
export {
  type ComplianceIntent,
  type ComplianceMatch,
  defaultComplianceKeywords,
  detectCompliance,
} from './core/compliance.js';
export {
  type BusinessHours,
  checkSlot,
  describeHours,
  formatSlot,
  type ParsedDateTime,
  parseDateTime,
  type SlotCheck,
} from './core/datetime.js';
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
export { detectAnger, detectBillingDispute, type SentimentResult } from './core/sentiment.js';
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
export {
  DEFAULT_UNDERSTANDING_THRESHOLD,
  isWithinModelBounds,
  type KeywordRule,
  type UnderstandOptions,
  understand,
  understandByRules,
} from './core/understanding.js';
export type {
  Engine,
  EngineChange,
  EngineInWorkerOptions,
  EngineLogger,
  EngineOptions,
  HandleInboundOptions,
  InboundResult,
  WorkerEngine,
  WorkerEngineMethods,
} from './engine/index.js';
export {
  createEngine,
  engineInWorker,
  maskPhone,
  redactCardNumbers,
  serveEngine,
} from './engine/index.js';
