import { describe, expect, it } from 'vitest';
import { bookingFlow } from '../../machines/booking.js';
import {
  type LeadQualificationOptions,
  leadQualificationFlow,
  readEmail,
  readName,
  readNeed,
} from '../../machines/lead-qualification.js';
import { createBot } from '../../src/core/bot.js';
import { isSmsflowError, type SmsflowError } from '../../src/core/errors.js';
import { measureSegments } from '../../src/core/segments.js';
import { type Conversation, type ConversationOptions, conversation } from '../../src/testing/conversation.js';
import { salonConfig, salonHours, salonServices } from '../support/salon.js';

const salon = { services: salonServices, hours: { ...salonHours } as never };
const makeBot = (options: LeadQualificationOptions = { owner: 'sam@salon.example' }) =>
  createBot({ ...salonConfig(), flows: [bookingFlow(salon), leadQualificationFlow(options)] });
const bot = makeBot();

/** Answers every question up to the consent one; budget and timeline are menu digits. */
function upToConsent(budget: string, timeline: string, options: ConversationOptions = {}): Conversation {
  return conversation(bot, options)
    .user('I need a quote for a wedding')
    .expectReply(/What do you need\?/)
    .expectState('askNeed')
    .user('wedding hair for 5 people')
    .expectReply(/1 Under \$100, 2 \$100-\$300, 3 Over \$300/)
    .user(budget)
    .expectReply(/1 This week, 2 This month, 3 Later/)
    .user(timeline)
    .expectReply(/What is your name\?/)
    .user('Ann Lee')
    .expectReply(/Thanks Ann Lee. What is your email/)
    .user('ann@example.com')
    .expectReply(/Reply YES or NO/)
    .expectState('askConsent');
}

const effectsOf = (c: Conversation, type: string) =>
  c.events.filter((e) => e.type === 'effect' && e.data.type === type);
const questionsOf = (c: Conversation) =>
  c.events.filter((e) => e.type === 'question').map((e) => e.data.question);

describe('lead flow: hot lead', () => {
  it('scores, saves to the CRM, tells the team and hands over to booking on YES', () => {
    const c = upToConsent('3', '1')
      .user('yes')
      .expectEffect('crm.upsertLead')
      .expectEffect('notify.team')
      .expectReply(/Want to book a consultation now\? Reply YES or NO/)
      .expectState('offer');
    const crm = effectsOf(c, 'crm.upsertLead');
    expect(crm).toHaveLength(1);
    expect(crm[0]!.data.payload).toMatchObject({
      fields: {
        need: 'wedding hair for 5 people',
        budget: 'Over $300',
        timeline: 'This week',
        name: 'Ann Lee',
        email: 'ann@example.com',
      },
      tags: ['lead', 'lead:hot'],
      owner: 'sam@salon.example',
      score: 6,
    });
    expect(effectsOf(c, 'notify.team')[0]!.data.payload).toMatchObject({
      text: 'Hot lead: Ann Lee (6) wants wedding hair for 5 people',
    });
    expect(c.state?.profile).toMatchObject({ name: 'Ann Lee', email: 'ann@example.com' });
    expect(c.state?.tags).toEqual(expect.arrayContaining(['lead', 'lead:hot']));

    c.user('YES').expectReply(/Which service would you like\?/);
    expect(c.state?.thread.flow).toBe('booking');
    expect(c.events.some((e) => e.type === 'thread.ended' && e.data.to === 'booking')).toBe(true);
    // The booking flow carries on from there.
    c.user('1').expectReply(/What day and time/);
  });

  it('says goodbye when a hot lead does not want to book now', () => {
    const c = upToConsent('2', '1')
      .user('yes')
      .expectEffect('notify.team')
      .user('no')
      .expectReply(/No problem/);
    expect(c.state?.thread.machine.status).toBe('done');
    expect(c.state?.thread.flow).toBe('lead');
  });

  it('thanks a hot lead without an offer when offerBooking is false', () => {
    const c = conversation(makeBot({ offerBooking: false }))
      .user('can I get a quote')
      .user('bridal party of 6')
      .user('3')
      .user('1')
      .user('Ann')
      .user('ann@example.com')
      .user('yes')
      .expectEffect('notify.team')
      .expectReply(/Thanks Ann! We have your request/);
    expect(c.state?.thread.machine.status).toBe('done');
  });
});

