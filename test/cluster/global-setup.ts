import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { Secret } from '../../src/config/secret';
import { migrate } from '../../src/db/migrate';
import { createPool } from '../../src/db/pool';
import { stackFile, type SharedStack } from '../setup/stack-file';
import clusterGlobalTeardown from './global-teardown';
import { clusterPgEnv } from '../../dev/temporal-cluster';
import { ROOT, clusterScript, freePortBlock, type ClusterInfo } from './server';

/**
 * The cluster suite's global setup: its own probectl-notify database on the local Postgres, and a Temporal
 * server 1.29.1 on its own two databases and a free block of ports, through scripts/temporal-cluster.sh
 * (build — cached after the first time —, setup, start). The search attributes are registered by the
 * script with `probectl-notify setup-temporal`.
 */
export default async function clusterGlobalSetup(): Promise<void> {
  const t0 = Date.now();
  const runId = `${process.pid}_${Date.now().toString(36)}`;
  const artifactsDir = join(ROOT, 'test-artifacts', `cluster-${process.pid}`);
  mkdirSync(artifactsDir, { recursive: true });
  process.env.PROBECTL_CLUSTER_OUTCOME_FILE = join(artifactsDir, 'outcome.json');

  const adminUrl = process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const databaseName = `probectl_notify_cluster_${runId}`;
  const admin = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`the cluster suite needs the local Postgres (PG_ADMIN_URL): ${(err as Error).message}`);
  }
  await admin.query(`CREATE DATABASE ${databaseName}`);
  await admin.end();
  const databaseUrl = adminUrl.replace(/\/[^/]*$/, `/${databaseName}`);
  const pool = createPool(new Secret(databaseUrl));
  await migrate(pool);
  await pool.end();

  const port = await freePortBlock();
  const scriptEnv: Record<string, string> = {
    TEMPORAL_CLUSTER_PORT: String(port),
    TEMPORAL_CLUSTER_DB: `temporal_cluster_${runId}`,
    TEMPORAL_CLUSTER_STATE: join(artifactsDir, 'temporal'),
    ...clusterPgEnv(adminUrl),
  };
  const info: ClusterInfo = { scriptEnv, artifactsDir, timings: {} };
  const stack: SharedStack & { cluster: ClusterInfo } = {
    temporalAddress: `127.0.0.1:${port}`,
    databaseUrl,
    adminUrl,
    databaseName,
    cluster: info,
  };
  process.env.PROBECTL_TEST_STACK_FILE = stackFile();
  // Written before the server starts, so teardown finds what to clean up even when a step below fails.
  const save = () => writeFileSync(stackFile(), JSON.stringify(stack, null, 2));
  save();
  for (const step of ['build', 'setup', 'start'] as const) {
    try {
      const r = await clusterScript(step, scriptEnv);
      info.timings[step] = r.seconds;
      process.stdout.write(`\n[cluster] ${step}: ${r.seconds}s\n${r.output.replace(/^/gm, '  ')}`);
    } catch (err) {
      // Jest skips global teardown when setup fails: clean up here (state and log stay, databases go).
      writeFileSync(join(artifactsDir, 'setup-error.txt'), String((err as Error).message));
      await clusterGlobalTeardown().catch(() => undefined);
      throw err;
    }
    save();
  }
  info.timings.globalSetup = Math.round((Date.now() - t0) / 100) / 10;
  save();
  process.stdout.write(`[cluster] Temporal server 1.29.1 at ${stack.temporalAddress} (databases ${scriptEnv.TEMPORAL_CLUSTER_DB}, ${scriptEnv.TEMPORAL_CLUSTER_DB}_visibility); setup ${info.timings.globalSetup}s\n`);
}
