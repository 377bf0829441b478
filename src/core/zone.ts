/**
 * Wall time in an IANA zone, both ways, for the date/time parser and slot checks (`datetime.ts`).
 *
 * The zone's offset comes from `@date-fns/tz`'s `tzOffset` (the runtime's IANA data through `Intl`), and is
 * remembered per zone and quarter hour: formatting with `Intl` was a tenth of a booking step's time, and a
 * step asks for the same few instants again and again. A quarter hour is remembered only when its first
 * and last millisecond have the same offset; one that holds a transition is asked every time. Pure: the
 * same arguments always give the same answer.
 */
import { tzOffset } from '@date-fns/tz';
import { TwoKeyMemo } from './memo.js';

/** Wall-clock fields of an instant in a zone; `m` is 1..12, `dow` 0 = Sunday. */
export interface WallTime {
  y: number;
  m: number;
  d: number;
  h: number;
  min: number;
  s: number;
  dow: number;
}

const QUARTER_HOUR_MS = 15 * 60_000;
const DAY_MS = 86_400_000;
/** Quarter hours remembered in all zones together (208 days of one zone, about 1 MB) before the memo starts again. */
const remembered = new TwoKeyMemo<string, number, number>(20_000);

/** The offset `tzOffset` reports, in whole seconds' milliseconds (historical offsets carry seconds). */
function offsetAt(zone: string, ms: number): number {
  return Math.round(tzOffset(zone, new Date(ms)) * 60) * 1000;
}

/**
 * The zone's offset from UTC at an instant, in milliseconds: wall time = `utcMs` + offset.
 *
 * @param zone - An IANA zone the runtime knows (callers validate it first).
 * @param utcMs - The instant, in epoch milliseconds.
 * @returns The offset, e.g. `-28_800_000` for Los Angeles in winter.
 * @example
 * zoneOffsetMs('America/New_York', Date.parse('2026-07-01T12:00:00Z')) // -14_400_000
 */
export function zoneOffsetMs(zone: string, utcMs: number): number {
  const quarter = Math.floor(utcMs / QUARTER_HOUR_MS);
  const hit = remembered.get(zone, quarter);
  if (hit !== undefined) return hit;
  const from = quarter * QUARTER_HOUR_MS;
  const offset = offsetAt(zone, from);
  if (offset !== offsetAt(zone, from + QUARTER_HOUR_MS - 1)) return offsetAt(zone, utcMs);
  // Bounded in all: a host may see the zones of recipients all over the world.
  return remembered.set(zone, quarter, offset);
}

/**
 * The wall-clock fields of an instant in a zone.
 *
 * @example
 * wallTime('America/Los_Angeles', Date.parse('2026-12-03T22:00:00Z')) // { y: 2026, m: 12, d: 3, h: 14, min: 0, s: 0, dow: 4 }
 */
export function wallTime(zone: string, utcMs: number): WallTime {
  const w = new Date(utcMs + zoneOffsetMs(zone, utcMs));
  return {
    y: w.getUTCFullYear(),
    m: w.getUTCMonth() + 1,
    d: w.getUTCDate(),
    h: w.getUTCHours(),
    min: w.getUTCMinutes(),
    s: w.getUTCSeconds(),
    dow: w.getUTCDay(),
  };
}

/**
 * The instant a wall-clock time names in a zone. A time the clocks skip (a spring-forward gap) moves forward
 * by the gap (02:30 on 2026-03-08 in New York is 03:30 EDT); a time that happens twice (fall back) is the
 * first, daylight one, in every zone (Temporal's `'compatible'` disambiguation). `TZDate`, used before, took
 * the second reading in zones at or east of the host's own, so its answer depended on the server.
 *
 * @param m - Month 1..12; out-of-range fields roll over as in `Date.UTC`.
 * @returns Epoch milliseconds.
 * @example
 * zonedInstant('America/New_York', 2026, 3, 8, 2, 30) === Date.parse('2026-03-08T07:30:00Z') // 03:30 EDT
 */
export function zonedInstant(zone: string, y: number, m: number, d: number, h: number, min: number): number {
  const wall = Date.UTC(y, m - 1, d, h, min);
  // Offsets range from -12 to +14 hours, so the instant lies within a day of the wall time read as UTC: the
  // offsets a day before and a day after are the ones on either side of any transition near it.
  const before = zoneOffsetMs(zone, wall - DAY_MS);
  const after = zoneOffsetMs(zone, wall + DAY_MS);
  const early = wall - Math.max(before, after);
  const late = wall - Math.min(before, after);
  if (zoneOffsetMs(zone, early) === Math.max(before, after)) return early; // the only or the first reading
  if (zoneOffsetMs(zone, late) === Math.min(before, after)) return late;
  return wall - before; // skipped: the offset in force before the gap carries the wall time past it
}
