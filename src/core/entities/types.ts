/**
 * The entities the understanding step reads from every inbound text, whatever the flow is asking: dates and
 * times as people write them, services from the flows' catalogs, yes/no, names, emails, phone numbers, party
 * sizes, budgets and corrections. Extraction is pure (time comes in as data), and the result is plain JSON so
 * it is recorded with the understanding and a replay reads exactly what the live step read.
 */

/** What a pending question asks for. It decides what a bare answer means: "6" is an hour when a time was asked. */
export type SlotKind =
  | 'date'
  | 'time'
  | 'datetime'
  | 'service'
  | 'yesno'
  | 'name'
  | 'email'
  | 'phone'
  | 'partySize'
  | 'budget'
  | 'number'
  | 'text';

/** A bookable or quotable item of a flow's catalog, recognised by name, alias or misspelling. */
export interface CatalogItem {
  /** Stable id (`haircut`). */
  id: string;
  /** Name shown to customers (`Haircut`). */
  name: string;
  /** Other words customers use for it (`cut`, `trim`). */
  aliases?: readonly string[];
}

/** What extraction needs besides the text. */
export interface EntityContext {
  /** The instant the message was received (ISO-8601 or a Date); never the wall clock. */
  now: string | Date;
  /** The business's IANA time zone; dates and times are read in it. */
  timeZone: string;
  /** The items of the bot's flows, to recognise services by name, alias or typo. */
  catalog?: readonly CatalogItem[];
  /** What the pending question asks for, if anything. */
  expecting?: SlotKind | null;
}

/** Part of a day named without a clock time. */
export type PartOfDay = 'morning' | 'afternoon' | 'evening';

/**
 * A date and/or time the customer meant, in the business's zone. Vague times ("around 3", "6ish", "after
 * work", "morning") carry `approximate: true`: a flow proposes them and asks, it never books them as exact.
 */
export interface WhenEntity {
  /** Calendar day, `YYYY-MM-DD`. */
  date?: string;
  /** Wall-clock time, `HH:mm` (24-hour). */
  time?: string;
  /** The time (or part of day) was given loosely and must be proposed, not assumed. */
  approximate?: boolean;
  /** A part of the day without a clock time ("tomorrow morning", "after work" is evening). */
  partOfDay?: PartOfDay;
  /** "same time": keep the time already given, with the new day. */
  sameTime?: boolean;
  /** "same day": keep the day already given, with the new time. */
  sameDay?: boolean;
  /** The words read, for the transcript. */
  text: string;
}

/** A service named in the text. */
export interface ServiceEntity {
  /** The catalog item's id. */
  id: string;
  /** The words that matched (`hair cut`, `higlights`). */
  text: string;
  /** False when matched through a misspelling. */
  exact: boolean;
}

/** A budget: amounts in whole currency units. */
export interface BudgetEntity {
  min?: number;
  max?: number;
  /** ISO 4217; `USD` when only "$" or nothing was written. */
  currency: string;
  text: string;
}

/** Everything read from one text. Every field is optional and absent when not found. */
export interface Entities {
  /** The date/time meant (after corrections: "friday at 2 instead of 10" is Friday 14:00). */
  when?: WhenEntity;
  /** Dates or times the customer ruled out ("I can't go on thursday", "instead of 10"). */
  ruledOut?: WhenEntity[];
  /** The catalog item named, if any. */
  service?: ServiceEntity;
  /** A yes or a no, in any of its forms ("yep", "sounds good", "👍", "nah", "not that one"). */
  answer?: 'yes' | 'no';
  /** A person's name the customer gave for themselves. */
  name?: string;
  email?: string;
  /** E.164. */
  phone?: string;
  partySize?: number;
  budget?: BudgetEntity;
  /** A bare number or an ordinal choice ("2", "#2", "the second one"). */
  number?: number;
  /** The message corrects something said before ("actually", "instead", "make it", "no, 4pm"). */
  correction?: boolean;
}
