/** test/setup/serial-suites.js: the suites npm test runs one at a time (paths from the repository root). */
export const SERIAL_SUITES: readonly string[];
