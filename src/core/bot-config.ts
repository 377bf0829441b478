import { z } from 'zod';
import { formatIssues, SmsflowError, type SmsflowIssue } from './errors.js';
import type { FlowDefinition } from './flow.js';
import type { CountryCode } from './phone.js';

/** The program details carriers vet and HELP/STOP replies must carry. */
export interface ProgramInfo {
  /** Brand or program name shown in HELP and opt-out replies (`Bella Hair Salon`). */
  name: string;
  /** How to reach a person: phone, email or URL (`call (415) 555-0100`). */
  helpContact: string;
  /** Message frequency disclosure. @default 'Msg frequency varies' */
  frequency?: string;
  /** How customers opt in (registration text): `Customers text us first or sign up at example.com/sms`. */
  optInDescription?: string;
}

/** Overrides of the built-in compliance texts; `{program}`, `{helpContact}`, `{frequency}` are filled in. */
export interface ComplianceMessages {
  optOut: string;
  optIn: string;
  help: string;
  /** Double opt-in: asks for a YES before the subscription starts. */
  confirmOptIn: string;
}

/** Configuration of {@link createBot}. Validated in full: every problem is reported at once with its path. */
export interface BotConfig {
  program: ProgramInfo;
  /** The flows this bot runs; the first one is the default unless `defaultFlow` says otherwise. */
  flows: FlowDefinition[];
  /** Flow a new thread starts when no intent picks one. @default the first flow */
  defaultFlow?: string;
  /** IANA time zone of the business (`America/Los_Angeles`): dates are read and shown in it. */
  timeZone: string;
  /** Country for national-format numbers. @default 'US' */
  defaultCountry?: CountryCode;
  /** Days of silence after which a message starts a new thread. @default 7 */
  threadTtlDays?: number;
  /** Understanding below this confidence gets a clarifying question. @default 0.6 */
  confidenceThreshold?: number;
  /** Whole-message keywords mapping to intents, beside the flows' own. @default { HUMAN: 'human', AGENT: 'human', PERSON: 'human' } */
  keywords?: { [word: string]: string };
  /** Extra opt-out / opt-in / help keywords (the carrier set is always on). */
  complianceKeywords?: { optOut?: string[]; optIn?: string[]; help?: string[] };
  /**
   * Double opt-in: a program keyword (JOIN) or a web-form request (`consent.requested`) first asks "Reply YES
   * to confirm"; consent is recorded at the YES. @default false
   */
  doubleOptIn?: boolean;
  /** Replace the built-in compliance texts. */
  complianceMessages?: Partial<ComplianceMessages>;
  /** E.164 numbers whose threads go to a person at once. */
  vipNumbers?: string[];
  /** Escalate at once on angry messages and billing disputes. @default true */
  escalateOnSentiment?: boolean;
  /** Reply sent when a thread goes to a person. @default 'I am getting a person to help you. They will text you here shortly.' */
  handoffMessage?: string;
  /** Choices offered by the clarifying question: intent → label. @default book / prices / a person */
  clarifyChoices?: { intent: string; label: string }[];
}

const flowSchema = z.object({
  id: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'use lower-case letters, digits, - or _'),
  machine: z.custom<object>(
    (v) => typeof v === 'object' && v !== null && 'transition' in v,
    'must be an XState machine',
  ),
  messages: z.record(z.string(), z.string()),
});

const configSchema = z.object({
  program: z.object({
    name: z.string().trim().min(2, 'name the program or brand (carriers require it)'),
    helpContact: z.string().trim().min(3, 'give a phone, email or URL where customers reach a person'),
    frequency: z.string().optional(),
    optInDescription: z.string().optional(),
  }),
  flows: z.array(flowSchema).min(1, 'a bot needs at least one flow'),
  defaultFlow: z.string().optional(),
  timeZone: z.string().refine(isTimeZone, 'must be an IANA time zone such as America/New_York'),
  defaultCountry: z.string().length(2).optional(),
  threadTtlDays: z.number().positive().max(3650).optional(),
  confidenceThreshold: z.number().min(0).max(1).optional(),
  keywords: z.record(z.string(), z.string()).optional(),
  vipNumbers: z.array(z.string()).optional(),
});

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Validates a bot config; throws one `SMSFLOW_ERR_INVALID_CONFIG` listing every problem with its path. */
export function validateBotConfig(config: BotConfig): void {
  const issues: SmsflowIssue[] = [];
  const parsed = configSchema.safeParse(config);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      issues.push({ path: issue.path.join('.'), message: issue.message });
  }
  const ids = new Set<string>();
  (Array.isArray(config?.flows) ? config.flows : []).forEach((flow, i) => {
    if (flow && ids.has(flow.id))
      issues.push({ path: `flows.${i}.id`, message: `duplicate flow id "${flow.id}"` });
    if (flow) ids.add(flow.id);
  });
  if (config?.defaultFlow !== undefined && !ids.has(config.defaultFlow)) {
    issues.push({
      path: 'defaultFlow',
      message: `"${config.defaultFlow}" is not one of the flows (${[...ids].join(', ')})`,
    });
  }
  if (issues.length > 0) {
    throw new SmsflowError('SMSFLOW_ERR_INVALID_CONFIG', `Invalid bot config:\n${formatIssues(issues)}`, {
      issues,
    });
  }
}
