/**
 * Compliance keyword and plain-language opt-out detection. Pure: no I/O, no clock, never throws.
 *
 * Sources (sms-facts.md §2): carrier/Twilio keywords (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE,
 * OPTOUT; START, YES, UNSTOP; HELP, INFO); CTIA MPBP (May 2023): act on plain language ("please opt me out");
 * FCC 24-24 (47 CFR 64.1200): consent may be revoked by "any reasonable means".
 *
 * Asymmetry on purpose: a missed opt-out risks TCPA liability for every later text, a false one costs the
 * contact a START. So "stop" wins ties, but "cancel" with an object is a booking, not an opt-out (the brief's
 * rule: carriers treat a bare CANCEL as opt-out, "cancel my appointment" is not).
 */

/** What a compliance message asks for. */
export type ComplianceIntent = 'opt_out' | 'opt_in' | 'help';

/** A detected compliance request: the intent, and whether a keyword or plain language matched. */
export interface ComplianceMatch {
  intent: ComplianceIntent;
  /** `keyword`: the whole message is a keyword ("Stop!"); `natural`: a phrase ("please stop texting me"). */
  via: 'keyword' | 'natural';
  /** The keyword as written in the keyword list (`'STOP'`), for `via: 'keyword'` only. */
  keyword?: string;
}

/**
 * Whole-message keywords per intent. Matching ignores case, punctuation, emoji and extra whitespace, so
 * `'OPT OUT'` also matches "opt-out!". A host may extend the lists (e.g. Spanish `ALTO`, `BAJA`).
 */
export interface ComplianceKeywords {
  optOut: string[];
  optIn: string[];
  help: string[];
  /**
   * Opt-in keywords that count only for an opted-out contact, because "yes" is an everyday answer to a flow
   * question. See {@link DetectComplianceOptions.optedOut} for who decides. @default ['YES']
   */
  optInWhenOptedOut?: string[];
}

/** Options for {@link detectCompliance}. */
export interface DetectComplianceOptions {
  /**
   * Whether the contact is currently opted out. `true`: YES (see {@link ComplianceKeywords.optInWhenOptedOut})
   * is an opt-in. `false`: YES is ordinary text (null). Omitted: YES is returned as
   * `{ intent: 'opt_in', keyword: 'YES' }` and the caller must act on it only for an opted-out contact.
   * @default undefined
   */
  optedOut?: boolean;
}

/**
 * The default keywords: Twilio's defaults plus REVOKE/OPTOUT (sms-facts.md §2, FCC 24-24 "revoke", "opt out").
 *
 * @example
 * detectCompliance('alto', { ...defaultComplianceKeywords, optOut: [...defaultComplianceKeywords.optOut, 'ALTO'] })
 */
export const defaultComplianceKeywords: ComplianceKeywords = {
  optOut: [
    'STOP',
    'STOPALL',
    'UNSUBSCRIBE',
    'CANCEL',
    'END',
    'QUIT',
    'REVOKE',
    'OPTOUT',
    'OPT OUT',
    'OPT-OUT',
  ],
  optIn: ['START', 'UNSTOP'],
  help: ['HELP', 'INFO'],
  optInWhenOptedOut: ['YES'],
};

// A keyword is one short message; past this the text cannot be "the whole message is a keyword" once
// decorations are stripped, and we skip normalising 10,000 characters for nothing.
const KEYWORD_SCAN_LIMIT = 1_000;
// Plain-language requests open or close a message; we scan the first and last 300 characters only. That bounds
// the work on a 10,000-character paste and avoids matching quoted or forwarded text in the middle.
const NATURAL_WINDOW = 300;

/**
 * Lower-cases and reduces a text to letters and digits separated by single spaces: NFKC folds fullwidth
 * letters ("ＳＴＯＰ"), apostrophes are dropped so "don't" reads "dont", everything else (punctuation, emoji,
 * zero-width characters) becomes a space.
 */
