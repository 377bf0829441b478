/**
 * The conversation corpus format, validated with zod (issue 25, "Measured, not assumed"). The fields are
 * documented at the top of `conversations.ts`, which runs the corpus; this file only holds the schema and the
 * wall-clock helpers both the runner and the judge use.
 */
import { readFileSync } from 'node:fs';
import { tz } from '@date-fns/tz';
import { format, isValid, parse } from 'date-fns';
import { z } from 'zod';

/** The default corpus: the demo salon's scripted conversations. */
export const DEFAULT_CORPUS_URL = new URL(
  '../../test/fixtures/understanding/conversations.json',
  import.meta.url,
);

/** The categories a conversation belongs to; the runner reports a pass rate per category. */
export const categories = [
  'full_opener',
  'partial_opener',
  'vague_time',
  'date_then_time',
  'correction',
  'slot_taken',
  'service_answer',
  'faq_mid_booking',
  'reschedule',
  'cancel',
  'low_confidence',
  'faq',
  'lead',
  'handoff_request',
  'complaint',
  'opt_out',
  'polite_closing',
  'greeting_unclear',
] as const;

/** Outcomes a conversation can be expected to end in. */
export const outcomes = [
  'booked',
  'rescheduled',
  'cancelled',
  'kept',
  'no_booking',
  'faq_answered',
  'lead_captured',
  'handoff',
  'opted_out',
  'closed_politely',
  'none',
] as const;

/** Why a person is expected to take over, or `false` for a conversation the bot must finish alone. */
export const handoffReasons = [
  'requested',
  'angry_sentiment',
  'billing_dispute',
  'retries_exhausted',
  'low_confidence',
] as const;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const TIME_OR_WINDOW = /^([01]\d|2[0-3]):[0-5]\d(-([01]\d|2[0-3]):[0-5]\d)?$/;
const LOCAL_START = /^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d$/;

const realDate = (value: string) => isValid(parse(value, 'yyyy-MM-dd', new Date(0)));
const realStart = (value: string) => isValid(parse(value, "yyyy-MM-dd'T'HH:mm", new Date(0)));

const dateSchema = z.string().regex(DATE, 'a date as YYYY-MM-DD').refine(realDate, 'a real calendar day');
const localStartSchema = z
  .string()
  .regex(LOCAL_START, 'a local start as YYYY-MM-DDTHH:mm (business time zone)')
  .refine(realStart, 'a real calendar day');

const expectedBookingSchema = z.object({
  service: z.string().min(1),
  date: dateSchema,
  /** `HH:mm`, or `HH:mm-HH:mm` (inclusive) where the bot proposes a time for a vague one ("morning"). */
  time: z.string().regex(TIME_OR_WINDOW, 'HH:mm or a window HH:mm-HH:mm'),
});

const conversationSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,79}$/, 'kebab-case, at most 80 characters'),
    category: z.enum(categories),
    /** What the conversation checks, for a reader of a failure. */
    note: z.string().max(300).optional(),
    turns: z.array(z.string().min(1).max(1600)).min(1).max(20),
    /** First message time (ISO-8601 with offset); the corpus default otherwise. */
    start: z.iso.datetime({ offset: true }).optional(),
    /** Minutes between customer messages; the corpus default otherwise. */
    minutesBetween: z.number().int().min(0).max(10_080).optional(),
    setup: z
      .object({
        /** An upcoming booking the contact already has (made before the conversation). */
        booking: z
          .object({ service: z.string().min(1), start: localStartSchema })
          .strict()
          .optional(),
        /** Periods already taken on the calendar (another customer's booking). */
        busy: z
          .array(
            z
              .object({ start: localStartSchema, minutes: z.number().int().min(1).max(1440).default(60) })
              .strict(),
          )
          .max(50)
          .optional(),
      })
      .strict()
      .optional(),
    openerSlots: z
      .object({
        service: z.string().min(1).optional(),
        date: dateSchema.optional(),
        time: z.string().regex(TIME, 'HH:mm').optional(),
      })
      .strict()
      .refine((s) => Object.keys(s).length > 0, 'name at least one slot, or leave openerSlots out')
      .optional(),
    expect: z
      .object({
        outcome: z.enum(outcomes),
        booking: expectedBookingSchema.strict().optional(),
        handoff: z.union([z.literal(false), z.enum(handoffReasons)]),
        /** A knowledge-base entry id whose answer must be sent (`answer.<id>`), alone or mid-flow. */
        faq: z
          .string()
          .regex(/^[A-Za-z0-9_-]+$/)
          .optional(),
        /** Fields the CRM lead must hold (lead_captured). */
        lead: z
          .object({ name: z.string().min(1).optional(), email: z.string().min(3).optional() })
          .strict()
          .optional(),
      })
      .strict(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const { outcome, booking, handoff, faq } = c.expect;
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    if ((outcome === 'booked' || outcome === 'rescheduled') && !booking)
      issue(['expect', 'booking'], `outcome "${outcome}" needs the expected booking`);
    if (booking && !['booked', 'rescheduled', 'closed_politely'].includes(outcome))
      issue(['expect', 'booking'], `outcome "${outcome}" ends without a booking to expect`);
    if ((outcome === 'handoff') !== (handoff !== false))
      issue(['expect', 'handoff'], 'outcome "handoff" and a handoff reason go together');
    if (outcome === 'faq_answered' && !faq) issue(['expect', 'faq'], 'outcome "faq_answered" needs faq');
    if (['rescheduled', 'cancelled', 'kept'].includes(outcome) && !c.setup?.booking)
      issue(['setup', 'booking'], `outcome "${outcome}" needs an existing booking in setup`);
    if (c.expect.lead && outcome !== 'lead_captured')
      issue(['expect', 'lead'], 'expect.lead goes with outcome "lead_captured"');
  });

