import type { CalendarAdapter } from '../../src/adapters/actions/types.js';

/**
 * A calendar that is always free and answers at once; the booking id derives from the effect id, so a re-run
 * effect books the same slot. Used by tests and benchmarks that measure the engine, not a calendar.
 *
 * @example
 * createEngine({ bot: salonBot(), storage, actions: { calendar: instantCalendar() } });
 */
export function instantCalendar(name = 'instant'): CalendarAdapter {
  return {
    name,
    check: async () => ({ available: true }),
    book: async (_request, ctx) => ({ bookingId: `bk-${ctx.effectId}` }),
    reschedule: async (request) => ({ bookingId: request.bookingId }),
    cancel: async () => ({ cancelled: true }),
  };
}
