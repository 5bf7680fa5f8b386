/**
 * The Temporal server of the cluster suite, driven through scripts/temporal-cluster.sh (dev/temporal-cluster.ts,
 * shared with the benchmark's `--temporal=cluster`).
 */
import { join } from 'node:path';
import { clusterScript as run, freePortBlock } from '../../dev/temporal-cluster';

export const ROOT = join(__dirname, '..', '..');
export { freePortBlock };

/** What global setup records for the test files (in the stack file, next to the SharedStack fields). */
export interface ClusterInfo {
  /** TEMPORAL_CLUSTER_* settings of this run's server. */
  scriptEnv: Record<string, string>;
  /** test-artifacts/cluster-<pid>: server state and log, kept when the run fails. */
  artifactsDir: string;
  timings: Record<string, number>;
}

/** Run one subcommand of the script (CLUSTER_VERBOSE=1 echoes its output as it runs). */
export function clusterScript(cmd: string, scriptEnv: Record<string, string>, timeoutMs = 15 * 60_000): Promise<{ output: string; seconds: number }> {
  return run(cmd, scriptEnv, { timeoutMs, verbose: Boolean(process.env.CLUSTER_VERBOSE) });
}
