const { existsSync, readFileSync, rmSync } = require('node:fs');
const { relative } = require('node:path');
const { checkRun } = require('./answer-contract');

/**
 * Prints the plain closing line CI reads: `N passed, M failed` from jest's own results. A suite that
 * failed to run (setup error, compile error) counts its tests as failed, and at least one failure.
 * Before it, the answer contract (answer-contract.js): every answer an app gave during the run has a status
 * docs/openapi.json lists for its route; each offending (method, route, status) is printed and counted as a
 * failure, and fails the run. A test file started more than once (file-starts.ts: a jest worker died under it and jest
 * re-ran it) counts as one failure each.
 */
/** How many of the slowest test files the summary names. */
const SLOWEST_SHOWN = 15;

class SummaryReporter {
  #error = undefined;

  getLastError() {
    return this.#error;
  }

  onRunComplete(_contexts, results) {
    let contract;
    try {
      contract = checkRun();
    } catch (err) {
      contract = { answers: 0, offending: [`the answer check could not run: ${err instanceof Error ? err.message : String(err)}`] };
    }
    if (process.env.PROBECTL_NOTIFY_ANSWER_LOG) rmSync(process.env.PROBECTL_NOTIFY_ANSWER_LOG, { force: true });
    if (contract.offending.length > 0) {
      process.stdout.write(`\nanswers whose status docs/openapi.json does not list for their route (${contract.offending.length}):\n${contract.offending.map((o) => `  ${o}`).join('\n')}\n`);
      this.#error = new Error(`${contract.offending.length} answer(s) outside the OpenAPI document`);
    } else if (contract.answers > 0) {
      process.stdout.write(`\nanswer contract: ${contract.answers} distinct (method, route, status) answers, all listed in docs/openapi.json\n`);
    }
    // A file started more than once: a jest worker died under it and jest ran it again (test/setup/file-starts.ts).
    const startsLog = process.env.PROBECTL_TEST_FILE_STARTS;
    const starts = new Map();
    if (startsLog && existsSync(startsLog)) {
      for (const f of readFileSync(startsLog, 'utf8').split('\n').filter(Boolean)) starts.set(f, (starts.get(f) ?? 0) + 1);
      rmSync(startsLog, { force: true });
    }
    const rerun = [...starts].filter(([, n]) => n > 1);
    if (rerun.length > 0) {
      process.stdout.write(`\ntest files started more than once (a jest worker died under them and jest ran them again), counted as failed:\n${rerun.map(([f, n]) => `  ${f} (${n} starts)`).join('\n')}\n`);
      this.#error ??= new Error(`${rerun.length} test file(s) re-run after a worker died`);
    }
    // Where the run's time went: the slowest files, so a run over its budget names what to look at first.
    const timed = results.testResults
      .map((suite) => ({ file: relative(process.cwd(), suite.testFilePath), ms: (suite.perfStats?.end ?? 0) - (suite.perfStats?.start ?? 0) }))
      .filter((t) => t.ms > 0)
      .sort((a, b) => b.ms - a.ms);
    if (timed.length > 1) {
      const total = timed.reduce((sum, t) => sum + t.ms, 0);
      const lines = timed.slice(0, SLOWEST_SHOWN).map((t) => `  ${(t.ms / 1000).toFixed(1).padStart(7)} s  ${t.file}`);
      process.stdout.write(`\nslowest test files (of ${timed.length}, ${(total / 1000).toFixed(0)} s in all, summed over workers):\n${lines.join('\n')}\n`);
    }
    let failed = results.numFailedTests + rerun.length;
    for (const suite of results.testResults) {
      if (suite.testExecError || (suite.failureMessage && suite.numFailingTests === 0 && suite.numPassingTests === 0)) {
        failed += Math.max(1, suite.testResults.length);
      }
    }
    if (results.numRuntimeErrorTestSuites > 0 && failed === 0) failed = results.numRuntimeErrorTestSuites;
    // A test that cannot run fails: skipped and todo tests are counted as failures, never as passes.
    const skipped = results.numPendingTests + results.numTodoTests;
    if (skipped > 0) process.stdout.write(`\n${skipped} skipped or todo test(s) counted as failed\n`);
    process.stdout.write(`\n${results.numPassedTests} passed, ${failed + skipped + contract.offending.length} failed\n`);
  }
}
module.exports = SummaryReporter;
