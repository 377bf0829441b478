/**
 * Appointment date/time understanding for booking flows: parse what a customer texts ("tomorrow 3pm",
 * "12/3 at 2", "next tuesday 11am") into an ISO start in the BUSINESS's IANA time zone, check a slot against
 * opening hours, and render slots and hours as short GSM-7 text.
 *
 * Every export is pure: the clock is never read (`now` is passed in), nothing is logged, and the same input
 * always gives the same output, so transcripts replay (ARCHITECTURE.md: "time comes from message.receivedAt").
 * Zone math goes through `zone.ts` (the IANA database through `Intl`, remembered per quarter hour), so DST
 * gaps and overlaps follow the IANA database.
 * Length (~420 lines): one cohesive parser whose rule tables and TSDoc are most of the file; splitting it
 * would scatter the rules that must be read together.
 */
import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns';
import { SmsflowError } from './errors.js';
import { type WallTime, wallTime, zonedInstant, zoneOffsetMs } from './zone.js';

/** Opening hours per weekday: key 0=Sunday..6=Saturday → `[open, close]` as "HH:mm" (close may be "24:00"); absent = closed. */
export interface BusinessHours {
  [day: number]: [string, string] | undefined;
}

/**
 * Result of {@link parseDateTime}. `start` is ISO-8601 with the business zone's offset
 * (e.g. `2026-12-03T14:00:00-08:00`); date-only answers start at 00:00 and have `hasTime: false`, no `time`.
 */
export type ParsedDateTime =
  | { ok: true; start: string; hasTime: boolean; date: string; time?: string }
  | { ok: false; reason: 'unrecognised' };

/** Result of {@link checkSlot}: bookable, or the first reason it is not (checked in the order past, too_far, closed_day, outside_hours). */
export type SlotCheck =
  | { ok: true }
  | { ok: false; reason: 'past' | 'closed_day' | 'outside_hours' | 'too_far' };

/** Options shared by the parser: the reference instant and the business's IANA zone. */
export interface DateTimeContext {
  /** The instant the message was received (never the wall clock, so replays are stable). */
  now: Date;
  /** IANA zone of the business, e.g. `America/Los_Angeles`. */
  timeZone: string;
}

/** Options for {@link checkSlot}. */
export interface SlotCheckOptions extends DateTimeContext {
  /** Opening hours in the business zone. */
  hours: BusinessHours;
  /** Length of the appointment; it must end by closing time. */
  durationMinutes: number;
  /** Furthest bookable calendar day after today. @default 90 */
  maxDaysAhead?: number;
}

// Only the start of a message matters; capping keeps every regex linear in a bounded input (brief: 200 chars).
const MAX_INPUT = 200;
const MONTHS =
  'jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?';
const WEEKDAYS =
  'sun(?:day)?|mon(?:day)?|tue(?:s(?:day)?)?|wed(?:s|nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?';
const MONTH_KEYS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_KEYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const TOMORROW = 'tomorrow|tomorow|tommorow|tommorrow|tmrw|tmr|tmw|2morrow|2moro';
const WEEKDAY_RE = new RegExp(` (?:(next|this|coming) )?(${WEEKDAYS}) `);
const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven'];
const ISO_START = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const HH_MM = /^([01]?\d|2[0-4]):([0-5]\d)$/;

/** A calendar day; `m` is 1..12. */
type Ymd = { y: number; m: number; d: number };
/** An hour the customer gave: `exact` when unambiguous (am/pm, 24h clock), else resolved by the business-hours rule. */
type Clock = { h: number; min: number; exact: boolean };

const UNRECOGNISED: ParsedDateTime = { ok: false, reason: 'unrecognised' };
const validZones = new Set<string>();
const configError = (message: string): SmsflowError =>
  new SmsflowError('SMSFLOW_ERR_INVALID_CONFIG', message);
/** Midnight UTC of a zoned date's calendar day, for day differences that ignore DST. */
const dayMs = (w: WallTime): number => Date.UTC(w.y, w.m - 1, w.d);

