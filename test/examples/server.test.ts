import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twilioSignature } from '../../src/adapters/channels/twilio.js';
import { browser, openDayName, simulator as openSimulator, type Served, serveApp } from './server-helpers.js';

const TWILIO_TOKEN = 'test-auth-token-for-host-app';
let served: Served;

beforeAll(async () => {
  served = await serveApp({ env: { TWILIO_AUTH_TOKEN: TWILIO_TOKEN } });
});
afterAll(async () => {
  await served?.close();
});

const simulator = (phone: string) => openSimulator(served.base, phone);

describe('host app: basics', () => {
  it('GET /health answers ok after a storage round trip (details only for admins: server-hardening.test.ts)', async () => {
    const res = await fetch(`${served.base}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('serves the simulator page', async () => {
    const res = await fetch(`${served.base}/simulator`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('/webchat/messages');
  });

  it('answers 503 with the variable to set for unconfigured providers', async () => {
    for (const [path, variable] of [
      ['/webhooks/vonage', 'VONAGE_SIGNATURE_SECRET'],
      ['/webhooks/plivo/status', 'PLIVO_AUTH_TOKEN'],
      ['/webhooks/messagebird', 'MESSAGEBIRD_SIGNING_KEY'],
    ] as const) {
      const res = await fetch(`${served.base}${path}`, { method: 'POST', body: '' });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { message: string }).message).toContain(variable);
    }
  });

  it('refuses a web chat turn without a valid token', async () => {
    const res = await fetch(`${served.base}/webchat/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer v1p.1.AAAA' },
      body: JSON.stringify({ sessionId: 's', from: '+14155550123', to: '+14155550199', text: 'hi', id: '1' }),
    });
    expect(res.status).toBe(401);
  });
});

describe('host app: simulator', () => {
  it('books an appointment through the web chat channel, with segments, encoding and delivery state', async () => {
    const sim = await simulator('+14155550123');
    await sim.send('Hi, I would like to book');
    const menu = await sim.reply(/1 Haircut/);
    expect(menu).toMatchObject({ segments: 1, encoding: 'GSM-7' });
    await sim.send('1');
    await sim.reply(/What day and time/);
    await sim.send(`${openDayName()} 3pm`);
    await sim.reply(/Haircut on .* at 3:00 PM/);
    await sim.send('yes');
    const booked = await sim.reply(/You are booked/);
    sim.stream.cancel();
    const row = await served.host.storage.getOutboxMessage(booked.id);
    // A listening page received it: the web chat adapter reports delivered.
    expect(row?.status).toBe('delivered');
    const state = (await served.host.storage.getConversation('webchat:+14155550123'))?.state;
    expect(state?.profile.booking).toMatchObject({ service: 'haircut' });
  });
});

describe('host app: provider webhooks', () => {
  const url = 'https://sms.example.test/webhooks/twilio';
  const params = {
    MessageSid: 'SM0001',
    From: '+14155550177',
    To: '+14155550199',
    Body: 'HELP',
    AccountSid: 'AC1',
  };
  const post = (signature: string) =>
    fetch(`${served.base}/webhooks/twilio`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      body: new URLSearchParams(params).toString(),
    });

  it('accepts a Twilio webhook signed for PUBLIC_URL and answers in TwiML', async () => {
    const multi = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, [v]]));
    const res = await post(twilioSignature(TWILIO_TOKEN, url, multi));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('xml');
    expect(await res.text()).toMatch(/<Message>Bella Salon: Help at call 415-555-0199/);
  });

  it('refuses a Twilio webhook signed with another token', async () => {
    const multi = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, [v]]));
    const res = await post(twilioSignature('wrong-token', url, multi));
    expect(res.status).toBe(403);
  });

  it('refuses a body over 64 KiB with 413 before reading it all (the app-wide limit)', async () => {
    const res = await fetch(`${served.base}/webhooks/twilio`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'x' },
      body: `Body=${'a'.repeat(70_000)}`,
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: 'payload too large' });
  });
});

