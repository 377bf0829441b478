/**
 * The JavaScript HMAC-SHA1 against node:crypto (OpenSSL): the published test vectors, every message length
 * around the block and padding boundaries, keys shorter than, equal to and longer than a block, and random
 * keys and texts (any Unicode, lone surrogates included, which both encode as U+FFFD).
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHmacSha1 } from '../../../src/adapters/channels/hmac-sha1.js';
import { twilioSignature } from '../../../src/adapters/channels/twilio.js';

const openssl = (key: string, data: string) => createHmac('sha1', key).update(data).digest('base64');

describe('createHmacSha1', () => {
  it('gives the RFC 2202 test vectors whose keys and data are text', () => {
    // RFC 2202 section 3, cases 1, 2 and 5; the hex digests as base64.
    const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
    expect(createHmacSha1('\x0b'.repeat(20)).base64('Hi There')).toBe(
      b64('b617318655057264e28bc0b6fb378c8ef146be00'),
    );
    expect(createHmacSha1('Jefe').base64('what do ya want for nothing?')).toBe(
      b64('effcdf6ae5eb2fa2d27416d5f184df9c259a7c79'),
    );
    expect(createHmacSha1('\x0c'.repeat(20)).base64('Test With Truncation')).toBe(
      b64('4c1a03424b55e07fe7f27be1d58bb9324a9a5a04'),
    );
  });

  it('matches OpenSSL on every length from 0 to 200 bytes, for keys of 0, 1, 63, 64, 65 and 200 bytes', () => {
    const text = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(6);
    for (const keyLength of [0, 1, 63, 64, 65, 200]) {
      const key = 'k'.repeat(keyLength);
      const signer = createHmacSha1(key);
      for (let length = 0; length <= 200; length++) {
        const data = text.slice(0, length);
        expect(signer.base64(data), `key ${keyLength}, data ${length}`).toBe(openssl(key, data));
      }
    }
  });

  it('matches OpenSSL on random keys and texts, multi-byte and broken UTF-16 included', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 90 }),
        fc.string({ unit: 'binary', maxLength: 700 }),
        (key, data) => {
          expect(createHmacSha1(key).base64(data)).toBe(openssl(key, data));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('keeps one signer correct across calls of different sizes (its scratch space is shared and grows)', () => {
    const signer = createHmacSha1('token');
    const big = '€'.repeat(30_000); // 90,000 bytes: past the initial scratch size
    for (const data of ['a', big, 'b', `${big}x`, ''])
      expect(signer.base64(data)).toBe(openssl('token', data));
  });
});

describe('twilioSignature (the documented vector is in twilio.test.ts)', () => {
  it('signs with each token it is given (a rotation holds two)', () => {
    const params = { Body: ['hi'] };
    const a = twilioSignature('token-a', 'https://x.example/sms', params);
    const b = twilioSignature('token-b', 'https://x.example/sms', params);
    expect(a).not.toBe(b);
    expect(a).toBe(openssl('token-a', 'https://x.example/smsBodyhi'));
    expect(twilioSignature('token-a', 'https://x.example/sms', params)).toBe(a);
  });
});