function assertZone(timeZone: string): void {
  if (validZones.has(timeZone)) return;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw configError(
      `Unknown time zone ${JSON.stringify(timeZone)}. Pass an IANA zone name such as "America/Los_Angeles".`,
    );
  }
  validZones.add(timeZone);
}

function assertNow(now: Date): number {
  const ms = now instanceof Date ? now.getTime() : Number.NaN;
  if (Number.isNaN(ms)) {
    throw configError(`Invalid "now" ${String(now)}. Pass a valid Date (e.g. message.receivedAt).`);
  }
  return ms;
}

/** Calendar arithmetic in UTC so it never depends on the host's zone or a DST shift. */
const pad2 = (n: number) => String(n).padStart(2, '0');

function addDays(date: Ymd, days: number): Ymd {
  const u = new Date(Date.UTC(date.y, date.m - 1, date.d + days));
  return { y: u.getUTCFullYear(), m: u.getUTCMonth() + 1, d: u.getUTCDate() };
}

function isRealDate(y: number, m: number, d: number): boolean {
  const u = new Date(Date.UTC(y, m - 1, d));
  return m >= 1 && m <= 12 && u.getUTCMonth() === m - 1 && u.getUTCDate() === d && u.getUTCFullYear() === y;
}

function dayOfWeek(date: Ymd): number {
  return new Date(Date.UTC(date.y, date.m - 1, date.d)).getUTCDay();
}

/** A month/day without a year means the next such day on or after today (in the business zone). */
function withYear(m: number, d: number, yearText: string | undefined, today: Ymd): Ymd | undefined {
  let y = today.y;
  if (yearText) y = yearText.length === 2 ? 2000 + Number(yearText) : Number(yearText);
  else if (m < today.m || (m === today.m && d < today.d)) y += 1;
  return isRealDate(y, m, d) ? { y, m, d } : undefined;
}

/**
 * Ambiguous hours (no am/pm, 12-hour clock) take the reading inside business-like hours 8..20 (brief):
 * "at 2" → 14:00, "at 9" → 09:00, "at 8" → 08:00. A part-of-day word ("morning", "evening") overrides.
 */
function resolveHour(c: Clock, hint: 'am' | 'pm' | undefined): number {
  if (c.exact) return c.h;
  if (hint === 'am') return c.h % 12;
  if (hint === 'pm') return (c.h % 12) + 12;
  return c.h >= 1 && c.h <= 7 ? c.h + 12 : c.h;
}

function toResult(date: Ymd, clock: { h: number; min: number } | undefined, zone: string): ParsedDateTime {
  // A DST-gap wall time moves forward (02:30 on 2026-03-08 New York → 03:30 EDT) and an overlap takes the
  // first (daylight) instant; date/time are read back from the instant so they always agree with `start`.
  const instant = zonedInstant(zone, date.y, date.m, date.d, clock?.h ?? 0, clock?.min ?? 0);
  // Formatted by hand: date-fns `format` costs more than the whole parse around it.
  const at = wallTime(zone, instant);
  const day = `${at.y}-${pad2(at.m)}-${pad2(at.d)}`;
  const time = `${pad2(at.h)}:${pad2(at.min)}`;
  const offset = zoneOffsetMs(zone, instant) / 60_000;
  const zone2 = `${offset < 0 ? '-' : '+'}${pad2(Math.floor(Math.abs(offset) / 60))}:${pad2(Math.abs(offset) % 60)}`;
  const start = `${day}T${time}:${pad2(at.s)}${zone2}`;
  if (!clock) return { ok: true, start, hasTime: false, date: day };
  return { ok: true, start, hasTime: true, date: day, time };
}

