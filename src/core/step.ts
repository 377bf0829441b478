/**
 * The pure step behind `bot.step`, in the order a message is handled: compliance, thread lifecycle,
 * understanding, escalations, clarifying question, the flow, then events (effect results, agent actions,
 * consent, proactive messages). Kept in one file (over our ~400-line habit) because the order is the rule:
 * compliance must run before anything else, and reading it top to bottom shows that.
 */
import type { CompiledBot } from './bot.js';
import { renderCompliance } from './bot.js';
import { SmsflowError } from './errors.js';
import type { FlowEvent, FlowInput, ReplyParams } from './flow.js';
import { renderTemplate } from './flow.js';
import type { FlowAction } from './machine-driver.js';
import {
  type ConversationEvent,
  type ConversationState,
  type Effect,
  type InboundMessage,
  instantMsOf,
  isCanonicalInstant,
  type Json,
  type OutboundKind,
  type OutboundReply,
  STATE_VERSION,
  type StepResult,
  type Thread,
  type TranscriptEvent,
  type Understanding,
} from './types.js';

/** Collects what one step produces, with ids derived from the input id. */
class Output {
  replies: OutboundReply[] = [];
  effects: Effect[] = [];
  events: TranscriptEvent[] = [];
  /** Set when the business started this thread: flow replies then go out as kind 'proactive'. */
  proactive = false;
  constructor(
    private readonly bot: CompiledBot,
    readonly inputId: string,
    readonly at: string,
  ) {}
  event(state: ConversationState, type: TranscriptEvent['type'], data: TranscriptEvent['data']): void {
    this.events.push({
      id: `${this.inputId}:t${this.events.length}`,
      threadId: state.thread.id,
      at: this.at,
      type,
      data,
    });
  }
  reply(state: ConversationState, text: string, given: OutboundKind, key?: string): void {
    const kind = this.proactive && given === 'reply' ? 'proactive' : given;
    // CTIA / FCC: after an opt-out only the one confirmation goes out, from any flow or effect.
    if (state.consent.status === 'opted_out' && kind !== 'compliance') {
      this.event(state, 'suppressed', { reason: 'opted_out', key: key ?? null });
      return;
    }
    const reply = this.bot.reply(this.inputId, this.replies.length, state, text, kind);
    this.replies.push(reply);
    this.event(state, 'outbound', {
      replyId: reply.id,
      key: key ?? null,
      text,
      segments: reply.segments,
      encoding: reply.encoding,
      kind,
    });
  }
}

// A time already in toISOString()'s form (what channels write) is used as it is: no parse and format per step.
const toIso = (value: string | Date): string =>
  typeof value === 'string'
    ? isCanonicalInstant(value)
      ? value
      : new Date(value).toISOString()
    : value.toISOString();

