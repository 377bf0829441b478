/**
 * `smsflow paths`: enumerates conversations through a flow with `xstate/graph` and writes them as readable
 * transcripts. The graph is walked at the bot level: each vertex is a conversation state after a real
 * `bot.step`, each edge an inbound text from the flow's examples or an effect result (ok or failed), so a
 * path is a conversation that actually happens, routing, escalations and compliance included.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromTransition } from 'xstate';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import type { Bot } from '../core/bot.js';
import type { FlowDefinition } from '../core/flow.js';
import type { ConversationState, Effect, Json, StepResult } from '../core/types.js';
import { defaultEffectAnswer } from '../testing/conversation.js';
import { type CliIo, intOption, parseCommand, UsageError } from './args.js';
import { loadBot } from './load-bot.js';
import { pickFlow } from './visualize.js';

/** Help text of `smsflow paths`. */
export const pathsHelp = `Usage: smsflow paths <flow|bot.ts> [--out dir] [--flow id] [--max-paths n] [--max-depth n] [--simple]

Generates conversations that reach every state of a flow (shortest paths, then paths that are a
prefix of a longer one dropped) and prints them as transcripts: "> " the customer, "< " the bot,
"* " an effect result, "= " where the conversation ended. Customer texts come from the flow's
"examples" (the first message from its "intentExamples") plus one unclear answer.

Options:
  --out <dir>       write one .txt file per path into <dir> instead of printing
  --flow <id>       which of the bot's flows (default: the first)
  --max-paths <n>   at most n transcripts (default 50)
  --max-depth <n>   at most n inputs per conversation (default 10)
  --simple          every simple path instead of shortest ones (many more; bounded by the limits)
  -h, --help        show this help
`;

/** Options of {@link generatePaths}. */
export interface PathOptions {
  /** The flow to cover. @default the bot's first flow */
  flow?: string;
  /** Most transcripts returned. @default 50 */
  maxPaths?: number;
  /** Most inputs (texts and effect results) in one conversation. @default 10 */
  maxDepth?: number;
  /** `simple` enumerates every simple path (xstate/graph `getSimplePaths`). @default 'shortest' */
  strategy?: 'shortest' | 'simple';
  /** An answer the flow should not understand, to cover retries. @default 'asdf' */
  unclear?: string | null;
  /** Time of the first message. @default 2026-11-24T17:00:00Z (a Tuesday) */
  start?: string;
  /** Most graph vertices explored before giving up. @default 20000 */
  limit?: number;
}

/** One generated conversation. */
export interface GeneratedPath {
  /** `03-booked`: order and where it ended, stable for a given bot. */
  name: string;
  /** The inputs, e.g. `['text:I want to book', 'text:1', 'effect:ok']`. */
  inputs: string[];
  /** Readable transcript (`> …`, `< …`, `* …`, `= …` lines). */
  transcript: string;
}

interface World {
  state: ConversationState | undefined;
  pending: Effect[];
  n: number;
  lines: string[];
}

type PathEvent = { type: 'text'; text: string } | { type: 'effect'; ok: boolean };

// The engine answers these itself or not at all (src/engine/effects.ts FIRE_AND_FORGET); a timer's event comes
// (`schedule.*`) comes back later as an external event, not as a result.
const UNANSWERED = new Set(['handoff.requested', 'notify.team']);
const unanswered = (type: string) => UNANSWERED.has(type) || type.startsWith('schedule.');

/**
 * Enumerates conversations through a flow and returns them as transcripts. Deterministic for a given bot
 * and options (fixed clock, ids from a counter). Pure apart from CPU.
 *
 * @param bot - the bot to step
 * @param options - flow, limits, strategy
 * @returns the paths, shortest first
 * @throws Error when the graph exceeds `limit` vertices (lower maxDepth)
 * @example
 * for (const p of generatePaths(bot, { flow: 'booking' })) console.log(p.transcript);
 */
