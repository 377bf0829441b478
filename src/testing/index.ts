/** Test helpers for smsflow bots and adapters: `import { conversation } from 'smsflow/testing'`. */
export {
  Conversation,
  type ConversationOptions,
  conversation,
  type EffectAnswer,
  type TranscriptLine,
} from './conversation.js';
