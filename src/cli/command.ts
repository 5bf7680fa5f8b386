import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT, UsageError, type Io } from './io';

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | undefined>;

export interface CommandContext {
  values: Values;
  positionals: string[];
  env: Record<string, string | undefined>;
  io: Io;
}

export interface Command {
  /** Words that select it, e.g. ['connectors', 'list']. */
  path: string[];
  summary: string;
  /** Usage line and details, shown by --help. */
  help: string;
  options: Options;
  /** Positional arguments allowed (default none). */
  positionals?: boolean;
  run(ctx: CommandContext): Promise<number>;
}

export const HELP_OPTION: Options = { help: { type: 'boolean', short: 'h' } };

export function commandHelp(cmd: Command): string {
  return `probectl-notify ${cmd.path.join(' ')} — ${cmd.summary}\n\n${cmd.help.trim()}\n\nExit codes: 0 ok · 1 failure · 2 usage · 69 Temporal/Postgres unavailable · 78 configuration error\n`;
}

/** Parse a command's arguments strictly; unknown options and stray positionals are usage errors (2). */
export function parseCommandArgs(cmd: Command, argv: string[]): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...HELP_OPTION, ...cmd.options },
      strict: true,
      allowPositionals: cmd.positionals ?? false,
    });
    rejectBlank(cmd, values as Values, positionals);
    return { values: values as Values, positionals };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // parseArgs names the option, never a value.
    throw new UsageError(`${(err as Error).message}\nsee: probectl-notify ${cmd.path.join(' ')} --help`);
  }
}

const blank = (v: string) => v.trim() === '';

/**
 * An option given with an empty or blank value is a usage error naming it, for every option of every command: an
 * unset variable (`--tenant "$T"`) must not read as "option not given" — for `--tenant` that would mean every tenant.
 */
function rejectBlank(cmd: Command, values: Values, positionals: string[]): void {
  for (const [name, v] of Object.entries(values)) {
    const given = typeof v === 'string' ? [v] : Array.isArray(v) ? v : [];
    if (given.some(blank)) {
      throw new UsageError(`--${name} was given an empty or blank value; give a value or leave the option out\nsee: probectl-notify ${cmd.path.join(' ')} --help`);
    }
  }
  if (positionals.some(blank)) throw new UsageError(`an argument is empty or blank\nsee: probectl-notify ${cmd.path.join(' ')} --help`);
}

export function str(values: Values, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

export function required(values: Values, key: string, cmd: Command): string {
  const v = str(values, key);
  if (v === undefined || v === '') throw new UsageError(`--${key} is required\nsee: probectl-notify ${cmd.path.join(' ')} --help`);
  return v;
}

export { EXIT };
