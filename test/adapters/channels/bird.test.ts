import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { birdChannel, birdSignature } from '../../../src/adapters/channels/bird.js';
import { channelContract } from '../../../src/testing/channel-contract.js';

const dir = 'test/fixtures/bird';
const secrets = JSON.parse(readFileSync(`${dir}/secrets.json`, 'utf8')) as {
  signingKey: string;
  accessKey: string;
  workspaceId: string;
  channelId: string;
  number: string;
};
const create = (baseUrl = 'http://127.0.0.1:9') => birdChannel({ ...secrets, baseUrl });

channelContract({
  name: 'bird',
  fixturesDir: dir,
  create: ({ baseUrl }) => create(baseUrl),
  send: {
    path: new RegExp(`^/workspaces/${secrets.workspaceId}/channels/${secrets.channelId}/messages$`),
    success: {
      status: 202,
      body: { id: 'f1c1a1b0-0000-4000-8000-0000000000b9', status: 'accepted' },
      expectProviderMessageId: 'f1c1a1b0-0000-4000-8000-0000000000b9',
    },
    failure: {
      status: 422,
      body: { code: 'InvalidPayload', message: 'receiver is invalid' },
      expectErrorCode: 'InvalidPayload',
      retryable: false,
    },
    checkRequest: (req) => {
      expect(req.headers.authorization).toBe(`AccessKey ${secrets.accessKey}`);
      expect(JSON.parse(req.body)).toMatchObject({
        receiver: { contacts: [{ identifierValue: '+14155550100' }] },
        body: { type: 'text' },
        reference: 'out-contract-1',
      });
    },
  },
});

describe('bird signature', () => {
  it('matches the facts vector (sms-facts §1.5, self-computed from the docs algorithm)', () => {
    expect(
      birdSignature(
        'secureSigningKey',
        '1700000000',
        'https://example.com/webhooks/bird',
        '{"hello":"world"}',
      ),
    ).toBe('PALwYBMDXhFvqLcWuSBRcnDVRxxOmkY+Z54E0XP6owA=');
  });

  it('verifies the vector within maxSkewSeconds and refuses it outside', () => {
    const adapter = birdChannel({ ...secrets, signingKey: 'secureSigningKey', maxSkewSeconds: 300 });
    const req = {
      method: 'POST',
      url: 'https://example.com/webhooks/bird',
      headers: {
        'messagebird-signature': 'PALwYBMDXhFvqLcWuSBRcnDVRxxOmkY+Z54E0XP6owA=',
        'messagebird-request-timestamp': '1700000000',
      },
      body: '{"hello":"world"}',
    };
    expect(adapter.verify(req, new Date(1_700_000_300_000))).toEqual({ ok: true });
    expect(adapter.verify(req, new Date(1_700_000_301_000)).ok).toBe(false);
    expect(
      adapter.verify(
        { ...req, headers: { ...req.headers, 'messagebird-request-timestamp': '1700000001' } },
        new Date(1_700_000_000_000),
      ).ok,
    ).toBe(false);
    expect(adapter.verify({ ...req, headers: {} }, new Date(1_700_000_000_000)).ok).toBe(false);
  });
});

describe('bird parsing', () => {
  const event = (e: string, payload: unknown) => ({
    method: 'POST',
    url: 'https://x.test/',
    headers: {},
    body: JSON.stringify({ service: 'channels', event: e, payload }),
  });

  it('ignores events other than sms.inbound on the inbound route and non-text bodies', () => {
    const adapter = create();
    expect(adapter.parseInbound(event('sms.outbound', { id: 'x' }), new Date()).kind).toBe('ignored');
    const image = {
      id: 'i',
      sender: { contact: { identifierValue: '+14155550100' } },
      body: { type: 'image' },
    };
    expect(adapter.parseInbound(event('sms.inbound', image), new Date()).kind).toBe('ignored');
  });

  it('maps statuses; unknown ones become sent so they never demote delivered', () => {
    const adapter = create();
    const map = {
      accepted: 'queued',
      sent: 'sent',
      delivered: 'delivered',
      sending_failed: 'failed',
      delivery_failed: 'undelivered',
      brand_new: 'sent',
    };
    for (const [raw, ours] of Object.entries(map)) {
      expect(adapter.parseStatus(event('sms.outbound', { id: 'x', status: raw })).status).toBe(ours);
    }
    expect(() => adapter.parseStatus(event('sms.outbound', { status: 'sent' }))).toThrow(/payload\.id/);
  });
});