/** The pure step behind `bot.step`. See {@link Bot.step}. */
export function runStep(
  bot: CompiledBot,
  prev: ConversationState | undefined,
  input: InboundMessage | ConversationEvent,
): StepResult {
  if ('kind' in input && input.kind === 'event') return runEvent(bot, prev!, input);
  const message = input as InboundMessage;
  const at = toIso(message.receivedAt);
  const out = new Output(bot, message.id, at);
  const phone = bot.normalize(message.from);
  if (phone === null) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_PHONE',
      `"${message.from.slice(0, 64)}" (from) is not a valid phone number. Send E.164 such as +14155550100.`,
    );
  }
  const business = bot.normalize(message.to) ?? message.to;
  let state: ConversationState = prev
    ? { ...prev, seq: prev.seq + 1 }
    : {
        v: STATE_VERSION,
        contact: { key: `${message.channel}:${phone}`, phone, channel: message.channel, business },
        consent: { status: 'unknown' },
        profile: {},
        tags: [],
        thread: emptyThread(`${message.id}:th`, bot.defaultFlow, at),
        seq: 1,
      };
  const text = message.text;
  out.event(state, 'inbound', {
    messageId: message.id,
    text,
    media: message.media.length,
    channel: message.channel,
  });

  // 1. Compliance, before any flow and never overridden.
  const compliance = bot.detectCompliance(text);
  if (compliance?.intent === 'opt_out') {
    if (state.consent.status !== 'opted_out') {
      state = {
        ...state,
        consent: {
          status: 'opted_out',
          at,
          via: compliance.via,
          messageId: message.id,
          text: text.slice(0, 160),
        },
      };
      out.event(state, 'consent', {
        status: 'opted_out',
        via: compliance.via,
        keyword: compliance.keyword ?? null,
      });
      out.reply(state, renderCompliance(bot, 'optOut'), 'compliance', 'optOut');
    }
    return finish(state, out, at);
  }
  if (state.consent.status === 'opted_out') {
    // Only START/UNSTOP/YES re-opt in; everything else (HELP included) gets no reply of any kind.
    if (compliance?.intent === 'opt_in') {
      state = {
        ...state,
        consent: { status: 'opted_in', at, via: 'keyword', messageId: message.id, text: text.slice(0, 160) },
      };
      out.event(state, 'consent', {
        status: 'opted_in',
        via: 'keyword',
        keyword: compliance.keyword ?? null,
      });
      out.reply(state, renderCompliance(bot, 'optIn'), 'compliance', 'optIn');
    } else {
      out.event(state, 'suppressed', { reason: 'opted_out' });
    }
    return finish(state, out, at);
  }
  if (compliance?.intent === 'help') {
    out.reply(state, renderCompliance(bot, 'help'), 'compliance', 'help');
    return finish(state, out, at);
  }
  if (compliance?.intent === 'opt_in' && compliance.keyword === 'YES' && state.consent.pendingSince) {
    // Double opt-in: the YES that confirms a pending subscription (keyword or web form).
    state = {
      ...state,
      consent: { status: 'opted_in', at, via: 'keyword', messageId: message.id, text: text.slice(0, 160) },
    };
    out.event(state, 'consent', { status: 'opted_in', via: 'keyword', keyword: 'YES', confirmed: true });
    out.reply(state, renderCompliance(bot, 'optIn'), 'compliance', 'optIn');
    return finish(state, out, at);
  }
  if (
    compliance?.intent === 'opt_in' &&
    compliance.keyword !== 'YES' &&
    bot.config.doubleOptIn &&
    state.consent.status !== 'opted_in' &&
    !CARRIER_OPT_IN.has(String(compliance.keyword ?? '').toUpperCase())
  ) {
    // Double opt-in asked for a program keyword (JOIN): confirm with YES first. START/UNSTOP after a STOP are
    // carrier re-subscriptions and confirm at once.
    state = {
      ...state,
      consent: { ...state.consent, pendingSince: at, messageId: message.id, text: text.slice(0, 160) },
    };
    out.event(state, 'consent', { status: 'pending', via: 'keyword', keyword: compliance.keyword ?? null });
    out.reply(state, renderCompliance(bot, 'confirmOptIn'), 'compliance', 'confirmOptIn');
    return finish(state, out, at);
  }
  if (compliance?.intent === 'opt_in' && compliance.keyword !== 'YES') {
    if (state.consent.status !== 'opted_in') {
      state = {
        ...state,
        consent: { status: 'opted_in', at, via: 'keyword', messageId: message.id, text: text.slice(0, 160) },
      };
      out.event(state, 'consent', {
        status: 'opted_in',
        via: 'keyword',
        keyword: compliance.keyword ?? null,
      });
    }
    out.reply(state, renderCompliance(bot, 'optIn'), 'compliance', 'optIn');
    return finish(state, out, at);
  }

  // 2b. A staff command the engine already answered (it needs the database): record it and reply, and leave
  // the thread alone. The answer arrives as recorded understanding, so replay stays exact.
  if (
    message.understanding?.intent === 'staff' &&
    typeof message.understanding.entities?.reply === 'string'
  ) {
    out.event(state, 'staff', { command: text.trim().slice(0, 20).toUpperCase() });
    out.reply(state, message.understanding.entities.reply, 'reply', 'staff');
    return finish(state, out, at);
  }

  // 3. Thread lifecycle: a finished flow, a closed handoff or a long silence starts a new thread.
  const thread = state.thread;
  const idle = instantMsOf(at) - instantMsOf(thread.lastActivityAt) > bot.threadTtlMs;
  const fresh = startsNewThread(bot, prev, at);

  // 3b. Understanding: recorded by the engine (rules → classifier → LLM), else computed here. Mid-flow only keyword
  // rules run up front; the classifier runs when the flow cannot use the answer (see deliver), so a plain "2" or
  // "tomorrow 3pm" costs no classification.
  const given = message.understanding ?? bot.understandRules(text);
  const deferred = given === null && !fresh && !thread.clarify;
  const understanding: Understanding =
    given ?? (deferred ? { intent: null, confidence: 0, source: 'none' } : bot.understand(text));
  if (!deferred) recordUnderstanding(state, out, understanding);
  if (fresh) {
    if (prev)
      out.event(state, 'thread.ended', {
        reason: idle ? 'idle' : thread.handoff.status === 'closed' ? 'closed' : 'done',
      });
    const flow = (understanding.intent && bot.intentToFlow.get(understanding.intent)) || bot.defaultFlow;
    state = startThread(bot, state, `${message.id}:th`, flow, at, {}, out);
  } else if (thread.handoff.status === 'waiting' || thread.handoff.status === 'agent') {
    // A person has the thread: the bot stays silent (compliance above still answers).
    state = touch(state, at);
    return finish(state, out, at);
  }

  // 4. Escalations that never wait for a flow.
  const reason = escalationReason(bot, state, understanding, text, fresh);
  if (reason) {
    escalate(bot, state, out, reason.reason, reason.summary);
    state = withHandoff(state, 'waiting', reason.reason, at);
    out.reply(state, handoffText(bot, state), 'reply', 'handoff');
    return finish(state, out, at);
  }

  // 5. A pending clarifying question: a digit picks an intent; anything unclear again goes to a person.
  if (state.thread.clarify) {
    const picked = pickClarified(state.thread.clarify.intents, text, understanding, bot.threshold);
    if (!picked) {
      escalate(bot, state, out, 'low_confidence', 'Still unclear after a clarifying question');
      state = withHandoff(
        { ...state, thread: { ...state.thread, clarify: undefined } },
        'waiting',
        'low_confidence',
        at,
      );
      out.reply(state, handoffText(bot, state), 'reply', 'handoff');
      return finish(state, out, at);
    }
    state = { ...state, thread: { ...state.thread, clarify: undefined } };
    if (picked === 'human') {
      escalate(bot, state, out, 'requested', 'Asked for a person');
      state = withHandoff(state, 'waiting', 'requested', at);
      out.reply(state, handoffText(bot, state), 'reply', 'handoff');
      return finish(state, out, at);
    }
    const flow = bot.intentToFlow.get(picked) ?? bot.defaultFlow;
    if (flow !== state.thread.flow) state = startThread(bot, state, state.thread.id, flow, at, {}, out);
    return deliver(bot, state, out, at, {
      ...userText(text, at, { intent: picked, confidence: 1, source: 'rules' }),
    });
  }

  // 6. A new thread with nothing understood, on a bot with several flows: ask once, with numbered choices.
  if (fresh && bot.flows.size > 1 && needsClarifying(bot, understanding)) {
    const intents = bot.clarifyChoices.map((c) => c.intent);
    const question = bot.clarifyChoices.map((c, i) => `${i + 1} ${c.label}`).join(', ');
    state = { ...state, thread: { ...state.thread, clarify: { intents, at } } };
    out.event(state, 'clarify', { intents });
    // A greeting gets the same numbered menu, without the apology.
    const lead =
      understanding.intent === 'greeting' ? 'Hi! How can I help?' : 'Sorry, I want to get this right.';
    out.reply(state, `${lead} Reply ${question}.`, 'reply', 'clarify');
    return finish(state, out, at);
  }

  const whenRejected = deferred
    ? () => {
        const u = bot.understand(text);
        recordUnderstanding(state, out, u);
        return u;
      }
    : () => understanding;
  return deliver(bot, state, out, at, userText(text, at, understanding), whenRejected);
}

