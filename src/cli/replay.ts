/**
 * `smsflow replay`: re-runs recorded conversations through a bot (a new version of a flow, a retrained
 * classifier) and reports where the replies or the final machine state changed.
 *
 * The export format is JSON Lines, one {@link RecordedConversation} per line; {@link exportTranscripts} builds
 * it from any StorageAdapter.
 */
import { readFileSync } from 'node:fs';
import type { StorageAdapter } from '../adapters/storage/types.js';
import type { Bot } from '../core/bot.js';
import type { ConversationState, Effect, Json, StepResult, Understanding } from '../core/types.js';
import { defaultEffectAnswer } from '../testing/conversation.js';
import { type CliIo, parseCommand, UsageError } from './args.js';
import { loadBot } from './load-bot.js';

/** Help text of `smsflow replay`. */
export const replayHelp = `Usage: smsflow replay <transcripts.jsonl> --bot <flow|bot.ts> [--json]

Replays recorded conversations (JSON Lines, one conversation per line, see docs/cli.md) through a
bot and shows, per conversation, the replies and final state that differ from the recording.
Effects succeed with the test defaults. Exit code 1 when anything diverged.

Options:
  --bot <path>   the bot to replay through (a built-in flow name or a bot file)
  --json         print a JSON report instead of text
  -h, --help     show this help
`;

/** One recorded inbound message, as the bot received it. */
export interface RecordedMessage {
  id: string;
  from: string;
  to: string;
  text: string;
  /** ISO time. */
  receivedAt: string;
  /** An LLM's recorded understanding (rules and the classifier are recomputed by the replayed bot). */
  understanding?: Understanding;
}

/**
 * One line of a transcripts file: a conversation's inbound messages and the bot's reply texts to each
 * (replies caused by effect results count for the message that caused the effect; agent texts are left out).
 */
export interface RecordedConversation {
  /** Conversation key, e.g. `sms:+14155550100`. */
  key: string;
  messages: RecordedMessage[];
  /** `replies[i]` are the reply texts that followed `messages[i]`, in order. */
  replies: string[][];
  /** Where the conversation ended: flow and machine value. */
  finalState?: { flow: string; value: Json };
}

/** One difference found by {@link replayConversation}. */
export interface ReplayDiff {
  /** Index of the message, or -1 for the final state. */
  index: number;
  /** The inbound text (or `final state`). */
  text: string;
  expected: Json;
  actual: Json;
}

/** The result of replaying one conversation. */
export interface ReplayResult {
  key: string;
  messages: number;
  diffs: ReplayDiff[];
}

// As the engine: these effects get no result (src/engine/effects.ts), so the flow never sees one.
const UNANSWERED = new Set(['handoff.requested', 'notify.team']);
const unanswered = (type: string) => UNANSWERED.has(type) || type.startsWith('schedule.');

/**
 * Replays one recorded conversation through `bot`: each message is stepped, effects are answered with
 * `defaultEffectAnswer`, and the replies and final state are compared with the recording. Pure apart from CPU.
 *
 * @param bot - the bot to replay through
 * @param recorded - one conversation from a transcripts file
 * @returns the differences (empty when the bot still behaves as recorded)
 * @example
 * const { diffs } = replayConversation(bot, JSON.parse(line));
 */
export function replayConversation(bot: Bot, recorded: RecordedConversation): ReplayResult {
  const diffs: ReplayDiff[] = [];
  let state: ConversationState | undefined;
  recorded.messages.forEach((message, index) => {
    const replies: string[] = [];
    const queue: StepResult[] = [bot.step(state, message)];
    for (let guard = 0; queue.length > 0 && guard < 50; guard++) {
      const result = queue.shift()!;
      state = result.state;
      for (const r of result.replies) replies.push(r.text);
      for (const effect of result.effects) {
        const answered = answer(bot, state, effect, message.receivedAt);
        if (answered) queue.push(answered);
      }
    }
    const expected = recorded.replies[index] ?? [];
    if (expected.length !== replies.length || expected.some((t, i) => t !== replies[i]))
      diffs.push({ index, text: message.text, expected, actual: replies });
  });
  if (recorded.finalState && state) {
    const actual = { flow: state.thread.flow, value: state.thread.machine.value };
    if (JSON.stringify(actual) !== JSON.stringify(recorded.finalState))
      diffs.push({ index: -1, text: 'final state', expected: recorded.finalState, actual });
  }
  return { key: recorded.key, messages: recorded.messages.length, diffs };
}

function answer(bot: Bot, state: ConversationState, effect: Effect, at: string): StepResult | null {
  if (unanswered(effect.type)) return null;
  const a = defaultEffectAnswer(effect);
  if (!a) return null;
  return bot.step(state, {
    kind: 'event',
    id: `${effect.id}:result`,
    type: 'effect.result',
    at,
    data: {
      effectId: effect.id,
      effect: effect.type,
      threadId: effect.threadId,
      ok: a.ok,
      data: (a.data ?? {}) as { [k: string]: Json },
    },
  });
}

/**
 * Builds the transcripts export from a storage adapter: per conversation, inbound events give the messages
 * (text, id, time), `understanding` events from an LLM the recorded understanding, `outbound` events the
 * reply texts (agent texts excluded). Reads only; safe on a live database.
 *
 * @param storage - any StorageAdapter
 * @param options - `limit` and `updatedAfter`, passed to `listConversations`
 * @returns one {@link RecordedConversation} per conversation; write them with {@link toJsonl}
 * @example
 * writeFileSync('transcripts.jsonl', toJsonl(await exportTranscripts(storage, { limit: 1000 })));
 */
