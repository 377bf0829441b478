import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { SmsflowError } from './errors.js';
import { TwoKeyMemo } from './memo.js';

/** Options for {@link normalizePhone}. */
export interface NormalizePhoneOptions {
  /** Country assumed for national-format input such as `(415) 555-0100`. */
  defaultCountry?: CountryCode;
}

const MAX_PHONE_INPUT = 64;

/**
 * Normalises a phone number to E.164 (`+14155550100`) with libphonenumber-js's full ('max') metadata.
 * Strict: the whole input must be a number (no extraction from free text) and the number must be valid.
 * Pure. Throws `SMSFLOW_ERR_INVALID_PHONE` with the received value when it is not a number.
 *
 * Provider payloads often drop the `+` (Vonage `14155550100`, Plivo): digits-only input of 11+ digits is read
 * as international first, then as national with `defaultCountry`.
 *
 * @example
 * normalizePhone('(415) 555-0100', { defaultCountry: 'US' }) // '+14155550100'
 */
export function normalizePhone(input: string, options: NormalizePhoneOptions = {}): string {
  const result = tryNormalizePhone(input, options);
  if (result === null) {
    const shown = String(input).slice(0, MAX_PHONE_INPUT);
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_PHONE',
      `"${shown}" is not a valid phone number${options.defaultCountry ? ` (default country ${options.defaultCountry})` : ''}. Send E.164 such as +14155550100, or set defaultCountry for national numbers.`,
    );
  }
  return result;
}

/**
 * Like {@link normalizePhone} but returns `null` instead of throwing. Pure.
 *
 * @example
 * tryNormalizePhone('not a number') // null
 */
export function tryNormalizePhone(input: string, options: NormalizePhoneOptions = {}): string | null {
  if (typeof input !== 'string' || input.length === 0 || input.length > MAX_PHONE_INPUT) return null;
  // The same numbers come back with every message of a conversation (webhook parse, engine key, step): a
  // bounded memo spares libphonenumber's full-metadata parse, the costliest part of handling a message.
  // One table per default country, keyed by the input itself: a joined key would be a new string to hash
  // and flatten on every call.
  const country = options.defaultCountry ?? '';
  const hit = memo.get(country, input);
  return hit !== undefined ? hit : memo.set(country, input, parse(input, options));
}

const memo = new TwoKeyMemo<string, string, string | null>(10_000);

function parse(input: string, options: NormalizePhoneOptions): string | null {
  const trimmed = input.trim().replace(/^(whatsapp|sms|tel):/i, '');
  // Only characters that can appear in a written phone number; anything else is free text, not a number.
  if (!/^\+?[0-9 ().\-/]{3,}$/.test(trimmed)) return null;
  const digitsOnly = /^[0-9]+$/.test(trimmed);
  const candidates = trimmed.startsWith('+')
    ? [trimmed]
    : digitsOnly && trimmed.length >= 11
      ? [`+${trimmed}`, trimmed]
      : [trimmed];
  for (const candidate of candidates) {
    const parsed = candidate.startsWith('+')
      ? parsePhoneNumberFromString(candidate, { extract: false })
      : options.defaultCountry
        ? parsePhoneNumberFromString(candidate, { defaultCountry: options.defaultCountry, extract: false })
        : undefined;
    if (parsed?.isValid()) return parsed.number;
  }
  return null;
}

/** A two-letter country code libphonenumber-js knows (`'US'`, `'GB'`, …). */
export type { CountryCode };