function recordUnderstanding(state: ConversationState, out: Output, u: Understanding): void {
  out.event(state, 'understanding', { intent: u.intent, confidence: round(u.confidence), source: u.source });
}

function userText(text: string, at: string, u: Understanding): FlowEvent {
  return {
    type: 'user.text',
    text,
    at,
    intent: u.intent,
    confidence: u.confidence,
    entities: (u.entities ?? {}) as { [name: string]: Json },
  };
}

/** Sends an event to the thread's machine and applies what it asks for. */
function deliver(
  bot: CompiledBot,
  state: ConversationState,
  out: Output,
  at: string,
  event: FlowEvent,
  rejectionUnderstanding?: () => Understanding,
): StepResult {
  const driver = bot.drivers.get(state.thread.flow);
  if (!driver) {
    throw new SmsflowError(
      'SMSFLOW_ERR_UNKNOWN_FLOW',
      `The state names flow "${state.thread.flow}", which this bot does not have.`,
    );
  }
  const before = state.thread.machine;
  let { snapshot, actions } = driver.send(before, event);
  if (rejectionUnderstanding && actions.some((a) => a.type === 'invalid')) {
    // The flow cannot use this answer. Before it counts as a failed answer, see what it was: a request for a
    // person escalates; a question another flow answers (an FAQ) is a digression, answered without touching
    // this flow's state, and then the pending question is asked again.
    const u = rejectionUnderstanding();
    if (u.intent === 'human' && u.confidence >= bot.threshold) {
      escalate(bot, state, out, 'requested', 'Asked for a person');
      const next = withHandoff(state, 'waiting', 'requested', at);
      out.reply(next, handoffText(bot, next), 'reply', 'handoff');
      return finish(next, out, at);
    }
    const answer = u.intent && u.confidence >= bot.threshold ? bot.answerFor.get(u.intent) : undefined;
    const template = answer ? bot.flows.get(answer.flow)?.messages[answer.key] : undefined;
    if (answer && template !== undefined && answer.flow !== state.thread.flow) {
      out.event(state, 'digression', { intent: u.intent, answeredBy: answer.flow, flow: state.thread.flow });
      out.reply(state, renderTemplate(template, {}), 'reply', answer.key);
      const pending = state.thread.pending;
      const again = pending ? bot.flows.get(state.thread.flow)?.messages[pending.key] : undefined;
      if (pending && again !== undefined)
        out.reply(state, renderTemplate(again, pending.vars), 'reply', pending.key);
      return finish(state, out, at);
    }
    // Neither: let the flow decide again, now knowing what the text was understood as (an FAQ flow uses it).
    if (event.type === 'user.text' && event.intent === null && u.intent !== null) {
      ({ snapshot, actions } = driver.send(before, { ...event, intent: u.intent, confidence: u.confidence }));
    }
  }
  let next: ConversationState = { ...state, thread: { ...state.thread, machine: snapshot } };
  next = applyActions(bot, next, actions, out, at);
  if (JSON.stringify(before.value) !== JSON.stringify(snapshot.value)) {
    out.event(next, 'transition', {
      flow: next.thread.flow,
      from: before.value,
      to: snapshot.value,
      event: event.type,
    });
  }
  if (snapshot.status === 'done' && before.status !== 'done')
    out.event(next, 'flow.done', { flow: next.thread.flow });
  return finish(touch(next, at), out, at);
}

