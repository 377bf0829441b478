/**
 * Default redaction: masks card numbers (13–19 digits, spaces or dashes allowed, Luhn-valid) so they are never
 * stored or logged. Pure.
 *
 * @example
 * redactCardNumbers('card 4111 1111 1111 1111 thanks') // 'card [card ending 1111] thanks'
 */
export function redactCardNumbers(text: string): string {
  return text.replace(/\b\d(?:[ -]?\d){12,18}\b/g, (match) => {
    const digits = match.replace(/\D/g, '');
    return luhn(digits) ? `[card ending ${digits.slice(-4)}]` : match;
  });
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length >= 13 && sum % 10 === 0;
}

/** Masks a phone number for logs: `+14155550100` → `+1415***0100`. Pure. */
export function maskPhone(phone: string): string {
  return phone.length <= 8 ? '***' : `${phone.slice(0, 5)}***${phone.slice(-4)}`;
}
