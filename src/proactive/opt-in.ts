import { SmsflowError } from '../core/errors.js';
import { tryNormalizePhone } from '../core/phone.js';
import { type ConversationState, type Json, type OutboundReply, STATE_VERSION } from '../core/types.js';
import type { Engine } from '../engine/types.js';

/** Where an opt-in came from. */
export type OptInSource = 'api' | 'web_form';

/** Options of {@link recordOptIn}. */
export interface RecordOptInOptions {
  /** Unique id of this opt-in (the form submission id): makes the call idempotent. */
  id: string;
  /** The business number the contact will hear from (E.164); needed when the contact never texted before. */
  business: string;
  /** @default 'sms' */
  channel?: string;
  /** ISO time of the opt-in. @default now */
  at?: string;
  /** Send the confirmation (program, what and how often, rates, HELP/STOP). @default true */
  confirm?: boolean;
  /**
   * Double opt-in: record the request and text "Reply YES to confirm"; consent starts at the customer's YES.
   * @default false
   */
  double?: boolean;
  /** What they signed up for, for the confirmation: `appointment reminders`. @default the program's optInDescription or 'messages' */
  description?: string;
}

/**
 * The opt-in confirmation carriers expect (CTIA MPBP): program name, what and how often, "Msg & data rates may
 * apply", HELP and STOP. Use it for `complianceMessages.optIn` when a keyword such as JOIN opts in.
 *
 * @example
 * optInConfirmationText({ name: 'Bella Salon', frequency: 'Up to 4 msgs/mo' }, 'appointment reminders')
 * // 'Bella Salon: You are subscribed to appointment reminders. Up to 4 msgs/mo. Msg & data rates may apply. Reply HELP for help, STOP to end.'
 */
export function optInConfirmationText(
  program: { name: string; frequency?: string },
  description = 'messages',
): string {
  return `${program.name}: You are subscribed to ${description}. ${program.frequency ?? 'Msg frequency varies'}. Msg & data rates may apply. Reply HELP for help, STOP to end.`;
}

function keyOf(engine: Engine, contact: string, channel: string): { key: string; phone: string } {
  const phone = tryNormalizePhone(contact, { defaultCountry: engine.bot.config.defaultCountry ?? 'US' });
  if (!phone) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_PHONE',
      `"${String(contact).slice(0, 64)}" is not a valid phone number. Send E.164 such as +14155550100.`,
    );
  }
  return { key: `${channel}:${phone}`, phone };
}

/**
 * Records consent from a web form or an API call, with its source and the disclosure text shown, then sends the
 * opt-in confirmation. Works for a contact who never texted: the conversation is created (no thread yet; their
 * first text starts one). Idempotent on `options.id`. Throws SMSFLOW_ERR_OPTED_OUT for a number that texted
 * STOP: only the customer can undo that (by texting START).
 *
 * @example
 * await recordOptIn(engine, '+14155550100', 'web_form', 'Yes, text me appointment reminders. Msg & data rates may apply.', { id: 'form-123', business: '+14155550199' });
 */
export async function recordOptIn(
  engine: Engine,
  contact: string,
  source: OptInSource,
  textShown: string,
  options: RecordOptInOptions,
): Promise<{ replies: OutboundReply[] }> {
  const channel = options.channel ?? 'sms';
  const { key, phone } = keyOf(engine, contact, channel);
  const at = options.at ?? new Date().toISOString();
  let stored = await engine.storage.getConversation(key);
  if (stored?.state.consent.status === 'opted_out' && stored.state.consent.via !== 'provider') {
    throw new SmsflowError(
      'SMSFLOW_ERR_OPTED_OUT',
      `${key} texted STOP on ${stored.state.consent.at ?? 'an earlier date'}; a form cannot override it. Ask them to text START.`,
    );
  }
  if (!stored) {
    const state: ConversationState = {
      v: STATE_VERSION,
      contact: {
        key,
        phone,
        channel: channel as ConversationState['contact']['channel'],
        business: options.business,
      },
      consent: { status: 'unknown' },
      profile: {},
      tags: [],
      // A thread with no machine yet: the first inbound text starts the real one (step sees value === null).
      thread: {
        id: `${options.id}:th`,
        flow: engine.bot.config.defaultFlow ?? engine.bot.config.flows[0]!.id,
        machine: { value: null, context: {}, status: 'active' },
        handoff: { status: 'bot' },
        startedAt: at,
        lastActivityAt: at,
      },
      seq: 0,
    };
    // A concurrent writer may create it first (conflict): then the dispatch below applies to theirs.
    await engine.storage.commit({ key, expectedVersion: 0, state, events: [], outbox: [] });
    stored = await engine.storage.getConversation(key);
  }
  if (options.double) {
    const asked = await engine.dispatch(phone, {
      id: `optin-request:${options.id}`,
      type: 'consent.requested',
      channel,
      data: { via: source, text: textShown.slice(0, 1000) },
    });
    return { replies: asked.replies };
  }
  await engine.dispatch(phone, {
    id: `optin:${options.id}`,
    type: 'consent.opted_in',
    channel,
    data: { via: source, text: textShown.slice(0, 1000) },
  });
  if (options.confirm === false) return { replies: [] };
  const program = engine.bot.config.program;
  const text = optInConfirmationText(program, options.description ?? program.optInDescription ?? 'messages');
  const sent = await engine.dispatch(phone, {
    id: `proactive:optin:${options.id}`,
    type: 'proactive.message',
    channel,
    data: { text, kind: 'optin_confirmation', key: 'optInConfirmation' } as { [k: string]: Json },
  });
  return { replies: sent.replies };
}

/**
 * Starts a flow for a contact (an opt-in campaign, a host-triggered follow-up). Needs recorded opt-in: without
 * it nothing is sent and `started` is false. The flow's first replies go out as kind `proactive`. Idempotent on
 * `options.id`.
 *
 * @example
 * await startConversation(engine, '+14155550100', 'booking', { service: 'haircut' }, { id: 'campaign-7:+14155550100' });
 */
export async function startConversation(
  engine: Engine,
  contact: string,
  flow: string,
  input: { [field: string]: Json },
  options: { id: string; channel?: string },
): Promise<{ started: boolean; replies: OutboundReply[] }> {
  if (!engine.bot.flows.has(flow)) {
    throw new SmsflowError(
      'SMSFLOW_ERR_UNKNOWN_FLOW',
      `startConversation names flow "${flow.slice(0, 64)}"; this bot has ${[...engine.bot.flows.keys()].join(', ')}.`,
    );
  }
  const channel = options.channel ?? 'sms';
  const { key, phone } = keyOf(engine, contact, channel);
  const stored = await engine.storage.getConversation(key);
  if (stored?.state.consent.status !== 'opted_in') return { started: false, replies: [] };
  const result = await engine.dispatch(phone, {
    id: `proactive:start:${options.id}`,
    type: 'proactive.start',
    channel,
    data: { flow, fields: input },
  });
  return { started: true, replies: result.replies };
}
