/**
 * PII masking for text that leaves the process (LLM prompts) or is recorded in traces. Pure.
 */

// Emails: a pragmatic pattern; over-masking a look-alike is harmless, missing a real address is not.
const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu;
// A run that starts with + or a digit and continues with digits and phone separators (space . - ( )).
// Slashes and colons are not separators, so dates (12/05/2024) and times (10:30) are left alone.
const NUMBER_RUN = /\+?\(?\d[\d\s().-]*\d/g;
// E.164 allows up to 15 digits; 7 is the shortest subscriber number worth hiding. Longer runs (cards,
// account numbers) are masked too: nothing that long is needed to understand an intent.
const MIN_PHONE_DIGITS = 7;

/**
 * Replaces email addresses with `[email]` and phone-number-like digit runs (7+ digits) with `[phone]`.
 * Prices, times, dates and short numbers stay readable. Pure.
 *
 * @param text Any text; non-strings give ''.
 * @returns The masked text.
 * @example
 * maskPii('call me on +1 (415) 555-0100 or mail jo@example.com at 10:30') // 'call me on [phone] or mail [email] at 10:30'
 */
export function maskPii(text: string): string {
  if (typeof text !== 'string') return '';
  return text.replace(EMAIL, '[email]').replace(NUMBER_RUN, (run) => {
    const digits = run.replace(/\D/g, '').length;
    return digits >= MIN_PHONE_DIGITS ? '[phone]' : run;
  });
}
