/**
 * An option given with an empty or blank value (`--tenant "$T"` with T unset) is a usage error naming the option — for
 * every string option of every command, read from the commands themselves so a new option is covered when it is
 * added — and never reads as "option not given": for `--tenant` that meant every tenant (`incident show inc-b
 * --tenant ""` showed tenant b's incident to whoever asked; `connectors list --tenant ""` listed all tenants).
 * Pure: runCli with its own streams; nothing is contacted (TEMPORAL_ADDRESS is a closed port, should a command run).
 */
import { parseLabels } from '../../src/cli/commands/incident-open';
import { lookup } from '../../src/cli/commands/incident-show';
import { FailureError, type Io } from '../../src/cli/io';
import { COMMANDS, runCli } from '../../src/cli/main';
import type { TemporalSession } from '../../src/cli/temporal';

const OTHER = 'globexother';
const ENV = {
  PROBECTL_NOTIFY_CONNECTORS: `acme|pagerduty|https://events.pagerduty.com/v2/enqueue|R0UT1NGKEYacme0000000000000001,${OTHER}|pagerduty|https://events.pagerduty.com/v2/enqueue|R0UT1NGKEYglobex00000000000002`,
  PROBECTL_NOTIFY_INBOUND: `sn-other:${OTHER}:servicenow:inbound-secret-0123456789abcdef`,
  TEMPORAL_ADDRESS: '127.0.0.1:1',
};

/** Otherwise valid arguments of each command (the required ones), so the blank option is the only thing wrong. */
const VALID: Record<string, string[]> = {
  'connectors test': ['--tenant', 'acme', '--connector', 'pagerduty', '--severity', 'info', '--yes'],
  'incident open': ['--tenant', 'acme', '--incident', 'inc-b', '--title', 'Loss on edge-3', '--severity', 'critical', '--summary', 's', '--url', 'https://x.example/1', '--label', 'team=net'],
  'incident show': ['--incident', 'inc-b', '--tenant', 'acme'],
  'incident resolve': ['--incident', 'inc-b', '--tenant', 'acme', '--source', 'api', '--actor', 'alice', '--reason', 'fixed'],
  'incident redrive': ['--incident', 'inc-b', '--connector', 'pagerduty', '--tenant', 'acme', '--actor', 'alice', '--wait', '0'],
  'inbound guide': ['sn-other', '--base-url', 'https://notify.example.com'],
  sign: ['--entry', 'sn-other', '--file', '/dev/null', '--timestamp', 'now'],
  'replay-check': ['--limit', '1', '--query', "ProbectlTenant = 'acme'"],
  'setup-temporal': ['--namespace', 'default'],
  'connectors list': ['--tenant', 'acme'],
  'connectors check': ['--tenant', 'acme', '--connector', 'pagerduty'],
};

/** `argv` without option `--name` and its value. */
function without(argv: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === `--${name}`) i += 1;
    else out.push(argv[i]!);
  }
  return out;
}

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => void out.push(t), err: (t) => void err.push(t) };
  const code = await runCli(argv, ENV, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const BLANKS: Array<[string, string]> = [['empty', ''], ['a space', ' '], ['a tab', '\t'], ['spaces and a newline', '  \n']];
const ROWS = COMMANDS.flatMap((cmd) =>
  Object.entries(cmd.options)
    .filter(([, o]) => o.type === 'string')
    .flatMap(([name]) => BLANKS.flatMap(([what, v]) => [
      { command: cmd.path.join(' '), path: cmd.path, name, what, argv: [`--${name}`, v] },
      { command: cmd.path.join(' '), path: cmd.path, name, what: `${what}, as --${name}=`, argv: [`--${name}=${v}`] },
    ])),
);

test('the table covers every string option of every command, --tenant of each command that has one', () => {
  const tenantCommands = COMMANDS.filter((c) => 'tenant' in c.options).map((c) => c.path.join(' '));
  expect(tenantCommands.sort()).toEqual(['connectors check', 'connectors list', 'connectors test', 'incident open', 'incident redrive', 'incident resolve', 'incident show']);
  for (const c of tenantCommands) expect(ROWS.some((r) => r.command === c && r.name === 'tenant')).toBe(true);
  expect(ROWS.length).toBeGreaterThanOrEqual(8 * 25);
});

test.each(ROWS)('$command --$name given $what: usage error (2) naming it, nothing of another tenant', async ({ path, name, argv }) => {
  const r = await cli([...path, ...without(VALID[path.join(' ')] ?? [], name), ...argv]);
  expect(r.code).toBe(2);
  expect(r.err).toContain(`--${name} was given an empty or blank value`);
  expect(r.out).toBe('');
  expect(r.out + r.err).not.toContain(OTHER);
});

test.each(BLANKS)('a blank positional argument (%s) is a usage error too', async (_what, v) => {
  const r = await cli(['inbound', 'guide', v, '--base-url', 'https://notify.example.com']);
  expect(r.code).toBe(2);
  expect(r.err).toContain('an argument is empty or blank');
});

test('a real value still works: connectors list --tenant acme lists acme only', async () => {
  const r = await cli(['connectors', 'list', '--tenant', 'acme']);
  expect(r.code).toBe(0);
  expect(r.out).toContain('tenant acme');
  expect(r.out).not.toContain(OTHER);
});

describe('lookup: only `undefined` means "any tenant"', () => {
  const session = (tenantId: string) => ({ incidents: { tenantOf: async () => ({ tenantId, status: 'RUNNING' }) } }) as unknown as TemporalSession;

  test.each([[''], [' '], ['\t'], ['acme']])('tenant %j does not see tenant b\'s incident', async (tenant) => {
    await expect(lookup(session(OTHER), 'inc-b', tenant)).rejects.toBeInstanceOf(FailureError);
  });

  test('its own tenant, and no tenant at all, do', async () => {
    await expect(lookup(session(OTHER), 'inc-b', OTHER)).resolves.toEqual({ tenantId: OTHER, status: 'RUNNING' });
    await expect(lookup(session(OTHER), 'inc-b', undefined)).resolves.toEqual({ tenantId: OTHER, status: 'RUNNING' });
  });
});

describe('--label key=value', () => {
  test.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype', 'valueOf', 'team'])('key %s is kept as an own entry', (key) => {
    const labels = parseLabels([`${key}=x`, 'other=a=b'])!;
    expect(Object.keys(labels)).toEqual([key, 'other']);
    expect(JSON.parse(JSON.stringify(labels))).toEqual(JSON.parse(`{${JSON.stringify(key)}:"x","other":"a=b"}`));
  });

  test.each([['=x'], [' =x'], ['novalue'], ['\t=x']])('%j is a usage error', (l) => {
    expect(() => parseLabels([l])).toThrow('--label takes key=value with a non-blank key');
  });

  test('a key given twice is a usage error, not a silent overwrite', () => {
    expect(() => parseLabels(['team=a', 'team=b'])).toThrow('--label "team" is given twice');
    expect(() => parseLabels(['__proto__=a', '__proto__=b'])).toThrow('given twice');
  });

  test('none given: no labels; an empty value is a value', () => {
    expect(parseLabels(undefined)).toBeUndefined();
    expect(parseLabels([])).toBeUndefined();
    expect({ ...parseLabels(['team=']) }).toEqual({ team: '' });
  });
});
