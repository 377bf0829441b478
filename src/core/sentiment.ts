/**
 * A small, tested lexicon for two escalation reasons (ARCHITECTURE.md "Handoff"): angry sentiment and billing
 * disputes. Pure: no I/O, no model, never throws. Deliberately conservative: shouting or "!!!" alone is not
 * anger (older customers type in capitals; "THANK YOU!!!" is happy), it only amplifies a lexical match.
 */

/** The outcome of {@link detectAnger}. */
export interface SentimentResult {
  /** True when the text should escalate to a person as `angry_sentiment`. */
  angry: boolean;
  /** Sum of the matched weights plus amplifiers; 0 when nothing matched. */
  score: number;
  /** Labels of what matched (lexicon terms and `caps`/`exclamations`), never the message itself. */
  matched: string[];
}

// Work is capped like compliance detection: anger shows in the first lines, and 10,000 characters of
// pasted text should not cost more than a short message.
const SCAN_LIMIT = 2_000;
const ANGRY_AT = 2;

interface Term {
  label: string;
  pattern: RegExp;
  weight: number;
}

/** Lower-cased, apostrophes dropped ("don't" → "dont"), everything but letters, digits, `*` and `!?` as space. */
function normalize(text: string): string {
  return text
    .slice(0, SCAN_LIMIT)
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\p{Cf}'’‘ʼ`´]/gu, '')
    .replace(/[^\p{L}\p{N}*]+/gu, ' ')
    .trim();
}

// Weight 3: unambiguous fury; 2: strong on its own; 1: needs company (another term or shouting).
const LEXICON: Term[] = [
  { label: 'furious', pattern: /\b(?:furious|livid|infuriat\w*|enraged|outraged)\b/, weight: 3 },
  {
    label: 'angry',
    pattern: /\b(?:so|very|really|extremely|beyond|getting) (?:angry|mad|pissed)\b/,
    weight: 2,
  },
  { label: 'angry', pattern: /\b(?:im|i am|i m) (?:angry|mad|pissed|upset)\b/, weight: 2 },
  { label: 'pissed off', pattern: /\bpissed(?: off)?\b/, weight: 2 },
  {
    label: 'fed up',
    pattern: /\b(?:fed up|sick and tired|sick of|had enough|done with you|done with this)\b/,
    weight: 2,
  },
  {
    label: 'ridiculous',
    pattern: /\b(?:ridiculous|absurd|unacceptable|outrageous|disgraceful|disgusting|appalling)\b/,
    weight: 2,
  },
  {
    label: 'worst',
    pattern: /\bworst (?:service|company|experience|customer service|business|place|ever|support)\b/,
    weight: 2,
  },
  {
    label: 'terrible service',
    pattern:
      /\b(?:terrible|horrible|awful|pathetic|lousy|crappy|shitty|garbage|trash) (?:service|company|experience|support|business|customer service)\b/,
    weight: 2,
  },
  {
    label: 'kidding me',
    pattern: /\b(?:are you (?:kidding|serious|joking)|you (?:have|got) to be kidding)\b/,
    weight: 2,
  },
  { label: 'waste of time', pattern: /\bwaste of (?:my )?(?:time|money)\b/, weight: 2 },
  {
    label: 'legal threat',
    pattern:
      /\b(?:lawyer|attorney|sue you|suing|legal action|small claims|report you|bbb|better business bureau)\b/,
    weight: 2,
  },
  {
    label: 'scam',
    pattern: /\b(?:scammers|scamming|rip ?off|ripped me off|thieves|crooks|frauds)\b/,
    weight: 2,
  },
  // "is this a scam?" is worry more than anger: it needs company.
  { label: 'scam', pattern: /\b(?:scam|fraud)\b/, weight: 1 },
  {
    label: 'insult',
    pattern: /\b(?:idiots?|morons?|moronic|incompetent|useless|clowns|imbeciles?|liars?)\b/,
    weight: 2,
  },
  {
    label: 'profanity',
    pattern:
      /\b(?:f+u+c+k\w*|f\*+k\w*|f\*+\w*ing|wtf|stfu|bullshit|asshole\w*|bitch\w*|bastards?|dick\w*head)\b/,
    weight: 2,
  },
  // "oh shit I'm late" / "damn, forgot my wallet" are about the sender's own day: weight 1, needs company.
  {
    label: 'profanity',
    pattern: /\bwhat the (?:hell|heck)\b|\bdamn(?:it)?\b|\bgoddamn\w*\b|\bshit\w*\b|\bcrap\w*\b/,
    weight: 1,
  },
  { label: 'hate', pattern: /\bhate (?:you|this|your|that|it|dealing)\b/, weight: 2 },
  { label: 'stupid', pattern: /\b(?:stupid|dumb)\b/, weight: 1 },
  { label: 'frustrated', pattern: /\b(?:frustrat\w*|annoy\w*|irritat\w*|aggravat\w*)\b/, weight: 1 },
  {
    label: 'repeat',
    pattern: /\b(?:how many times|for the last time|i already told you|told you already|again and again)\b/,
    weight: 1,
  },
  { label: 'terrible', pattern: /\b(?:terrible|horrible|awful|pathetic|a joke|ugh+)\b/, weight: 1 },
  {
    label: 'not happy',
    pattern: /\bnot (?:happy|pleased|satisfied|ok|okay) (?:at all|with (?:this|you|your))\b/,
    weight: 2,
  },
  { label: 'not happy', pattern: /\b(?:not happy|unhappy|dissatisfied|disappointed)\b/, weight: 1 },
  { label: 'you people', pattern: /\byou people\b/, weight: 1 },
];

