/**
 * The embedded database for the demo and a first look (`npm start` / `npm run demo` without
 * DATABASE_URL): PGlite (Postgres 17+ compiled to WASM) served on a loopback port by its socket server,
 * so the service talks to it with the same `pg` code, the same migrations and the same row-level
 * security as to a real Postgres. Never for production, and tests of the product use the real server.
 *
 * Differences from a real server (docs/demo.md): one Postgres session behind the socket, so statements
 * from different connections are serialised (a transaction holds the queue for its connection until it
 * ends); session-level settings are shared between connections (the service only uses SET LOCAL ROLE and
 * transaction-local set_config, so nothing leaks); no authentication (it binds 127.0.0.1 only); one
 * process may open a data folder at a time (a lock file guards it).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Secret } from '../config/secret';

export interface EmbeddedDb {
  /** postgres://postgres@127.0.0.1:<port>/postgres — loopback, no password. */
  url: Secret;
  port: number;
  /** The data folder, or undefined when in memory. */
  dataDir?: string;
  stop(): Promise<void>;
}

export interface EmbeddedDbOptions {
  /** Folder for the data (created); omitted: in memory, gone at stop. */
  dataDir?: string;
  /** Loopback port; 0 (default) picks a free one. */
  port?: number;
  /** Connections the socket server accepts at once (the pool's max plus headroom). */
  maxConnections?: number;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One process per data folder: PGlite has no locking of its own and two writers corrupt it. */
function lock(dataDir: string): () => void {
  const file = join(dataDir, '..', `${dataDir.split(/[\\/]/).pop() ?? 'pglite'}.lock`);
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new Error(`the embedded database in ${dataDir} is in use by process ${pid}; stop it first, or set DATABASE_URL`);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  writeFileSync(file, String(process.pid));
  return () => rmSync(file, { force: true });
}

export async function startEmbeddedDb(opts: EmbeddedDbOptions = {}): Promise<EmbeddedDb> {
  // Loaded on demand: a process with DATABASE_URL never pays for the WASM module.
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const dataDir = opts.dataDir ? resolve(opts.dataDir) : undefined;
  let unlock = () => undefined as void;
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    unlock = lock(dataDir);
  }
  let db: InstanceType<typeof PGlite> | undefined;
  try {
    db = await PGlite.create(dataDir ? { dataDir } : {});
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: opts.port ?? 0, maxConnections: opts.maxConnections ?? 32 });
    await server.start();
    const conn = server.getServerConn(); // host:port
    const port = Number(conn.slice(conn.lastIndexOf(':') + 1));
    const opened = db;
    return {
      url: new Secret(`postgres://postgres@127.0.0.1:${port}/postgres`),
      port,
      ...(dataDir ? { dataDir } : {}),
      async stop() {
        try {
          await server.stop();
          await opened.close();
        } finally {
          unlock();
        }
      },
    };
  } catch (err) {
    await db?.close().catch(() => undefined);
    unlock();
    throw err;
  }
}
