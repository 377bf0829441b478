import type { StorageAdapter } from '../adapters/storage/types.js';
import { maskPhone } from './redact.js';

/** The staff keywords, texted as the whole message from a number on the staff list. */
export type StaffCommand = 'STATUS' | 'WAITING' | 'PAUSE' | 'RESUME';

const COMMANDS = new Set<StaffCommand>(['STATUS', 'WAITING', 'PAUSE', 'RESUME']);

/** The command in a staff text, or null: whole message, any case, trailing punctuation ignored. Pure. */
export function parseStaffCommand(text: string): StaffCommand | null {
  const word = text
    .trim()
    .replace(/[\s.!?]+$/u, '')
    .toUpperCase();
  return COMMANDS.has(word as StaffCommand) ? (word as StaffCommand) : null;
}

/** Shared switch behind PAUSE/RESUME: new conversations go to a person while paused. */
export interface PauseSwitch {
  paused: boolean;
}

/**
 * Answers a staff command from storage. STATUS: today's bookings (in the business's zone) and how many
 * conversations wait for a person. WAITING: the three that have waited longest. PAUSE/RESUME flip the switch.
 * Scans recent conversations (up to `scanLimit`), which suits the embedded default; a large deployment would
 * answer these from its own reporting store.
 */
export async function answerStaffCommand(
  command: StaffCommand,
  context: { storage: StorageAdapter; now: Date; timeZone: string; pause: PauseSwitch; scanLimit?: number },
): Promise<string> {
  if (command === 'PAUSE') {
    context.pause.paused = true;
    return 'Bot paused: new conversations go to a person. Text RESUME to turn it back on.';
  }
  if (command === 'RESUME') {
    context.pause.paused = false;
    return 'Bot resumed: it answers new conversations again.';
  }
  const rows = await context.storage.listConversations({ limit: context.scanLimit ?? 1000 });
  const waiting = rows
    .filter((r) => r.state.thread.handoff.status === 'waiting')
    .sort((a, b) => (a.state.thread.handoff.at ?? '').localeCompare(b.state.thread.handoff.at ?? ''));
  if (command === 'WAITING') {
    if (waiting.length === 0) return 'Nobody is waiting for a person.';
    const lines = waiting.slice(0, 3).map((r) => {
      const since = Date.parse(r.state.thread.handoff.at ?? r.updatedAt);
      const minutes = Math.max(0, Math.round((context.now.getTime() - since) / 60_000));
      return `${maskPhone(r.state.contact.phone)} ${r.state.thread.handoff.reason ?? 'waiting'} ${minutes} min`;
    });
    return `Waiting longest: ${lines.join('; ')}`;
  }
  const day = (iso: string) =>
    new Intl.DateTimeFormat('en-CA', { timeZone: context.timeZone }).format(new Date(iso));
  const today = day(context.now.toISOString());
  const bookings = rows.filter((r) => {
    const booking = r.state.profile.booking as { start?: unknown } | null | undefined;
    return typeof booking?.start === 'string' && day(booking.start) === today;
  }).length;
  return `Today: ${bookings} booking${bookings === 1 ? '' : 's'}, ${waiting.length} waiting for a person.${context.pause.paused ? ' Bot is PAUSED.' : ''}`;
}
