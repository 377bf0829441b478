/**
 * A small in-memory calendar for the demo: slots are free unless booked. Stands in for
 * `memoryCalendar` from `src/adapters/actions/memory.ts` until that lands; same {@link CalendarAdapter} shape.
 * Opening hours are already enforced by the booking flow (checkSlot), so this only tracks overlaps.
 */
import { randomUUID } from 'node:crypto';
import type { CalendarAdapter } from '../../src/adapters/actions/types.js';

interface Booking {
  id: string;
  service: string;
  start: number;
  end: number;
}

/**
 * Creates the demo calendar. Bookings are keyed by the effect id, so a retried `calendar.book` returns the
 * same booking instead of a second one.
 *
 * @returns A {@link CalendarAdapter} named `demo-calendar` with a `bookings` list for the dashboard and tests.
 * @example
 * const engine = createEngine({ bot, storage, actions: { calendar: demoCalendar() } });
 */
export function demoCalendar(): CalendarAdapter & { bookings: Booking[] } {
  const bookings: Booking[] = [];
  const byEffect = new Map<string, Booking>();
  const overlaps = (start: number, end: number, except?: string) =>
    bookings.some((b) => b.id !== except && b.start < end && start < b.end);
  const span = (start: string, minutes: number) => {
    const t = Date.parse(start);
    return [t, t + minutes * 60_000] as const;
  };
  return {
    name: 'demo-calendar',
    bookings,
    async check(request) {
      const [start, end] = span(request.start, request.durationMinutes);
      if (!overlaps(start, end)) return { available: true };
      // Offer the next two free slots an hour apart, same length.
      const alternatives: string[] = [];
      for (let t = end; alternatives.length < 2 && t < end + 86_400_000; t += 3_600_000) {
        if (!overlaps(t, t + (end - start))) alternatives.push(new Date(t).toISOString());
      }
      return { available: false, alternatives };
    },
    async book(request, context) {
      const existing = byEffect.get(context.effectId);
      if (existing) return { bookingId: existing.id };
      const [start, end] = span(request.start, request.durationMinutes);
      const booking = { id: `bk_${randomUUID().slice(0, 8)}`, service: request.service, start, end };
      bookings.push(booking);
      byEffect.set(context.effectId, booking);
      return { bookingId: booking.id };
    },
    async reschedule(request) {
      const booking = bookings.find((b) => b.id === request.bookingId);
      if (booking) {
        const length = booking.end - booking.start;
        booking.start = Date.parse(request.start);
        booking.end = booking.start + length;
      }
      return { bookingId: request.bookingId };
    },
    async cancel(request) {
      const index = bookings.findIndex((b) => b.id === request.bookingId);
      if (index >= 0) bookings.splice(index, 1);
      return { cancelled: index >= 0 };
    },
  };
}
