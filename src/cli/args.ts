/** Argument parsing shared by the CLI commands: `node:util` parseArgs, with usage errors as exit code 2. */
import { parseArgs } from 'node:util';

/** A usage mistake (unknown option, missing argument): the CLI prints it with the command's help, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Where a command writes: stdout for results, stderr for progress and errors. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** True when stderr is a terminal (progress bars only then). */
  isTty: boolean;
}

/** The process's own streams. */
export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  isTty: Boolean(process.stderr.isTTY),
};

/** Option spec for {@link parseCommand}: string options and boolean flags. */
export interface OptionSpec {
  [name: string]: { type: 'string' | 'boolean'; short?: string };
}

/** Parsed options: strings, booleans, and the positional arguments. */
export interface ParsedCommand {
  values: { [name: string]: string | boolean | undefined };
  positionals: string[];
}

/**
 * Parses `argv` strictly: unknown options and missing values become a {@link UsageError}.
 *
 * @param argv - the arguments after the command name
 * @param options - the command's options (`help` is added)
 * @param positionals - how many positional arguments are required
 * @returns values and positionals
 * @example
 * parseCommand(['booking', '--format', 'dot'], { format: { type: 'string' } }, 1);
 */
export function parseCommand(argv: string[], options: OptionSpec, positionals: number): ParsedCommand {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify .*$/s, '.'));
  }
  const values = parsed.values as ParsedCommand['values'];
  if (!values.help && parsed.positionals.length < positionals)
    throw new UsageError(`expected ${positionals} argument(s), got ${parsed.positionals.length}.`);
  if (parsed.positionals.length > Math.max(positionals, 1))
    throw new UsageError(`unexpected argument "${parsed.positionals[positionals]}".`);
  return { values, positionals: parsed.positionals };
}

/**
 * Reads a positive integer option, or the default.
 *
 * @example
 * intOption({ max: '20' }, 'max', 50) // 20
 */
export function intOption(values: ParsedCommand['values'], name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`--${name} must be a positive integer, got "${String(raw)}".`);
  return n;
}
