/**
 * The lead qualification flow (issue 5). Over the usual ~400 lines on purpose: the machine, the answer readers
 * it uses (`readNeed`, `readName`, `readEmail`) and the validation of its options are one unit, and the flow's
 * files are this one and its catalog `lead-qualification.messages.ts`.
 */
import { and, assign, setup } from 'xstate';
import { z } from 'zod';
import { formatIssues, SmsflowError, type SmsflowIssue } from '../src/core/errors.js';
import {
  type EffectParams,
  type FlowDefinition,
  type FlowEvent,
  type FlowInput,
  flowActions,
} from '../src/core/flow.js';
import type { Json } from '../src/core/types.js';
import { isNo, isYes, matchChoice } from './answers.js';
import { leadMessages } from './lead-qualification.messages.js';

/** Host-set scoring of a lead: points per chosen band, summed; at or above `hotThreshold` the lead is hot. */
export interface LeadScoring {
  /** Points per budget band, by index (same length as the bands). @default [1, 2, 3, …] (bigger budget, more points) */
  budget?: number[];
  /** Points per timeline, by index (same length as the timelines). @default [n, …, 2, 1] (sooner, more points) */
  timeline?: number[];
  /** Score at or above which a lead is hot. @default best budget points + best timeline points - 1 */
  hotThreshold?: number;
}

/** Options of {@link leadQualificationFlow}. */
export interface LeadQualificationOptions {
  /** Budget bands offered as a numbered menu. @default ['Under $100', '$100-$300', 'Over $300'] */
  budgetBands?: string[];
  /** Timelines offered as a numbered menu. @default ['This week', 'This month', 'Later'] */
  timelines?: string[];
  /** How answers turn into a score, and where hot starts. @default see {@link LeadScoring} */
  scoring?: LeadScoring;
  /** CRM owner of new leads (a user id or email in the host's CRM). @default none: the CRM assigns one */
  owner?: string;
  /** Failed answers to one question before a person takes over. @default 3 */
  maxRetries?: number;
  /** Failed email answers before a person takes over. @default 2 */
  maxEmailRetries?: number;
  /** Offer a hot lead to book a consultation, handing over to the booking flow. @default true */
  offerBooking?: boolean;
  /** Hours of silence mid-flow before one follow-up text (needs recorded opt-in); 0 turns it off. @default 24 */
  followUpAfterHours?: number;
  /** Id of the flow a hot lead is handed to. @default 'booking' */
  bookingFlowId?: string;
}

/** The lead machine's context: small and JSON, so the persisted state stays small. */
export interface LeadContext {
  need: string | null;
  /** Index of the chosen budget band. */
  budget: number | null;
  /** Index of the chosen timeline. */
  timeline: number | null;
  name: string | null;
  email: string | null;
  score: number;
  retries: number;
  [key: string]: Json;
}

type TextEvent = Extract<FlowEvent, { type: 'user.text' }>;

const DEFAULT_BUDGETS = ['Under $100', '$100-$300', 'Over $300'];
const DEFAULT_TIMELINES = ['This week', 'This month', 'Later'];
const emailSchema = z.email().max(254);

/**
 * The lead qualification flow: asks one question at a time (need, budget band, timeline, name, email, consent
 * to be contacted), scores the answers with host-set points, remembers the contact's name and email with a
 * `lead:hot` or `lead:warm` tag and sends a `crm.upsertLead` effect. A hot lead also sends `notify.team` and is
 * offered a consultation, handed to the booking flow on YES. Consent NO ends politely without CRM. Three failed
 * answers to one question (two for the email) or a failed CRM write hand the thread to a person. Pure.
 *
 * @param options - Bands, timelines, scoring and retry limits; every field has a default.
 * @returns A flow definition with id `lead`, started by the `lead` intent.
 * @throws SmsflowError `SMSFLOW_ERR_INVALID_CONFIG` listing every invalid option with its path.
 * @example
 * const bot = createBot({ ...program, flows: [bookingFlow(salon), leadQualificationFlow({ owner: 'sam@salon.example' })] });
 */
