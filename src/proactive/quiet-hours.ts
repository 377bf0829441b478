// Quiet hours in the recipient's local time. TCPA: no solicitation before 8 a.m. or after 9 p.m. local time;
// Oklahoma (OTSA) and Florida (FTSA): 8 a.m. to 8 p.m. (sms-facts §3). Zone math through core/zone.ts (the IANA
// database through Intl), so DST changes follow the IANA database and the host's own zone plays no part.
import { SmsflowError } from '../core/errors.js';
import type { Json } from '../core/types.js';
import { wallTime, zonedInstant } from '../core/zone.js';
import { stateForNumber, zonesForNumber } from './area-codes.js';

/** Allowed sending window per recipient, in their local time (`HH:MM`, end exclusive). */
export interface QuietHoursOptions {
  /** @default '08:00' */
  start?: string;
  /** @default '21:00' */
  end?: string;
  /** Stricter windows by US state, e.g. `{ OK: ['08:00', '20:00'], FL: ['08:00', '20:00'] }`. */
  byState?: { [state: string]: [string, string] };
}

/** A window in minutes after local midnight: `[start, end)`. */
export type Window = [number, number];

/** Where the recipient's zones came from. */
export type ZoneSource = 'profile' | 'area_code' | 'business';

function minutes(hhmm: string, what: string): number {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(hhmm);
  if (!m) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      `quietHours ${what} "${String(hhmm).slice(0, 20)}" is not HH:MM; write e.g. '08:00' or '21:00'.`,
    );
  }
  return Number(m[1]) * 60 + Number(m[2]);
}

/**
 * The window that applies to a number: the state's when `byState` names the number's state, else the default.
 *
 * @example
 * windowFor('+14055550100', { byState: { OK: ['08:00', '20:00'] } }) // [480, 1200]
 */
export function windowFor(phone: string, options: QuietHoursOptions = {}): Window {
  const state = stateForNumber(phone);
  const pair = (state && options.byState?.[state]) || [options.start ?? '08:00', options.end ?? '21:00'];
  const window: Window = [minutes(pair[0], 'start'), minutes(pair[1], 'end')];
  if (window[0] >= window[1]) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      `quietHours window "${pair[0]}"–"${pair[1]}" is empty; the start must be before the end.`,
    );
  }
  return window;
}

/**
 * The zones to check for a recipient: `profile.timeZone` when it is a valid IANA zone, else the area code's
 * zone(s), else the business zone (unknown area codes and non-US numbers).
 *
 * @example
 * recipientZones('+12125550100', {}, 'America/Los_Angeles') // { zones: ['America/New_York'], source: 'area_code' }
 */
export function recipientZones(
  phone: string,
  profile: { [k: string]: Json },
  businessZone: string,
): { zones: string[]; source: ZoneSource } {
  const tz = profile.timeZone;
  if (typeof tz === 'string' && isZone(tz)) return { zones: [tz], source: 'profile' };
  const byCode = zonesForNumber(phone);
  if (byCode.length > 0) return { zones: byCode, source: 'area_code' };
  return { zones: [businessZone], source: 'business' };
}

function isZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Local minutes after midnight of `at` in `zone`. */
export function localMinutes(at: Date, zone: string): number {
  const local = wallTime(zone, at.getTime());
  return local.h * 60 + local.min;
}

/**
 * True when `at` is inside the window in every zone.
 *
 * @example
 * isAllowed(new Date('2026-03-02T15:00:00Z'), ['America/New_York'], [480, 1260]) // true (10:00 local)
 */
export function isAllowed(at: Date, zones: string[], window: Window): boolean {
  return zones.every((zone) => {
    const m = localMinutes(at, zone);
    return m >= window[0] && m < window[1];
  });
}

/**
 * The earliest time at or after `at` that is inside the window in every zone (`at` itself when allowed).
 * Candidates are `at` and each zone's window start on the next few local days, so a DST change moves the
 * result with the local clock (08:00 stays 08:00). Throws when no common time exists within 3 days (zones too
 * far apart for the window).
 *
 * @example
 * nextAllowedTime(new Date('2026-03-02T03:00:00Z'), ['America/New_York'], [480, 1260]) // 2026-03-02T13:00:00Z
 */
export function nextAllowedTime(at: Date, zones: string[], window: Window): Date {
  if (isAllowed(at, zones, window)) return at;
  const candidates: number[] = [];
  for (const zone of zones) {
    const local = wallTime(zone, at.getTime());
    for (let day = 0; day <= 3; day++) {
      // Date.UTC rolls day 32 over into the next month, as the wall time does.
      const start = zonedInstant(
        zone,
        local.y,
        local.m,
        local.d + day,
        Math.floor(window[0] / 60),
        window[0] % 60,
      );
      if (start > at.getTime()) candidates.push(start);
    }
  }
  candidates.sort((a, b) => a - b);
  for (const t of candidates) if (isAllowed(new Date(t), zones, window)) return new Date(t);
  throw new SmsflowError(
    'SMSFLOW_ERR_INVALID_CONFIG',
    `No time inside the quiet-hours window is allowed in all of ${zones.join(', ')}; widen the window.`,
  );
}
