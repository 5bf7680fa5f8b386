/**
 * The cluster suite (`npm run test:cluster`): Temporal server 1.29.1 on Postgres (scripts/temporal-cluster.sh),
 * three worker processes and two API replicas. Not part of `npm test`; CI runs it as its own step with
 * CLUSTER_MODE=reduced.
 * @type {import('jest').Config}
 */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test/cluster'],
  testMatch: ['**/*.cluster.test.ts'],
  testTimeout: 600_000,
  globalSetup: '<rootDir>/test/cluster/global-setup.ts',
  globalTeardown: '<rootDir>/test/cluster/global-teardown.ts',
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: { warnOnly: false } }] },
  reporters: ['default', ['<rootDir>/test/setup/summary-reporter.js', {}], ['<rootDir>/test/cluster/outcome-reporter.js', {}]],
};
