/**
 * The demo business the host app runs: a hair salon open Tue–Sat in Los Angeles, with all three built-in flows:
 * booking, lead qualification (wedding and group quotes) and FAQ triage. The rules page rebuilds the bot from
 * these options.
 */
import { bookingFlow } from '../../machines/booking.js';
import { faqTriageFlow, type KnowledgeEntry } from '../../machines/faq-triage.js';
import { leadQualificationFlow } from '../../machines/lead-qualification.js';
import type { BotConfig } from '../../src/core/bot-config.js';
import type { BusinessHours } from '../../src/core/datetime.js';

/** The salon's services: ids go to the calendar, names and aliases are what customers type. */
export const salonServices = [
  { id: 'haircut', name: 'Haircut', durationMinutes: 45, aliases: ['cut', 'trim'] },
  { id: 'color', name: 'Color', durationMinutes: 120, aliases: ['colour', 'dye', 'highlights'] },
  { id: 'blowout', name: 'Blowout', durationMinutes: 30, aliases: ['blow dry'] },
];

/** Opening hours per weekday (0 = Sunday) in America/Los_Angeles. */
export const salonHours: BusinessHours = {
  2: ['09:00', '18:00'],
  3: ['09:00', '18:00'],
  4: ['09:00', '18:00'],
  5: ['09:00', '18:00'],
  6: ['09:00', '16:00'],
} as BusinessHours;

/** What the salon's FAQ answers (and what other flows answer mid-conversation). */
export const salonKnowledgeBase: KnowledgeEntry[] = [
  {
    id: 'parking',
    questions: [
      'where can I park',
      'is there parking',
      'do you have parking',
      'is parking free',
      'where do I leave my car',
    ],
    answer: 'Free parking is behind the salon on Oak St. Street parking on Main St is metered until 6 PM.',
  },
  {
    id: 'hours',
    questions: [
      'what are your hours',
      'when are you open',
      'are you open on sunday',
      'what time do you close',
      'opening hours?',
    ],
    answer: 'We are open Tue-Fri 9 AM-6 PM and Sat 9 AM-4 PM. Closed Sun and Mon.',
  },
  {
    id: 'payment',
    questions: [
      'what payment methods do you accept',
      'do you take credit cards',
      'can I pay with cash',
      'do you accept apple pay',
    ],
    answer: 'We accept cash, all major credit cards, Apple Pay and Google Pay. No checks, sorry.',
  },
  {
    id: 'prices',
    questions: [
      'how much is a haircut',
      'what are your prices',
      'how much does color cost',
      'price list?',
      'how much for a blowout',
    ],
    answer: 'Haircut $45, Color from $95, Blowout $35. Prices vary by stylist and hair length.',
  },
  {
    id: 'cancellation',
    questions: [
      'what is your cancellation policy',
      'is there a fee if I cancel',
      'how late can I cancel',
      'do you charge for no shows',
    ],
    answer: 'Please cancel at least 24 hours ahead. Late cancellations and no-shows pay 50% of the service.',
  },
  {
    id: 'giftcards',
    questions: [
      'do you sell gift cards',
      'can I buy a gift card',
      'gift certificate?',
      'do gift cards expire',
    ],
    answer: 'Gift cards are sold at the front desk and online, any amount from $25. They never expire.',
  },
];

/** The rules an admin may change at run time (rules page). */
export interface BotRules {
  /** Understanding below this gets a clarifying question (0..1). */
  confidenceThreshold: number;
  /** Failed answers to one booking question before a person takes over (1..10). */
  maxRetries: number;
  /** Days of silence after which a message starts a new thread (1..365). */
  threadTtlDays: number;
}

/** Defaults of {@link BotRules}: the same as the library's own defaults. */
export const defaultRules: BotRules = { confidenceThreshold: 0.6, maxRetries: 3, threadTtlDays: 7 };

/**
 * The salon bot's config for the given rules.
 *
 * @param rules - Threshold, retries and thread TTL from the rules page.
 * @returns A config for `createBot`.
 * @example
 * const bot = createBot(salonConfig(defaultRules));
 */
export function salonConfig(rules: BotRules = defaultRules): BotConfig {
  return {
    program: { name: 'Bella Salon', helpContact: 'call 415-555-0199', frequency: 'Msg frequency varies' },
    timeZone: 'America/Los_Angeles',
    confidenceThreshold: rules.confidenceThreshold,
    threadTtlDays: rules.threadTtlDays,
    flows: [
      bookingFlow({ services: salonServices, hours: salonHours, maxRetries: rules.maxRetries }),
      leadQualificationFlow({ maxRetries: rules.maxRetries }),
      faqTriageFlow({ knowledgeBase: salonKnowledgeBase, minConfidence: rules.confidenceThreshold }),
    ],
    clarifyChoices: [
      { intent: 'book', label: 'to book' },
      { intent: 'lead', label: 'for a quote' },
      { intent: 'faq', label: 'for a question' },
      { intent: 'human', label: 'for a person' },
    ],
  };
}