// Global copies so every occurrence can be checked ("no joke, this is a joke").
const ANGER_TERMS: Term[] = LEXICON.map((t) => ({ ...t, pattern: new RegExp(t.pattern.source, 'g') }));
// One pass that finds whether any term occurs at all: most messages match none, and then the per-term scans
// (with their negation checks) are skipped.
const ANY_TERM = new RegExp(LEXICON.map((t) => `(?:${t.pattern.source})`).join('|'));

// "not angry", "no problem", "never been upset", "isn't ridiculous": a negator within two words before flips a term.
const NEGATED =
  /(?:^| )(?:not|no|never|isnt|wasnt|arent|werent|dont|didnt|doesnt|nothing|without|nobody)(?: \S+){0,1} $/;
// "fucking amazing", "damn good", "stupid good": profanity as an intensifier of praise is not anger.
const PRAISE_AFTER =
  /^ (?:amazing|awesome|great|good|love|loved|brilliant|perfect|best|fantastic|excellent|nice|cool|helpful)\b/;

/** True when some occurrence of the term is neither negated nor profane praise. */
function counts(term: Term, normalized: string): boolean {
  for (const match of normalized.matchAll(term.pattern)) {
    const before = normalized.slice(0, match.index);
    const after = normalized.slice(match.index + match[0].length);
    if (NEGATED.test(before)) continue;
    if ((term.label === 'profanity' || term.label === 'stupid') && PRAISE_AFTER.test(after)) continue;
    return true;
  }
  return false;
}

/**
 * Scores a text for anger with a weighted lexicon (profanity, insults, "this is ridiculous", "worst service",
 * "I'm furious"), ignoring negated terms ("not angry") and profane praise ("damn good"). Shouting (mostly capitals)
 * and runs of "!!!" add 1 each, only when a term matched. Pure; never throws; reads the first 2,000 characters.
 *
 * @param text - the inbound message body
 * @returns `angry` (score ≥ 2), the score and the matched labels (never the text itself)
 * @example
 * detectAnger('This is RIDICULOUS!!! worst service ever') // { angry: true, score: 6, matched: [...] }
 * detectAnger("No problem, I'm not angry at all")          // { angry: false, score: 0, matched: [] }
 */
