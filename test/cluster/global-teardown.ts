import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { buildDirOfRun, stackFile, type SharedStack } from '../setup/stack-file';
import { clusterScript, type ClusterInfo } from './server';

/**
 * Stops the cluster's Temporal server and drops its databases and the probectl-notify test database. When
 * the run failed (or its outcome is unknown), the server's state stays in test-artifacts/cluster-<pid>/:
 * config, log, and a pg_dump of both Temporal databases.
 */
export default async function clusterGlobalTeardown(): Promise<void> {
  let stack: (SharedStack & { cluster: ClusterInfo }) | undefined;
  try {
    stack = JSON.parse(readFileSync(stackFile(), 'utf8')) as SharedStack & { cluster: ClusterInfo };
  } catch {
    return;
  }
  const { scriptEnv, artifactsDir } = stack.cluster;
  await clusterScript('stop', scriptEnv).catch((err: Error) => process.stdout.write(`[cluster] stop: ${err.message}\n`));

  const outcomeFile = join(artifactsDir, 'outcome.json');
  const failed = !existsSync(outcomeFile) || (JSON.parse(readFileSync(outcomeFile, 'utf8')) as { failed: number }).failed > 0;
  const temporalDbs = [scriptEnv.TEMPORAL_CLUSTER_DB!, `${scriptEnv.TEMPORAL_CLUSTER_DB}_visibility`];
  if (failed) {
    for (const db of temporalDbs) {
      const out = join(artifactsDir, `${db}.pgdump`);
      const r = spawnSync('pg_dump', ['-Fc', '-f', out, '-h', scriptEnv.TEMPORAL_CLUSTER_PG_HOST!, '-p', scriptEnv.TEMPORAL_CLUSTER_PG_PORT!, '-U', scriptEnv.TEMPORAL_CLUSTER_PG_USER!, db], {
        env: { ...process.env, PGPASSWORD: scriptEnv.TEMPORAL_CLUSTER_PG_PASSWORD ?? '' },
        encoding: 'utf8',
      });
      if (r.status !== 0) process.stdout.write(`[cluster] pg_dump ${db}: ${r.stderr || r.error?.message}\n`);
    }
    process.stdout.write(`[cluster] the run failed: Temporal server state and log kept in ${artifactsDir}\n`);
  } else {
    rmSync(artifactsDir, { recursive: true, force: true });
  }
  rmSync(buildDirOfRun(), { recursive: true, force: true });
  rmSync(stackFile(), { force: true });
  const admin = new Client({ connectionString: stack.adminUrl });
  await admin.connect();
  for (const db of [...temporalDbs, stack.databaseName]) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.end();
}