function normalise(text: string): string {
  return ` ${text.slice(0, MAX_INPUT).toLowerCase()} `
    .replace(/[’`']/g, '') // "o'clock" → "oclock"
    .replace(/(\d{4}-\d{1,2}-\d{1,2})t(?=\d)/g, '$1 ') // ISO "2026-12-03T14:00"
    .replace(/\b([ap])\.\s?m\b\.?/g, '$1m') // "p.m." → "pm"
    .replace(/(\d)\.(\d{2})\b/g, '$1:$2') // "10.30" → "10:30"
    .replace(/(\d)(?:st|nd|rd|th)\b/g, '$1') // "3rd" → "3"
    .replace(/@/g, ' at ')
    .replace(/[^\p{L}\p{N}:/\- ]+/gu, ' ')
    .replace(/\s+/g, ' ');
}

type Rule<T> = [RegExp, (m: RegExpExecArray, today: Ymd) => T | undefined];
const monthOf = (name: string): number => MONTH_KEYS.indexOf(name.slice(0, 3)) + 1;
// A leading zero ("09:30", "02:00"), 0 or an hour past 12 is a 24-hour reading; "2", "2:30" are ambiguous.
const clockOf = (h: string, min = '0'): Clock => ({ h: +h, min: +min, exact: h.startsWith('0') || +h > 12 });

/** Date phrasings, most specific first; a handler returns undefined for a date that cannot exist. */
const DATE_RULES: Rule<Ymd>[] = [
  [
    / (\d{4})-(\d{1,2})-(\d{1,2}) /,
    (m) => (isRealDate(+m[1]!, +m[2]!, +m[3]!) ? { y: +m[1]!, m: +m[2]!, d: +m[3]! } : undefined),
  ],
  [/ (\d{1,2})\/(\d{1,2})(?:\/(\d{4}|\d{2}))? /, (m, t) => withYear(+m[1]!, +m[2]!, m[3], t)], // US month/day
  [new RegExp(` (${MONTHS}) (\\d{1,2})(?: (\\d{4}))? `), (m, t) => withYear(monthOf(m[1]!), +m[2]!, m[3], t)],
  [
    new RegExp(` (\\d{1,2}) (?:of )?(${MONTHS})(?: (\\d{4}))? `),
    (m, t) => withYear(monthOf(m[2]!), +m[1]!, m[3], t),
  ],
  [new RegExp(` (?:the )?day after (?:${TOMORROW}) `), (_m, t) => addDays(t, 2)],
  [
    new RegExp(` (today|tonight|${TOMORROW}) `),
    (m, t) => addDays(t, m[1] === 'today' || m[1] === 'tonight' ? 0 : 1),
  ],
  [
    / in (\d{1,3}|an?|one|two|three|four|five|six|seven) (days?|weeks?) /,
    (m, t) => {
      const count = /^an?$/.test(m[1]!)
        ? 1
        : NUMBER_WORDS.includes(m[1]!)
          ? NUMBER_WORDS.indexOf(m[1]!)
          : +m[1]!;
      const n = count * (m[2]!.startsWith('week') ? 7 : 1);
      return n > 366 ? undefined : addDays(t, n);
    },
  ],
];

/** Time phrasings, most specific first; a handler returns undefined for a time that cannot exist ("13pm"). */
const CLOCK_RULES: Rule<Clock>[] = [
  [/ (noon|midday|midnight) /, (m) => ({ h: m[1] === 'midnight' ? 0 : 12, min: 0, exact: true })],
  [
    // "3pm", "3 pm", "3p", but not "3 a" ("twice at 3 a week" is no time).
    / (\d{1,2})(?::(\d{2}))?(?::\d{2})?(?: ?([ap])m|([ap])) /,
    (m) =>
      +m[1]! < 1 || +m[1]! > 12
        ? undefined
        : { h: (+m[1]! % 12) + ((m[3] ?? m[4]) === 'p' ? 12 : 0), min: +(m[2] ?? 0), exact: true },
  ],
  [/ (\d{1,2}):(\d{2})(?::\d{2})? /, (m) => clockOf(m[1]!, m[2]!)],
  [/ (?:at|around|about|by) (\d{1,2})(?: oclock)? /, (m) => clockOf(m[1]!)],
  [/ (\d{1,2}) oclock /, (m) => clockOf(m[1]!)],
];

/** The first rule that matches (its text cut out by `take`): `{ value }`, or undefined when none matched. */
function firstRule<T>(
  rules: Rule<T>[],
  take: (re: RegExp) => RegExpExecArray | null,
  today: Ymd,
): { value: T | undefined } | undefined {
  for (const [re, read] of rules) {
    const m = take(re);
    if (m) return { value: read(m, today) };
  }
  return undefined;
}

/**
 * Understand a customer's reply to "Which day and time?" in the business's zone, relative to `now`.
 * Pure and total over `text`: any string gives a result (only the first 200 characters are read).
 *
 * Rules: US month/day ("12/3"); a date without a year is the next one on or after today; a weekday is the
 * next such day, today only if the given time is still ahead (or no time was given); "next friday" is the first
 * Friday strictly after today, never today (documented choice: the confirmation step shows the exact date);
 * a time alone is today if still ahead, else tomorrow; ambiguous hours prefer 8..20; leftover digits, a
 * weekday contradicting the date, or an impossible date/time give `unrecognised`, so the bot asks again.
 *
 * @param text - The inbound body (never logged).
 * @param options - `now` (the message's receivedAt) and the business `timeZone` (IANA).
 * @returns The parsed start, or `{ ok: false, reason: 'unrecognised' }`.
 * @throws SmsflowError `SMSFLOW_ERR_INVALID_CONFIG` when `timeZone` or `now` is invalid (never because of `text`).
 * @example
 * parseDateTime('12/3 at 2', { now: new Date('2026-11-24T15:00:00Z'), timeZone: 'America/Los_Angeles' });
 * // → { ok: true, start: '2026-12-03T14:00:00-08:00', hasTime: true, date: '2026-12-03', time: '14:00' }
 */
export function parseDateTime(text: string, options: DateTimeContext): ParsedDateTime {
  assertZone(options.timeZone);
  const nowMs = assertNow(options.now);
  if (typeof text !== 'string') return UNRECOGNISED;
  const zNow = wallTime(options.timeZone, nowMs);
  const today: Ymd = { y: zNow.y, m: zNow.m, d: zNow.d };
  let rest = normalise(text);
  // Read before matchers cut words out ("tonight" is both a day and a part-of-day hint).
  // Bare "am"/"pm" words are not hints ("i am free at 2"); attached to a number they make the hour exact.
  const hint = / morning /.test(rest)
    ? 'am'
    : / (afternoon|evening|tonight|night) /.test(rest)
      ? 'pm'
      : undefined;
  // Each matcher cuts what it understood out of `rest`; digits left over mean we misread something.
  const take = (re: RegExp): RegExpExecArray | null => {
    const m = re.exec(rest);
    if (m) rest = rest.slice(0, m.index) + ' ' + rest.slice(m.index + m[0].length);
    return m;
  };

  const dated = firstRule(DATE_RULES, take, today);
  if (dated && !dated.value) return UNRECOGNISED; // a date we read but that cannot exist ("2/30", "99/99")
  let date = dated?.value;
  let weekdayOnly: { dow: number; next: boolean } | undefined;
  const wd = take(WEEKDAY_RE);
  if (wd) {
    const dow = DAY_KEYS.indexOf(wd[2]!.slice(0, 3));
    // "Thu Dec 3": a weekday beside a date must agree with it, else the customer meant something else.
    if (date && dayOfWeek(date) !== dow) return UNRECOGNISED;
    if (!date) weekdayOnly = { dow, next: wd[1] === 'next' };
  }
  // "tmrw 3", "friday 2": a bare number is an hour only next to a day; alone it may be a menu choice.
  const bare: Rule<Clock>[] = date || weekdayOnly ? [[/ (\d{1,2}) /, (m) => clockOf(m[1]!)]] : [];
  const timed = firstRule([...CLOCK_RULES, ...bare], take, today);
  if (timed && !timed.value) return UNRECOGNISED;
  const clock = timed?.value;
  if (/\d/.test(rest)) return UNRECOGNISED;
  if (clock && (clock.h > 23 || clock.min > 59)) return UNRECOGNISED;
  if (!date && !weekdayOnly && !clock) return UNRECOGNISED;
  const time = clock ? { h: resolveHour(clock, hint), min: clock.min } : undefined;
  const ahead = (d: Ymd): boolean =>
    !time || zonedInstant(options.timeZone, d.y, d.m, d.d, time.h, time.min) > nowMs;

  if (weekdayOnly) {
    let offset = (weekdayOnly.dow - dayOfWeek(today) + 7) % 7;
    if (offset === 0 && (weekdayOnly.next || !ahead(today))) offset = 7;
    date = addDays(today, offset);
  } else if (!date) {
    date = ahead(today) ? today : addDays(today, 1); // time only: today if still ahead, else tomorrow
  }
  return toResult(date, time, options.timeZone);
}

function minutesOf(hhmm: string, day: number): number {
  const m = HH_MM.exec(hhmm);
  const total = m ? Number(m[1]) * 60 + Number(m[2]) : Number.NaN;
  if (!(total <= 1440)) {
    throw configError(
      `Business hours for day ${day} have time ${JSON.stringify(hhmm)}. Use 24-hour "HH:mm", e.g. "09:00" or "17:30".`,
    );
  }
  return total;
}

/** Validated [open, close] minutes for a weekday, or undefined when closed. */
function dayHours(hours: BusinessHours, day: number): [number, number] | undefined {
  const pair = hours[day];
  if (pair === undefined) return undefined;
  if (!Array.isArray(pair) || pair.length !== 2) {
    throw configError(`Business hours for day ${day} are ${JSON.stringify(pair)}. Use ["09:00", "17:00"].`);
  }
  const [open, close] = [minutesOf(pair[0], day), minutesOf(pair[1], day)];
  if (open >= close) {
    // Overnight opening (e.g. 22:00-02:00) is not supported: split it over two days instead.
    throw configError(
      `Business hours for day ${day} open at ${pair[0]} but close at ${pair[1]}. Opening must be before closing on the same day.`,
    );
  }
  return [open, close];
}

function parseIso(startIso: string): number {
  const ms = typeof startIso === 'string' && ISO_START.test(startIso) ? Date.parse(startIso) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw configError(
      `Invalid slot start ${JSON.stringify(String(startIso).slice(0, 40))}. Pass an ISO-8601 time with offset, e.g. the \`start\` from parseDateTime.`,
    );
  }
  return ms;
}

