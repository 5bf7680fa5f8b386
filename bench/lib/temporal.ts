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
import { clusterScript, freePortBlock } from '../../dev/temporal-cluster';

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
}

const EAGER = 'system.enableActivityEagerExecution';

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

/** The dynamic config file's text without `key` (its line and the indented lines under it). */
function withoutKey(text: string, key: string): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${key}:`)) skipping = true;
    else if (skipping && !/^\s/.test(line)) skipping = false;
    if (!skipping) out.push(line);
  }
  return out.join('\n');
}

/**
 * The shipped dynamic config (deploy/temporal/dynamicconfig.yaml) with `extra` (`key=value`, a scalar each) added, as
 * the file's text. A key the shipped file sets already is refused: YAML would not say which one wins.
 */
export function clusterDynamicConfig(shipped: string, extra: readonly string[]): string {
  const lines = extra.map((kv) => {
    const eq = kv.indexOf('=');
    const key = kv.slice(0, eq).trim();
    const value = kv.slice(eq + 1).trim();
    if (eq <= 0 || !/^[A-Za-z][\w.]*$/.test(key) || !/^[\w.:-]+$/.test(value)) throw new Error(`--dynamic-config=${kv}: expected key=value with a plain scalar value`);
    if (new RegExp(`^${key.replace(/\./g, '\\.')}:`, 'm').test(shipped)) throw new Error(`--dynamic-config=${kv}: deploy/temporal/dynamicconfig.yaml sets ${key} already`);
    return `${key}:\n  - value: ${value}\n`;
  });
  return lines.length === 0 ? shipped : `${shipped.trimEnd()}\n# Added by the bench (--dynamic-config):\n${lines.join('')}`;
}

/**
 * Temporal server 1.29.1 on Postgres through scripts/temporal-cluster.sh: build (cached after the first, cold build of
 * several minutes, whose progress is printed), setup (two fresh databases), start. `extra`: dynamic config added to the
 * shipped file. `log` gets each step's time.
 */
export async function clusterTemporal(adminUrl: string, dir: string, runId: string, settings: ServerSettings, log: (msg: string) => void): Promise<BenchTemporal> {
  const extra = settings.dynamicConfig;
  const pg = new URL(adminUrl);
  const port = await freePortBlock();
  const db = `temporal_bench_${runId}`;
  const state = join(dir, 'temporal-cluster');
  mkdirSync(dir, { recursive: true });
  const dynamicConfigFile = join(dir, 'dynamicconfig.yaml');
  const shipped = readFileSync(join(projectRoot(__dirname), 'deploy', 'temporal', 'dynamicconfig.yaml'), 'utf8');
  // Eager dispatch on: added to the shipped file (which leaves it off); off: taken out should the file ever set it.
  const base = settings.eagerActivities ? clusterDynamicConfig(withoutKey(shipped, EAGER), [`${EAGER}=true`]) : withoutKey(shipped, EAGER);
  writeFileSync(dynamicConfigFile, clusterDynamicConfig(base, extra));
  const env: Record<string, string> = {
    TEMPORAL_CLUSTER_DYNAMIC_CONFIG: dynamicConfigFile,
    TEMPORAL_CLUSTER_PORT: String(port),
    TEMPORAL_CLUSTER_DB: db,
    TEMPORAL_CLUSTER_STATE: state,
    TEMPORAL_CLUSTER_LOG_LEVEL: 'warn',
    TEMPORAL_CLUSTER_PG_HOST: pg.hostname,
    TEMPORAL_CLUSTER_PG_PORT: pg.port || '5432',
    TEMPORAL_CLUSTER_PG_USER: decodeURIComponent(pg.username || 'postgres'),
    TEMPORAL_CLUSTER_PG_PASSWORD: decodeURIComponent(pg.password),
  };
  const stop = async (keep: boolean) => {
    await clusterScript(keep ? 'stop' : 'drop', env, { timeoutMs: 120_000 });
  };
  try {
    for (const step of ['build', 'setup', 'start'] as const) {
      // The build prints "still building (Ns)" every 20 s: shown as it comes, so a cold build is not silent.
      const r = await clusterScript(step, env, { verbose: step === 'build' });
      log(`temporal-cluster.sh ${step}: ${r.seconds}s`);
    }
  } catch (err) {
    await stop(true).catch(() => undefined);
    throw err;
  }
  const pid = Number(readFileSync(join(state, 'server.pid'), 'utf8').trim());
  return {
    kind: 'cluster',
    address: `127.0.0.1:${port}`,
    pid,
    describe: `Temporal server 1.29.1 on Postgres (scripts/temporal-cluster.sh: 4 history shards, deploy/temporal/dynamicconfig.yaml${settings.eagerActivities ? ` + ${EAGER}=true` : ''}${extra.length ? ` + ${extra.join(', ')}` : ''}, databases ${db} and ${db}_visibility)`,
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
