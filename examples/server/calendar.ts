/**
 * The demo salon's calendar, kept in SQLite beside the conversations, so bookings survive a restart and a booked
 * slot is never offered again. It implements {@link CalendarAdapter} and passes the library's calendar contract
 * (`calendarContract` from `smsflow/testing`, run in test/examples/calendar.test.ts): a real host would put its
 * booking system behind the same interface and run the same suite.
 */
import { createHash } from 'node:crypto';
import { TZDate } from '@date-fns/tz';
import type Database from 'better-sqlite3';
import { format } from 'date-fns';
import { z } from 'zod';
import type { ActionContext, CalendarAdapter } from '../../src/adapters/actions/types.js';
import { type BusinessHours, checkSlot } from '../../src/core/datetime.js';
import { SmsflowError } from '../../src/core/errors.js';
import { effectLedger } from './effect-ledger.js';

/** Options of {@link sqliteCalendar}. */
export interface SqliteCalendarOptions {
  /** An open better-sqlite3 database (the host app passes its own). */
  database: Database.Database;
  /** IANA zone of the business: hours are read in it, alternatives are written with its offset. */
  timeZone: string;
  /** Opening hours; a slot outside them is neither offered nor bookable. @default always open */
  hours?: BusinessHours;
  /** Grid of the alternatives offered, in minutes after the requested start. @default 30 */
  slotMinutes?: number;
  /** Days after the requested start searched for alternatives. @default 14 */
  searchDays?: number;
}

/** A booking as the dashboard lists it. */
export interface CalendarBooking {
  bookingId: string;
  service: string;
  /** ISO start with offset, as booked (or rescheduled). */
  start: string;
  durationMinutes: number;
  contact: string;
  status: 'booked' | 'cancelled';
}

/** The SQLite calendar: a {@link CalendarAdapter} with slot holds and lookups, plus `bookings()` for the dashboard. */
export interface SqliteCalendar extends CalendarAdapter {
  /** Books a slot; with `holdId` it turns that hold into the booking (the slot a deposit was paid for). */
  book(
    request: { service: string; start: string; durationMinutes: number; paymentId?: string; holdId?: string },
    context: ActionContext,
  ): Promise<{ bookingId: string }>;
  /** The contact's (`context.contact`) active bookings, soonest first. */
  find(request: Record<string, never>, context: ActionContext): Promise<{ bookings: FoundBooking[] }>;
  /** Holds a slot while a deposit is paid: nobody else can book it until `book` with the hold or `release`. */
  hold(
    request: { service: string; start: string; durationMinutes: number; minutes: number },
    context: ActionContext,
  ): Promise<{ holdId: string }>;
  /** Releases a hold that was not booked. */
  release(request: { holdId: string }, context: ActionContext): Promise<{ released: boolean }>;
  /** Active bookings that end after `from`, soonest first (at most `limit`). */
  bookings(options?: { from?: Date; limit?: number }): CalendarBooking[];
}

/** A booking as {@link SqliteCalendar.find} returns it. */
export interface FoundBooking {
  id: string;
  service: string;
  /** ISO start with offset. */
  start: string;
}

const NAME = 'demo-calendar';
const slotRequest = z.object({
  start: z.iso.datetime({ offset: true }),
  durationMinutes: z.number().int().min(1).max(1440),
});

const refused = (message: string) => new SmsflowError('SMSFLOW_ERR_PROVIDER', `[${NAME}] ${message}`);

/** Start and end in ms of a request, or a provider error that quotes what was wrong. */
function spanOf(request: unknown): { startMs: number; endMs: number; minutes: number } {
  const parsed = slotRequest.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw refused(
      `${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'invalid'}. Send an ISO start with offset (2030-06-04T10:00:00-07:00) and whole minutes.`,
    );
  }
  const startMs = Date.parse(parsed.data.start);
  return {
    startMs,
    endMs: startMs + parsed.data.durationMinutes * 60_000,
    minutes: parsed.data.durationMinutes,
  };
}

