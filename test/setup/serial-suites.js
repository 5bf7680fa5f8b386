/**
 * The suites `npm test` runs one at a time, after the others have run two at a time (scripts/test.sh,
 * PROBECTL_TEST_PHASE in jest.config.js). A suite belongs here when what it asserts depends on having the machine
 * to itself: pacing rates and grant counts, deadlines and timeouts measured against the wall clock, kills and
 * restarts of processes, or CPU-heavy work on four Node lines. Everything else shares the two cores with one
 * other suite: each test file has its own task queue, tenants and incident ids (test/helpers/shared.ts uniqueId),
 * so suites do not see each other's work. The long-wait suites of that kind (worker kills, the SIGTERM drain, the
 * 10,000-signal continue-as-new, per-connector reconciliation's 200 incidents) are not here: `npm run test:long` runs them (test/setup/long-suites.js).
 * test/unit/serial-suites.test.ts checks that every entry names a file `npm test` runs. Plain JavaScript: jest.config.js
 * loads it.
 */
const SERIAL_SUITES = [
  // Pacing: rates, grant counts and spacing at the doubles; pace-store also locks the shared pace_buckets table.
  'test/e2e/connectors-pacing.test.ts',
  'test/e2e/pacing-storm.test.ts',
  'test/e2e/pacing-workers.test.ts',
  'test/unit/db/pace-store.test.ts',
  'test/e2e/routing-and-fairness.test.ts',
  'test/e2e/task-queue-priority.test.ts',
  // Heartbeat timing of a worker process. (Its kills and drains have their own command: test/setup/long-suites.js.)
  'test/e2e/heartbeat.test.ts',
  // Deadlines of the first workflow task and of the pacing deferral, against the wall clock.
  'test/e2e/eager-start.test.ts',
  'test/deploy/exported-metrics.test.ts',
  // Local first attempts within a 3 s limit on the wall clock, fallback back-offs measured at the doubles.
  'test/e2e/local-first-opens.test.ts',
  // Four Node lines, each replaying every recorded history under a timeout.
  'test/deploy/workflow-thread-preload.test.ts',
  // Locks the shared incident_integrations table, stalling every other suite's mirror.
  'test/unit/db/record-statement.test.ts',
];

module.exports = { SERIAL_SUITES };
