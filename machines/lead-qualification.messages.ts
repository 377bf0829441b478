/**
 * Reply catalog of the lead qualification flow. One place for every text, so templates can be linted for
 * segments (GSM-7, 1 segment each: no per-key budgets are declared) and translated. `{name}` placeholders are
 * filled by step; `{menu}` is the numbered list of the host's budget bands or timelines.
 */
export const leadMessages = {
  askNeed: 'Happy to help with a quote. What do you need? E.g. "wedding hair for 5 people".',
  needNotUnderstood: 'Please tell me in a few words what you need, e.g. "color for 3 people".',
  askBudget: 'What budget do you have in mind? Reply {menu}',
  budgetNotUnderstood: 'Sorry, please reply with a number: {menu}',
  askTimeline: 'When do you need it? Reply {menu}',
  timelineNotUnderstood: 'Sorry, please reply with a number: {menu}',
  askName: 'Thanks. What is your name?',
  nameNotUnderstood: 'Please send just your name, e.g. "Ann Lee".',
  askEmail: 'Thanks {name}. What is your email address?',
  emailNotUnderstood: 'That email does not look right. Please send it like ann@example.com',
  emailExhausted:
    'That email still does not look right, so a person will text you shortly to take your details.',
  askConsent: 'May we contact you about your quote by text or email? Reply YES or NO.',
  consentNotUnderstood: 'Please reply YES if we may contact you about your quote, or NO if not.',
  declined: 'No problem, we will not contact you. Thanks for asking, {name}!',
  offerBooking:
    'Thanks {name}, we will be in touch shortly. Want to book a consultation now? Reply YES or NO',
  offerNotUnderstood: 'Please reply YES to book a consultation now, or NO.',
  thanks: 'Thanks {name}! We have your request and will be in touch soon.',
  goodbye: 'No problem. We will be in touch soon. Text us any time to book.',
  effectFailed: 'Sorry, our system did not save your details. A person will text you shortly.',
  handoff: 'I am getting a person to help you. They will text you here shortly.',
  followUp: 'Still interested in a quote? Reply to pick up where we left off, or STOP to opt out.',
} as const;

/** A key of the lead qualification catalog. */
export type LeadMessageKey = keyof typeof leadMessages;
