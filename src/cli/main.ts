/**
 * The `smsflow` command line: `chat`, `visualize`, `paths`, `replay`, `lint`. Each command is a function of
 * its arguments and an output sink that returns the exit code: 0 ok, 1 the command found a problem, 2 a
 * usage error.
 */
import { isSmsflowError } from '../core/errors.js';
import { type CliIo, processIo, UsageError } from './args.js';

type Command = {
  summary: string;
  help: () => Promise<string>;
  run: (argv: string[], io: CliIo) => Promise<number>;
};

// Commands load on demand: `smsflow chat` should not pay for xstate/graph or the replay machinery. The
// imports stay literal so a bundler can follow them.
const commands: { [name: string]: Command } = {
  chat: {
    summary: 'talk to a bot in the terminal (or run a script of messages)',
    help: async () => (await import('./chat.js')).chatHelp,
    run: async (argv, io) => (await import('./chat.js')).runChat(argv, io),
  },
  visualize: {
    summary: 'draw a flow as Mermaid, DOT, JSON or SVG',
    help: async () => (await import('./visualize.js')).visualizeHelp,
    run: async (argv, io) => (await import('./visualize.js')).runVisualize(argv, io),
  },
  paths: {
    summary: 'generate conversations that cover a flow, as transcripts',
    help: async () => (await import('./paths.js')).pathsHelp,
    run: async (argv, io) => (await import('./paths.js')).runPaths(argv, io),
  },
  replay: {
    summary: 'replay recorded conversations through a bot and show what changed',
    help: async () => (await import('./replay.js')).replayHelp,
    run: async (argv, io) => (await import('./replay.js')).runReplay(argv, io),
  },
  lint: {
    summary: 'check flows, templates and carrier registration basics',
    help: async () => (await import('./lint.js')).lintHelp,
    run: async (argv, io) => (await import('./lint.js')).runLint(argv, io),
  },
};

/** The top-level help. */
export function mainHelp(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `Usage: smsflow <command> [options]\n\nCommands:\n${rows.join('\n')}\n\nRun "smsflow <command> --help" for a command's options.\n`;
}

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code. Never calls process.exit.
 *
 * @param argv - e.g. `['visualize', 'booking', '--format', 'dot']`
 * @param io - output streams (tests pass their own)
 * @returns 0 ok, 1 problems found or the command failed, 2 usage error
 * @example
 * process.exitCode = await main(process.argv.slice(2));
 */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(mainHelp());
    return name === undefined ? 2 : 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    io.err(`smsflow: unknown command "${name}".\n\n${mainHelp()}`);
    return 2;
  }
  try {
    return await cmd.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`smsflow ${name}: ${error.message}\n\n${await cmd.help()}`);
      return 2;
    }
    // Coded errors already say how to fix; anything else is a bug worth a stack trace.
    io.err(isSmsflowError(error) ? `${error.message}\n` : `${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

/**
 * Runs the CLI on `process.argv` and sets `process.exitCode`. A closed stdout (`smsflow paths … | head`) ends
 * the process quietly instead of crashing with EPIPE.
 *
 * @example
 * await runFromProcess();
 */
export async function runFromProcess(): Promise<void> {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}

// Run when executed directly (`node --import tsx src/cli/main.ts …`); the bin launcher calls runFromProcess.
if (/[\\/]cli[\\/]main\.(ts|js|mjs)$/.test(process.argv[1] ?? '')) void runFromProcess();
