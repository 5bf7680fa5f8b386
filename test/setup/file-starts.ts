/**
 * Each test file records its start (setupFilesAfterEnv): jest re-runs a file from the start, in a new worker, when
 * the worker running it dies (jest-runner's `maxRetries: 3`), so in the parallel phase a crash that passes on the next
 * try would read as a pass. The summary reporter counts a file that started more than once as a failure.
 */
import { appendFileSync } from 'node:fs';

const log = process.env.PROBECTL_TEST_FILE_STARTS;
if (log) appendFileSync(log, `${expect.getState().testPath ?? 'unknown'}\n`);