describe('lead flow: warm lead and consent', () => {
  it('sends the CRM effect only and thanks a warm lead', () => {
    const c = upToConsent('1', '3')
      .user('yes')
      .expectEffect('crm.upsertLead')
      .expectReply(/Thanks Ann Lee! We have your request/);
    expect(c.lastEffects.map((e) => e.type)).not.toContain('notify.team');
    expect(effectsOf(c, 'notify.team')).toHaveLength(0);
    expect(effectsOf(c, 'crm.upsertLead')[0]!.data.payload).toMatchObject({
      tags: ['lead', 'lead:warm'],
      score: 2,
    });
    expect(c.state?.tags).toContain('lead:warm');
    expect(c.state?.thread.machine.status).toBe('done');
  });

  it('ends politely on consent NO, with no CRM effect and nothing remembered', () => {
    const c = upToConsent('3', '1')
      .user('no')
      .expectReply(/we will not contact you/);
    expect(c.lastEffects).toHaveLength(0);
    expect(effectsOf(c, 'crm.upsertLead')).toHaveLength(0);
    expect(c.state?.profile.email).toBeUndefined();
    expect(c.state?.thread.machine.status).toBe('done');
  });

  it('uses host-set scoring points and threshold', () => {
    const scored = makeBot({ scoring: { budget: [0, 0, 5], timeline: [0, 0, 0], hotThreshold: 5 } });
    const c = conversation(scored)
      .user('can I get a quote')
      .user('corporate event for 20')
      .user('3')
      .user('3')
      .user('Bo Chen')
      .user('bo@example.com')
      .user('yes')
      .expectEffect('notify.team');
    const payload = effectsOf(c, 'crm.upsertLead')[0]!.data.payload as Record<string, unknown>;
    expect(payload).toMatchObject({ score: 5 });
    // No owner configured: none is sent, so the CRM's own assignment applies.
    expect(payload).not.toHaveProperty('owner');
  });
});

describe('lead flow: retries and escalation', () => {
  it('accepts a good email after one bad one', () => {
    upToConsent('3', '1'); // sanity: the helper works end to end
    conversation(bot)
      .user('I need a quote for a wedding')
      .user('wedding hair for 5 people')
      .user('3')
      .user('1')
      .user('Ann Lee')
      .user('ann at example dot com')
      .expectReply(/does not look right/)
      .expectState('askEmail')
      .user('my email is ann@example.com.')
      .expectReply(/Reply YES or NO/)
      .expectHandoff('bot');
  });

  it('escalates on the second bad email with a clear reply', () => {
    conversation(bot)
      .user('I need a quote for a wedding')
      .user('wedding hair for 5 people')
      .user('3')
      .user('1')
      .user('Ann Lee')
      .user('ann@')
      .expectReply(/does not look right/)
      .user('ann@example')
      .expectReply(/still does not look right, so a person will text you/)
      .expectEffect('handoff.requested')
      .expectHandoff('waiting', 'retries_exhausted')
      .user('hello?')
      .expectNoReply();
  });

  it('escalates after three bad budget answers', () => {
    const c = conversation(bot)
      .user('I need a quote for a wedding')
      .user('wedding hair for 5 people')
      .user('lots')
      .expectReply(/please reply with a number: 1 Under \$100/)
      .user('7')
      .expectReply(/please reply with a number/)
      .expectHandoff('bot')
      .user('depends')
      .expectReply(/getting a person/)
      .expectHandoff('waiting', 'retries_exhausted');
    expect(c.events.filter((e) => e.type === 'invalid' && e.data.question === 'budget')).toHaveLength(3);
    // The agent hands back: the pending budget question is asked again.
    c.event('agent.release')
      .expectReply(/What budget/)
      .expectHandoff('bot')
      .user('2')
      .expectReply(/When do you need it/);
  });

  it('accepts budget and timeline labels as well as digits', () => {
    conversation(bot)
      .user('can I get a quote')
      .user('makeup for a photo shoot')
      .user('over $300')
      .expectReply(/When do you need it/)
      .user('this month')
      .expectReply(/What is your name/);
  });

  it('answers a failed CRM write honestly and escalates; a hand-back retries it', () => {
    let fail = true;
    const c = upToConsent('1', '3', {
      effects: (e) =>
        e.type === 'crm.upsertLead' && fail ? { ok: false, data: { error: 'timeout' } } : { ok: true },
    })
      .user('yes')
      .expectReply(/did not save your details/)
      .expectHandoff('waiting', 'effect_failed')
      .expectState('crmFailed');
    fail = false;
    c.event('agent.release')
      .expectEffect('crm.upsertLead')
      .expectReply(/We have your request/);
  });
});

