/** `smsflow chat`: talk to a bot in the terminal, or run a script of lines, showing state after each turn. */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Bot } from '../core/bot.js';
import type { Json } from '../core/types.js';
import { type Conversation, conversation, defaultEffectAnswer } from '../testing/conversation.js';
import { type CliIo, parseCommand, UsageError } from './args.js';
import { loadBot } from './load-bot.js';

/** Help text of `smsflow chat`. */
export const chatHelp = `Usage: smsflow chat <flow|bot.ts> [--script file.txt] [--from +1...] [--start ISO]

Talk to a bot as a customer. After each message it prints the replies with their size
("(2 seg, GSM-7)"), the flow's state and the captured fields. Effects (calendar, CRM, payments)
succeed with the test defaults. Each message is one minute after the previous one.

Options:
  --script <file>  run the file's lines as messages (blank lines and lines starting with # skipped)
  --from <phone>   the customer's number (default +14155550100)
  --start <ISO>    time of the first message (default 2026-11-24T17:00:00Z)
  -h, --help       show this help
`;

/**
 * Formats what one turn did: replies with segments and encoding, effects, state and fields. Pure.
 *
 * @param c - the conversation after a `user()` call
 * @returns printable lines
 * @example
 * io.out(formatTurn(conversation(bot).user('hi')));
 */
export function formatTurn(c: Conversation): string {
  const lines: string[] = [];
  for (const r of c.lastReplies) lines.push(`< ${r.text}  (${r.segments} seg, ${r.encoding})`);
  if (c.lastReplies.length === 0) lines.push('< (no reply)');
  for (const e of c.lastEffects) lines.push(`  effect ${e.type}`);
  const thread = c.state?.thread;
  if (thread) {
    const handoff = thread.handoff.status === 'bot' ? '' : `  handoff: ${thread.handoff.status}`;
    lines.push(`  state: ${thread.flow} ${JSON.stringify(thread.machine.value)}${handoff}`);
    lines.push(`  fields: ${JSON.stringify(capturedFields(thread.machine.context))}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The context entries worth showing: set values only (null, empty lists and the zone are noise). */
function capturedFields(context: { [k: string]: Json }): { [k: string]: Json } {
  const shown: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(context)) {
    if (v === null || k === 'timeZone' || (Array.isArray(v) && v.length === 0)) continue;
    shown[k] = v;
  }
  return shown;
}

/**
 * Runs `smsflow chat`. Returns the exit code.
 *
 * @param argv - arguments after `chat`
 * @param io - output streams
 * @example
 * await runChat(['booking', '--script', 'demo.txt'], processIo);
 */
export async function runChat(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    { script: { type: 'string' }, from: { type: 'string' }, start: { type: 'string' } },
    1,
  );
  if (values.help) {
    io.out(chatHelp);
    return 0;
  }
  const start = values.start as string | undefined;
  if (start !== undefined && Number.isNaN(Date.parse(start)))
    throw new UsageError(`--start must be an ISO time such as 2026-11-24T17:00:00Z, got "${start}".`);
  const bot: Bot = await loadBot(positionals[0]!);
  const c = conversation(bot, {
    from: (values.from as string | undefined) ?? '+14155550100',
    start: start ?? '2026-11-24T17:00:00Z',
    effects: defaultEffectAnswer,
  });
  const turn = (text: string) => {
    c.user(text);
    io.out(formatTurn(c));
  };
  if (typeof values.script === 'string') {
    let script: string;
    try {
      script = readFileSync(values.script, 'utf8');
    } catch {
      throw new UsageError(`cannot read the script "${values.script}".`);
    }
    for (const line of script.split(/\r?\n/)) {
      if (line.trim() === '' || line.startsWith('#')) continue;
      io.out(`> ${line}\n`);
      turn(line);
    }
    return 0;
  }
  io.err(`Chatting with ${[...bot.flows.keys()].join(', ')}. Ctrl-D to quit.\n`);
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: '> ' });
  rl.prompt();
  for await (const line of rl) {
    if (line.trim() !== '') turn(line);
    rl.prompt();
  }
  return 0;
}