export function detectAnger(text: string): SentimentResult {
  if (typeof text !== 'string' || text.length === 0) return { angry: false, score: 0, matched: [] };
  const normalized = normalize(text);
  if (!ANY_TERM.test(normalized)) return { angry: false, score: 0, matched: [] };
  const matched: string[] = [];
  let score = 0;
  for (const term of ANGER_TERMS) {
    if (matched.includes(term.label) || !counts(term, normalized)) continue;
    matched.push(term.label);
    score += term.weight;
  }
  if (score > 0) {
    const head = text.slice(0, SCAN_LIMIT);
    const letters = head.match(/\p{L}/gu)?.length ?? 0;
    const upper = head.match(/\p{Lu}/gu)?.length ?? 0;
    // Shouting: a real sentence (10+ letters) at least 70% capitals.
    if (letters >= 10 && upper / letters >= 0.7) {
      matched.push('caps');
      score += 1;
    }
    if (/!!|\?!|!\?/.test(head)) {
      matched.push('exclamations');
      score += 1;
    }
  }
  return { angry: score >= ANGRY_AT, score, matched };
}

const DISPUTE_PATTERNS: RegExp[] = [
  // "you charged me twice", "I was billed twice", "double charged".
  /\b(?:charged|billed)(?: me| us| my card| my account)? (?:twice|double|two times|2 times|2x|again|more than once|extra|too much|the wrong amount)\b/,
  /\b(?:double|twice|2x|duplicate)(?: charged| billed| charge| charges| billing| payment)\b/,
  /\bover ?(?:charg\w*|bill\w*)\b/,
  /\bcharge ?backs?\b|\bdisput\w*\b/,
  /\b(?:wrong|incorrect|unauthori[sz]ed|fraudulent|unknown|unrecogni[sz]ed|duplicate|bogus|mystery|random|strange|weird|unexpected) (?:charges?|transactions?|payments?|bill|billing|amount|fees?)\b/,
  /\b(?:didnt|did not|never) (?:authori[sz]e|approve|agree to) (?:this |that |the |any |a |your )?(?:charge|payment|transaction|amount|purchase|fee)s?\b/,
  /\bwhy (?:was|am|did|have|were|is) (?:i|we|you|my card|there)(?: \w+){0,2} (?:charg\w*|bill\w*)\b/,
  /\b(?:charged|billed) (?:me |us )?for (?:something|a service|an appointment|services|a visit|a session)? ?(?:i|we) (?:didnt|did not|never)\b/,
  /\b(?:want|need|get|give me|where is) (?:my |our |the )?money back\b/,
];

// "refund" is a dispute ("I want a refund", "where is my refund") unless it is a policy question
// ("what's your refund policy", "is the deposit refundable", "can I get a refund if I cancel").
const REFUND = /\brefund(?:s|ed)?\b/;
const REFUND_QUESTION =
  /\brefund (?:polic\w*)|\bhow do refunds work\b|\b(?:do|does|can|will|would) (?:you|i|we) (?:get |give |offer |do |issue )?(?:a |any )?refunds? (?:if|when|for cancel\w*|in case)\b/;

/**
 * True when the text disputes a charge: "you charged me twice", "refund", "dispute this charge",
 * "overcharged", "wrong charge on my card". Questions about prices or the refund policy are not disputes.
 * Pure; never throws; reads the first 2,000 characters.
 *
 * @param text - the inbound message body
 * @returns whether to escalate with reason `billing_dispute`
 * @example
 * detectBillingDispute('You charged me twice!')   // true
 * detectBillingDispute('How much do you charge?') // false
 */
export function detectBillingDispute(text: string): boolean {
  if (typeof text !== 'string' || text.length === 0) return false;
  const normalized = normalize(text);
  if (DISPUTE_PATTERNS.some((p) => p.test(normalized))) return true;
  return REFUND.test(normalized) && !REFUND_QUESTION.test(normalized);
}