export function generatePaths(bot: Bot, options: PathOptions = {}): GeneratedPath[] {
  const flow = pickFlow(bot, options.flow);
  const maxDepth = options.maxDepth ?? 10;
  const start = Date.parse(options.start ?? '2026-11-24T17:00:00Z');
  const firstTexts = openingTexts(flow);
  const unclear = options.unclear === undefined ? 'asdf' : options.unclear;
  const laterTexts = [
    ...new Set([...Object.values(flow.examples ?? {}).flat(), ...(unclear ? [unclear] : [])]),
  ];

  const apply = (world: World, event: PathEvent): World => {
    const n = world.n + 1;
    const at = new Date(start + world.n * 60_000).toISOString();
    const lines = [...world.lines];
    let pending = [...world.pending];
    let result: StepResult;
    if (event.type === 'text') {
      lines.push(`> ${event.text}`);
      result = bot.step(world.state, {
        id: `p${n}`,
        from: '+14155550100',
        to: '+14155550199',
        text: event.text,
        receivedAt: at,
      });
    } else {
      const effect = pending.shift()!;
      const answer = event.ok ? (defaultEffectAnswer(effect) ?? { ok: true }) : { ok: false, data: {} };
      lines.push(`* ${effect.type} ${event.ok ? 'ok' : 'failed'}`);
      result = bot.step(world.state, {
        kind: 'event',
        id: `p${n}`,
        type: 'effect.result',
        at,
        data: {
          effectId: effect.id,
          effect: effect.type,
          threadId: effect.threadId,
          ok: answer.ok,
          data: (answer.data ?? {}) as { [k: string]: Json },
        },
      });
    }
    for (const r of result.replies) lines.push(`< ${r.text}`);
    pending = [...pending, ...result.effects.filter((e) => !unanswered(e.type))];
    return { state: result.state, pending, n, lines };
  };

  const logic = fromTransition<World, PathEvent, never, never>((world, event) => apply(world, event), {
    state: undefined,
    pending: [],
    n: 0,
    lines: [],
  });
  const done = (w: World) =>
    w.n >= maxDepth ||
    (w.state !== undefined &&
      (w.state.thread.machine.status === 'done' ||
        w.state.thread.handoff.status !== 'bot' ||
        w.state.consent.status === 'opted_out'));
  const traversal = {
    events: (snap: { context: World }): PathEvent[] => {
      const w = snap.context;
      if (done(w)) return [];
      if (w.pending.length > 0)
        return [
          { type: 'effect', ok: true },
          { type: 'effect', ok: false },
        ];
      return (w.state === undefined ? firstTexts : laterTexts).map((text) => ({ type: 'text', text }));
    },
    serializeState: (snap: { context: World }) => key(snap.context),
    limit: options.limit ?? 20_000,
  };
  let raw: { steps: { event: PathEvent }[]; state: { context: World } }[];
  try {
    raw = (options.strategy === 'simple' ? getSimplePaths : getShortestPaths)(
      logic as never,
      traversal as never,
    ) as never;
  } catch (error) {
    throw new UsageError(
      `the flow has more than ${traversal.limit} conversation states within ${maxDepth} inputs (${(error as Error).message}). Lower --max-depth.`,
    );
  }
  // The first step of an xstate/graph path is the actor's init event, not an input.
  const inputsOf = (p: (typeof raw)[number]) =>
    p.steps
      .filter((s) => s.event.type === 'text' || s.event.type === 'effect')
      .map((s) =>
        s.event.type === 'text' ? `text:${s.event.text}` : `effect:${s.event.ok ? 'ok' : 'failed'}`,
      );
  const all = raw.map((p) => ({ p, inputs: inputsOf(p) })).filter((x) => x.inputs.length > 0);
  // A path that is the start of a longer one says nothing the longer one does not.
  const joined = all.map((x) => `${x.inputs.join('\u0000')}\u0000`);
  const maximal = all.filter((_x, i) => !joined.some((other, j) => j !== i && other.startsWith(joined[i]!)));
  maximal.sort((a, b) => a.inputs.length - b.inputs.length || a.inputs.join().localeCompare(b.inputs.join()));
  return maximal.slice(0, options.maxPaths ?? 50).map(({ p, inputs }, i) => {
    const w = p.state.context;
    const end = endLabel(w);
    const short = end.startsWith(`${flow.id} `) ? end.slice(flow.id.length + 1) : end;
    const name = `${String(i + 1).padStart(2, '0')}-${short.replace(/[^A-Za-z0-9]+/g, '-').replace(/-+$/, '')}`;
    return { name, inputs, transcript: `${[...w.lines, `= ${end}`].join('\n')}\n` };
  });
}