export function leadQualificationFlow(options: LeadQualificationOptions = {}): FlowDefinition {
  const budgets = options.budgetBands ?? DEFAULT_BUDGETS;
  const timelines = options.timelines ?? DEFAULT_TIMELINES;
  const budgetPoints = options.scoring?.budget ?? budgets.map((_, i) => i + 1);
  const timelinePoints = options.scoring?.timeline ?? timelines.map((_, i) => timelines.length - i);
  const hotThreshold =
    options.scoring?.hotThreshold ?? Math.max(...budgetPoints) + Math.max(...timelinePoints) - 1;
  const maxRetries = options.maxRetries ?? 3;
  const maxEmailRetries = options.maxEmailRetries ?? 2;
  const offerBooking = options.offerBooking ?? true;
  const bookingFlowId = options.bookingFlowId ?? 'booking';
  validateOptions(options, budgets, timelines, budgetPoints, timelinePoints);

  const budgetMenu = menuOf(budgets);
  const timelineMenu = menuOf(timelines);
  const budgetChoices = budgets.map(choiceNames);
  const timelineChoices = timelines.map(choiceNames);
  const ev = (e: unknown) => e as TextEvent;
  const scoreOf = (c: LeadContext) =>
    (budgetPoints[c.budget ?? -1] ?? 0) + (timelinePoints[c.timeline ?? -1] ?? 0);
  const fieldsOf = (c: LeadContext) => ({
    need: c.need ?? '',
    budget: budgets[c.budget ?? -1] ?? '',
    timeline: timelines[c.timeline ?? -1] ?? '',
    name: c.name ?? '',
    email: c.email ?? '',
  });
  const tagsOf = (c: LeadContext) => ['lead', c.score >= hotThreshold ? 'lead:hot' : 'lead:warm'];

  // Shared transition pieces; typed loosely (`never`) because XState cannot infer a reusable action list.
  const followUpMs = (options.followUpAfterHours ?? 24) * 3_600_000;
  const ask = (
    question: string,
    key: keyof typeof leadMessages,
    vars: (c: LeadContext) => Json = () => ({}),
  ) =>
    [
      {
        type: 'reply' as const,
        params: ({ context }: { context: LeadContext }) => ({
          key,
          ask: true,
          vars: vars(context) as { [k: string]: Json },
        }),
      },
      // Drop-off reports count where contacts stop answering (issue 5).
      { type: 'track' as const, params: { name: 'question', data: { question } } },
      // One nudge if the lead goes quiet here: the scheduler drops it when they answered in the meantime,
      // and (a proactive message) it goes only to a contact who opted in.
      ...(followUpMs > 0
        ? [
            {
              type: 'effect' as const,
              params: ({ event }: { event: { at?: string } }) => ({
                type: 'schedule.message',
                payload: {
                  kind: 'followup',
                  at: new Date(Date.parse(event.at ?? '') + followUpMs).toISOString(),
                  quietSince: event.at ?? '',
                  templateKey: 'followUp',
                  flow: 'lead',
                  question,
                },
              }),
            },
          ]
        : []),
    ] as never;
  const retry = (question: string, key: keyof typeof leadMessages, vars: { [k: string]: Json } = {}): never =>
    ({
      actions: [
        assign({ retries: ({ context }: { context: LeadContext }) => context.retries + 1 }),
        { type: 'invalid' as const, params: { question } },
        { type: 'reply' as const, params: { key, vars } },
      ],
    }) as never;
  const exhausted = (
    question: string,
    guard: 'retriesExhausted' | 'emailRetriesExhausted' = 'retriesExhausted',
    key: keyof typeof leadMessages = 'handoff',
  ): never =>
    ({
      guard,
      actions: [
        // `invalid` first: step then checks whether the answer was a digression before counting it.
        { type: 'invalid' as const, params: { question } },
        { type: 'track' as const, params: { name: 'retries_exhausted', data: { question } } },
        { type: 'reply' as const, params: { key } },
        {
          type: 'escalate' as const,
          params: { reason: 'retries_exhausted', summary: `Could not answer "${question}"` },
        },
        assign({ retries: 0 }),
      ],
    }) as never;

  const machine = setup({
    types: {} as { context: LeadContext; events: FlowEvent; input: FlowInput },
    actions: { ...flowActions },
    guards: {
      need: ({ event }) => event.type === 'user.text' && readNeed(event.text) !== null,
      budget: ({ event }) => event.type === 'user.text' && matchChoice(event.text, budgetChoices) !== null,
      timeline: ({ event }) =>
        event.type === 'user.text' && matchChoice(event.text, timelineChoices) !== null,
      name: ({ event }) => event.type === 'user.text' && readName(event.text) !== null,
      email: ({ event }) => event.type === 'user.text' && readEmail(event.text) !== null,
      yes: ({ event }) => event.type === 'user.text' && isYes(event.text),
      no: ({ event }) => event.type === 'user.text' && isNo(event.text),
      retriesExhausted: ({ context }) => context.retries + 1 >= maxRetries,
      emailRetriesExhausted: ({ context }) => context.retries + 1 >= maxEmailRetries,
      crmResult: ({ event }) => event.type === 'effect.result' && event.effect === 'crm.upsertLead',
      crmFailed: ({ event }) =>
        event.type === 'effect.result' && event.effect === 'crm.upsertLead' && !event.ok,
      hot: ({ context }) => context.score >= hotThreshold,
    },
  }).createMachine({
    id: 'lead',
    initial: 'idle',
    context: () => ({
      need: null,
      budget: null,
      timeline: null,
      name: null,
      email: null,
      score: 0,
      retries: 0,
    }),
    states: {
      idle: { on: { 'user.text': { target: 'askNeed' } } },
      askNeed: {
        entry: ask('need', 'askNeed'),
        on: {
          'user.text': [
            {
              guard: 'need',
              target: 'askBudget',
              actions: assign({ need: ({ event }) => readNeed(ev(event).text), retries: 0 }),
            },
            exhausted('need'),
            retry('need', 'needNotUnderstood'),
          ],
        },
      },
      askBudget: {
        entry: ask('budget', 'askBudget', () => ({ menu: budgetMenu })),
        on: {
          'user.text': [
            {
              guard: 'budget',
              target: 'askTimeline',
              actions: assign({
                budget: ({ event }) => matchChoice(ev(event).text, budgetChoices),
                retries: 0,
              }),
            },
            exhausted('budget'),
            retry('budget', 'budgetNotUnderstood', { menu: budgetMenu }),
          ],
        },
      },
      askTimeline: {
        entry: ask('timeline', 'askTimeline', () => ({ menu: timelineMenu })),
        on: {
          'user.text': [
            {
              guard: 'timeline',
              target: 'askName',
              actions: assign({
                timeline: ({ event }) => matchChoice(ev(event).text, timelineChoices),
                retries: 0,
              }),
            },
            exhausted('timeline'),
            retry('timeline', 'timelineNotUnderstood', { menu: timelineMenu }),
          ],
        },
      },
      askName: {
        entry: ask('name', 'askName'),
        on: {
          'user.text': [
            {
              guard: 'name',
              target: 'askEmail',
              actions: assign({ name: ({ event }) => readName(ev(event).text), retries: 0 }),
            },
            exhausted('name'),
            retry('name', 'nameNotUnderstood'),
          ],
        },
      },
      askEmail: {
        entry: ask('email', 'askEmail', (c) => ({ name: c.name })),
        on: {
          'user.text': [
            {
              guard: 'email',
              target: 'askConsent',
              actions: assign({ email: ({ event }) => readEmail(ev(event).text), retries: 0 }),
            },
            // Issue 5: a second bad email goes to a person (typing it again rarely helps).
            exhausted('email', 'emailRetriesExhausted', 'emailExhausted'),
            retry('email', 'emailNotUnderstood'),
          ],
        },
      },
      askConsent: {
        entry: ask('consent', 'askConsent'),
        on: {
          'user.text': [
            {
              guard: 'yes',
              target: 'saving',
              actions: assign({ score: ({ context }) => scoreOf(context), retries: 0 }),
            },
            { guard: 'no', target: 'declined' },
            exhausted('consent'),
            retry('consent', 'consentNotUnderstood'),
          ],
        },
      },
      saving: {
        entry: [
          {
            type: 'remember',
            params: ({ context }) => ({
              profile: { name: context.name ?? '', email: context.email ?? '' },
              tags: tagsOf(context),
            }),
          },
          {
            type: 'effect',
            params: ({ context }): EffectParams => ({
              type: 'crm.upsertLead',
              payload: {
                fields: fieldsOf(context),
                tags: tagsOf(context),
                // No owner set: leave it out so the CRM assigns one (round robin, rules).
                ...(options.owner ? { owner: options.owner } : {}),
                score: context.score,
              },
            }),
          },
        ],
        on: {
          'effect.result': [
            {
              guard: 'crmFailed',
              target: 'crmFailed',
              actions: [
                { type: 'reply', params: { key: 'effectFailed' } },
                { type: 'escalate', params: { reason: 'effect_failed', summary: 'Saving the lead failed' } },
              ],
            },
            {
              guard: and(['crmResult', 'hot']),
              target: offerBooking ? 'offer' : 'thanked',
              // Told after the CRM write succeeded, so a failed write does not page the team twice.
              actions: {
                type: 'effect',
                params: ({ context }) => ({
                  type: 'notify.team',
                  payload: {
                    text: `Hot lead: ${context.name ?? ''} (${context.score}) wants ${context.need ?? ''}`,
                  },
                }),
              },
            },
            { guard: 'crmResult', target: 'thanked' },
          ],
        },
      },
      // Waiting for a person; when they hand the thread back, the CRM write is tried again.
      crmFailed: { on: { 'thread.resume': { target: 'saving' } } },
      offer: {
        entry: ask('booking', 'offerBooking', (c) => ({ name: c.name })),
        on: {
          'user.text': [
            { guard: 'yes', target: 'handedOver' },
            { guard: 'no', target: 'goodbye' },
            exhausted('booking'),
            retry('booking', 'offerNotUnderstood'),
          ],
        },
      },
      handedOver: {
        type: 'final',
        entry: [
          { type: 'track', params: { name: 'completed', data: { outcome: 'booking' } } },
          {
            type: 'switchFlow',
            params: ({ context }) => ({
              flow: bookingFlowId,
              fields: { name: context.name ?? '', email: context.email ?? '' },
            }),
          },
        ],
      },
      goodbye: {
        type: 'final',
        entry: [
          { type: 'reply', params: { key: 'goodbye' } },
          { type: 'track', params: { name: 'completed', data: { outcome: 'hot' } } },
        ],
      },
      thanked: {
        type: 'final',
        entry: [
          { type: 'reply', params: ({ context }) => ({ key: 'thanks', vars: { name: context.name } }) },
          {
            type: 'track',
            params: ({ context }) => ({
              name: 'completed',
              data: { outcome: context.score >= hotThreshold ? 'hot' : 'warm' },
            }),
          },
        ],
      },
      // Consent NO: no CRM, no profile: they asked not to be contacted.
      declined: {
        type: 'final',
        entry: [
          { type: 'reply', params: ({ context }) => ({ key: 'declined', vars: { name: context.name } }) },
          { type: 'track', params: { name: 'completed', data: { outcome: 'declined' } } },
        ],
      },
    },
  });

  return {
    id: 'lead',
    machine,
    messages: { ...leadMessages },
    segmentBudget: 1,
    intents: ['lead'],
    intentExamples: {
      lead: [
        'can I get a quote',
        'I need a quote for a wedding',
        'how much for wedding hair for 5 people',
        'price for a bridal party',
        'do you do group bookings for events',
        'we are planning an event and need hair and makeup',
        'what packages do you offer',
        'pricing for a corporate event',
        'quote for my business team',
        'I would like an estimate for a group',
        'bridesmaids hair for a wedding in June',
        'do you have packages for parties',
        'looking for a quote for a photo shoot',
        'how much would it cost for ten people',
      ],
    },
    examples: {
      need: ['wedding hair for 5 people'],
      budget: budgets.map((_, i) => String(i + 1)),
      timeline: timelines.map((_, i) => String(i + 1)),
      name: ['Ann Lee'],
      email: ['ann@example.com'],
      yes: ['YES'],
      no: ['NO'],
    },
  };
}

