/**
 * Small, pure answer readers shared by the built-in flows: yes/no and numbered-or-named choices.
 * Kept strict on purpose: a bot that asks again beats a bot that guesses.
 */

const YES =
  /^(y|yes|yeah|yea|yep|yup|sure|ok|okay|k|confirm|confirmed|correct|right|sounds good|perfect|please do|yes please|book it|do it|👍)$/;
const NO =
  /^(n|no|nope|nah|no thanks|no thank you|not really|wrong|another time|different time|other time|change it)$/;

function normalise(text: string): string {
  return text
    .slice(0, 200)
    .toLowerCase()
    .replace(/[.!?,;:"'()]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** True when the text is a plain yes ("yes", "Yep!", "ok", "👍"). Pure. */
export function isYes(text: string): boolean {
  return YES.test(normalise(text));
}

/** True when the text is a plain no ("no", "Nope.", "another time"). Pure. */
export function isNo(text: string): boolean {
  return NO.test(normalise(text));
}

/**
 * Maps an answer to the index of a choice: a menu digit ("2", "2.", "#2", "option 2") or one of a choice's
 * names appearing as whole words ("a haircut please"). Null when nothing or more than one choice matches. Pure.
 *
 * @example
 * matchChoice('2', [['Haircut'], ['Color']]) // 1
 */
export function matchChoice(
  text: string,
  choices: string[][],
  options: { digits?: boolean } = {},
): number | null {
  const t = normalise(text);
  if (options.digits !== false) {
    const digit = /^(?:#|option |number |no )?(\d{1,2})$/.exec(t);
    if (digit) {
      const n = Number(digit[1]);
      return n >= 1 && n <= choices.length ? n - 1 : null;
    }
  }
  const padded = ` ${t.replace(/[^\p{L}\p{N} ]+/gu, ' ')} `;
  let found: number | null = null;
  for (let i = 0; i < choices.length; i++) {
    const names = choices[i] ?? [];
    if (
      names.some(
        (name) => padded.includes(` ${name.toLowerCase()} `) || padded.includes(` ${name.toLowerCase()}s `),
      )
    ) {
      if (found !== null) return null;
      found = i;
    }
  }
  return found;
}
