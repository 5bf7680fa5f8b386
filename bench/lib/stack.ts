/**
 * The real stack for the benchmark: its own Temporal dev server (SQLite file), a fresh Postgres database,
 * and the worker and the API as separate child processes of the compiled build (`node main.js worker|api`),
 * so their resident memory is measured on its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import { Client, Connection } from '@temporalio/client';
import { Secret } from '../../src/config/secret';
import { migrate } from '../../src/db/migrate';
import { createPool } from '../../src/db/pool';
import { findTemporalCli, freePort, projectRoot, startDevServer, type DevServer } from '../../dev/dev-server';

export interface SqliteSettings {
  journalMode: string;
  synchronous: string;
}

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
  sqliteFile = '';
  temporal!: DevServer;
  client!: Client;
  #connection?: Connection;
  children: Child[] = [];

  /** `dynamicConfig`: extra `--dynamic-config-value key=value` settings for the dev server (A/B comparisons). */
  constructor(readonly sqlite: SqliteSettings, readonly dynamicConfig: readonly string[] = []) {
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

    this.sqliteFile = join(this.dir, 'temporal.sqlite');
    this.temporal = await startDevServer({
      cli: findTemporalCli(this.root),
      root: this.root,
      // The pragmas are passed here (not through dbFile, which fixes them) so they can be varied.
      extraArgs: [
        '--db-filename', this.sqliteFile,
        '--sqlite-pragma', `journal_mode=${this.sqlite.journalMode}`,
        '--sqlite-pragma', `synchronous=${this.sqlite.synchronous}`,
        ...this.dynamicConfig.flatMap((kv) => ['--dynamic-config-value', kv]),
      ],
    });
    this.#connection = await Connection.connect({ address: this.temporal.address });
    this.client = new Client({ connection: this.#connection });
  }

  /** SQLite main file + WAL, bytes. */
  sqliteBytes(): number {
    let total = 0;
    for (const suffix of ['', '-wal']) {
      const f = this.sqliteFile + suffix;
      if (existsSync(f)) total += statSync(f).size;
    }
    return total;
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

  async stop(keepFiles = false): Promise<void> {
    for (const c of [...this.children].reverse()) await c.stop().catch(() => undefined);
    await this.#connection?.close().catch(() => undefined);
    await this.temporal?.stop().catch(() => undefined);
    if (this.databaseUrl) {
      const admin = new PgClient({ connectionString: this.adminUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${this.dbName} WITH (FORCE)`);
      await admin.end();
    }
    if (!keepFiles) rmSync(this.dir, { recursive: true, force: true });
  }
}
