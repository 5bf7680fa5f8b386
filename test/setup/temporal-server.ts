import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';

const ROOT = join(__dirname, '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The Temporal CLI from scripts/temporal-cli.sh (TEMPORAL_CLI, PATH, cache, or a go install build). */
export function findTemporalCli(): string {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'temporal-cli.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0 || !r.stdout.trim()) throw new Error('scripts/temporal-cli.sh found no Temporal CLI (see its output above)');
  return r.stdout.trim();
}

export function searchAttributeArgs(): string[] {
  return readFileSync(join(ROOT, 'scripts', 'search-attributes.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .flatMap((l) => {
      const [name, type] = l.split(/\s+/);
      return ['--search-attribute', `${name}=${type}`];
    });
}

export interface DevServer {
  address: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Start `temporal server start-dev` headless on a free port with a SQLite file (so a restart keeps the
 * state) and wait until it answers.
 */
export async function startDevServer(opts: { cli: string; dbFile: string; port?: number; uiPort?: number; extraArgs?: string[] }): Promise<DevServer> {
  const port = opts.port ?? (await freePort());
  const args = [
    'server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port),
    ...(opts.uiPort ? ['--ui-port', String(opts.uiPort)] : ['--headless']),
    '--db-filename', opts.dbFile,
    '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=OFF',
    '--log-level', 'error',
    '--dynamic-config-value', 'frontend.enableServerVersionCheck=false',
    ...searchAttributeArgs(),
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn(opts.cli, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal dev server exited with ${child.exitCode}: ${stderr}`);
    try {
      const c = await Connection.connect({ address, connectTimeout: 1000 });
      await c.workflowService.getSystemInfo({});
      await c.close();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`temporal dev server did not answer on ${address} within 60 s: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    address,
    port,
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}