function applyActions(
  bot: CompiledBot,
  initial: ConversationState,
  actions: FlowAction[],
  out: Output,
  at: string,
): ConversationState {
  let state = initial;
  let switchTo: { flow: string; fields: { [k: string]: Json } } | null = null;
  for (const action of actions) {
    const params = (action.params ?? {}) as { [key: string]: unknown };
    switch (action.type) {
      case 'reply': {
        const p = params as unknown as ReplyParams;
        const flow = bot.flows.get(state.thread.flow);
        const template = flow?.messages[p.key];
        if (template === undefined) {
          out.event(state, 'flow.error', {
            error: `missing message "${p.key}" in flow ${state.thread.flow}`,
          });
          break;
        }
        if (p.ask)
          state = { ...state, thread: { ...state.thread, pending: { key: p.key, vars: p.vars ?? {} } } };
        if (state.thread.handoff.status !== 'bot') {
          out.event(state, 'suppressed', { reason: 'handoff', key: p.key });
          break;
        }
        out.reply(state, renderTemplate(template, p.vars ?? {}), 'reply', p.key);
        break;
      }
      case 'effect': {
        const type = String(params.type);
        const effect: Effect = {
          id: `${out.inputId}:e${out.effects.length}`,
          type,
          threadId: state.thread.id,
          payload: { ...((params.payload ?? {}) as { [k: string]: Json }), contact: state.contact.phone },
        };
        out.effects.push(effect);
        out.event(state, 'effect', { effectId: effect.id, type, payload: effect.payload });
        break;
      }
      case 'escalate': {
        const reason = String(params.reason ?? 'requested');
        escalate(bot, state, out, reason, typeof params.summary === 'string' ? params.summary : undefined);
        state = withHandoff(state, 'waiting', reason, at);
        break;
      }
      case 'track':
        out.event(state, String(params.name ?? 'track') === 'question' ? 'question' : 'track', {
          name: String(params.name ?? ''),
          flow: state.thread.flow,
          ...((params.data ?? {}) as { [k: string]: Json }),
        });
        break;
      case 'invalid':
        out.event(state, 'invalid', { flow: state.thread.flow, question: String(params.question ?? '') });
        break;
      case 'remember': {
        const profile = (params.profile ?? {}) as { [k: string]: Json };
        const tags = (params.tags ?? []) as string[];
        state = {
          ...state,
          profile: { ...state.profile, ...profile },
          tags: [...new Set([...state.tags, ...tags])],
        };
        out.event(state, 'profile', { fields: Object.keys(profile), tags });
        break;
      }
      case 'switchFlow':
        switchTo = { flow: String(params.flow), fields: (params.fields ?? {}) as { [k: string]: Json } };
        break;
      default:
        break;
    }
  }
  if (switchTo && bot.flows.has(switchTo.flow)) {
    out.event(state, 'thread.ended', { reason: 'switched', to: switchTo.flow });
    state = startThread(
      bot,
      state,
      `${out.inputId}:th${out.events.length}`,
      switchTo.flow,
      at,
      switchTo.fields,
      out,
    );
    // The new flow starts as if the customer had just written to it.
    const driver = bot.drivers.get(switchTo.flow)!;
    const { snapshot, actions: more } = driver.send(state.thread.machine, {
      type: 'user.text',
      text: '',
      at,
      intent: bot.flows.get(switchTo.flow)?.intents?.[0] ?? null,
      confidence: 1,
      entities: switchTo.fields,
    });
    state = { ...state, thread: { ...state.thread, machine: snapshot } };
    state = applyActions(bot, state, more, out, at);
  }
  return state;
}

