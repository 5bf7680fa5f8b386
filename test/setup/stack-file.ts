import { basename, join } from 'node:path';

/**
 * Where global setup leaves the addresses of the shared dev server and test database for test files: one
 * file per jest run (several runs may share a checkout), named in PROBECTL_TEST_STACK_FILE, which global
 * setup sets and the in-band test files inherit.
 */
export function stackFile(): string {
  return process.env.PROBECTL_TEST_STACK_FILE ?? join(__dirname, '..', '..', 'test-artifacts', `stack-${process.pid}.json`);
}

/**
 * test-artifacts/build-<run>: the compiled service the tests that spawn worker processes run (test/helpers/worker-process.ts),
 * one per jest run (named after its stack file), shared by its workers; global teardown removes it.
 */
export function buildDirOfRun(): string {
  return join(__dirname, '..', '..', 'test-artifacts', `build-${basename(stackFile(), '.json').replace(/^stack-/, '')}`);
}

export interface SharedStack {
  temporalAddress: string;
  temporalPid?: number;
  temporalCli?: string;
  temporalDb?: string;
  databaseUrl: string;
  adminUrl: string;
  databaseName: string;
  /**
   * The workflow code bundled once for the run ({ code, sourceMap } as JSON), so test files do not each bundle it
   * (test/helpers/shared-bundle.ts); absent in a run whose global setup does not write it (the cluster suite).
   */
  workflowBundleFile?: string;
}
