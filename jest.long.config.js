/**
 * The long-wait suites (`npm run test:long`, scripts/test-long.sh; CI runs it as its own step after `npm test`): the
 * everyday suite's set-up (dev server, database, answer contract, closing line) on the files of
 * test/setup/long-suites.js — worker kills in crash windows, the SIGTERM drain, the 10,000-signal continue-as-new,
 * per-connector reconciliation over 200 incidents —
 * which `npm test` leaves out to stay short. One at a time, as `npm test`'s serial phase runs such suites. The files
 * are chosen here, so jest's own filters (a path, `-t`) narrow within them.
 * @type {import('jest').Config}
 */
const base = require('./jest.config');
const { LONG_SUITES } = require('./test/setup/long-suites');

module.exports = {
  ...base,
  testMatch: LONG_SUITES.map((f) => `<rootDir>/${f}`),
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/', '<rootDir>/test/faults/'],
};
