import { type AnyStateMachine, createActor } from 'xstate';
import type { FlowEvent, FlowInput } from './flow.js';
import type { Json, MachineSnapshot } from './types.js';

/** An action a flow machine asked for, as XState's pure transition reported it. */
export interface FlowAction {
  type: string;
  params: { [key: string]: unknown } | undefined;
}

interface InertScope {
  actionExecutor: (action: { type: string; params?: unknown }) => void;
  [key: string]: unknown;
}

/**
 * Drives one flow machine purely: restore a snapshot from JSON, apply an event, collect the actions.
 *
 * XState's `transition()` builds a fresh inert actor (and runs the machine's initial state) on every call;
 * that is about half its cost for a small flow. The driver builds that inert scope once per machine and only
 * swaps the action sink per call. JavaScript runs one transition at a time, so the shared scope is safe.
 */
export class MachineDriver {
  readonly machine: AnyStateMachine;
  private readonly scope: InertScope;
  private sink: FlowAction[] = [];

  constructor(machine: AnyStateMachine) {
    this.machine = machine;
    const self = createActor(machine, { input: placeholderInput });
    this.scope = {
      self,
      defer: () => {},
      id: '',
      logger: () => {},
      sessionId: '',
      stopChild: () => {},
      system: self.system,
      emit: () => {},
      actionExecutor: (action) => {
        this.sink.push({ type: action.type, params: action.params as FlowAction['params'] });
      },
    };
  }

  /** The machine's initial snapshot for `input`, with its entry actions. Pure. */
  start(input: FlowInput): { snapshot: MachineSnapshot; actions: FlowAction[] } {
    const actions: FlowAction[] = [];
    this.sink = actions;
    const snap = this.machine.getInitialSnapshot(this.scope as never, input);
    this.sink = [];
    return { snapshot: toJson(snap), actions };
  }

  /**
   * A live snapshot for a persisted one. XState's `resolveState` recomputes the active state nodes from the value
   * on every call; they depend on the value alone, so they are resolved once per state value (a machine has a
   * small, fixed set) and combined with the persisted context. Same object shape as `resolveState` returns.
   */
  private resolve(snapshot: MachineSnapshot): object {
    const key = typeof snapshot.value === 'string' ? snapshot.value : JSON.stringify(snapshot.value);
    let base = this.resolved.get(key);
    if (!base) {
      base = this.machine.resolveState({ value: snapshot.value as never, context: {} }) as object;
      if (this.resolved.size < 1_000) this.resolved.set(key, base);
    }
    return { ...base, context: snapshot.context };
  }
  private readonly resolved = new Map<string, object>();

  /** Applies `event` to a persisted snapshot; returns the next snapshot and the actions. Pure. */
  send(snapshot: MachineSnapshot, event: FlowEvent): { snapshot: MachineSnapshot; actions: FlowAction[] } {
    const actions: FlowAction[] = [];
    this.sink = actions;
    const next = this.machine.transition(this.resolve(snapshot) as never, event, this.scope as never);
    this.sink = [];
    return { snapshot: toJson(next), actions };
  }

  /** Whether the machine handles `event` in `snapshot` (some transition is enabled). Pure. */
  accepts(snapshot: MachineSnapshot, event: FlowEvent): boolean {
    return (this.resolve(snapshot) as { can(e: FlowEvent): boolean }).can(event);
  }
}

const placeholderInput: FlowInput = {
  now: '1970-01-01T00:00:00.000Z',
  timeZone: 'UTC',
  profile: {},
  fields: {},
  options: {},
};

function toJson(snap: { value: unknown; context: unknown; status: string }): MachineSnapshot {
  return {
    value: snap.value as Json,
    context: snap.context as MachineSnapshot['context'],
    status: snap.status === 'done' ? 'done' : 'active',
  };
}