function normalize(text: string): string {
  // ASCII, most messages: NFKC changes nothing, there are no format characters, and once lower-cased the letters
  // and digits are [a-z0-9]. The same result without the Unicode-aware passes (a third of the cost).
  if (!NON_ASCII.test(text)) {
    return text.toLowerCase().replace(ASCII_APOSTROPHES, '').replace(ASCII_SEPARATORS, ' ').trim();
  }
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      // Zero-width and format characters (ZWSP, ZWJ, soft hyphen) join rather than split: "S\u200bTOP" is STOP.
      .replace(/[\p{Cf}'’‘ʼ`´]/gu, '')
      .replace(/[^\p{L}\p{N}]+/gu, ' ')
      .trim()
  );
}

const NON_ASCII = /[^\x00-\x7f]/;
const ASCII_APOSTROPHES = /['`]/g;
const ASCII_SEPARATORS = /[^a-z0-9]+/g;

/** Splits on sentence and clause punctuation so "Wrong number, stop." yields "wrong number" and "stop". */
function clauses(text: string): string[] {
  return text
    .split(/[.!?,;:\n\r…。！？()"“”]+|\s[-–—]+\s/)
    .map(normalize)
    .filter((c) => c.length > 0);
}

// --- Clause-level forms: the whole clause must match (anchored), so "stop by at 3" never does. ---

const PREFIX =
  '(?:(?:please|pls|plz|plse|just|ok|okay|k|omg|seriously|i said|i already said|i said to|now|so|and|again|' +
  'yes|yeah|no|nope|no thanks|no thank you|not interested|wrong number|wrong person|who is this|whos this|' +
  'who are you|hey|hi|hello|sorry|stop|dude|man|jesus|god|for the last time) )*';
const SUFFIX =
  '(?: (?:it|now|please|pls|plz|thanks|thank you|thx|ty|already|all|them|this|that|these|those|everything|' +
  'asap|immediately|right now|for good|forever|me|stop|stopall|again|seriously|ok|okay|dammit|damn it|' +
  'texting|messaging|texts|messages|msgs|sms|sending|bye))*';

/** Clause is a stop word with polite or angry fillers: "stop please", "please stop", "i said stop", "stop stop". */
const STOP_CLAUSE = new RegExp(
  `^${PREFIX}(?:stop|stopall|stop all|quit|unsubscribe|unsub|opt out|optout|revoke)${SUFFIX}$`,
);
/** "remove me", "please delete my number", "lose my number". */
const REMOVE_CLAUSE = new RegExp(
  `^${PREFIX}(?:remove|delete|erase|lose)(?: me| my number| my phone number| my cell| this number| my info)${SUFFIX}$`,
);
/** "wrong number", "sorry you have the wrong number": consent came from someone else (reassigned number). */
const WRONG_NUMBER_CLAUSE =
  /^(?:sorry |hi |hello |hey |um |uh )*(?:(?:you have|you got|youve got|youve|you texted|you messaged|this is|its|it is|thats|that is|got) )?(?:the |a )?wrong (?:number|person|phone number|guy|girl)(?: sorry| buddy| mate| pal| bud| lol| thanks| thank you)*$/;

// --- Window-level phrases: may appear anywhere in the first/last 300 characters. ---

const MSGS =
  '(?:texts|text messages|messages|msgs|sms|txts|spam|notifications|alerts|reminders|promotions|promos|ads|marketing)';
const DETERMINERS =
  '(?:(?:all|these|those|the|your|any|this|all the|all these|all of these|all of the|all your) )?';

const PHRASES: RegExp[] = [
  // "stop texting me", "quit messaging us", "cease contacting me", "can you stop bothering me".
  /\b(?:stop|quit|cease)(?: all)? (?:texting|txting|texing|messaging|msging|contacting|spamming|bothering|harassing|hitting me up)\b/,
  // "stop sending me messages", "stop sending these": sending needs a message object ("stop sending the invoice" is not).
  new RegExp(`\\b(?:stop|quit) sending (?:me|us|these|those|them|this|${DETERMINERS}${MSGS})\\b`),
  // "stop getting these texts", "how do i stop receiving messages".
  new RegExp(`\\b(?:stop|quit) (?:getting|receiving) ${DETERMINERS}${MSGS}\\b`),
  // "stop these messages", "stop all the texts".
  new RegExp(`\\bstop ${DETERMINERS}${MSGS}\\b`),
  // "don't text me anymore", "do not contact me", "never message me again" (a time qualifier is handled below).
  /\b(?:dont|do not|never|stop trying to) (?:ever )?(?:text|txt|message|msg|sms|contact|spam) (?:me|us|this number|my number|this phone|my phone)\b/,
  // "no more texts", "no more messages please".
  /\bno more (?:texts|text messages|messages|msgs|sms|txts|texting|messaging|spam|notifications|alerts|promotions|promos|ads)\b/,
  // "take me off your list", "remove my number from your database", "get me off this list" (not a wait list).
  /\b(?:take|remove|delete|drop|erase|get|scratch|cross) (?:me|us|my number|my phone number|my phone|my cell|my info|this number|my name) (?:off|from|out of)(?: of)? (?:your|the|this|ur|that|all|all your|any|all of your) (?:mailing |texting |text |sms |contact |messaging |marketing |distribution |call |calling |spam |subscriber |subscription |message )?(?:list|lists|database|system|records|contacts)\b/,
  // "unsubscribe me", "i want to unsubscribe", "how do i unsubscribe".
  /\b(?:unsubscribe|unsub)\b/,
  // "opt me out", "i want to opt out", "optout".
  /\bopt(?: me| us)? out\b|\boptout\b/,
  // "I don't want these texts", "I no longer wish to receive messages", "don't want to be contacted".
  new RegExp(
    `\\b(?:dont|do not|no longer) (?:want|wish|need) (?:to )?(?:(?:receive|get|be getting|getting|keep getting) )?(?:(?:anymore|any|these|those|your|the|this|more|all) )*${MSGS}\\b`,
  ),
  /\b(?:dont|do not|no longer) (?:want|wish) to be (?:contacted|texted|messaged)\b/,
  // "cancel my text alerts", "cancel all messages": a bare "cancel my appointment" never matches.
  new RegExp(
    `\\bcancel ${DETERMINERS}(?:(?:my|text|sms) )?(?:texts|text messages|messages|sms|text alerts|alerts|notifications|texting)\\b`,
  ),
  /\b(?:revoke|withdraw|cancel)(?: my| all)? consent\b/,
  /\bcease and desist\b/,
  /\bleave me alone\b/,
];

// A preceding negation flips a phrase: "don't stop texting me", "I didn't mean to unsubscribe".
const NEGATED_BEFORE = /(?:^| )(?:dont|do not|didnt|did not|doesnt|does not|never|not)(?: \S+){0,2} ?$/;
// "don't text me after 9pm", "do not text me at work": a timing preference, not a revocation (quiet hours apply).
const QUALIFIED_AFTER =
  /^(?: me| us)? (?:(?:before|after|until|till|til|between|during|early|late|so early|so late|this early|this late|while|when|unless|except|past|today|tonight|tomorrow|at work|at night|in the morning|on weekends|on sundays)\b|at \d)/;

function phraseMatches(window: string): boolean {
  for (const pattern of PHRASES) {
    const match = pattern.exec(window);
    if (!match) continue;
    const before = window.slice(0, match.index);
    const after = window.slice(match.index + match[0].length);
    // The "dont text me" phrase carries its own negation; negation before any other phrase flips it.
    const ownNegation = /^(?:dont|do not|never|no longer|no more)\b/.test(match[0]);
    if (!ownNegation && NEGATED_BEFORE.test(before)) continue;
    // "stop texting me at 6am", "don't text me after 9pm": a timing preference, not a revocation.
    if (
      /\b(?:texting|txting|texing|messaging|msging|contacting|text|txt|message|msg|sms|contact|me|us)$/.test(
        match[0],
      )
    ) {
      if (QUALIFIED_AFTER.test(after)) continue;
    }
    return true;
  }
  return false;
}

/**
 * One of these words is in every plain-language form above (each clause form's verb, "wrong", and in each
 * phrase a word it cannot match without: "no more", "list", "consent", "alone", …). A window whose normalised
 * text holds none of them, even inside another word, holds no opt-out; most messages are skipped with this one
 * test instead of eighteen patterns over each clause.
 */
const OPT_OUT_WORDS =
  /stop|quit|unsub|opt|revoke|remove|delete|erase|lose|wrong|cease|dont|not|never|more|list|database|system|records|contacts|longer|cancel|consent|alone/;

/** The text the plain-language forms read: all of it, or its first and last 300 characters when longer. */
const windowsOf = (text: string): string[] =>
  text.length <= NATURAL_WINDOW * 2 ? [text] : [text.slice(0, NATURAL_WINDOW), text.slice(-NATURAL_WINDOW)];

/** Whether a clause of `window` is a plain-language opt-out. */
function windowOptsOut(window: string): boolean {
  for (const clause of clauses(window)) {
    if (STOP_CLAUSE.test(clause) || REMOVE_CLAUSE.test(clause) || WRONG_NUMBER_CLAUSE.test(clause))
      return true;
    if (phraseMatches(clause)) return true;
  }
  return false;
}

/** Whether `text` is a plain-language opt-out; `normalized` is `normalize(text)` when the caller has it. */
function isNaturalOptOut(text: string, normalized?: string): boolean {
  return windowsOf(text).some(
    (window) =>
      OPT_OUT_WORDS.test(window === text && normalized !== undefined ? normalized : normalize(window)) &&
      windowOptsOut(window),
  );
}

/**
 * The plain-language forms over the clauses of `text`'s windows, without the word check in front (exported for
 * the test that holds the two to the same answers).
 */
export function scanNaturalOptOut(text: string): boolean {
  return windowsOf(text).some(windowOptsOut);
}

// Keyword lists are short and fixed per bot, but every message compares against all of them: normalise each
// keyword once (bounded, in case a host builds keyword lists per message).
const keywordForms = new Map<string, string>();
function normalizedKeyword(keyword: string): string {
  let form = keywordForms.get(keyword);
  if (form === undefined) {
    form = normalize(keyword);
    if (keywordForms.size >= 1_000) keywordForms.clear();
    keywordForms.set(keyword, form);
  }
  return form;
}

/** The first keyword in `list` whose normalised form equals the normalised message, or undefined. */
function findKeyword(normalized: string, list: unknown): string | undefined {
  if (!Array.isArray(list)) return undefined;
  for (const keyword of list) {
    if (
      typeof keyword === 'string' &&
      keyword.length <= KEYWORD_SCAN_LIMIT &&
      normalizedKeyword(keyword) === normalized
    ) {
      return keyword;
    }
  }
  return undefined;
}

/**
 * Detects an opt-out, opt-in or HELP request in an inbound text. Pure, never throws, bounded work on
 * 10,000-character input. Run it before any other understanding: its answer is never overridden.
 *
 * Order: whole-message keywords (opt-out, then opt-in, then help), then plain-language opt-outs such as
 * "please stop texting me", "take me off your list", "wrong number, stop". HELP/INFO count only as the whole
 * message ("help me book" is a flow request). "YES" is an opt-in only for an opted-out contact: pass
 * `{ optedOut }` to have it decided here, or omit it and check `keyword === 'YES'` yourself. Plain-language
 * opt-ins are not detected: re-consent must be an explicit keyword (or an API call).
 *
 * @param text - the inbound message body
 * @param keywords - keyword lists; defaults to {@link defaultComplianceKeywords}
 * @param options - `optedOut`: whether the contact is opted out (decides YES; see {@link DetectComplianceOptions})
 * @returns the match, or null when the text is not a compliance request
 * @example
 * detectCompliance('Stop!!! 🛑')                  // { intent: 'opt_out', via: 'keyword', keyword: 'STOP' }
 * detectCompliance('please stop texting me')     // { intent: 'opt_out', via: 'natural' }
 * detectCompliance('can I cancel my appointment') // null
 * detectCompliance('yes', undefined, { optedOut: true })  // { intent: 'opt_in', via: 'keyword', keyword: 'YES' }
 * detectCompliance('yes', undefined, { optedOut: false }) // null
 */
export function detectCompliance(
  text: string,
  keywords: ComplianceKeywords = defaultComplianceKeywords,
  options: DetectComplianceOptions = {},
): ComplianceMatch | null {
  if (typeof text !== 'string' || text.length === 0) return null;
  const lists: Partial<ComplianceKeywords> =
    keywords !== null && typeof keywords === 'object' ? keywords : {};
  let normalized: string | undefined;
  if (text.length <= KEYWORD_SCAN_LIMIT) {
    normalized = normalize(text);
    if (normalized.length === 0) return null;
    const checks: [ComplianceIntent, unknown][] = [
      ['opt_out', lists.optOut],
      ['opt_in', lists.optIn],
      // CTIA/Twilio: YES re-subscribes an opted-out contact; for anyone else it answers a flow question.
      ['opt_in', options?.optedOut === false ? undefined : (lists.optInWhenOptedOut ?? ['YES'])],
      ['help', lists.help],
    ];
    for (const [intent, list] of checks) {
      const keyword = findKeyword(normalized, list);
      if (keyword !== undefined) return { intent, via: 'keyword', keyword };
    }
  }
  return isNaturalOptOut(text, normalized) ? { intent: 'opt_out', via: 'natural' } : null;
}