function runEvent(bot: CompiledBot, prev: ConversationState, input: ConversationEvent): StepResult {
  const at = toIso(input.at);
  const out = new Output(bot, input.id, at);
  let state: ConversationState = { ...prev, seq: prev.seq + 1 };
  const data = input.data ?? {};
  out.event(state, 'event', { type: input.type, data });
  switch (input.type) {
    case 'agent.take':
      state = withHandoff(state, 'agent', state.thread.handoff.reason, at);
      out.event(state, 'handoff', { status: 'agent', by: (data.agent as Json) ?? null });
      return finish(state, out, at);
    case 'agent.reply': {
      // An agent's text goes out like any reply (same consent check), and the thread is the agent's now.
      if (state.consent.status === 'opted_out') {
        out.event(state, 'suppressed', { reason: 'opted_out', agent: (data.agent as Json) ?? null });
        return finish(state, out, at);
      }
      state = withHandoff(state, 'agent', state.thread.handoff.reason, at);
      out.reply(state, String(data.text ?? ''), 'agent', 'agent');
      return finish(state, out, at);
    }
    case 'agent.close':
      state = withHandoff(state, 'closed', state.thread.handoff.reason, at);
      out.event(state, 'handoff', { status: 'closed' });
      return finish(state, out, at);
    case 'agent.release': {
      state = withHandoff(state, 'bot', undefined, at);
      out.event(state, 'handoff', { status: 'bot' });
      const result = deliver(bot, state, out, at, { type: 'thread.resume', at });
      return reask(bot, result, out);
    }
    case 'consent.opted_out':
      // The provider reports the number opted out (e.g. Twilio 21610): record it, send nothing.
      state = { ...state, consent: { status: 'opted_out', at, via: 'provider', messageId: input.id } };
      out.event(state, 'consent', { status: 'opted_out', via: 'provider' });
      return finish(state, out, at);
    case 'consent.requested':
      // Double opt-in from a web form or API: record the request and ask for a YES (the one message allowed).
      if (state.consent.status === 'opted_out') {
        out.event(state, 'suppressed', { reason: 'opted_out' });
        return finish(state, out, at);
      }
      state = {
        ...state,
        consent: {
          ...state.consent,
          pendingSince: at,
          messageId: input.id,
          text: String(data.text ?? '').slice(0, 1000),
        },
      };
      out.event(state, 'consent', { status: 'pending', via: data.via === 'web_form' ? 'web_form' : 'api' });
      out.reply(state, renderCompliance(bot, 'confirmOptIn'), 'compliance', 'confirmOptIn');
      return finish(state, out, at);
    case 'consent.opted_in':
      state = {
        ...state,
        consent: {
          status: 'opted_in',
          at,
          via: data.via === 'web_form' ? 'web_form' : 'api',
          messageId: input.id,
          text: String(data.text ?? ''),
        },
      };
      out.event(state, 'consent', { status: 'opted_in', via: state.consent.via ?? 'api' });
      return finish(state, out, at);
    case 'proactive.message': {
      // A business-initiated message (reminder, follow-up, campaign): it needs recorded opt-in, unlike replies
      // inside a conversation the customer started (CTIA; TCPA prior express consent). Sent in the current
      // thread, so the customer's answer ("C", "R") lands in the conversation that holds the booking.
      if (state.consent.status !== 'opted_in') {
        out.event(state, 'suppressed', {
          reason: state.consent.status === 'opted_out' ? 'opted_out' : 'no_opt_in',
          kind: (data.kind as Json) ?? null,
          jobId: (data.jobId as Json) ?? null,
        });
        return { state, replies: out.replies, effects: out.effects, events: out.events };
      }
      out.reply(
        state,
        String(data.text ?? ''),
        'proactive',
        typeof data.key === 'string' ? data.key : 'proactive',
      );
      return { state, replies: out.replies, effects: out.effects, events: out.events };
    }
    case 'proactive.skipped':
      // A scheduled message was not sent (opted out, booking changed, too late, capped): the 'event' record
      // above is the audit trail; the flow and the thread's activity time stay untouched.
      return { state, replies: out.replies, effects: out.effects, events: out.events };
    case 'proactive.start': {
      // A host starts a flow for a contact (an opt-in campaign): only with recorded opt-in.
      const flow = String(data.flow ?? '');
      if (!bot.flows.has(flow)) {
        throw new SmsflowError(
          'SMSFLOW_ERR_UNKNOWN_FLOW',
          `proactive.start names flow "${flow.slice(0, 64)}", which this bot does not have.`,
        );
      }
      if (state.consent.status !== 'opted_in') {
        out.event(state, 'suppressed', {
          reason: state.consent.status === 'opted_out' ? 'opted_out' : 'no_opt_in',
          flow,
        });
        return { state, replies: out.replies, effects: out.effects, events: out.events };
      }
      if (state.thread.machine.value !== null)
        out.event(state, 'thread.ended', { reason: 'switched', to: flow });
      out.proactive = true;
      state = startThread(
        bot,
        state,
        `${input.id}:th`,
        flow,
        at,
        (data.fields ?? {}) as { [k: string]: Json },
        out,
      );
      return finish(state, out, at);
    }
    case 'effect.result': {
      if (data.threadId !== state.thread.id) {
        out.event(state, 'stale', { reason: 'thread changed', effectId: (data.effectId as Json) ?? null });
        return finish(state, out, at);
      }
      return deliver(bot, state, out, at, {
        type: 'effect.result',
        effect: String(data.effect ?? ''),
        effectId: String(data.effectId ?? ''),
        ok: data.ok === true,
        data: (data.data ?? {}) as { [k: string]: Json },
        at,
      });
    }
    default:
      return deliver(bot, state, out, at, { type: 'external', name: input.type, data, at });
  }
}

