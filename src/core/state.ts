import { SmsflowError } from './errors.js';
import { type ConversationState, STATE_VERSION } from './types.js';

/**
 * Migrations from older persisted state versions, keyed by the version they read. Each returns the next
 * version's shape. Version 0 is the pre-release draft format (consent as `optedOut: boolean`, the machine as
 * XState's full persisted snapshot); it is kept so a host that stored drafts can upgrade in place.
 */
const migrations: Record<number, (state: Record<string, unknown>) => Record<string, unknown>> = {
  0: (s) => {
    const thread = (s.thread ?? {}) as Record<string, unknown>;
    const machine = (thread.machine ?? thread.snapshot ?? {}) as Record<string, unknown>;
    const { snapshot: _dropped, ...rest } = thread;
    return {
      ...s,
      v: 1,
      consent: s.consent ?? { status: s.optedOut === true ? 'opted_out' : 'unknown' },
      profile: s.profile ?? {},
      tags: s.tags ?? [],
      thread: {
        ...rest,
        machine: {
          value: machine.value ?? null,
          context: machine.context ?? {},
          status: machine.status === 'done' ? 'done' : 'active',
        },
        handoff: rest.handoff ?? { status: 'bot' },
      },
      seq: typeof s.seq === 'number' ? s.seq : 0,
    };
  },
};

/**
 * Reads a persisted conversation state (parsed JSON) of any supported version and returns the current
 * version. Pure. Throws `SMSFLOW_ERR_INVALID_STATE` when the value is not a state or its version is newer
 * than this library knows.
 *
 * @example
 * const state = migrateState(JSON.parse(row.state_json));
 */
export function migrateState(value: unknown): ConversationState {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_STATE',
      `Expected a state object, received ${describe(value)}.`,
    );
  }
  let state = value as Record<string, unknown>;
  let version = typeof state.v === 'number' ? state.v : 0;
  if (version > STATE_VERSION) {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_STATE',
      `State version ${version} is newer than this smsflow understands (${STATE_VERSION}). Upgrade smsflow.`,
    );
  }
  while (version < STATE_VERSION) {
    const migrate = migrations[version];
    if (!migrate)
      throw new SmsflowError('SMSFLOW_ERR_INVALID_STATE', `No migration from state version ${version}.`);
    state = migrate(state);
    version = state.v as number;
  }
  const thread = state.thread as Record<string, unknown> | undefined;
  const contact = state.contact as Record<string, unknown> | undefined;
  if (!thread || typeof thread.flow !== 'string' || !contact || typeof contact.phone !== 'string') {
    throw new SmsflowError(
      'SMSFLOW_ERR_INVALID_STATE',
      'State lacks contact.phone or thread.flow; it was not written by smsflow.',
    );
  }
  return state as unknown as ConversationState;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