/** The corpus file: defaults for the clock, then the conversations. */
export const corpusSchema = z
  .object({
    description: z.string().optional(),
    /** First message time of every conversation that does not set its own (ISO-8601 with offset). */
    start: z.iso.datetime({ offset: true }),
    /** Minutes between customer messages. @default 1 */
    minutesBetween: z.number().int().min(0).max(10_080).default(1),
    conversations: z.array(conversationSchema).min(1),
  })
  .strict()
  .superRefine((corpus, ctx) => {
    const seen = new Set<string>();
    corpus.conversations.forEach((c, i) => {
      if (seen.has(c.id))
        ctx.addIssue({ code: 'custom', path: ['conversations', i, 'id'], message: `duplicate id "${c.id}"` });
      seen.add(c.id);
    });
  });

/** A validated corpus. */
export type Corpus = z.output<typeof corpusSchema>;
/** A corpus as written (defaults not yet applied). */
export type CorpusInput = z.input<typeof corpusSchema>;
/** One scripted conversation. */
export type ScriptedConversation = Corpus['conversations'][number];
/** What a conversation is expected to end in. */
export type Expectation = ScriptedConversation['expect'];
/** One of {@link categories}. */
export type Category = (typeof categories)[number];

/**
 * Validates a corpus, reporting every problem with its path at once.
 *
 * @param value - Parsed JSON.
 * @returns The corpus with defaults applied.
 * @throws Error listing each issue as `path: message`.
 * @example
 * const corpus = parseCorpus(JSON.parse(readFileSync(file, 'utf8')));
 */
export function parseCorpus(value: unknown): Corpus {
  const parsed = corpusSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new Error(`Invalid conversation corpus:\n${lines.join('\n')}`);
}

/**
 * Reads and validates a corpus file.
 *
 * @param file - Path or URL of the JSON file. @default the salon corpus
 * @returns The validated corpus.
 * @example
 * const corpus = loadCorpus();
 */
export function loadCorpus(file: string | URL = DEFAULT_CORPUS_URL): Corpus {
  return parseCorpus(JSON.parse(readFileSync(file, 'utf8')));
}

/**
 * An instant given as the business's wall clock (`2026-12-10T15:00`), as ISO-8601 with the zone's offset.
 *
 * @example
 * localToIso('2026-12-10T15:00', 'America/Los_Angeles') // '2026-12-10T15:00:00.000-08:00'
 */
export function localToIso(local: string, timeZone: string): string {
  return parse(local, "yyyy-MM-dd'T'HH:mm", new Date(0), { in: tz(timeZone) }).toISOString();
}

/**
 * The business's wall-clock date and time of an instant.
 *
 * @example
 * wallClockOf('2026-12-10T23:00:00Z', 'America/Los_Angeles') // { date: '2026-12-10', time: '15:00' }
 */
export function wallClockOf(iso: string, timeZone: string): { date: string; time: string } {
  const at = new Date(iso);
  return {
    date: format(at, 'yyyy-MM-dd', { in: tz(timeZone) }),
    time: format(at, 'HH:mm', { in: tz(timeZone) }),
  };
}

/**
 * Whether a wall-clock time `HH:mm` is the expected one, or inside an expected window `HH:mm-HH:mm`.
 *
 * @example
 * timeMatches('10:30', '09:00-11:30') // true
 */
export function timeMatches(time: string, expected: string): boolean {
  const [from, to = from] = expected.split('-');
  // Zero-padded HH:mm strings order like the times they name.
  return time >= from! && time <= to!;
}