/**
 * Whether an appointment may start at `startIso`: not past (start > now), not beyond `maxDaysAhead` calendar
 * days, on an open day, starting at or after opening and ending (start + duration) by closing. Pure.
 *
 * @param startIso - ISO-8601 with offset, usually `parseDateTime(...).start`.
 * @param options - `now`, business `timeZone`, `hours`, `durationMinutes`, optional `maxDaysAhead` (default 90).
 * @returns `{ ok: true }` or the first failing reason in the order past, too_far, closed_day, outside_hours.
 * @throws SmsflowError `SMSFLOW_ERR_INVALID_CONFIG` for a malformed `startIso`, zone, hours or duration.
 * @example
 * checkSlot('2026-12-03T14:00:00-08:00', { now, timeZone: 'America/Los_Angeles', hours: { 4: ['09:00', '17:00'] }, durationMinutes: 30 });
 * // → { ok: true }
 */
export function checkSlot(startIso: string, options: SlotCheckOptions): SlotCheck {
  assertZone(options.timeZone);
  const nowMs = assertNow(options.now);
  const startMs = parseIso(startIso);
  const { durationMinutes, maxDaysAhead = 90 } = options;
  if (!(durationMinutes >= 0 && maxDaysAhead >= 0 && Number.isFinite(durationMinutes + maxDaysAhead))) {
    throw configError(
      `Invalid durationMinutes ${durationMinutes} or maxDaysAhead ${maxDaysAhead}. Use non-negative numbers.`,
    );
  }
  if (startMs <= nowMs) return { ok: false, reason: 'past' };
  const start = wallTime(options.timeZone, startMs);
  const zNow = wallTime(options.timeZone, nowMs);
  // Calendar days in the business zone (not 24-hour blocks), so a DST change does not move the limit.
  if ((dayMs(start) - dayMs(zNow)) / 86_400_000 > maxDaysAhead) return { ok: false, reason: 'too_far' };
  const open = dayHours(options.hours, start.dow);
  if (!open) return { ok: false, reason: 'closed_day' };
  const startMin = start.h * 60 + start.min;
  // The end is measured in elapsed minutes, so a slot spanning a DST shift still ends at the real instant.
  const end = wallTime(options.timeZone, startMs + durationMinutes * 60_000);
  const endMin = end.h * 60 + end.min + ((dayMs(end) - dayMs(start)) / 86_400_000) * 1440;
  if (startMin < open[0] || endMin > open[1]) return { ok: false, reason: 'outside_hours' };
  return { ok: true };
}

