import { describe, expect, it } from 'vitest';
import { instantMs, memoryStorage, prefixEnd } from '../../../src/adapters/storage/memory.js';
import { storageContract } from '../../../src/testing/storage-contract.js';

storageContract({ name: 'memory', create: () => memoryStorage() });
storageContract({ name: 'memory (clone: false)', create: () => memoryStorage({ clone: false }) });

describe('memoryStorage', () => {
  it('copies values so a caller mutating a loaded state cannot change what is stored', async () => {
    const s = memoryStorage();
    const state = {
      v: 1 as const,
      contact: { key: 'k', phone: '+15005550006', channel: 'sms' as const, business: '+15005550001' },
      consent: { status: 'unknown' as const },
      profile: { name: 'Ann' },
      tags: [],
      thread: {
        id: 't',
        flow: 'f',
        machine: { value: 'idle', context: {}, status: 'active' as const },
        handoff: { status: 'bot' as const },
        startedAt: '2026-01-01T00:00:00.000Z',
        lastActivityAt: '2026-01-01T00:00:00.000Z',
      },
      seq: 0,
    };
    await s.commit({ key: 'k', expectedVersion: 0, state, events: [], outbox: [] });
    state.profile.name = 'changed after commit';
    const loaded = await s.getConversation('k');
    expect(loaded?.state.profile.name).toBe('Ann');
    if (loaded) loaded.state.profile.name = 'changed after load';
    expect((await s.getConversation('k'))?.state.profile.name).toBe('Ann');
  });

  it('rejects a time that is not ISO-8601 with a storage error quoting the value', async () => {
    const s = memoryStorage();
    await expect(s.claimOutbox({ owner: 'w', now: 'yesterday', leaseMs: 1, limit: 1 })).rejects.toMatchObject(
      {
        code: 'SMSFLOW_ERR_STORAGE',
        message: expect.stringContaining('"yesterday"'),
      },
    );
  });
});

describe('prefixEnd (the upper bound of an id-prefix range)', () => {
  it('is the next code point after the last one, skipping the surrogates, and null where there is none', () => {
    expect(prefixEnd('SM1:e')).toBe('SM1:f');
    expect(prefixEnd('x\u{1F600}')).toBe('x\u{1F601}');
    expect(prefixEnd('x\uD7FF')).toBe('x\uE000');
    expect(prefixEnd('x\uFFFF')).toBe('x\u{10000}');
    expect(prefixEnd('')).toBeNull();
    expect(prefixEnd('x\u{10FFFF}')).toBeNull();
    // Every string starting with the prefix sorts below the bound, in code point order.
    for (const p of ['a', 'x\u{1F600}', 'x\uD7FF', 'x\uFFFF']) {
      const end = prefixEnd(p)!;
      for (const tail of ['', '\u{10FFFF}', '\uFFFF\uFFFF', 'zzz']) {
        expect(Buffer.compare(Buffer.from(p + tail), Buffer.from(end))).toBe(-1);
      }
    }
  });
});

describe('instantMs', () => {
  it('is Date.parse, also when the same text or another comes again (its one-entry memo)', () => {
    const texts = [
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:00:00.001Z',
      'not a time',
      'not a time',
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T01:00:00+01:00',
      '',
    ];
    for (const text of texts) expect(instantMs(text)).toBe(Date.parse(text));
    expect(instantMs(`${'2026-01-01T00:00:00.000'}Z`)).toBe(1767225600000);
  });
});
