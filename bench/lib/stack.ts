/**
 * The real stack for the benchmark: its own Temporal server (the dev server on a SQLite file, or with
 * `--temporal=cluster` Temporal server 1.29.1 on Postgres: bench/lib/temporal.ts), a fresh Postgres database,
 * and the worker and the API as separate child processes of the compiled build (`node main.js worker|api`),
 * so their resident memory is measured on its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import { Client, Connection } from '@temporalio/client';
import { Secret } from '../../src/config/secret';
import { migrate } from '../../src/db/migrate';
import { createPool } from '../../src/db/pool';
import { freePort, projectRoot } from '../../dev/dev-server';
import { clusterTemporal, devTemporal, type BenchTemporal, type ServerSettings, type TemporalKind } from './temporal';

export interface Child {
  name: string;
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export class BenchStack {
  readonly root = projectRoot(__dirname);
  readonly dir: string;
  readonly dbName = `probectl_notify_bench_${process.pid}_${Date.now()}`;
  readonly adminUrl = process.env.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  databaseUrl = '';
  temporal!: BenchTemporal;
  /** How to stop the Temporal server while it is still starting (the cluster's). */
  #stopStarting?: (keep: boolean) => Promise<void>;
  #stopping?: Promise<void>;
  client!: Client;
  #connection?: Connection;
  children: Child[] = [];

  /** `kind`: the dev server or the Temporal server on Postgres; `settings`: its settings (A/B comparisons). */
  constructor(
    readonly kind: TemporalKind,
    readonly settings: ServerSettings,
    private readonly log: (msg: string) => void = () => undefined,
  ) {
    this.dir = join(this.root, 'test-artifacts', `bench-${process.pid}`);
  }

  async startBacking(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const admin = new PgClient({ connectionString: this.adminUrl, connectionTimeoutMillis: 5000 });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${this.dbName}`);
    await admin.end();
    this.databaseUrl = this.adminUrl.replace(/\/[^/]*$/, `/${this.dbName}`);
    const pool = createPool(new Secret(this.databaseUrl));
    await migrate(pool);
    await pool.end();

    this.temporal = this.kind === 'cluster'
      ? await clusterTemporal(this.adminUrl, this.dir, this.dbName.slice('probectl_notify_bench_'.length), this.settings, this.log, (stop) => {
        this.#stopStarting = stop;
      })
      : await devTemporal(this.root, this.dir, this.settings);
    this.#connection = await Connection.connect({ address: this.temporal.address });
    this.client = new Client({ connection: this.#connection });
  }

  /** `node <build>/src/main.js <role>` with `env` (and nothing else from this process but PATH and HOME). */
  spawn(role: 'worker' | 'api' | 'all', env: Record<string, string>, nodeArgs: readonly string[] = []): Child {
    return this.spawnScript(role, join(__dirname, '..', '..', 'src', 'main.js'), [role], env, nodeArgs);
  }

  /** `node [nodeArgs] <script> [args]` of the build, the same way (the floor worker). */
  spawnScript(name: string, script: string, args: readonly string[], env: Record<string, string>, nodeArgs: readonly string[] = []): Child {
    const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
      cwd: this.root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const keep = (d: Buffer) => {
      out = (out + d.toString()).slice(-20_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const c: Child = {
      name,
      process: child,
      output: () => out,
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(t);
      },
    };
    this.children.push(c);
    return c;
  }

  async freePort(): Promise<number> {
    return freePort();
  }

  /** Postgres: bytes per table of the bench database. */
  async tableSizes(): Promise<Record<string, number>> {
    const pg = new PgClient({ connectionString: this.databaseUrl });
    await pg.connect();
    try {
      const r = await pg.query(
        `SELECT c.relname AS name, pg_total_relation_size(c.oid)::bigint AS bytes
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 2 DESC`,
      );
      return Object.fromEntries(r.rows.map((row: { name: string; bytes: string }) => [row.name, Number(row.bytes)]));
    } finally {
      await pg.end();
    }
  }

  /** Once: a second call (an interrupt while the run's own end is stopping it) waits for the first. */
  stop(keepFiles = false): Promise<void> {
    this.#stopping ??= this.#stop(keepFiles);
    return this.#stopping;
  }

  async #stop(keepFiles: boolean): Promise<void> {
    for (const c of [...this.children].reverse()) await c.stop().catch(() => undefined);
    await this.#connection?.close().catch(() => undefined);
    const stopTemporal = this.temporal ? (keep: boolean) => this.temporal.stop(keep) : this.#stopStarting;
    await stopTemporal?.(keepFiles).catch((e: unknown) => this.log(`stopping the Temporal server: ${(e as Error).message}`));
    if (this.databaseUrl) {
      const admin = new PgClient({ connectionString: this.adminUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${this.dbName} WITH (FORCE)`);
      await admin.end();
    }
    if (!keepFiles) rmSync(this.dir, { recursive: true, force: true });
  }
}
