/** test/setup/long-suites.js: the suites `npm run test:long` runs and `npm test` leaves out (paths from the repository root). */
export const LONG_SUITES: readonly string[];
