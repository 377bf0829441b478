import type { ActionContext, Actions } from '../adapters/actions/types.js';
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
