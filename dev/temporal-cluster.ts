/**
 * The Temporal server 1.29.1 on Postgres, driven through scripts/temporal-cluster.sh (the same script an operator
 * runs): the cluster suite (test/cluster) and the benchmark's `--temporal=cluster` start it through here. Settings
 * come from the TEMPORAL_CLUSTER_* environment the script reads, timings from its own clock.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { projectRoot } from './dev-server';

const SCRIPT = () => join(projectRoot(__dirname), 'scripts', 'temporal-cluster.sh');

/** Run one subcommand of the script; resolves with its output and seconds, rejects (with the output) on failure. */
export function clusterScript(
  cmd: string,
  scriptEnv: Record<string, string>,
  opts: { timeoutMs?: number; verbose?: boolean } = {},
): Promise<{ output: string; seconds: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT(), cmd], { cwd: projectRoot(__dirname), env: { ...process.env, ...scriptEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const on = (d: Buffer) => {
      output += d.toString();
      if (opts.verbose) process.stderr.write(d);
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    const timer = setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs ?? 15 * 60_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = Math.round((Date.now() - t0) / 100) / 10;
      if (code === 0) resolve({ output, seconds });
      else reject(new Error(`temporal-cluster.sh ${cmd} failed (${signal ?? `exit ${code}`}) after ${seconds}s:\n${output}`));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A base port whose `count` consecutive ports are all free on 127.0.0.1 (the server takes ten), below 32768:
 * Temporal stores membership ports in a smallint column.
 */
export async function freePortBlock(count = 10): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + 10 * Math.floor(Math.random() * 1_200);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error(`no block of ${count} free ports found`);
}

/** The script's Postgres settings (TEMPORAL_CLUSTER_PG_*) from a Postgres URL such as PG_ADMIN_URL. */
export function clusterPgEnv(postgresUrl: string): Record<string, string> {
  const pg = new URL(postgresUrl);
  return {
    TEMPORAL_CLUSTER_PG_HOST: pg.hostname,
    TEMPORAL_CLUSTER_PG_PORT: pg.port || '5432',
    TEMPORAL_CLUSTER_PG_USER: decodeURIComponent(pg.username || 'postgres'),
    TEMPORAL_CLUSTER_PG_PASSWORD: decodeURIComponent(pg.password),
  };
}
