import { bookingFlow } from '../../machines/booking.js';
import { createBot } from '../../src/core/bot.js';
import type { BotConfig } from '../../src/core/bot-config.js';

/** The demo salon used across tests: open Tue–Sat 9–18 in Los Angeles. */
export const salonServices = [
  { id: 'haircut', name: 'Haircut', durationMinutes: 45, aliases: ['cut', 'trim'] },
  { id: 'color', name: 'Color', durationMinutes: 120, aliases: ['colour', 'dye'] },
  { id: 'blowout', name: 'Blowout', durationMinutes: 30, aliases: ['blow dry'] },
];

export const salonHours = {
  2: ['09:00', '18:00'],
  3: ['09:00', '18:00'],
  4: ['09:00', '18:00'],
  5: ['09:00', '18:00'],
  6: ['09:00', '16:00'],
} as const;

export function salonConfig(overrides: Partial<BotConfig> = {}): BotConfig {
  return {
    program: { name: 'Bella Salon', helpContact: 'call 415-555-0199', frequency: 'Msg frequency varies' },
    timeZone: 'America/Los_Angeles',
    flows: [bookingFlow({ services: salonServices, hours: { ...salonHours } as never })],
    ...overrides,
  };
}

export function salonBot(overrides: Partial<BotConfig> = {}) {
  return createBot(salonConfig(overrides));
}