/**
 * The need: free text with at least 3 letters, whitespace collapsed, capped at 160 characters so the state
 * stays small. Null when it has fewer letters. Pure.
 *
 * @example
 * readNeed('  wedding   hair ') // 'wedding hair'
 */
export function readNeed(text: string): string | null {
  const need = text.replace(/\s+/g, ' ').trim().slice(0, 160);
  return (need.match(/\p{L}/gu)?.length ?? 0) >= 3 ? need : null;
}

/**
 * A name: letters (with spaces, hyphens, apostrophes, dots), 2 to 60 characters, after dropping a leading
 * "my name is" / "I'm" / "this is". Null when the answer is not a plain name. Pure.
 *
 * @example
 * readName("I'm Ann Lee.") // 'Ann Lee'
 */
export function readName(text: string): string | null {
  const name = text
    .replace(/\s+/g, ' ')
    .trim()
    // A curly apostrophe would turn every later reply into UCS-2 (2-3x the segments).
    .replace(/[’‘ʼ]/g, "'")
    .replace(
      /^(?:(?:hi|hello|hey)[,!]? )?(?:my name is|my name's|name is|i am|i'm|im|it's|its|this is) /i,
      '',
    )
    .replace(/[.!]+$/, '');
  if (name.length < 2 || name.length > 60) return null;
  if (!/^\p{L}[\p{L}\p{M} .'-]*$/u.test(name)) return null;
  return (name.match(/\p{L}/gu)?.length ?? 0) >= 2 ? name : null;
}

/**
 * An email address validated with zod's `z.email()`: the one word of the answer containing `@`, stripped of
 * trailing punctuation. Null when there is none, several, or it is not valid. Pure.
 *
 * @example
 * readEmail('it is ann@example.com.') // 'ann@example.com'
 */
export function readEmail(text: string): string | null {
  const words = text
    .slice(0, 400)
    .split(/\s+/)
    .filter((w) => w.includes('@'));
  if (words.length !== 1) return null;
  const email = words[0]!.replace(/^[<("']+|[>)"'.,;:!?]+$/g, '');
  return emailSchema.safeParse(email).success ? email : null;
}

function menuOf(labels: string[]): string {
  return labels.map((label, i) => `${i + 1} ${label}`).join(', ');
}

/**
 * A label in the form `matchChoice` compares against (it lower-cases, drops sentence punctuation and turns
 * other symbols into spaces), so "under $100" finds "Under $100". Labels with no letters or digits match by
 * number only.
 */
function choiceNames(label: string): string[] {
  const key = label
    .toLowerCase()
    .replace(/[.!?,;:"'()]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[^\p{L}\p{N} ]+/gu, ' ');
  return /[\p{L}\p{N}]/u.test(key) ? [key] : [];
}

function validateOptions(
  options: LeadQualificationOptions,
  budgets: string[],
  timelines: string[],
  budgetPoints: number[],
  timelinePoints: number[],
): void {
  const issues: SmsflowIssue[] = [];
  const labels = (path: string, list: string[]) => {
    if (list.length < 2 || list.length > 9)
      issues.push({ path, message: `needs 2 to 9 choices (a one-digit menu), got ${list.length}` });
    list.forEach((label, i) => {
      if (typeof label !== 'string' || label.trim() === '')
        issues.push({
          path: `${path}.${i}`,
          message: `must be a non-empty label, got ${JSON.stringify(label)}`,
        });
    });
  };
  const points = (path: string, list: number[], expected: number) => {
    if (list.length !== expected)
      issues.push({ path, message: `needs one number per choice (${expected}), got ${list.length}` });
    list.forEach((p, i) => {
      if (!Number.isFinite(p))
        issues.push({ path: `${path}.${i}`, message: `must be a number, got ${String(p)}` });
    });
  };
  labels('budgetBands', budgets);
  labels('timelines', timelines);
  points('scoring.budget', budgetPoints, budgets.length);
  points('scoring.timeline', timelinePoints, timelines.length);
  const threshold = options.scoring?.hotThreshold;
  if (threshold !== undefined && !Number.isFinite(threshold))
    issues.push({ path: 'scoring.hotThreshold', message: `must be a number, got ${String(threshold)}` });
  for (const key of ['maxRetries', 'maxEmailRetries'] as const) {
    const v = options[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1))
      issues.push({ path: key, message: `must be a whole number of at least 1, got ${String(v)}` });
  }
  if (issues.length > 0) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      `Invalid leadQualificationFlow options; fix these and create the bot again:\n${formatIssues(issues)}`,
      { issues },
    );
  }
}
