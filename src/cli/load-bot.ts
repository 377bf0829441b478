/**
 * Resolves the `<flow|bot.ts>` argument of the CLI: a built-in flow name (`booking`, `lead`, `faq`) gives the
 * demo salon bot running that flow; a file path gives the bot (or bot config) it exports.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bookingFlow } from '../../machines/booking.js';
import { type Bot, createBot } from '../core/bot.js';
import type { BotConfig } from '../core/bot-config.js';
import { SmsflowError } from '../core/errors.js';
import type { FlowDefinition } from '../core/flow.js';

/** The demo salon's services (the same salon as the test suite): haircut, color, blowout. */
export const demoServices = [
  { id: 'haircut', name: 'Haircut', durationMinutes: 45, aliases: ['cut', 'trim'] },
  { id: 'color', name: 'Color', durationMinutes: 120, aliases: ['colour', 'dye'] },
  { id: 'blowout', name: 'Blowout', durationMinutes: 30, aliases: ['blow dry'] },
];

/** The demo salon's opening hours: Tue-Fri 9-18, Sat 9-16, in America/Los_Angeles. */
export const demoHours = {
  2: ['09:00', '18:00'],
  3: ['09:00', '18:00'],
  4: ['09:00', '18:00'],
  5: ['09:00', '18:00'],
  6: ['09:00', '16:00'],
} as const;

// Flows written by other modules load lazily: a checkout without them still runs the CLI (the brief: "support
// them by name when their files exist").
const optionalFlows: { [name: string]: string } = {
  lead: '../../machines/lead-qualification.js',
  faq: '../../machines/faq-triage.js',
};

/** The demo salon's FAQ knowledge base (for the `faq` flow): hours, parking, prices. */
export const demoKnowledgeBase = [
  {
    id: 'hours',
    questions: ['when are you open', 'what are your hours', 'are you open on saturday', 'opening times'],
    answer: 'We are open Tue-Fri 9am-6pm and Sat 9am-4pm.',
  },
  {
    id: 'parking',
    questions: ['where can I park', 'is there parking', 'do you have parking nearby', 'parking?'],
    answer: 'Free parking behind the salon, entrance on Oak St.',
  },
  {
    id: 'prices',
    questions: ['how much is a haircut', 'what are your prices', 'how much does color cost', 'price list'],
    answer: 'Haircut from $45, color from $90, blowout from $35.',
  },
];

// Options a built-in factory needs to build its demo flow, tried before no options at all.
const demoOptions: { [name: string]: unknown } = { faq: { knowledgeBase: demoKnowledgeBase } };

/** Names of the built-in flows, whether or not their module exists in this checkout. */
export const builtInFlowNames = ['booking', ...Object.keys(optionalFlows)] as const;

/**
 * Loads one built-in flow by name with demo options, or null when its module is absent or does not build.
 *
 * @param name - `booking`, `lead` or `faq`
 * @returns the flow, or null
 * @example
 * const booking = await loadBuiltInFlow('booking');
 */
export async function loadBuiltInFlow(name: string): Promise<FlowDefinition | null> {
  if (name === 'booking') return bookingFlow({ services: demoServices, hours: { ...demoHours } as never });
  const path = optionalFlows[name];
  if (!path) return null;
  let mod: { [key: string]: unknown };
  try {
    mod = (await import(path)) as { [key: string]: unknown };
  } catch {
    return null;
  }
  // The factory's name is not fixed yet (`leadFlow`, `leadQualificationFlow`, …): take the first export that
  // is a flow, or a `…Flow` factory that builds one without options.
  for (const value of Object.values(mod)) if (isFlow(value)) return value;
  for (const [key, value] of Object.entries(mod)) {
    if (typeof value !== 'function' || !/Flow$/.test(key)) continue;
    const demo = demoOptions[name];
    for (const args of [...(demo ? [[demo]] : []), [], [{}]]) {
      try {
        const flow = (value as (...a: unknown[]) => unknown)(...args);
        if (isFlow(flow)) return flow;
      } catch {
        // Needs options we cannot guess; try the next candidate.
      }
    }
  }
  return null;
}

/**
 * Every built-in flow present in this checkout, booking first.
 *
 * @example
 * for (const flow of await loadBuiltInFlows()) console.log(flow.id);
 */
export async function loadBuiltInFlows(): Promise<FlowDefinition[]> {
  const flows: FlowDefinition[] = [];
  for (const name of builtInFlowNames) {
    const flow = await loadBuiltInFlow(name);
    if (flow) flows.push(flow);
  }
  return flows;
}

/**
 * The demo salon bot's config with `flows` (the first is the default flow).
 *
 * @example
 * createBot(demoConfig([await loadBuiltInFlow('booking')]));
 */
export function demoConfig(flows: FlowDefinition[]): BotConfig {
  return {
    program: {
      name: 'Bella Salon',
      helpContact: 'call 415-555-0199',
      frequency: 'Msg frequency varies',
      optInDescription:
        'Customers text the salon first, or tick the SMS box when booking at bellasalon.example',
    },
    timeZone: 'America/Los_Angeles',
    flows,
  };
}

/**
 * Loads the bot named by a CLI argument. A built-in flow name gives the demo salon bot with that flow first
 * (the default) and the other built-in flows beside it, so a hand-over (`switchFlow`) works. A path loads a
 * .ts/.js/.mjs module whose default export, or `bot` export, is a Bot or a BotConfig (.ts needs tsx, which the
 * `smsflow` launcher registers).
 *
 * @param target - `booking` or `./bot.ts`
 * @param cwd - directory a relative path is resolved from
 * @returns the bot
 * @throws SmsflowError `SMSFLOW_ERR_INVALID_CONFIG` when the name is unknown or the module exports no bot
 * @example
 * const bot = await loadBot('booking');
 */
export async function loadBot(target: string, cwd = process.cwd()): Promise<Bot> {
  if (!/[./\\]/.test(target)) {
    const flow = await loadBuiltInFlow(target);
    if (!flow) {
      throw new SmsflowError(
        'SMSFLOW_ERR_UNKNOWN_FLOW',
        `"${target}" is not a built-in flow in this checkout (try ${builtInFlowNames.join(', ')}) nor a file path. Pass a flow name or a path such as ./bot.ts.`,
      );
    }
    const others = (await loadBuiltInFlows()).filter((f) => f.id !== flow.id);
    return createBot(demoConfig([flow, ...others]));
  }
  const file = resolve(cwd, target);
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_CONFIG',
      `Bot file "${target}" is not a file (resolved to ${file}). Pass a path to a .ts/.js/.mjs module.`,
    );
  }
  const mod = (await import(pathToFileURL(file).href)) as { default?: unknown; bot?: unknown };
  const value = mod.bot ?? mod.default;
  if (isBot(value)) return value;
  if (isBotConfig(value)) return createBot(value);
  throw new SmsflowError(
    'SMSFLOW_ERR_INVALID_CONFIG',
    `"${target}" exports no bot: make its default export (or an export named "bot") a Bot from createBot() or a BotConfig.`,
  );
}

function isFlow(value: unknown): value is FlowDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as FlowDefinition).id === 'string' &&
    typeof (value as FlowDefinition).machine === 'object' &&
    typeof (value as FlowDefinition).messages === 'object'
  );
}

function isBot(value: unknown): value is Bot {
  return typeof value === 'object' && value !== null && typeof (value as Bot).step === 'function';
}

function isBotConfig(value: unknown): value is BotConfig {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as BotConfig).flows) &&
    typeof (value as BotConfig).program === 'object'
  );
}
