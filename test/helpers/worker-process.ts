import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const BUILD_DIR = join(ROOT, 'test-artifacts', `build-${process.pid}`);

/**
 * Compile src once per jest run into test-artifacts/build-<pid> (several runs may share a checkout).
 * Returns the path of the built main.js; the build folder is its directory (the CLI is cli/main.js there).
 */
export function ensureBuild(): string {
  const main = join(BUILD_DIR, 'main.js');
  if (!existsSync(main)) {
    const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', BUILD_DIR], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`build for the worker process failed:\n${r.stdout}\n${r.stderr}`);
  }
  return main;
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
