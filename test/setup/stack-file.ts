import { join } from 'node:path';

/** Where global setup leaves the addresses of the shared dev server and test database for test files. */
export const STACK_FILE = join(__dirname, '..', '..', 'test-artifacts', 'stack.json');

export interface SharedStack {
  temporalAddress: string;
  temporalPid?: number;
  temporalCli?: string;
  temporalDb?: string;
  databaseUrl: string;
  adminUrl: string;
  databaseName: string;
}