/** After a hand-back, ask the pending question again when the machine itself said nothing. */
function reask(bot: CompiledBot, result: StepResult, out: Output): StepResult {
  const pending = result.state.thread.pending;
  if (result.replies.length > 0 || !pending) return result;
  const template = bot.flows.get(result.state.thread.flow)?.messages[pending.key];
  if (template) out.reply(result.state, renderTemplate(template, pending.vars), 'reply', pending.key);
  return { ...result, replies: out.replies, events: out.events };
}

function escalationReason(
  bot: CompiledBot,
  state: ConversationState,
  u: Understanding,
  text: string,
  fresh: boolean,
): { reason: string; summary: string } | null {
  if (u.intent === 'human' && u.confidence >= bot.threshold)
    return { reason: 'requested', summary: 'Asked for a person' };
  // The business paused the bot (staff PAUSE): new conversations go straight to a person.
  if (fresh && u.intent === 'paused')
    return { reason: 'paused', summary: 'The bot is paused; a person answers' };
  if (fresh && bot.vip.has(state.contact.phone)) return { reason: 'vip', summary: 'VIP contact' };
  if (bot.config.escalateOnSentiment !== false) {
    if (bot.detectBillingDispute(text)) return { reason: 'billing_dispute', summary: 'Billing dispute' };
    if (bot.detectAnger(text).angry) return { reason: 'angry_sentiment', summary: 'Customer is upset' };
  }
  return null;
}

