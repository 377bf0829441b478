/**
 * Cross-checks our verifiers against the official SDKs (twilio 6, plivo 4) on random requests: whatever the
 * SDK signs (Twilio) or accepts (Plivo), we accept; one changed character and both reject.
 */
import fc from 'fast-check';
import * as plivo from 'plivo';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { plivoChannel, plivoSignature, plivoV3Payload } from '../../../src/adapters/channels/plivo.js';
import { parseFormMulti } from '../../../src/adapters/channels/shared.js';
import { twilioChannel } from '../../../src/adapters/channels/twilio.js';

const NOW = new Date('2026-03-02T15:04:05.000Z');
const TOKEN = 'fake-crosscheck-token';
// Keys are alphanumeric like every provider parameter; values are anything, including emoji, NUL and RTL marks.
const key = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,11}$/);
const value = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('😀', '\u202eabc', '+1 (415)', "O'Brien"),
);
const params = fc.dictionary(key, value, { minKeys: 1, maxKeys: 12 });
const url = fc.constantFrom(
  'https://example.com/smsflow/in',
  'https://example.com:8443/smsflow/in?tenant=a&x=1',
  'http://example.com/hook?b=2&a=1',
  "https://example.com/hook?name=O'Brien",
);

function form(p: Record<string, string>): string {
  return new URLSearchParams(p).toString();
}

function tamper(text: string): string {
  return text.slice(0, -1) + (text.at(-1) === 'x' ? 'y' : 'x');
}

describe('twilio verify agrees with the twilio SDK', () => {
  const ours = twilioChannel({ authToken: TOKEN });

  it('accepts what getExpectedTwilioSignature signs; SDK validateRequest agrees; tampering fails both', () => {
    fc.assert(
      fc.property(url, params, (u, p) => {
        const body = form(p);
        const signature = twilio.getExpectedTwilioSignature(TOKEN, u, p);
        const request = { method: 'POST', url: u, headers: { 'x-twilio-signature': signature }, body };
        expect(twilio.validateRequest(TOKEN, signature, u, p)).toBe(true);
        expect(ours.verify(request, NOW)).toEqual({ ok: true });
        const tampered = tamper(body);
        expect(ours.verify({ ...request, body: tampered }, NOW).ok).toBe(false);
        expect(
          twilio.validateRequest(TOKEN, signature, u, Object.fromEntries(new URLSearchParams(tampered))),
        ).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('agrees on port variants: a signature over the URL without port verifies with :443 added', () => {
    const p = { MessageSid: 'SM1', Body: 'hi' };
    const signature = twilio.getExpectedTwilioSignature(TOKEN, 'https://example.com/in', p);
    const withPort = 'https://example.com:443/in';
    expect(twilio.validateRequest(TOKEN, signature, withPort, p)).toBe(true);
    expect(
      ours.verify(
        { method: 'POST', url: withPort, headers: { 'x-twilio-signature': signature }, body: form(p) },
        NOW,
      ).ok,
    ).toBe(true);
  });

  it('agrees with validateRequestWithBody on JSON bodies', () => {
    fc.assert(
      fc.property(fc.json(), (json) => {
        const hash = twilio.getExpectedBodyHash(json);
        const u = `https://example.com/hook?bodySHA256=${hash}`;
        const signature = twilio.getExpectedTwilioSignature(TOKEN, u, {});
        expect(twilio.validateRequestWithBody(TOKEN, signature, u, json)).toBe(true);
        const request = { method: 'POST', url: u, headers: { 'x-twilio-signature': signature }, body: json };
        expect(ours.verify(request, NOW)).toEqual({ ok: true });
        expect(ours.verify({ ...request, body: `${json} ` }, NOW).ok).toBe(false);
        expect(twilio.validateRequestWithBody(TOKEN, signature, u, `${json} `)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});

describe('plivo verify agrees with the plivo SDK', () => {
  const ours = plivoChannel({ authId: 'MA1', authToken: TOKEN });
  const NONCE = '55512345678901234567';
  // ASCII values: plivo-node utf8-encodes the URL before hashing, so non-ASCII URLs double-encode there.
  const asciiValue = fc.stringMatching(/^[ -~]{0,30}$/);

  it('V3 POST: the SDK accepts our signature, we accept it, tampering fails both', () => {
    fc.assert(
      fc.property(
        url,
        fc.dictionary(key, fc.oneof(asciiValue, value), { minKeys: 1, maxKeys: 10 }),
        (u, p) => {
          const body = form(p);
          const signature = plivoSignature(
            TOKEN,
            plivoV3Payload('POST', u, parseFormMulti(body)) ?? '',
            NONCE,
            'v3',
          );
          expect(plivo.validateV3Signature('POST', u, NONCE, TOKEN, signature, p)).toBe(true);
          const headers = { 'x-plivo-signature-v3': signature, 'x-plivo-signature-v3-nonce': NONCE };
          expect(ours.verify({ method: 'POST', url: u, headers, body }, NOW)).toEqual({ ok: true });
          const tampered = tamper(body);
          expect(ours.verify({ method: 'POST', url: u, headers, body: tampered }, NOW).ok).toBe(false);
          const tamperedParams = Object.fromEntries(new URLSearchParams(tampered));
          expect(plivo.validateV3Signature('POST', u, NONCE, TOKEN, signature, tamperedParams)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('V3 GET and V2: the SDK and we agree', () => {
    fc.assert(
      fc.property(fc.dictionary(key, asciiValue, { minKeys: 1, maxKeys: 8 }), (p) => {
        const u = `https://example.com/plivo/in?${form(p)}`;
        const v3 = plivoSignature(TOKEN, plivoV3Payload('GET', u, {}) ?? '', NONCE, 'v3');
        expect(plivo.validateV3Signature('GET', u, NONCE, TOKEN, v3, {})).toBe(true);
        const get = { method: 'GET', url: u, body: '' };
        expect(
          ours.verify(
            { ...get, headers: { 'x-plivo-signature-v3': v3, 'x-plivo-signature-v3-nonce': NONCE } },
            NOW,
          ),
        ).toEqual({
          ok: true,
        });
        const v2 = plivoSignature(TOKEN, 'https://example.com/plivo/in', NONCE, 'v2');
        expect(plivo.validateSignature(u, NONCE, v2, TOKEN)).toBe(true);
        expect(
          ours.verify(
            { ...get, headers: { 'x-plivo-signature-v2': v2, 'x-plivo-signature-v2-nonce': NONCE } },
            NOW,
          ),
        ).toEqual({
          ok: true,
        });
        const other = 'https://example.com/plivo/inx';
        expect(plivo.validateSignature(other, NONCE, v2, TOKEN)).toBe(false);
        expect(
          ours.verify(
            {
              ...get,
              url: other,
              headers: { 'x-plivo-signature-v2': v2, 'x-plivo-signature-v2-nonce': NONCE },
            },
            NOW,
          ).ok,
        ).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});
