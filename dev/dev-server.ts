/**
 * The Temporal dev server for the workshop (the demo, the tests, the benchmark; `npm start` uses
 * scripts/temporal-dev-server.sh): finds the CLI through scripts/temporal-cli.sh, starts
 * `temporal server start-dev` with the project's search attributes and waits until it answers. Loopback only.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { Connection } from '@temporalio/client';

/** The checkout root: the first folder above `from` with package.json and scripts/ (dev/ or dist-dev/dev/ below it). */
export function projectRoot(from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'scripts', 'search-attributes.txt'))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}

/** A free TCP port on 127.0.0.1 (or `preferred` when it is free). */
export async function freePort(preferred = 0): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.unref();
      srv.on('error', reject);
      srv.listen(port, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
  if (preferred > 0) {
    try {
      return await tryPort(preferred);
    } catch {
      // taken: any free port
    }
  }
  return tryPort(0);
}

/** The Temporal CLI from scripts/temporal-cli.sh (TEMPORAL_CLI, PATH, cache, or a go install build). */
export function findTemporalCli(root = projectRoot()): string {
  const r = spawnSync('bash', [join(root, 'scripts', 'temporal-cli.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0 || !r.stdout.trim()) throw new Error('scripts/temporal-cli.sh found no Temporal CLI (see its output above)');
  return r.stdout.trim();
}

export interface SearchAttributeDef {
  name: string;
  /** As the CLI spells it: Keyword, KeywordList, Text, Int, Double, Bool, Datetime. */
  type: string;
}

/** The search attributes incidentWorkflow uses (scripts/search-attributes.txt). */
export function searchAttributes(root = projectRoot()): SearchAttributeDef[] {
  return readFileSync(join(root, 'scripts', 'search-attributes.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [name, type] = l.split(/\s+/);
      return { name: name!, type: type ?? 'Keyword' };
    });
}

export function searchAttributeArgs(root = projectRoot()): string[] {
  return searchAttributes(root).flatMap((a) => ['--search-attribute', `${a.name}=${a.type}`]);
}

export interface DevServer {
  address: string;
  port: number;
  /** The UI port, when the UI runs. */
  uiPort?: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  cli: string;
  /** SQLite file; omitted: in memory (gone when the server stops). */
  dbFile?: string;
  port?: number;
  /** With a UI port the UI runs there; without, headless. */
  uiPort?: number;
  logLevel?: string;
  extraArgs?: string[];
  /** Eager activity dispatch (as scripts/temporal-dev-server.sh turns it on for `npm start`); default: the server's, off. */
  eagerActivities?: boolean;
  root?: string;
  startTimeoutMs?: number;
}

/** Start `temporal server start-dev` on 127.0.0.1 and wait until it answers. */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const port = opts.port ?? (await freePort());
  const args = [
    'server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port),
    ...(opts.uiPort ? ['--ui-port', String(opts.uiPort)] : ['--headless']),
    ...(opts.dbFile ? ['--db-filename', opts.dbFile, '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=OFF'] : []),
    '--log-level', opts.logLevel ?? 'error',
    '--dynamic-config-value', 'frontend.enableServerVersionCheck=false',
    // Task-queue priority (src/client/priority.ts): off by default in server 1.29; the deployment docs turn it on.
    // Every task written to one partition: priority holds per partition, so with the default four a critical waits
    // behind the warnings pollers take from the other three. Reads stay at four (polls on an empty partition are
    // forwarded to the root), so nothing already queued elsewhere is stranded (deploy/temporal/dynamicconfig.yaml).
    '--dynamic-config-value', 'matching.useNewMatcher=true',
    '--dynamic-config-value', 'matching.numTaskqueueWritePartitions=1',
    // A burst of signals to one incident must not fail its running workflow task (deploy/temporal/dynamicconfig.yaml).
    '--dynamic-config-value', 'history.maximumBufferedEventsBatch=1000',
    // Eager activity dispatch (the benchmark's dev server, as scripts/temporal-dev-server.sh); the server's default is off.
    ...(opts.eagerActivities ? ['--dynamic-config-value', 'system.enableActivityEagerExecution=true'] : []),
    ...searchAttributeArgs(opts.root),
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn(opts.cli, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal dev server exited with ${child.exitCode}: ${stderr}`);
    try {
      const c = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await c.workflowService.getSystemInfo({});
      } finally {
        await c.close();
      }
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`temporal dev server did not answer on ${address} within ${Math.round((opts.startTimeoutMs ?? 60_000) / 1000)} s: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    address,
    port,
    ...(opts.uiPort ? { uiPort: opts.uiPort } : {}),
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}
