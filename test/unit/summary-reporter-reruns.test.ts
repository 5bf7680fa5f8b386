/**
 * The closing line counts a test file that started more than once (a jest worker died under it and jest ran it again,
 * test/setup/file-starts.ts) as failed: every count of starts, with and without other failures. The live path — a
 * worker that exits under a file in a `--maxWorkers=2` run — was checked by hand with a file that exits once.
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const SummaryReporter = require('../setup/summary-reporter.js') as new () => { onRunComplete(c: unknown, r: unknown): void; getLastError(): Error | undefined };

const results = (passed: number, failed: number) => ({ numPassedTests: passed, numFailedTests: failed, numPendingTests: 0, numTodoTests: 0, numRuntimeErrorTestSuites: 0, testResults: [] });

describe('the summary line and files re-run after a worker died', () => {
  const saved = { starts: process.env.PROBECTL_TEST_FILE_STARTS, answers: process.env.PROBECTL_NOTIFY_ANSWER_LOG };
  let dir: string;
  let out: string[];
  let write: typeof process.stdout.write;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'reruns-'));
    process.env.PROBECTL_TEST_FILE_STARTS = join(dir, 'starts.log');
    process.env.PROBECTL_NOTIFY_ANSWER_LOG = join(dir, 'answers.jsonl');
    writeFileSync(process.env.PROBECTL_NOTIFY_ANSWER_LOG, '');
    out = [];
    write = process.stdout.write;
    process.stdout.write = ((s: string) => out.push(String(s)) > 0) as typeof process.stdout.write;
  });
  afterEach(() => {
    process.stdout.write = write;
    for (const [k, v] of [['PROBECTL_TEST_FILE_STARTS', saved.starts], ['PROBECTL_NOTIFY_ANSWER_LOG', saved.answers]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test.each([
    ['every file once', ['a', 'b', 'c'], results(5, 0), '5 passed, 0 failed', 0],
    ['one file twice', ['a', 'b', 'a'], results(5, 0), '5 passed, 1 failed', 1],
    ['one file four times (every retry)', ['a', 'a', 'a', 'a', 'b'], results(5, 0), '5 passed, 1 failed', 1],
    ['two files twice, with a failure of their own', ['a', 'b', 'a', 'b'], results(4, 1), '4 passed, 3 failed', 2],
    ['no file started (an empty log)', [], results(0, 0), '0 passed, 0 failed', 0],
  ])('%s', (_what, starts, r, line, rerun) => {
    writeFileSync(process.env.PROBECTL_TEST_FILE_STARTS!, starts.map((f) => `/x/${f}.test.ts\n`).join(''));
    const reporter = new SummaryReporter();
    reporter.onRunComplete(undefined, r);
    const text = out.join('');
    expect(text.trim().split('\n').at(-1)).toBe(line);
    expect(text.includes('started more than once')).toBe(rerun > 0);
    expect(reporter.getLastError() !== undefined).toBe(rerun > 0);
    expect(existsSync(process.env.PROBECTL_TEST_FILE_STARTS!)).toBe(false); // read once, removed
  });
});
