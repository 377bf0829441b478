/** Test helpers for smsflow bots and adapters: `import { conversation } from 'smsflow/testing'`. */

export {
  type ActionContractOptions,
  type CalendarContractOptions,
  calendarContract,
  crmContract,
  notifyContract,
  paymentsContract,
} from './actions-contract.js';
export {
  type ChannelContractOptions,
  type ChannelFixture,
  channelContract,
  loadChannelFixtures,
} from './channel-contract.js';
export {
  Conversation,
  type ConversationOptions,
  conversation,
  defaultEffectAnswer,
  type EffectAnswer,
  type TranscriptLine,
} from './conversation.js';
export { type SchedulerContractOptions, schedulerContract } from './scheduler-contract.js';
export { type StorageContractOptions, storageContract } from './storage-contract.js';
