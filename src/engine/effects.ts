import type { ActionContext, Actions } from '../adapters/actions/types.js';
import type { StoredEvent } from '../adapters/storage/types.js';
import type { Effect, Json } from '../core/types.js';

/** The outcome of running one effect, fed back to the conversation as an `effect.result` event. */
export interface EffectOutcome {
  ok: boolean;
  data: { [k: string]: Json };
}

/** Effects the engine handles itself or ignores when no adapter is configured. */
const FIRE_AND_FORGET = new Set(['handoff.requested', 'notify.team']);

/**
 * Runs one effect through the matching action adapter. Never throws: a failure becomes `{ ok: false }` with
 * the error's code, so the flow can answer honestly and escalate. Returns null for effects nobody answers
 * (notifications without a notifier).
 */
export async function runEffect(
  actions: Actions,
  effect: Effect,
  signal: AbortSignal,
  fallback?: (effect: Effect) => Promise<EffectOutcome | null | undefined>,
): Promise<EffectOutcome | null> {
  const p = effect.payload as { [k: string]: unknown };
  const ctx: ActionContext = {
    effectId: effect.id,
    contact: String(p.contact ?? ''),
    threadId: effect.threadId,
    signal,
  };
  try {
    switch (effect.type) {
      case 'calendar.check':
        return ok(await need(actions.calendar, 'calendar').check(p as never, ctx));
      case 'calendar.book':
        return ok(await need(actions.calendar, 'calendar').book(p as never, ctx));
      case 'calendar.reschedule':
        return ok(await need(actions.calendar, 'calendar').reschedule(p as never, ctx));
      case 'calendar.cancel':
        return ok(await need(actions.calendar, 'calendar').cancel(p as never, ctx));
      case 'crm.upsertLead':
        return ok(
          await need(actions.crm, 'crm').upsertLead(
            { phone: ctx.contact, fields: {}, tags: [], ...(p as object) } as never,
            ctx,
          ),
        );
      case 'payments.createLink':
        return ok(await need(actions.payments, 'payments').createLink(p as never, ctx));
      case 'payments.cancel':
        return ok(await need(actions.payments, 'payments').cancel(p as never, ctx));
      case 'handoff.requested':
      case 'notify.team': {
        if (!actions.notify) return null;
        const text =
          effect.type === 'handoff.requested'
            ? `A customer needs a person (${String(p.reason ?? 'requested')}): ${String(p.summary ?? '')}`.trim()
            : String(p.text ?? '');
        await actions.notify.notify(
          { text, kind: effect.type, contact: ctx.contact, data: effect.payload },
          ctx,
        );
        return FIRE_AND_FORGET.has(effect.type) ? null : ok({ delivered: true });
      }
      default: {
        // Effect types no adapter knows (schedule.message, schedule.event, host types) go to EngineOptions.onEffect.
        const handled = fallback ? await fallback(effect) : undefined;
        if (handled !== undefined) return handled;
        return {
          ok: false,
          data: { error: 'SMSFLOW_ERR_UNKNOWN_EFFECT', message: `No handler for effect ${effect.type}` },
        };
      }
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return {
      ok: false,
      data: {
        error: typeof code === 'string' ? code : 'SMSFLOW_ERR_PROVIDER',
        message: String((error as Error).message ?? error).slice(0, 300),
      },
    };
  }
}

function need<T>(adapter: T | undefined, kind: string): T {
  if (!adapter)
    throw Object.assign(new Error(`No ${kind} adapter configured`), { code: 'SMSFLOW_ERR_INVALID_CONFIG' });
  return adapter;
}

function ok(value: object): EffectOutcome {
  return { ok: true, data: JSON.parse(JSON.stringify(value)) as { [k: string]: Json } };
}

/** Effects whose result a flow waits for (a calendar check, a booking, a lead saved, a payment link). */
const AWAITED = /^(calendar\.(check|book|reschedule|cancel)|crm\.upsertLead|payments\.(createLink|cancel))$/;

/** The input an event came from: event ids are `<input id>:t<n>`. */
const inputOf = (eventId: string) => eventId.replace(/:t\d+$/, '');

/**
 * The awaited effects of one thread's transcript whose result was never recorded, asked at or before
 * `cutoffMs`, and after which the flow did not move on (no transition from a later input).
 *
 * @example
 * lostEffects(await storage.listEvents(key, { threadId }), Date.now() - 60_000) // [{ id: 'SM1:e0', type: 'calendar.check', … }]
 */
export function lostEffects(events: readonly StoredEvent[], cutoffMs: number): Effect[] {
  const resolved = new Set<string>();
  for (const e of events) {
    const result = e.data.data as { effectId?: unknown } | null | undefined;
    if (e.type === 'event' && e.data.type === 'effect.result' && typeof result?.effectId === 'string')
      resolved.add(result.effectId);
  }
  const lost: Effect[] = [];
  events.forEach((e, i) => {
    if (e.type !== 'effect') return;
    const id = String(e.data.effectId ?? '');
    const type = String(e.data.type ?? '');
    if (!AWAITED.test(type) || resolved.has(id) || !(Date.parse(e.at) <= cutoffMs)) return;
    const input = inputOf(e.id);
    if (events.slice(i + 1).some((later) => later.type === 'transition' && inputOf(later.id) !== input))
      return;
    const payload = e.data.payload;
    lost.push({
      id,
      type,
      threadId: e.threadId,
      payload: payload && typeof payload === 'object' && !Array.isArray(payload) ? payload : {},
    });
  });
  return lost;
}