describe('host app: dashboard', () => {
  it('refuses a wrong password and accepts the right one with a HttpOnly SameSite=Strict cookie', async () => {
    const b = browser(served.base);
    const wrong = await b.login('admin@example.com', 'not-the-password');
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('Wrong email or password');
    const right = await b.login('admin@example.com', 'admin-password-123');
    expect(right.status).toBe(303);
    expect(right.headers.getSetCookie().join('\n')).toMatch(/smsflow_sid=.*HttpOnly.*SameSite=Strict/i);
    expect((await b.request('/')).status).toBe(200);
  });

  it('refuses a POST without the CSRF token (403), and a viewer cannot reply (403)', async () => {
    const sim = await simulator('+14155550144');
    await sim.send('I want to talk to a person');
    await sim.reply(/getting a person/);
    sim.stream.cancel();
    const key = encodeURIComponent('webchat:+14155550144');

    const admin = browser(served.base);
    await admin.login('admin@example.com', 'admin-password-123');
    const noCsrf = await admin.form(`/c/${key}/reply`, { text: 'Hello from the salon' });
    expect(noCsrf.status).toBe(403);

    await served.host.store.createUser('viewer@example.com', 'viewer', 'viewer-password-1');
    const viewer = browser(served.base);
    await viewer.login('viewer@example.com', 'viewer-password-1');
    const page = await (await viewer.request(`/c/${key}`)).text();
    expect(page).toContain('Viewers cannot reply.');
    const csrf = await viewer.csrfOf(`/c/${key}`);
    const res = await viewer.form(`/c/${key}/reply`, { _csrf: csrf, text: 'sneaky' });
    expect(res.status).toBe(403);

    // The admin with the token may reply; the transcript shows it.
    const ok = await admin.form(`/c/${key}/reply`, {
      _csrf: await admin.csrfOf(`/c/${key}`),
      text: 'Hi, Ana here',
    });
    expect(ok.status).toBe(303);
    expect(await (await admin.request(`/c/${key}`)).text()).toContain('Hi, Ana here');
  });

  it('shows waiting threads first in the inbox, exports transcripts with an audit entry, validates rules', async () => {
    const admin = browser(served.base);
    await admin.login('admin@example.com', 'admin-password-123');
    // The agent replied in the previous test, so the thread is the agent's; the booking thread is not.
    const inbox = await (await admin.request('/?status=agent')).text();
    expect(inbox).toContain('+14155550144');
    expect(inbox).not.toContain('+14155550123');
    const exported = await admin.request(`/c/${encodeURIComponent('webchat:+14155550144')}/export`);
    expect(exported.status).toBe(200);
    expect(((await exported.json()) as { events: unknown[] }).events.length).toBeGreaterThan(0);
    expect(served.host.store.listAudit().map((a) => a.action)).toContain('export');

    const csrf = await admin.csrfOf('/rules');
    const bad = await admin.form('/rules', {
      _csrf: csrf,
      confidenceThreshold: '2',
      maxRetries: '3',
      threadTtlDays: '7',
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain(
      'confidenceThreshold must be between 0 and 1 (received &quot;2&quot;)',
    );
    const good = await admin.form('/rules', {
      _csrf: csrf,
      confidenceThreshold: '0.7',
      maxRetries: '2',
      threadTtlDays: '3',
    });
    expect(good.status).toBe(200);
    expect(served.host.engine().bot.config.confidenceThreshold).toBe(0.7);
    expect(served.host.engine().bot.config.threadTtlDays).toBe(3);
  });

  it('shows report figures', async () => {
    const admin = browser(served.base);
    await admin.login('admin@example.com', 'admin-password-123');
    const html = await (await admin.request('/reports')).text();
    expect(html).toMatch(/id="r-conversations">[1-9]/);
    expect(html).toContain('requested');
    expect(html).toContain('<svg');
  });
});