describe('lead flow: compliance and handoff mid-flow', () => {
  it('hands over on HUMAN mid-flow and stays silent', () => {
    conversation(bot)
      .user('I need a quote for a wedding')
      .user('wedding hair for 5 people')
      .user('HUMAN')
      .expectReply(/getting a person/)
      .expectHandoff('waiting', 'requested')
      .user('2')
      .expectNoReply();
  });

  it('sends one confirmation on STOP mid-flow, then nothing', () => {
    const c = conversation(bot)
      .user('I need a quote for a wedding')
      .user('wedding hair for 5 people')
      .user('STOP')
      .expectReply(/unsubscribed/);
    expect(c.lastReplies).toHaveLength(1);
    c.user('2').expectNoReply().user('Ann Lee').expectNoReply();
    expect(c.state?.consent.status).toBe('opted_out');
  });
});

describe('lead flow: drop-off events', () => {
  it('tracks each question when it is asked, so drop-off is visible', () => {
    const c = conversation(bot).user('I need a quote for a wedding').user('wedding hair for 5 people');
    // The contact stops answering here: need and budget were asked, nothing after.
    expect(questionsOf(c)).toEqual(['need', 'budget']);
    const done = upToConsent('3', '1').user('yes');
    expect(questionsOf(done)).toEqual(['need', 'budget', 'timeline', 'name', 'email', 'consent', 'booking']);
    expect(done.events.filter((e) => e.type === 'question').every((e) => e.data.flow === 'lead')).toBe(true);
  });
});

describe('lead flow: definition', () => {
  const flow = leadQualificationFlow();

  it('routes quote and group requests to the lead flow, bookings to booking', () => {
    expect(flow.intentExamples?.lead?.length).toBeGreaterThanOrEqual(12);
    for (const text of ['can I get a quote', 'how much for a bridal party of 6', 'pricing for my business']) {
      expect(bot.understand(text).intent, text).toBe('lead');
    }
    expect(bot.understand('I want to book a haircut').intent).toBe('book');
  });

  it('keeps every reply GSM-7 and within 1 segment with long values filled in', () => {
    const sample: Record<string, string> = {
      name: 'A'.repeat(60), // readName allows up to 60 characters
      menu: '1 Under $100, 2 $100-$300, 3 Over $300',
    };
    for (const [key, template] of Object.entries(flow.messages)) {
      const text = template.replace(/\{(\w+)\}/g, (_, name: string) => sample[name] ?? 'x'.repeat(20));
      const m = measureSegments(text);
      expect(m.encoding, key).toBe('GSM-7');
      expect(m.segments, key).toBeLessThanOrEqual(flow.segmentBudgets?.[key] ?? flow.segmentBudget ?? 1);
    }
  });

  it('reports every invalid option at once, with its path', () => {
    let error: SmsflowError | undefined;
    try {
      leadQualificationFlow({
        budgetBands: ['Only one'],
        timelines: ['Soon', ''],
        scoring: { budget: [1, 2], hotThreshold: Number.NaN },
        maxRetries: 0,
      });
    } catch (e) {
      error = e as SmsflowError;
    }
    expect(isSmsflowError(error, 'SMSFLOW_ERR_INVALID_CONFIG')).toBe(true);
    expect(error!.issues.map((i) => i.path)).toEqual([
      'budgetBands',
      'timelines.1',
      'scoring.budget',
      'scoring.hotThreshold',
      'maxRetries',
    ]);
    expect(error!.message).toContain('got 0');
  });
});

describe('lead answer readers', () => {
  it('reads a need of at least 3 letters', () => {
    expect(readNeed('  wedding   hair ')).toBe('wedding hair');
    expect(readNeed('ab 12')).toBeNull();
    expect(readNeed('x'.repeat(500))).toHaveLength(160);
  });

  it('reads names of 2 to 60 letters, dropping "my name is"', () => {
    expect(readName("I'm Ann Lee.")).toBe('Ann Lee');
    expect(readName('my name is Mary-Jane O’Neil')).toBe("Mary-Jane O'Neil");
    expect(readName('José')).toBe('José');
    expect(readName('A')).toBeNull();
    expect(readName('ann@example.com')).toBeNull();
    expect(readName('12345')).toBeNull();
    expect(readName('a'.repeat(61))).toBeNull();
  });

  it('reads emails with z.email()', () => {
    expect(readEmail('ann@example.com')).toBe('ann@example.com');
    expect(readEmail('it is <ann.lee+quote@example.co.uk>.')).toBe('ann.lee+quote@example.co.uk');
    expect(readEmail('ann@example')).toBeNull();
    expect(readEmail('a@b.com or c@d.com')).toBeNull();
    expect(readEmail('no email here')).toBeNull();
  });
});
