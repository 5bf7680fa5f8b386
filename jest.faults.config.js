/**
 * The fault matrix (`npm run test:faults`, reduced, as CI runs it after `npm test`; `npm run faults`, full): the
 * everyday suite's set-up (dev server, database, answer contract, closing line) with test/faults included, which
 * `npm test` leaves out to stay short (docs/faults.md).
 * @type {import('jest').Config}
 */
const base = require('./jest.config');

module.exports = { ...base, testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/'] };
