/**
 * The list of suites `npm test` runs one at a time (test/setup/serial-suites.js): each entry names a test file the
 * everyday suite runs, once, so a renamed or moved file cannot drop out of the serial phase unnoticed (it would then
 * run beside another suite, or, with the old name, nowhere).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { SERIAL_SUITES } from '../setup/serial-suites';
const ROOT = join(__dirname, '..', '..');

describe('the serial suites of npm test', () => {
  test('the list is not empty and has no repeats', () => {
    expect(SERIAL_SUITES.length).toBeGreaterThan(0);
    expect(new Set(SERIAL_SUITES).size).toBe(SERIAL_SUITES.length);
  });

  test.each(SERIAL_SUITES)('%s is a test file npm test runs', (file) => {
    expect(file).toMatch(/^test\/(?!cluster\/|faults\/)[\w/.-]+\.test\.ts$/);
    expect(existsSync(join(ROOT, file))).toBe(true);
  });
});
