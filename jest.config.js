const { SERIAL_SUITES } = require('./test/setup/serial-suites');
const { LONG_SUITES } = require('./test/setup/long-suites');

/**
 * PROBECTL_TEST_PHASE (set by scripts/test.sh): `parallel` leaves out the suites of test/setup/serial-suites.js,
 * `serial` runs only those; unset, every suite (a plain `npx jest`, or `npm test -- <filter>`).
 */
const phase = process.env.PROBECTL_TEST_PHASE;
if (phase !== undefined && phase !== 'parallel' && phase !== 'serial') throw new Error(`PROBECTL_TEST_PHASE=${phase}: expected parallel or serial`);
const serialPaths = SERIAL_SUITES.map((f) => `<rootDir>/${f}`);
const longPaths = LONG_SUITES.map((f) => `<rootDir>/${f}`);

/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: phase === 'serial' ? serialPaths : ['**/*.test.ts'],
  // The cluster suite has its own config (jest.cluster.config.js, `npm run test:cluster`); the fault matrix its own
  // command (jest.faults.config.js, `npm run test:faults`, reduced, and `npm run faults`, full); the long-wait suites
  // of test/setup/long-suites.js theirs (jest.long.config.js, `npm run test:long`). CI runs all four.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/', '<rootDir>/test/faults/', ...longPaths, ...(phase === 'parallel' ? serialPaths : [])],
  testTimeout: 120_000,
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  setupFilesAfterEnv: ['<rootDir>/test/setup/file-starts.ts'],
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  // Transpiled file by file (tsconfig.jest.json: isolatedModules): a type check of each file in each jest worker took an
  // eighth of the CPU of a run after a source change (41 suites, cold caches: 383 s -> 331 s); `npm test` checks the
  // types of the whole project once instead (scripts/test.sh).
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }] },
  reporters: ['default', ['<rootDir>/test/setup/summary-reporter.js', {}]],
};
