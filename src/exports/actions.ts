/** `smsflow/actions`: action adapters — in-memory (tests, demo), a signed outgoing webhook, and Slack. */
export {
  type BusyEntry,
  type FailureInjection,
  type MemoryBooking,
  type MemoryCalendar,
  type MemoryCalendarOptions,
  type MemoryCrm,
  type MemoryLead,
  type MemoryNotification,
  type MemoryNotifier,
  type MemoryPayment,
  type MemoryPayments,
  memoryCalendar,
  memoryCrm,
  memoryNotifier,
  memoryPayments,
  type PaymentConfirmedEvent,
} from '../adapters/actions/memory.js';
export { type SlackNotifierOptions, slackNotifier } from '../adapters/actions/slack.js';
export {
  ACTION_SIGNATURE_HEADER,
  type ActionWebhookBody,
  type ActionWebhookType,
  signActionBody,
  verifyActionSignature,
  type WebhookActions,
  type WebhookActionsOptions,
  webhookActions,
} from '../adapters/actions/webhook.js';
