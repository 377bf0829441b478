import { describe, expect, it } from 'vitest';
import { createBot } from '../../src/core/bot.js';
import type { BotConfig } from '../../src/core/bot-config.js';
import { isSmsflowError } from '../../src/core/errors.js';
import { migrateState } from '../../src/core/state.js';
import { salonConfig } from '../support/salon.js';

describe('createBot config validation', () => {
  it('reports every problem at once, with paths', () => {
    const bad = {
      ...salonConfig(),
      program: { name: '', helpContact: '' },
      timeZone: 'Mars/Olympus',
      defaultFlow: 'nope',
      confidenceThreshold: 3,
    } as BotConfig;
    try {
      createBot(bad);
      expect.unreachable();
    } catch (error) {
      expect(isSmsflowError(error, 'SMSFLOW_ERR_INVALID_CONFIG')).toBe(true);
      const paths = (error as { issues: { path: string }[] }).issues.map((i) => i.path).sort();
      expect(paths).toEqual([
        'confidenceThreshold',
        'defaultFlow',
        'program.helpContact',
        'program.name',
        'timeZone',
      ]);
      expect((error as Error).message).toContain('IANA time zone');
    }
  });

  it('rejects duplicate flow ids and a missing flow list', () => {
    const config = salonConfig();
    expect(() => createBot({ ...config, flows: [config.flows[0]!, config.flows[0]!] })).toThrow(
      /duplicate flow id "booking"/,
    );
    expect(() => createBot({ ...config, flows: [] })).toThrow(/at least one flow/);
  });
});

describe('migrateState', () => {
  it('upgrades a version-0 draft state and keeps going', () => {
    const v0 = {
      contact: { key: 'sms:+14155550100', phone: '+14155550100', channel: 'sms', business: '+14155550199' },
      optedOut: true,
      thread: {
        id: 't1',
        flow: 'booking',
        snapshot: {
          value: 'askService',
          context: { retries: 0 },
          status: 'active',
          children: {},
          historyValue: {},
        },
        startedAt: '2026-11-24T17:00:00.000Z',
        lastActivityAt: '2026-11-24T17:00:00.000Z',
      },
    };
    const state = migrateState(v0);
    expect(state.v).toBe(1);
    expect(state.consent.status).toBe('opted_out');
    expect(state.thread.machine).toEqual({ value: 'askService', context: { retries: 0 }, status: 'active' });
    expect(state.thread.handoff.status).toBe('bot');
  });

  it('refuses a state from a newer smsflow and non-states with a coded error', () => {
    expect(() => migrateState({ v: 99 })).toThrow(/newer than this smsflow/);
    expect(() => migrateState('nope')).toThrow(/Expected a state object/);
    expect(() => migrateState({ v: 1, thread: {} })).toThrow(/not written by smsflow/);
  });
});
