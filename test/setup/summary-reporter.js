/**
 * Prints the plain closing line CI reads: `N passed, M failed` from jest's own results. A suite that
 * failed to run (setup error, compile error) counts its tests as failed, and at least one failure.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
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
    process.stdout.write(`\n${results.numPassedTests} passed, ${failed + skipped} failed\n`);
  }
}
module.exports = SummaryReporter;
