/**
 * The fault matrix (`npm run test:faults`, reduced, as CI runs it after `npm test`; `npm run faults`, full): the
 * everyday suite's set-up (dev server, database, answer contract, closing line) on test/faults, which `npm test`
 * leaves out to stay short (docs/faults.md). With FAULTS_MODE=full it also takes the two pacing bursts of test/e2e
 * at their full size. The files are chosen here, so jest's own filters (a path, `-t`) narrow within them.
 * @type {import('jest').Config}
 */
const base = require('./jest.config');

const full = process.env.FAULTS_MODE === 'full';

module.exports = {
  ...base,
  testMatch: [
    '<rootDir>/test/faults/**/*.faults.test.ts',
    ...(full ? ['<rootDir>/test/e2e/pacing-workers.test.ts', '<rootDir>/test/e2e/pacing-storm.test.ts'] : []),
  ],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/'],
};
