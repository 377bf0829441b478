/**
 * The demo business the host app runs: a hair salon open Tue–Sat in Los Angeles, with the booking flow.
 * Copied from `test/support/salon.ts` so the example does not import test code. More flows (lead
 * qualification, FAQ) slot into `flows` as they land; the rules page rebuilds the bot from these options.
 */
import { bookingFlow } from '../../machines/booking.js';
import type { BotConfig } from '../../src/core/bot-config.js';
import type { BusinessHours } from '../../src/core/datetime.js';

/** The salon's services: ids go to the calendar, names and aliases are what customers type. */
export const salonServices = [
  { id: 'haircut', name: 'Haircut', durationMinutes: 45, aliases: ['cut', 'trim'] },
  { id: 'color', name: 'Color', durationMinutes: 120, aliases: ['colour', 'dye'] },
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
    flows: [bookingFlow({ services: salonServices, hours: salonHours, maxRetries: rules.maxRetries })],
  };
}