/**
 * Whether the next message starts a new thread: no conversation yet, the flow finished, the handoff was
 * closed, or the thread sat idle past the TTL. Pure.
 */
export function startsNewThread(
  bot: Pick<CompiledBot, 'threadTtlMs'>,
  state: ConversationState | undefined,
  at: string,
): boolean {
  if (!state) return true;
  const t = state.thread;
  return (
    t.machine.status === 'done' ||
    t.handoff.status === 'closed' ||
    t.machine.value === null ||
    instantMsOf(at) - instantMsOf(t.lastActivityAt) > bot.threadTtlMs
  );
}

function needsClarifying(bot: CompiledBot, u: Understanding): boolean {
  if (u.intent === 'greeting') return true;
  if (u.intent && bot.intentToFlow.has(u.intent) && u.confidence >= bot.threshold) return false;
  return u.confidence < bot.threshold || u.intent === null;
}

function pickClarified(intents: string[], text: string, u: Understanding, threshold: number): string | null {
  const digit = /^\s*#?(\d)\s*[.!]?\s*$/.exec(text);
  if (digit) return intents[Number(digit[1]) - 1] ?? null;
  if (u.intent && intents.includes(u.intent) && u.confidence >= threshold) return u.intent;
  return null;
}

function escalate(
  _bot: CompiledBot,
  state: ConversationState,
  out: Output,
  reason: string,
  summary?: string,
): void {
  out.event(state, 'escalation', {
    reason,
    summary: summary ?? null,
    flow: state.thread.flow,
    state: state.thread.machine.value,
  });
  out.effects.push({
    id: `${out.inputId}:e${out.effects.length}`,
    type: 'handoff.requested',
    threadId: state.thread.id,
    payload: { reason, summary: summary ?? '', contact: state.contact.phone, flow: state.thread.flow },
  });
}

function handoffText(bot: CompiledBot, _state: ConversationState): string {
  return bot.config.handoffMessage ?? 'I am getting a person to help you. They will text you here shortly.';
}

function withHandoff(
  state: ConversationState,
  status: Thread['handoff']['status'],
  reason: string | undefined,
  at: string,
): ConversationState {
  const handoff: Thread['handoff'] = reason === undefined ? { status, at } : { status, reason, at };
  return { ...state, thread: { ...state.thread, handoff } };
}

function touch(state: ConversationState, at: string): ConversationState {
  return state.thread.lastActivityAt === at
    ? state
    : { ...state, thread: { ...state.thread, lastActivityAt: at } };
}

function emptyThread(id: string, flow: string, at: string): Thread {
  return {
    id,
    flow,
    machine: { value: null, context: {}, status: 'active' },
    handoff: { status: 'bot' },
    startedAt: at,
    lastActivityAt: at,
  };
}

function startThread(
  bot: CompiledBot,
  state: ConversationState,
  id: string,
  flowId: string,
  at: string,
  fields: { [k: string]: Json },
  out: Output,
): ConversationState {
  const flow = bot.flows.get(flowId)!;
  const input: FlowInput = {
    now: at,
    timeZone: bot.config.timeZone,
    profile: state.profile,
    fields,
    options: flow.options ?? {},
  };
  const { snapshot, actions } = bot.drivers.get(flowId)!.start(input);
  let next: ConversationState = { ...state, thread: { ...emptyThread(id, flowId, at), machine: snapshot } };
  out.event(next, 'thread.started', { flow: flowId });
  next = applyActions(bot, next, actions, out, at);
  return next;
}

function finish(state: ConversationState, out: Output, at: string): StepResult {
  return { state: touch(state, at), replies: out.replies, effects: out.effects, events: out.events };
}

/** Carrier re-subscribe keywords: never held for a double opt-in. */
const CARRIER_OPT_IN = new Set(['START', 'UNSTOP']);

const round = (n: number) => Math.round(n * 1000) / 1000;
