/**
 * Benchmark: `smsflow replay` on 100,000 recorded messages (12,500 conversations x 8) through the demo salon
 * bot. The recordings are made by the same bot first, so nothing diverges and every message is compared.
 * Prints msgs/s and the time for parse + replay (target: under a minute).
 */
import { loadBot } from '../src/cli/load-bot.js';
import { parseJsonl, type RecordedConversation, replayConversation, toJsonl } from '../src/cli/replay.js';

/** Result of {@link runReplayBenchmark}. */
export interface ReplayBenchmarkResult {
  conversations: number;
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  diverged: number;
}

const scripts = [
  ['I want to book', '1', 'tomorrow 3pm', 'NO', 'Fri 10:30am', 'maybe', 'YES', 'thanks'],
  ['book a haircut', 'sunday noon', 'tomorrow 3pm', 'YES', 'R', 'Fri 10:30am', 'YES', 'ok'],
  ['can I make an appointment', '2', 'yesterday 3pm', 'in two years', 'Fri 10:30am', 'YES', 'HELP', 'hi'],
  ['cancel my appointment', 'NO', 'hello', '3', 'tomorrow 9pm', 'tomorrow 3pm', 'NO', 'YES'],
];

/**
 * Generates `conversations` x 8 messages, then replays them and measures. Prints one line.
 *
 * @example
 * const { messagesPerSecond } = await runReplayBenchmark();
 */
export async function runReplayBenchmark(conversations = 12_500): Promise<ReplayBenchmarkResult> {
  const bot = await loadBot('booking');
  const start = Date.parse('2026-11-24T17:00:00Z');
  const recorded: RecordedConversation[] = [];
  for (let c = 0; c < conversations; c++) {
    const phone = `+1415${String(5_000_000 + c).padStart(7, '0')}`;
    const script = scripts[c % scripts.length]!;
    const messages = script.map((text, i) => ({
      id: `c${c}m${i}`,
      from: phone,
      to: '+14155550199',
      text,
      receivedAt: new Date(start + c * 1000 + i * 60_000).toISOString(),
    }));
    const empty = { key: `sms:${phone}`, messages, replies: messages.map(() => [] as string[]) };
    const result = replayConversation(bot, empty);
    const replies = messages.map(
      (_, i) => (result.diffs.find((d) => d.index === i)?.actual as string[]) ?? [],
    );
    recorded.push({ ...empty, replies });
  }
  const jsonl = toJsonl(recorded);
  const t0 = performance.now();
  let diverged = 0;
  let messages = 0;
  for (const conversation of parseJsonl(jsonl)) {
    messages += conversation.messages.length;
    if (replayConversation(bot, conversation).diffs.length > 0) diverged++;
  }
  const seconds = (performance.now() - t0) / 1000;
  const result = { conversations, messages, seconds, messagesPerSecond: messages / seconds, diverged };
  console.log(
    `replay ${messages} msgs (${conversations} conversations): ${seconds.toFixed(1)} s, ${result.messagesPerSecond.toFixed(0)} msgs/s, ${diverged} diverged`,
  );
  return result;
}

if (process.argv[1]?.endsWith('replay.ts')) await runReplayBenchmark();
