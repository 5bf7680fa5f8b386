/**
 * The Temporal server a bench run measures on: the dev server (one `temporal server start-dev` process on a SQLite
 * file, the default) or, with `--temporal=cluster`, Temporal server 1.29.1 on the local Postgres as docker-compose.yml
 * runs it (scripts/temporal-cluster.sh: its config, the shipped deploy/temporal/dynamicconfig.yaml, four history
 * shards, its own two databases and a free block of ten ports). Ours and the floor share whichever it is.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import { findTemporalCli, projectRoot, startDevServer } from '../../dev/dev-server';
import { clusterPgEnv, clusterScript, freePortBlock } from '../../dev/temporal-cluster';
import { EAGER_ACTIVITIES, clusterDynamicConfig } from './dynamic-config';

export type TemporalKind = 'dev' | 'cluster';

export interface BenchTemporal {
  kind: TemporalKind;
  address: string;
  /** The server process charged with the Temporal server's CPU. */
  pid: number;
  /** One line for the log and the report. */
  describe: string;
  /** Bytes Temporal holds: the SQLite file and its WAL, or the two Postgres databases. */
  storageBytes(): Promise<number>;
  /** `keep`: leave the server's files (and its databases) for a look after the run. */
  stop(keep: boolean): Promise<void>;
}

export interface SqliteSettings {
  journalMode: string;
  synchronous: string;
}

export interface ServerSettings {
  /** The dev server's SQLite pragmas. */
  sqlite: SqliteSettings;
  /** `key=value` settings added to the server's dynamic config. */
  dynamicConfig: readonly string[];
  /** Eager activity dispatch; false: the server's default, off (the cluster's shipped file leaves it so). */
  eagerActivities: boolean;
  /** Leave the server's files (and the cluster's databases) after the run, or after a failed start. */
  keep: boolean;
}

export async function devTemporal(root: string, dir: string, { sqlite, dynamicConfig, eagerActivities }: ServerSettings): Promise<BenchTemporal> {
  const file = join(dir, 'temporal.sqlite');
  const server = await startDevServer({
    cli: findTemporalCli(root),
    root,
    eagerActivities,
    // The pragmas are passed here (not through dbFile, which fixes them) so they can be varied.
    extraArgs: [
      '--db-filename', file,
      '--sqlite-pragma', `journal_mode=${sqlite.journalMode}`,
      '--sqlite-pragma', `synchronous=${sqlite.synchronous}`,
      ...dynamicConfig.flatMap((kv) => ['--dynamic-config-value', kv]),
    ],
  });
  return {
    kind: 'dev',
    address: server.address,
    pid: server.process.pid!,
    describe: `dev server (sqlite journal_mode=${sqlite.journalMode} synchronous=${sqlite.synchronous}; eager activities ${eagerActivities ? 'on' : 'off'}${dynamicConfig.length ? `; ${dynamicConfig.join(', ')}` : ''})`,
    async storageBytes() {
      let total = 0;
      for (const f of [file, `${file}-wal`]) if (existsSync(f)) total += statSync(f).size;
      return total;
    },
    stop: () => server.stop(),
  };
}

/**
 * Temporal server 1.29.1 on Postgres through scripts/temporal-cluster.sh: build (cached after the first, cold build of
 * several minutes, whose progress is printed), setup (two fresh databases), start. `extra`: dynamic config added to the
 * shipped file. `log` gets each step's time.
 */
export async function clusterTemporal(
  adminUrl: string,
  dir: string,
  runId: string,
  settings: ServerSettings,
  log: (msg: string) => void,
  /** Given the way to stop it before anything is created, so an interrupted start can be undone. */
  onStoppable: (stop: (keep: boolean) => Promise<void>) => void = () => undefined,
): Promise<BenchTemporal> {
  const extra = settings.dynamicConfig;
  const db = `temporal_bench_${runId}`;
  const state = join(dir, 'temporal-cluster');
  mkdirSync(dir, { recursive: true });
  const dynamicConfigFile = join(dir, 'dynamicconfig.yaml');
  const shipped = readFileSync(join(projectRoot(__dirname), 'deploy', 'temporal', 'dynamicconfig.yaml'), 'utf8');
  writeFileSync(dynamicConfigFile, clusterDynamicConfig(shipped, settings.eagerActivities, extra));
  const env: Record<string, string> = {
    TEMPORAL_CLUSTER_DYNAMIC_CONFIG: dynamicConfigFile,
    TEMPORAL_CLUSTER_DB: db,
    TEMPORAL_CLUSTER_STATE: state,
    TEMPORAL_CLUSTER_LOG_LEVEL: 'warn',
    ...clusterPgEnv(adminUrl),
  };
  const stop = async (keep: boolean) => {
    await clusterScript(keep ? 'stop' : 'drop', env, { timeoutMs: 120_000 });
  };
  onStoppable(stop);
  try {
    for (const step of ['build', 'setup'] as const) {
      // The build prints "still building (Ns)" every 20 s: shown as it comes, so a cold build is not silent.
      const r = await clusterScript(step, env, { verbose: step === 'build' });
      log(`temporal-cluster.sh ${step}: ${r.seconds}s`);
    }
    // The ten ports are picked just before the start (a cold build takes minutes), and picked again if another process
    // took one in between.
    for (let attempt = 1; ; attempt++) {
      env.TEMPORAL_CLUSTER_PORT = String(await freePortBlock());
      try {
        const r = await clusterScript('start', env);
        log(`temporal-cluster.sh start: ${r.seconds}s`);
        break;
      } catch (err) {
        // The script's own check ("port N is in use"), or a port taken between that check and the server's bind.
        if (attempt >= 3 || !/port \d+ is in use|address already in use/.test((err as Error).message)) throw err;
      }
    }
  } catch (err) {
    // Stopped, and its databases dropped unless --keep (the script's error above carries the log's last lines).
    await stop(settings.keep).catch(() => undefined);
    throw err;
  }
  const port = Number(env.TEMPORAL_CLUSTER_PORT);
  const pid = Number(readFileSync(join(state, 'server.pid'), 'utf8').trim());
  return {
    kind: 'cluster',
    address: `127.0.0.1:${port}`,
    pid,
    describe: `Temporal server 1.29.1 on Postgres (scripts/temporal-cluster.sh: 4 history shards, the bench's task queues at the server's default of four write partitions, deploy/temporal/dynamicconfig.yaml${settings.eagerActivities ? ` + ${EAGER_ACTIVITIES}=true` : ''}${extra.length ? ` + ${extra.join(', ')}` : ''}, databases ${db} and ${db}_visibility)`,
    async storageBytes() {
      const c = new PgClient({ connectionString: adminUrl });
      await c.connect();
      try {
        const r = await c.query('SELECT coalesce(sum(pg_database_size(datname)), 0)::bigint AS bytes FROM pg_database WHERE datname = ANY($1)', [[db, `${db}_visibility`]]);
        return Number((r.rows[0] as { bytes: string }).bytes);
      } finally {
        await c.end();
      }
    },
    stop,
  };
}
