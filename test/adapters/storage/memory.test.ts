import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../../../src/adapters/storage/memory.js';
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