/** The first message of each conversation: one example per intent that starts the flow. */
function openingTexts(flow: FlowDefinition): string[] {
  const texts: string[] = [];
  for (const intent of flow.intents ?? []) {
    const example = flow.intentExamples?.[intent]?.[0];
    if (example) texts.push(example);
  }
  return texts.length > 0
    ? texts
    : Object.values(flow.examples ?? {})
        .flat()
        .slice(0, 3);
}

/** Where a conversation ended: flow, machine state, and who has the thread. */
function endLabel(w: World): string {
  const t = w.state?.thread;
  if (!t) return 'nothing';
  const value = flatValue(t.machine.value);
  const who =
    t.handoff.status === 'bot'
      ? ''
      : ` handoff ${t.handoff.status}${t.handoff.reason ? ` ${t.handoff.reason}` : ''}`;
  const consent = w.state?.consent.status === 'opted_out' ? ' opted out' : '';
  return `${t.flow} ${value}${who}${consent}`;
}

function flatValue(value: Json): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return String(value);
  return Object.entries(value)
    .map(([k, v]) => (v === null || typeof v !== 'object' ? `${k}.${String(v)}` : `${k}.${flatValue(v)}`))
    .join(',');
}

/**
 * A vertex: the flow, its machine state, who has the thread, and the context's counters (`retries`, …).
 * Other values (which service, which time, ids) are left out on purpose: three services booked the same way are one path, while a
 * retry counter still tells "asked twice" from "asked once", so the retries-exhausted hand-off is reached.
 */
function key(w: World): string {
  const s = w.state;
  if (!s) return 'start';
  const t = s.thread;
  return JSON.stringify([
    t.flow,
    t.machine.value,
    counters(t.machine.context),
    t.machine.status,
    t.handoff.status,
    t.clarify?.intents ?? null,
    s.consent.status,
    Object.keys(s.profile).sort(),
    w.pending.map((e) => e.type),
  ]);
}

// Counter-like names only: a numeric answer (a budget, a party size) is data, like a chosen service.
const COUNTER = /retr|attempt|tries|count|fail/i;

function counters(context: { [k: string]: Json }): { [k: string]: Json } {
  const kept: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(context)) if (typeof v === 'number' && COUNTER.test(k)) kept[k] = v;
  return kept;
}

/**
 * Runs `smsflow paths`. Returns the exit code.
 *
 * @example
 * await runPaths(['booking', '--out', 'transcripts'], processIo);
 */
export async function runPaths(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    {
      out: { type: 'string' },
      flow: { type: 'string' },
      'max-paths': { type: 'string' },
      'max-depth': { type: 'string' },
      simple: { type: 'boolean' },
    },
    1,
  );
  if (values.help) {
    io.out(pathsHelp);
    return 0;
  }
  const maxPaths = intOption(values, 'max-paths', 50);
  const maxDepth = intOption(values, 'max-depth', 10);
  const bot = await loadBot(positionals[0]!);
  const flow = pickFlow(bot, values.flow as string | undefined);
  const paths = generatePaths(bot, {
    flow: flow.id,
    maxPaths,
    maxDepth,
    strategy: values.simple ? 'simple' : 'shortest',
  });
  if (typeof values.out === 'string') {
    mkdirSync(values.out, { recursive: true });
    for (const p of paths) writeFileSync(join(values.out, `${flow.id}-${p.name}.txt`), p.transcript);
    io.out(`wrote ${paths.length} transcripts to ${values.out}\n`);
    return 0;
  }
  paths.forEach((p, i) => {
    io.out(`${i === 0 ? '' : '\n'}## ${flow.id} ${p.name}\n${p.transcript}`);
  });
  return 0;
}
