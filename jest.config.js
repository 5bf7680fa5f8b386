/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The cluster suite has its own config (jest.cluster.config.js, `npm run test:cluster`); the fault matrix its own
  // command (jest.faults.config.js, `npm run test:faults`, reduced, and `npm run faults`, full). CI runs all three.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/', '<rootDir>/test/faults/'],
  testTimeout: 120_000,
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: { warnOnly: false } }] },
  reporters: ['default', ['<rootDir>/test/setup/summary-reporter.js', {}]],
};