/**
 * A slot as short GSM-7 text in the business zone, e.g. "Thu Dec 3 at 2:00 PM". Pure.
 *
 * @param startIso - ISO-8601 with offset.
 * @param timeZone - Business IANA zone.
 * @returns English, ASCII-only text (one SMS segment's worth).
 * @throws SmsflowError `SMSFLOW_ERR_INVALID_CONFIG` for a malformed `startIso` or zone.
 * @example
 * formatSlot('2026-12-03T14:00:00-08:00', 'America/Los_Angeles'); // "Thu Dec 3 at 2:00 PM"
 */
export function formatSlot(startIso: string, timeZone: string): string {
  // Replies repeat the same slot several times per conversation and zone conversion is the costly part:
  // a bounded memo of this pure function.
  const key = `${timeZone}|${startIso}`;
  const hit = slotLabels.get(key);
  if (hit !== undefined) return hit;
  assertZone(timeZone);
  const label = format(new TZDate(parseIso(startIso), timeZone), "EEE MMM d 'at' h:mm a");
  if (slotLabels.size >= 5_000) slotLabels.clear();
  slotLabels.set(key, label);
  return label;
}

const slotLabels = new Map<string, string>();

function clockText(minutes: number): string {
  const h = Math.floor(minutes / 60) % 24;
  const mm = String(minutes % 60).padStart(2, '0');
  return minutes === 1440 ? 'midnight' : `${h % 12 === 0 ? 12 : h % 12}:${mm} ${h < 12 ? 'AM' : 'PM'}`;
}

