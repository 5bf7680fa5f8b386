import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDirOfRun } from '../setup/stack-file';

const ROOT = join(__dirname, '..', '..');

/** The pid that holds the build lock, if it is still alive. */
function lockOwnerAlive(lock: string): boolean {
  try {
    process.kill(Number(readFileSync(join(lock, 'owner'), 'utf8')), 0);
    return true;
  } catch (err) {
    // No owner file yet (the lock was just made) counts as alive; a pid that is gone does not.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Compile src once per jest run into test-artifacts/build-<run> (several runs may share a checkout; global setup clears
 * what a killed run left, global teardown removes it). The run's jest workers share it: the first to need it builds
 * into a folder of its own under a lock directory and renames it into place only when tsc succeeded, so the others,
 * which wait for the folder, never see a build half written or failed; a lock whose owner died is broken.
 * Returns the path of the built main.js; the build folder is its directory (the CLI is cli/main.js there).
 */
export function ensureBuild(): string {
  const dir = buildDirOfRun();
  const lock = `${dir}.lock`;
  const until = Date.now() + 5 * 60_000;
  while (!existsSync(dir)) {
    try {
      mkdirSync(lock);
    } catch {
      // Another worker of this run is building: wait for its folder, or break its lock if it died.
      if (!lockOwnerAlive(lock)) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > until) throw new Error(`the worker build in ${dir} did not finish within 5 minutes (lock ${lock})`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      continue;
    }
    const tmp = `${dir}.tmp-${process.pid}`;
    try {
      writeFileSync(join(lock, 'owner'), String(process.pid));
      if (existsSync(dir)) break;
      rmSync(tmp, { recursive: true, force: true });
      const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', tmp], { cwd: ROOT, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`build for the worker process failed:\n${r.stdout}\n${r.stderr}`);
      renameSync(tmp, dir);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
      rmSync(lock, { recursive: true, force: true });
    }
  }
  return join(dir, 'main.js');
}

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves once the worker logged that it started polling. */
  ready: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * The real worker (`node main.js worker`) as a child process, so a test can SIGKILL it mid-activity and
 * start another: a crash, not a polite shutdown. `main` picks another compiled entry (the cluster suite runs
 * dist/main.js, whose prebuilt workflow bundle every process shares); `nodeArgs` go before it (a preload).
 */
export function spawnWorker(env: Record<string, string>, role: 'worker' | 'all' | 'api' = 'worker', main: string = ensureBuild(), nodeArgs: readonly string[] = []): WorkerProcess {
  const child = spawn(process.execPath, [...nodeArgs, main, role], {
    cwd: ROOT,
    // PROBECTL_NOTIFY_ANSWER_LOG: an API child records its answers for the run's OpenAPI check too.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...(process.env.PROBECTL_NOTIFY_ANSWER_LOG ? { PROBECTL_NOTIFY_ANSWER_LOG: process.env.PROBECTL_NOTIFY_ANSWER_LOG } : {}), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const onData = (d: Buffer) => {
    out += d.toString();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const ready = new Promise<void>((resolve, reject) => {
    const check = () => {
      if (out.includes(role === 'api' ? 'API listening' : role === 'all' ? 'API listening' : 'worker started')) resolve();
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it started:\n${out}`)));
  });
  ready.catch(() => undefined);
  return {
    child,
    output: () => out,
    ready,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill(signal);
      return exited;
    },
  };
}
