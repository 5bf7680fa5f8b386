/**
 * The suites `npm run test:long` runs (scripts/test-long.sh, jest.long.config.js), which `npm test` leaves out to stay
 * under its 20 minutes: long waits that need the machine to themselves, as the serial phase's suites do, and that
 * mostly wait on timeouts rather than check much per minute — worker processes SIGKILLed in a crash window (each
 * retry waits out a heartbeat or workflow-task timeout on the wall clock), the graceful SIGTERM drain, 10,000
 * signals to one incident on a dev server of its own, and per-connector reconciliation's passes over 200 incidents. CI runs the command as its own counted step after `npm test`.
 * test/unit/serial-suites.test.ts checks that every entry names a test file, and that every test file is run by exactly
 * one of the commands. Plain JavaScript: jest.config.js and jest.long.config.js load it.
 */
const LONG_SUITES = [
  // Kills of worker processes: the retry waits out a heartbeat (ordinary activity) or workflow-task (local first
  // attempt) timeout.
  'test/e2e/pagerduty-crash.test.ts',
  'test/e2e/connectors-crash.test.ts',
  'test/e2e/refused-after-crash.test.ts',
  // SIGTERM of `main.js all`: unready first, then the drain, with eager start on and off.
  'test/e2e/shutdown.test.ts',
  // Its own dev server and 10,000 signals within a budget.
  'test/e2e/continue-as-new.test.ts',
  // Reads per reconciliation pass against elapsed time: 200 open incidents, then passes until one's listing window
  // (Jira's whole minutes) starts after the burst — about 90 s of waiting.
  'test/e2e/reconcile-per-connector.test.ts',
];

module.exports = { LONG_SUITES };