/**
 * Opening hours as short GSM-7 text, weeks starting Monday: consecutive days with the same hours become a
 * range, days sharing hours are listed together. E.g. "Tue-Sat 9:00 AM-6:00 PM" or
 * "Mon-Fri 9:00 AM-5:00 PM; Sat 10:00 AM-2:00 PM"; no open day gives "Closed". Pure.
 *
 * @param hours - Opening hours (0=Sunday..6=Saturday).
 * @returns ASCII-only text.
 * @throws SmsflowError `SMSFLOW_ERR_INVALID_CONFIG` for a malformed hours entry.
 * @example
 * describeHours({ 2: ['09:00', '18:00'], 3: ['09:00', '18:00'], 4: ['09:00', '18:00'], 5: ['09:00', '18:00'], 6: ['09:00', '18:00'] });
 * // "Tue-Sat 9:00 AM-6:00 PM"
 */
export function describeHours(hours: BusinessHours): string {
  const order = [1, 2, 3, 4, 5, 6, 0]; // Monday-first, as US business hours are usually written
  const groups = new Map<string, number[][]>(); // hours text → runs of consecutive positions in `order`
  order.forEach((day, pos) => {
    const span = dayHours(hours, day);
    if (!span) return;
    const key = `${clockText(span[0])}-${clockText(span[1])}`;
    const runs = groups.get(key) ?? [];
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] === pos - 1) last.push(pos);
    else runs.push([pos]);
    groups.set(key, runs);
  });
  if (groups.size === 0) return 'Closed';
  const name = (pos: number): string => DAY_NAMES[order[pos]!]!;
  return [...groups]
    .map(
      ([key, runs]) =>
        `${runs.map((r) => (r.length === 1 ? name(r[0]!) : `${name(r[0]!)}-${name(r[r.length - 1]!)}`)).join(', ')} ${key}`,
    )
    .join('; ');
}
