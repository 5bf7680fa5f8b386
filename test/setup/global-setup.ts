import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { migrate } from '../../src/db/migrate';
import { bundleWorkflows } from '../../src/runtime/workflow-bundle';
import { createPool } from '../../src/db/pool';
import { Secret } from '../../src/config/secret';
import { buildDirOfRun, stackFile, type SharedStack } from './stack-file';
import { findTemporalCli, startDevServer, type DevServer } from './temporal-server';

/**
 * One Temporal dev server and one fresh Postgres database for the whole run. Postgres is the machine's
 * local server (PG_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres); without it the run
 * fails here, loudly, rather than skipping anything.
 */
export default async function globalSetup(): Promise<void> {
  const artifacts = join(__dirname, '..', '..', 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  // Every app built during the run records (method, route, status) of its answers here; the summary reporter
  // checks them against docs/openapi.json after the last test (test/setup/answer-contract.js).
  process.env.PROBECTL_NOTIFY_ANSWER_LOG ??= join(artifacts, `answers-${process.pid}.jsonl`);
  writeFileSync(process.env.PROBECTL_NOTIFY_ANSWER_LOG, '');
  // Every test file's start, so the summary reporter sees a file that a crashed jest worker made run twice.
  process.env.PROBECTL_TEST_FILE_STARTS ??= join(artifacts, `file-starts-${process.pid}.log`);
  writeFileSync(process.env.PROBECTL_TEST_FILE_STARTS, '');

  // A killed run with this pid may have left its worker build (and lock): no worker exists yet, so clear them.
  process.env.PROBECTL_TEST_STACK_FILE = stackFile();
  for (const leftover of [buildDirOfRun(), `${buildDirOfRun()}.lock`]) rmSync(leftover, { recursive: true, force: true });

  const adminUrl = process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const databaseName = `probectl_notify_test_${process.pid}_${Date.now()}`;
  const admin = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`tests need the local Postgres (PG_ADMIN_URL=${adminUrl.replace(/:[^:@/]*@/, ':<secret>@')}): ${(err as Error).message}`);
  }
  await admin.query(`CREATE DATABASE ${databaseName}`);
  await admin.end();
  const databaseUrl = adminUrl.replace(/\/[^/]*$/, `/${databaseName}`);
  const cli = findTemporalCli();
  const dbFile = join(artifacts, `temporal-${process.pid}.sqlite`);
  // The workflow code is bundled once here, while the server starts, instead of once per test file (about 4 s each).
  const workflowBundleFile = join(artifacts, `workflow-bundle-${process.pid}.json`);
  let started: PromiseSettledResult<DevServer> | undefined;
  try {
    const pool = createPool(new Secret(databaseUrl));
    try {
      await migrate(pool);
    } finally {
      await pool.end();
    }
    let bundled: PromiseSettledResult<void>;
    [started, bundled] = await Promise.allSettled([
      startDevServer({ cli, dbFile }),
      bundleWorkflows().then(({ code, sourceMap }) => writeFileSync(workflowBundleFile, JSON.stringify({ code, sourceMap }))),
    ]);
    if (started.status === 'rejected') throw started.reason;
    if (bundled.status === 'rejected') throw bundled.reason;
  } catch (err) {
    // Jest runs no teardown after a failed setup: stop what did start, drop the database and the run's files here.
    if (started?.status === 'fulfilled') await started.value.stop().catch(() => undefined);
    for (const f of [workflowBundleFile, process.env.PROBECTL_NOTIFY_ANSWER_LOG, process.env.PROBECTL_TEST_FILE_STARTS]) if (f) rmSync(f, { force: true });
    for (const suffix of ['', '-wal', '-shm']) rmSync(dbFile + suffix, { force: true });
    const drop = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
    await drop.connect().then(() => drop.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`)).catch(() => undefined).finally(() => drop.end().catch(() => undefined));
    throw err;
  }
  const server = started.value;
  const stack: SharedStack = {
    temporalAddress: server.address,
    temporalPid: server.process.pid,
    temporalCli: cli,
    temporalDb: dbFile,
    databaseUrl,
    adminUrl,
    databaseName,
    workflowBundleFile,
  };
  writeFileSync(stackFile(), JSON.stringify(stack, null, 2));
  (globalThis as Record<string, unknown>).__PROBECTL_DEV_SERVER__ = server;
}
