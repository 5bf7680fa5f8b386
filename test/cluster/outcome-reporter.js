/**
 * Writes the run's outcome where the cluster suite's global teardown reads it (PROBECTL_CLUSTER_OUTCOME_FILE):
 * a failed run keeps the Temporal server's state and log for diagnosis. Reporters finish before teardown.
 */
const { writeFileSync } = require('node:fs');

class OutcomeReporter {
  onRunComplete(_contexts, results) {
    const file = process.env.PROBECTL_CLUSTER_OUTCOME_FILE;
    if (!file) return;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites + results.numFailedTestSuites + results.numPendingTests + results.numTodoTests;
    writeFileSync(file, JSON.stringify({ failed, passed: results.numPassedTests, seconds: Math.round((Date.now() - results.startTime) / 1000) }));
  }
}
module.exports = OutcomeReporter;
