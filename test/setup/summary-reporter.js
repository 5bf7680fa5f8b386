const { rmSync } = require('node:fs');
const { checkRun } = require('./answer-contract');

/**
 * Prints the plain closing line CI reads: `N passed, M failed` from jest's own results. A suite that
 * failed to run (setup error, compile error) counts its tests as failed, and at least one failure.
 * Before it, the answer contract (answer-contract.js): every answer an app gave during the run has a status
 * docs/openapi.json lists for its route; each offending (method, route, status) is printed and counted as a
 * failure, and fails the run.
 */
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
    let failed = results.numFailedTests;
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