/**
 * Creates the SQLite calendar (tables `demo_bookings` and `demo_calendar_effects`, created when missing).
 * `book`, `reschedule`, `cancel`, `hold` and `release` are idempotent on `context.effectId`; a slot that overlaps
 * an active booking or hold, or leaves opening hours, is refused with `SMSFLOW_ERR_PROVIDER`. Holds are rows of
 * the same table (`held`, then `converted` by a booking or `released`), so they survive a restart too.
 *
 * @param options - See {@link SqliteCalendarOptions}.
 * @returns A {@link SqliteCalendar} named `demo-calendar`.
 * @example
 * const calendar = sqliteCalendar({ database: new Database('data/smsflow.db'), timeZone: 'America/Los_Angeles', hours });
 * const engine = createEngine({ bot, storage, actions: { calendar } });
 */
export function sqliteCalendar(options: SqliteCalendarOptions): SqliteCalendar {
  const { database: db, timeZone, hours } = options;
  const stepMs = (options.slotMinutes ?? 30) * 60_000;
  const searchMs = (options.searchDays ?? 14) * 86_400_000;
  db.exec(`CREATE TABLE IF NOT EXISTS demo_bookings (id TEXT PRIMARY KEY, service TEXT NOT NULL,
      start TEXT NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, contact TEXT NOT NULL,
      thread_id TEXT NOT NULL, payment_id TEXT, status TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS demo_bookings_span ON demo_bookings (status, start_ms);`);
  const ledger = effectLedger(db, 'demo_calendar_effects', NAME);
  // A held slot blocks like a booking until it is booked or released.
  const overlapping = db.prepare(
    `SELECT id FROM demo_bookings WHERE status IN ('booked', 'held') AND start_ms < ? AND end_ms > ? AND id != ?
     LIMIT 1`,
  );
  const taken = db.prepare(
    `SELECT start_ms AS startMs, end_ms AS endMs FROM demo_bookings
     WHERE status IN ('booked', 'held') AND start_ms < ? AND end_ms > ?`,
  );
  const insert = db.prepare(
    `INSERT INTO demo_bookings (id, service, start, start_ms, end_ms, contact, thread_id, payment_id, status)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const setStatus = db.prepare('UPDATE demo_bookings SET status = ? WHERE id = ?');
  // Derived from the effect id: a replayed conversation gets the same booking or hold id.
  const idFor = (prefix: string, context: ActionContext) =>
    `${prefix}_${createHash('sha256').update(context.effectId).digest('hex').slice(0, 16)}`;
  const byId = db.prepare(
    'SELECT id, status, start_ms AS startMs, end_ms AS endMs FROM demo_bookings WHERE id = ?',
  );

  const open = (startMs: number, minutes: number) =>
    !hours ||
    // checkSlot is pure and DST-aware; `now` just before the start leaves only the opening-hours checks.
    checkSlot(new Date(startMs).toISOString(), {
      now: new Date(startMs - 1),
      timeZone,
      hours,
      durationMinutes: minutes,
    }).ok;
  const clash = (startMs: number, endMs: number, except = '') =>
    overlapping.get(endMs, startMs, except) !== undefined;
  const local = (ms: number) => format(new TZDate(ms, timeZone), "yyyy-MM-dd'T'HH:mm:ssXXX");

  function assertBookable(startMs: number, endMs: number, minutes: number, except?: string): void {
    if (!open(startMs, minutes))
      throw refused(`${local(startMs)} is outside opening hours. Offer a slot from check().`);
    if (clash(startMs, endMs, except))
      throw refused(
        `${local(startMs)} (${minutes} min) overlaps another booking; nothing was booked. Call check() first.`,
      );
  }

  /** The next two free, open slots after the requested one, read against one query's bookings. */
  function alternatives(startMs: number, lengthMs: number): string[] {
    const busy = taken.all(startMs + searchMs + lengthMs, startMs) as { startMs: number; endMs: number }[];
    const found: string[] = [];
    for (let t = startMs + stepMs; t <= startMs + searchMs && found.length < 2; t += stepMs) {
      const free = busy.every((b) => b.endMs <= t || t + lengthMs <= b.startMs);
      if (free && open(t, lengthMs / 60_000)) found.push(local(t));
    }
    return found;
  }

  return {
    name: NAME,
    async check(request) {
      const { startMs, endMs, minutes } = spanOf(request);
      if (open(startMs, minutes) && !clash(startMs, endMs)) return { available: true };
      return { available: false, alternatives: alternatives(startMs, endMs - startMs) };
    },
    async book(request, context) {
      return ledger.once('book', context, () => {
        const { startMs, endMs, minutes } = spanOf(request);
        const holdId = request.holdId;
        if (holdId !== undefined) {
          const hold = byId.get(String(holdId)) as { status: string } | undefined;
          if (hold?.status !== 'held')
            throw refused(
              `No active hold ${JSON.stringify(String(holdId).slice(0, 80))}: it was released or booked.`,
            );
        }
        assertBookable(startMs, endMs, minutes, holdId);
        if (holdId !== undefined) setStatus.run('converted', holdId);
        const bookingId = idFor('bk', context);
        insert.run(
          bookingId,
          String(request.service).slice(0, 100),
          request.start,
          startMs,
          endMs,
          context.contact,
          context.threadId,
          request.paymentId ?? null,
          'booked',
        );
        return { bookingId };
      });
    },
    async reschedule(request, context) {
      return ledger.once('reschedule', context, () => {
        const row = byId.get(String(request.bookingId)) as
          | { id: string; status: string; startMs: number; endMs: number }
          | undefined;
        if (row?.status !== 'booked')
          throw refused(`No active booking ${JSON.stringify(String(request.bookingId).slice(0, 80))}.`);
        const minutes = (row.endMs - row.startMs) / 60_000;
        const { startMs, endMs } = spanOf({ start: request.start, durationMinutes: minutes });
        assertBookable(startMs, endMs, minutes, row.id);
        db.prepare('UPDATE demo_bookings SET start = ?, start_ms = ?, end_ms = ? WHERE id = ?').run(
          request.start,
          startMs,
          endMs,
          row.id,
        );
        return { bookingId: row.id };
      });
    },
    async cancel(request, context) {
      return ledger.once('cancel', context, () => {
        const row = byId.get(String(request.bookingId)) as { status: string } | undefined;
        if (!row) return { cancelled: false };
        setStatus.run('cancelled', String(request.bookingId));
        return { cancelled: true };
      });
    },
    async find(_request, context) {
      const rows = db
        .prepare(
          `SELECT id, service, start FROM demo_bookings WHERE status = 'booked' AND contact = ? ORDER BY start_ms`,
        )
        .all(context.contact) as FoundBooking[];
      return { bookings: rows };
    },
    async hold(request, context) {
      return ledger.once('hold', context, () => {
        const { startMs, endMs, minutes } = spanOf(request);
        assertBookable(startMs, endMs, minutes);
        const holdId = idFor('hold', context);
        insert.run(
          holdId,
          String(request.service).slice(0, 100),
          request.start,
          startMs,
          endMs,
          context.contact,
          context.threadId,
          null,
          'held',
        );
        return { holdId };
      });
    },
    async release(request, context) {
      return ledger.once('release', context, () => {
        const row = byId.get(String(request.holdId)) as { status: string } | undefined;
        if (row?.status !== 'held') return { released: false };
        setStatus.run('released', String(request.holdId));
        return { released: true };
      });
    },
    bookings({ from = new Date(), limit = 100 } = {}) {
      return (
        db
          .prepare(
            `SELECT id, service, start, start_ms, end_ms, contact, status FROM demo_bookings
             WHERE status = 'booked' AND end_ms > ? ORDER BY start_ms LIMIT ?`,
          )
          .all(from.getTime(), limit) as {
          id: string;
          service: string;
          start: string;
          start_ms: number;
          end_ms: number;
          contact: string;
          status: 'booked';
        }[]
      ).map((r) => ({
        bookingId: r.id,
        service: r.service,
        start: r.start,
        durationMinutes: (r.end_ms - r.start_ms) / 60_000,
        contact: r.contact,
        status: r.status,
      }));
    },
  };
}
