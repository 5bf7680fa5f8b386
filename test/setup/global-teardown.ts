import { readFileSync, rmSync } from 'node:fs';
import { Client } from 'pg';
import type { DevServer } from './temporal-server';
import { buildDirOfRun, stackFile, type SharedStack } from './stack-file';

export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as Record<string, unknown>).__PROBECTL_DEV_SERVER__ as DevServer | undefined;
  await server?.stop();
  let stack: SharedStack | undefined;
  try {
    stack = JSON.parse(readFileSync(stackFile(), 'utf8')) as SharedStack;
  } catch {
    return;
  }
  rmSync(stackFile(), { force: true });
  if (stack.workflowBundleFile) rmSync(stack.workflowBundleFile, { force: true });
  rmSync(buildDirOfRun(), { recursive: true, force: true });
  if (stack.temporalDb) for (const suffix of ['', '-wal', '-shm']) rmSync(stack.temporalDb + suffix, { force: true });
  const admin = new Client({ connectionString: stack.adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${stack.databaseName} WITH (FORCE)`);
  await admin.end();
}
