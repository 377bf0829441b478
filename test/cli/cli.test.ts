import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
// Bot files live under node_modules/.cache so their imports of xstate and src/ resolve like a user's project.
const cache = join(root, 'node_modules', '.cache');
mkdirSync(cache, { recursive: true });
const tmp = mkdtempSync(join(cache, 'smsflow-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs the CLI as a child process, as a user would. */
function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('smsflow (top level)', () => {
  it('prints the commands and exits 2 without a command', () => {
    const r = cli();
    expect(r.code).toBe(2);
    for (const c of ['chat', 'visualize', 'paths', 'replay', 'lint']) expect(r.stdout).toContain(c);
  });

  it('exits 2 on an unknown command, naming it', () => {
    const r = cli('serve');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "serve"');
  });

  it('the bin launcher runs the same CLI', () => {
    const r = spawnSync(process.execPath, [join(root, 'bin/smsflow.mjs'), 'lint', '--help'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: smsflow lint');
  });
});

describe('smsflow chat', () => {
  it('runs a script: replies with segments and encoding, state and captured fields', () => {
    const script = join(tmp, 'script.txt');
    writeFileSync(script, '# a booking\nI want to book\n1\ntomorrow 3pm\nYES\n');
    const r = cli('chat', 'booking', '--script', script);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('> I want to book');
    expect(r.stdout).toMatch(/< Which service would you like\?.*\(\d seg, GSM-7\)/);
    expect(r.stdout).toContain('effect calendar.check');
    expect(r.stdout).toContain('state: booking "booked"');
    expect(r.stdout).toContain('"service":"haircut"');
  });

  it('loads a bot file (default export is a BotConfig) and honours --start', () => {
    const bot = join(tmp, 'bot.ts');
    writeFileSync(
      bot,
      `import { bookingFlow } from '${root}/machines/booking.js';
export default {
  program: { name: 'Cut Club', helpContact: 'call 212-555-0100' },
  timeZone: 'America/New_York',
  flows: [bookingFlow({ services: [{ id: 'cut', name: 'Cut', durationMinutes: 30 }], hours: { 1: ['09:00', '17:00'] } })],
};
`,
    );
    const script = join(tmp, 'help.txt');
    writeFileSync(script, 'HELP\n');
    const r = cli('chat', bot, '--script', script, '--start', '2026-12-01T15:00:00Z');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Cut Club: Help at call 212-555-0100');
  });

  it('exits 2 with the help on a bad --start', () => {
    const r = cli('chat', 'booking', '--start', 'soon');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--start must be an ISO time');
    expect(r.stderr).toContain('Usage: smsflow chat');
  });

  it('exits 1 naming the flow when it does not exist', () => {
    const r = cli('chat', 'pizza', '--script', 'x');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"pizza" is not a built-in flow');
  });
});

describe('smsflow paths', () => {
  it('prints transcripts that reach the booking', () => {
    const r = cli('paths', 'booking');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^## booking 01-/);
    expect(r.stdout).toContain('> I want to book');
    expect(r.stdout).toContain('< You are booked: Haircut on Wed Nov 25 at 3:00 PM.');
    expect(r.stdout).toContain('= booking booked');
    expect(r.stdout).toContain('* calendar.book failed');
  });

  it('writes at most --max-paths files with --out', () => {
    const dir = join(tmp, 'paths');
    const r = cli('paths', 'booking', '--out', dir, '--max-paths', '2');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('wrote 2 transcripts');
    expect(readFileSync(join(dir, 'booking-01-goodbye.txt'), 'utf8')).toMatch(/^> /);
  });

  it('exits 2 on a bad --max-depth', () => {
    const r = cli('paths', 'booking', '--max-depth', 'deep');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--max-depth must be a positive integer, got "deep"');
  });
});
