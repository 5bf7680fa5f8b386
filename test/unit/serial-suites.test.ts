/**
 * The lists of suites the test commands split between them: the suites `npm test` runs one at a time
 * (test/setup/serial-suites.js) and the long-wait suites `npm run test:long` runs instead (test/setup/long-suites.js).
 * Each entry names a test file, once, so a renamed or moved file cannot drop out of its list unnoticed (it would then
 * run beside another suite, or, with the old name, nowhere). And, as jest itself lists them, every test file is run by
 * exactly one of the commands: `npm test` (its parallel or its serial phase), `npm run test:long`, `npm run test:faults`
 * or `npm run test:cluster`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

import { LONG_SUITES } from '../setup/long-suites';
import { SERIAL_SUITES } from '../setup/serial-suites';
const ROOT = join(__dirname, '..', '..');

describe.each([
  ['the serial suites of npm test', SERIAL_SUITES],
  ['the suites of npm run test:long', LONG_SUITES],
] as const)('%s', (_name, suites) => {
  test('the list is not empty and has no repeats', () => {
    expect(suites.length).toBeGreaterThan(0);
    expect(new Set(suites).size).toBe(suites.length);
  });

  test.each(suites)('%s is a test file of test/ (not of the cluster suite or the fault matrix)', (file) => {
    expect(file).toMatch(/^test\/(?!cluster\/|faults\/)[\w/.-]+\.test\.ts$/);
    expect(existsSync(join(ROOT, file))).toBe(true);
  });
});

test('no suite is in both lists', () => {
  expect(SERIAL_SUITES.filter((f) => LONG_SUITES.includes(f))).toEqual([]);
});

/** Every test file under test/, from the repository root. */
function testFiles(dir = join(ROOT, 'test')): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return testFiles(p);
    return name.endsWith('.test.ts') ? [relative(ROOT, p)] : [];
  });
}

/** The files a command's jest configuration runs, as jest lists them (`jest --listTests`), from the repository root. */
function listed(config: string, env: Record<string, string>): string[] {
  // A clean environment: this file runs inside a phase of npm test, whose PROBECTL_TEST_PHASE must not leak in.
  const r = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), '--listTests', '--json', '-c', config], {
    cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`jest --listTests -c ${config} exited with ${r.status}:\n${r.stderr}`);
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as string[]).map((f) => relative(ROOT, f)).sort();
}

describe('every test file is run by exactly one test command', () => {
  const COMMANDS: Array<[string, string, Record<string, string>]> = [
    ['npm test (parallel phase)', 'jest.config.js', { PROBECTL_TEST_PHASE: 'parallel' }],
    ['npm test (serial phase)', 'jest.config.js', { PROBECTL_TEST_PHASE: 'serial' }],
    ['npm run test:long', 'jest.long.config.js', {}],
    ['npm run test:faults', 'jest.faults.config.js', {}],
    ['npm run test:cluster', 'jest.cluster.config.js', {}],
  ];
  const lists = new Map<string, string[]>();
  beforeAll(() => {
    for (const [name, config, env] of COMMANDS) lists.set(name, listed(config, env));
  }, 120_000);

  test('each file under test/ named *.test.ts is listed by one command, and every listed file is one of them', () => {
    const files = testFiles();
    expect(files.length).toBeGreaterThan(100);
    const runBy = new Map<string, string[]>();
    for (const [name, listedFiles] of lists) for (const f of listedFiles) runBy.set(f, [...(runBy.get(f) ?? []), name]);
    expect(files.map((file) => ({ file, runBy: runBy.get(file) ?? [] })).filter((f) => f.runBy.length !== 1)).toEqual([]);
    expect([...runBy.keys()].filter((f) => !files.includes(f))).toEqual([]);
  });

  test('the serial phase runs the serial suites, npm run test:long the long ones', () => {
    expect(lists.get('npm test (serial phase)')).toEqual([...SERIAL_SUITES].sort());
    expect(lists.get('npm run test:long')).toEqual([...LONG_SUITES].sort());
  });

  // `npm run faults` (the matrix at full size, not a CI step) adds the two pacing bursts at their full size: files that
  // npm test's serial phase runs at everyday size, the only ones run by two commands, on purpose.
  test('npm run faults (FAULTS_MODE=full) adds exactly the two pacing bursts of the serial phase', () => {
    const full = listed('jest.faults.config.js', { FAULTS_MODE: 'full' });
    const added = full.filter((f) => !lists.get('npm run test:faults')!.includes(f));
    expect(added).toEqual(['test/e2e/pacing-storm.test.ts', 'test/e2e/pacing-workers.test.ts']);
    for (const f of added) expect(SERIAL_SUITES).toContain(f);
  });
});