export async function exportTranscripts(
  storage: StorageAdapter,
  options: { limit?: number; updatedAfter?: string } = {},
): Promise<RecordedConversation[]> {
  const out: RecordedConversation[] = [];
  for (const summary of await storage.listConversations(options)) {
    const contact = summary.state.contact;
    const messages: RecordedMessage[] = [];
    const replies: string[][] = [];
    for (const event of await storage.listEvents(summary.key)) {
      const d = event.data;
      if (event.type === 'inbound') {
        messages.push({
          id: String(d.messageId),
          from: contact.phone,
          to: contact.business,
          text: String(d.text ?? ''),
          receivedAt: event.at,
        });
        replies.push([]);
      } else if (event.type === 'understanding' && d.source === 'llm' && messages.length > 0) {
        // Only the LLM's opinion is recorded input; rules and the classifier belong to the bot under test.
        messages[messages.length - 1]!.understanding = {
          intent: typeof d.intent === 'string' ? d.intent : null,
          confidence: Number(d.confidence ?? 0),
          source: 'llm',
        };
      } else if (event.type === 'outbound' && d.kind !== 'agent' && replies.length > 0) {
        replies[replies.length - 1]!.push(String(d.text ?? ''));
      }
    }
    out.push({
      key: summary.key,
      messages,
      replies,
      finalState: { flow: summary.state.thread.flow, value: summary.state.thread.machine.value },
    });
  }
  return out;
}

/**
 * Serialises conversations as JSON Lines. Pure.
 *
 * @example
 * toJsonl([conversation]) // '{"key":"sms:+1…",…}\n'
 */
export function toJsonl(conversations: readonly RecordedConversation[]): string {
  return conversations.map((c) => `${JSON.stringify(c)}\n`).join('');
}

/**
 * Parses a transcripts file. Throws a usage error naming the first bad line.
 *
 * @example
 * const conversations = parseJsonl(readFileSync('transcripts.jsonl', 'utf8'));
 */
export function parseJsonl(text: string): RecordedConversation[] {
  const out: RecordedConversation[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: RecordedConversation;
    try {
      value = JSON.parse(line) as RecordedConversation;
    } catch {
      throw new UsageError(`line ${i + 1} of the transcripts file is not JSON: ${line.slice(0, 60)}`);
    }
    if (typeof value?.key !== 'string' || !Array.isArray(value.messages) || !Array.isArray(value.replies))
      throw new UsageError(`line ${i + 1} is not a recorded conversation ({ key, messages, replies }).`);
    out.push(value);
  });
  return out;
}

const show = (v: Json) =>
  Array.isArray(v)
    ? v.length === 0
      ? '(no reply)'
      : v.map((t) => JSON.stringify(t)).join('\n      ')
    : JSON.stringify(v);

/** Formats the differences of one conversation as a readable diff (`-` recorded, `+` now). Pure. */
export function formatDiff(result: ReplayResult): string {
  const lines = [`x ${result.key}`];
  for (const d of result.diffs) {
    lines.push(d.index < 0 ? '  final state' : `  message ${d.index + 1}: > ${d.text}`);
    lines.push(`    - ${show(d.expected)}`, `    + ${show(d.actual)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Runs `smsflow replay`. Returns 1 when any conversation diverged, else 0.
 *
 * @example
 * process.exitCode = await runReplay(['transcripts.jsonl', '--bot', './bot.ts'], processIo);
 */
export async function runReplay(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    { bot: { type: 'string' }, json: { type: 'boolean' } },
    1,
  );
  if (values.help) {
    io.out(replayHelp);
    return 0;
  }
  if (typeof values.bot !== 'string') throw new UsageError('--bot <flow|bot.ts> is required.');
  let text: string;
  try {
    text = readFileSync(positionals[0]!, 'utf8');
  } catch {
    throw new UsageError(`cannot read the transcripts file "${positionals[0]}".`);
  }
  const conversations = parseJsonl(text);
  const bot = await loadBot(values.bot);
  const started = performance.now();
  const results: ReplayResult[] = [];
  conversations.forEach((c, i) => {
    results.push(replayConversation(bot, c));
    if (io.isTty && (i % 50 === 0 || i === conversations.length - 1))
      io.err(progress(i + 1, conversations.length));
  });
  if (io.isTty) io.err('\n');
  const seconds = (performance.now() - started) / 1000;
  const diverged = results.filter((r) => r.diffs.length > 0);
  const summary = {
    conversations: results.length,
    messages: results.reduce((n, r) => n + r.messages, 0),
    diverged: diverged.length,
    repliesChanged: diverged.reduce((n, r) => n + r.diffs.filter((d) => d.index >= 0).length, 0),
    finalStateChanged: diverged.filter((r) => r.diffs.some((d) => d.index < 0)).length,
    seconds: Math.round(seconds * 1000) / 1000,
  };
  if (values.json) {
    io.out(`${JSON.stringify({ summary, diverged }, null, 2)}\n`);
  } else {
    for (const r of diverged) io.out(formatDiff(r));
    const rows: [string, string][] = [
      ['conversations', String(summary.conversations)],
      ['messages', String(summary.messages)],
      ['diverged', String(summary.diverged)],
      ['replies changed', String(summary.repliesChanged)],
      ['final state changed', String(summary.finalStateChanged)],
      ['time', `${summary.seconds.toFixed(2)} s`],
    ];
    io.out(
      `${diverged.length > 0 ? '\n' : ''}${rows.map(([k, v]) => `${k.padEnd(20)} ${v.padStart(10)}`).join('\n')}\n`,
    );
  }
  return diverged.length > 0 ? 1 : 0;
}

function progress(done: number, total: number): string {
  const width = 30;
  const filled = Math.round((done / total) * width);
  return `\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total}`;
}
