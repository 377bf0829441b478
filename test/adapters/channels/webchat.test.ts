import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WebhookRequest } from '../../../src/adapters/channels/types.js';
import {
  createWebchatHub,
  createWebchatToken,
  webchatChannel,
} from '../../../src/adapters/channels/webchat.js';
import { isSmsflowError } from '../../../src/core/errors.js';
import { inboundMessageSchema } from '../../../src/core/types.js';
import { loadChannelFixtures } from '../../../src/testing/channel-contract.js';

const dir = 'test/fixtures/webchat';
const fixtures = loadChannelFixtures(dir);
const secret = 'fake-webchat-session-secret-00000';

// Web chat sends through an in-process hub, not HTTP, so the contract's fake-API send cases do not apply;
// the fixture, forgery and fuzz parts of the contract are run here over the same fixtures.
describe('webchat fixtures', () => {
  const adapter = webchatChannel({ sessionSecret: secret, hub: createWebchatHub() });
  it('has inbound, status and forged fixtures', () => {
    expect(new Set(fixtures.map((f) => f.kind))).toEqual(new Set(['inbound', 'status', 'forged']));
  });
  for (const fx of fixtures) {
    const now = new Date(fx.now);
    it(`${fx.kind}: ${fx.file}: ${fx.description}`, () => {
      const verified = adapter.verify(fx.request, now);
      if (fx.kind === 'forged') {
        expect(verified.ok).toBe(false);
        return;
      }
      expect(verified).toEqual({ ok: true });
      if (fx.kind === 'inbound') {
        const parsed = adapter.parseInbound(fx.request, now);
        expect(parsed.kind).toBe('message');
        if (parsed.kind === 'message') {
          expect(() => inboundMessageSchema.parse(parsed.message)).not.toThrow();
          expect(parsed.message).toMatchObject(fx.expect ?? {});
        }
      } else {
        expect(adapter.parseStatus(fx.request)).toMatchObject(fx.expect ?? {});
      }
    });
  }
});

describe('webchat tokens', () => {
  const now = new Date('2026-03-02T15:00:00Z');
  const turn = (token: string, body: Record<string, unknown>): WebhookRequest => ({
    method: 'POST',
    url: 'https://x.test/chat',
    headers: { authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const body = { sessionId: 's1', from: '+14155550100', to: '+14155550199', text: 'hi', id: '1' };

  it('binds a token to its session, its secret and (when asked) its phone', () => {
    const adapter = webchatChannel({ sessionSecret: secret, hub: createWebchatHub() });
    expect(adapter.verify(turn(createWebchatToken('s1', secret), body), now)).toEqual({ ok: true });
    expect(adapter.verify(turn(createWebchatToken('s1', 'other-secret'), body), now).ok).toBe(false);
    expect(adapter.verify(turn(createWebchatToken('s1', secret), { ...body, sessionId: 's2' }), now).ok).toBe(
      false,
    );
    const bound = createWebchatToken('s1', secret, { phone: '+14155550100' });
    expect(adapter.verify(turn(bound, body), now)).toEqual({ ok: true });
    expect(adapter.verify(turn(bound, { ...body, from: '+14155550101' }), now).ok).toBe(false);
    // Downgrading a phone-bound token to a session-only one changes the MAC input, so it fails.
    expect(adapter.verify(turn(bound.replace(/^v1p/, 'v1'), { ...body, from: '+14155550101' }), now).ok).toBe(
      false,
    );
  });

  it('expires tokens after maxSkewSeconds when set', () => {
    const adapter = webchatChannel({ sessionSecret: secret, hub: createWebchatHub(), maxSkewSeconds: 3600 });
    const token = createWebchatToken('s1', secret, { issuedAt: now });
    expect(adapter.verify(turn(token, body), new Date(now.getTime() + 3_600_000)).ok).toBe(true);
    expect(adapter.verify(turn(token, body), new Date(now.getTime() + 3_601_000)).ok).toBe(false);
  });

  it('never throws from verify and only SmsflowError from parsers (fast-check, 5,000-char, NUL, RTL, emoji)', () => {
    const adapter = webchatChannel({ sessionSecret: secret, hub: createWebchatHub() });
    const text = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme', minLength: 4900, maxLength: 5000 }),
      fc.constantFrom('\u0000', '\u202eRTL', '😀', '{"', 'null'),
    );
    fc.assert(
      fc.property(text, fc.json(), fc.string(), (t, j, auth) => {
        for (const b of [
          t,
          j,
          JSON.stringify({ ...body, text: t }),
          JSON.stringify({ sessionId: t, from: t, id: t, to: t }),
        ]) {
          const req = { method: 'POST', url: 'https://x.test/', headers: { authorization: auth }, body: b };
          expect(adapter.verify(req, now)).toHaveProperty('ok');
          for (const fn of [() => adapter.parseInbound(req, now), () => adapter.parseStatus(req)]) {
            try {
              fn();
            } catch (error) {
              expect(isSmsflowError(error)).toBe(true);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('webchat hub and send', () => {
  it('publishes replies to phone and session listeners; send is delivered only when a page listens', async () => {
    const hub = createWebchatHub();
    const adapter = webchatChannel({ sessionSecret: secret, hub });
    const got: string[] = [];
    const off = hub.subscribe('+14155550100', (m) => got.push(m.text));
    hub.subscribe('+14155550100', () => {
      throw new Error('a broken stream');
    });
    const sent = await adapter.send({ id: 'o1', to: '+14155550100', text: 'Hello 😀', channel: 'webchat' });
    expect(sent).toEqual({ ok: true, providerMessageId: 'o1', status: 'delivered' });
    expect(got).toEqual(['Hello 😀']);
    off();
    expect(
      await adapter.send({ id: 'o2', to: '+14155550199', text: 'nobody', channel: 'webchat' }),
    ).toMatchObject({ status: 'sent' });
    let bySession = 0;
    hub.subscribe('s1', () => bySession++);
    expect(hub.publish({ id: 'o3', to: '+1', text: 't', at: '2026-01-01T00:00:00Z' }, 's1')).toBe(1);
    expect(bySession).toBe(1);
  });

  it('prefixes inbound ids with the session so pages cannot collide, and takes time from the server', () => {
    const adapter = webchatChannel({ sessionSecret: secret, hub: createWebchatHub() });
    const now = new Date('2026-03-02T15:00:00Z');
    const parsed = adapter.parseInbound(
      {
        method: 'POST',
        url: 'https://x.test/',
        headers: {},
        body: JSON.stringify({
          sessionId: 'a',
          from: '+14155550100',
          to: 'bot',
          text: 'x',
          id: '1',
          receivedAt: '1999-01-01T00:00:00Z',
        }),
      },
      now,
    );
    expect(parsed).toMatchObject({
      kind: 'message',
      message: { id: 'webchat:a:1', receivedAt: now.toISOString(), channel: 'webchat' },
    });
  });

  it('refuses bad options and bad session ids with coded errors', () => {
    expect(() => webchatChannel({ sessionSecret: '', hub: createWebchatHub() })).toThrow(/sessionSecret/);
    expect(() => createWebchatToken('', secret)).toThrow(/sessionId/);
    expect(() => createWebchatToken('x'.repeat(129), secret)).toThrow(/sessionId/);
  });
});
