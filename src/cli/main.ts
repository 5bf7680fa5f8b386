#!/usr/bin/env node
/**
 * probectl-notify — the operator CLI (docs/cli.md). One file per command under commands/; arguments are
 * parsed with node:util parseArgs. Exit codes: 0 ok, 1 failure, 2 usage, 69 unavailable, 78 configuration.
 */
import { commandHelp, parseCommandArgs, type Command } from './command';
import { configValidate } from './commands/config-validate';
import { connectorsCheck } from './commands/connectors-check';
import { connectorsList } from './commands/connectors-list';
import { connectorsTest } from './commands/connectors-test';
import { incidentOpen } from './commands/incident-open';
import { incidentRedrive } from './commands/incident-redrive';
import { incidentResolve } from './commands/incident-resolve';
import { inboundGuideCommand } from './commands/inbound-guide';
import { incidentShow } from './commands/incident-show';
import { migrate } from './commands/migrate';
import { replayCheck } from './commands/replay-check';
import { setupTemporal } from './commands/setup-temporal';
import { sign } from './commands/sign';
import { EXIT, describeError, processIo, type Io } from './io';
import { forTerminal, line, terminalIo } from './terminal';

export const COMMANDS: Command[] = [
  configValidate, connectorsList, connectorsCheck, connectorsTest,
  incidentOpen, incidentShow, incidentResolve, incidentRedrive,
  inboundGuideCommand, sign, migrate, setupTemporal, replayCheck,
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.path.join(' ').length));
  return [
    'Usage: probectl-notify <command> [options]   (probectl-notify <command> --help for details)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'Configuration comes from the environment, as for the service (docs/configuration.md).',
    'Exit codes: 0 ok · 1 failure · 2 usage · 69 Temporal/Postgres unavailable · 78 configuration error',
  ].join('\n');
}

/**
 * Run one invocation; returns the exit code. Never throws. Everything it prints goes through terminalIo: no control
 * character reaches the terminal raw (see terminal.ts).
 */
export async function runCli(argv: string[], env: Record<string, string | undefined> = process.env, streams: Io = processIo): Promise<number> {
  const io = terminalIo(streams);
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(overview());
    return argv.length === 0 ? EXIT.usage : EXIT.ok;
  }
  // The longest command path that the arguments start with.
  const cmd = [...COMMANDS]
    .sort((a, b) => b.path.length - a.path.length)
    .find((c) => c.path.every((w, i) => argv[i] === w));
  if (!cmd) {
    const group = COMMANDS.filter((c) => c.path[0] === argv[0]);
    if (group.length > 0 && (argv.length === 1 || argv[1] === '--help' || argv[1] === '-h')) {
      io.out(`Usage: probectl-notify ${argv[0]} <${group.map((c) => c.path[1]).join('|')}> [options]\n\n${group.map((c) => `  ${c.path.join(' ')}  ${c.summary}`).join('\n')}`);
      return argv.length === 1 ? EXIT.usage : EXIT.ok;
    }
    io.err(`${line`unknown command: ${argv.slice(0, 2).join(' ').slice(0, 80)}`}\n\n${overview()}`);
    return EXIT.usage;
  }
  try {
    const { values, positionals } = parseCommandArgs(cmd, argv.slice(cmd.path.length));
    if (values.help) {
      io.out(commandHelp(cmd));
      return EXIT.ok;
    }
    return await cmd.run({ values, positionals, env, io });
  } catch (err) {
    const { code, message } = describeError(err);
    io.err(`probectl-notify ${cmd.path.join(' ')}: ${message}`);
    return code;
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`fatal: ${forTerminal(err instanceof Error ? err.message : String(err))}\n`);
      process.exitCode = EXIT.failure;
    },
  );
}
