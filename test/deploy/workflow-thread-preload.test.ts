/**
 * The workflow-thread preload (src/runtime/workflow-thread-preload.ts) in real processes: for every supported Node line
 * (this machine's, the image's 24, 26) × every way a process can start (preloaded or not) × every value of
 * PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES, whether the main thread and a
 * worker thread started as the SDK starts its workflow threads (no options) can install a promise hook, and what the
 * SDK's own installer (the one its workflow threads run) makes of it. And every entry point that starts the service
 * — the image, `npm start`, the bench — loads the file the build writes.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { NODE_LINES } from '../helpers/node-lines';
import { ensureBuild } from '../helpers/worker-process';

const ROOT = join(__dirname, '..', '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

interface Seen {
  main: string;
  thread: { promiseHook: string; als: string; asyncHook: string };
  sdk: { installed: boolean; warned: boolean };
  preloadedMark: boolean;
}

/** A child process and what it printed. */
function run(node: string, args: string[], env: NodeJS.ProcessEnv, timeout: number): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(node, args, { env, encoding: 'utf8', cwd: ROOT, maxBuffer: 32 * 1024 * 1024, timeout }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: unknown; signal?: NodeJS.Signals | null }) | null;
      resolve({ status: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr });
    });
  });
}

/**
 * At most two of this file's child processes at a time: the suite has the machine to itself (npm test's serial phase),
 * which has two cores, and each child is one process doing one thing. Each result is awaited by its own test.
 */
const twoAtATime = (() => {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <T>(job: () => Promise<T>): Promise<T> => {
    if (running >= 2) await new Promise<void>((r) => waiting.push(r));
    running += 1;
    try {
      return await job();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  };
})();

/** Runs in a fresh node: tries createHook in the main thread, in a plain worker thread, and the SDK's installer in another. */
async function observe(node: string, preload: string | undefined, value: string | undefined): Promise<Seen> {
  const script = `
    const { Worker } = require('node:worker_threads');
    const v8 = require('node:v8');
    const attempt = () => { try { v8.promiseHooks.createHook({ init() {} })(); return 'works'; } catch (e) { return 'refused: ' + e.message; } };
    // In the thread: the public createHook, then what must keep working whatever the setting — Node's own promise
    // hooks: AsyncLocalStorage across awaits (the SDK's cancellation scopes; async_hooks underneath on Node 20 and 22)
    // and an async_hooks hook.
    const plain = "(async () => { const v8 = require('node:v8'); let r; try { v8.promiseHooks.createHook({ init() {} })(); r = 'works'; } catch (e) { r = 'refused: ' + e.message; }"
      + " let als; try { const s = new (require('node:async_hooks').AsyncLocalStorage)(); als = await s.run('kept', async () => { await null; await new Promise((res) => setTimeout(res, 1)); return s.getStore(); }); } catch (e) { als = 'threw: ' + e.message; }"
      + " let ah; try { const h = require('node:async_hooks').createHook({ init() {} }).enable(); await null; h.disable(); ah = 'works'; } catch (e) { ah = 'threw: ' + e.message; }"
      + " require('node:worker_threads').parentPort.postMessage({ promiseHook: r, als, asyncHook: ah }); })();";
    const sdk = "const warn = console.warn; let warned = false; console.warn = (...a) => { warned = warned || String(a[0]).includes('stack trace collection will be disabled'); };"
      + "const { globalHandlers } = require(" + JSON.stringify(require.resolve('@temporalio/worker/lib/workflow/vm-shared')) + "); globalHandlers.install();"
      + "console.warn = warn; require('node:worker_threads').parentPort.postMessage({ installed: globalHandlers.promiseHookInstalled, warned });";
    const run = (code) => new Promise((res, rej) => { const w = new Worker(code, { eval: true }); w.once('message', (m) => { res(m); w.terminate(); }); w.once('error', rej); });
    (async () => {
      const main = attempt();
      const thread = await run(plain);
      const sdkSeen = await run(sdk);
      console.log(JSON.stringify({ main, thread, sdk: sdkSeen, preloadedMark: globalThis[Symbol.for('probectl-notify.workflow-thread-preload')] === true }));
    })();
  `;
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '' };
  if (value !== undefined) env.PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES = value;
  const r = await run(node, [...(preload ? ['--require', preload] : []), '-e', script], env, 60_000);
  if (r.status !== 0) throw new Error(`the observing process exited with ${r.status}${r.signal ? ` (${r.signal}: timed out?)` : ''}:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Seen;
}

describe.each(NODE_LINES.map((l) => [l.name, l] as const))('the workflow-thread preload in real threads, Node %s', (_name, line) => {
  const preload = join(dirname(ensureBuild()), 'runtime', 'workflow-thread-preload.js');
  let node: string;
  const refused = 'refused: left out by probectl-notify (PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES=off)';
  const PRELOADED: Array<[string | undefined, boolean]> = [[undefined, false], ['', false], ['off', false], [' off ', false], ['on', true], [' on\n', true]];
  const NOT_PRELOADED = [undefined, 'off', 'on'];
  // Every process of this line is started here, two at a time; each test awaits its own (and fails on its own).
  const seenOf = new Map<string, Promise<Seen>>();
  const key = (preloaded: boolean, value: string | undefined) => JSON.stringify([preloaded, value ?? null]);
  beforeAll(() => {
    node = line.bin();
    for (const [value] of PRELOADED) seenOf.set(key(true, value), twoAtATime(() => observe(node, preload, value)));
    for (const value of NOT_PRELOADED) seenOf.set(key(false, value), twoAtATime(() => observe(node, undefined, value)));
    for (const p of seenOf.values()) p.catch(() => undefined); // awaited (and reported) by its test
  });

  test.each<[string | undefined, boolean]>(PRELOADED)('preloaded, setting %p: the main thread keeps its hooks; worker threads have them exactly when on (%p)', async (value, on) => {
    const seen = await seenOf.get(key(true, value))!;
    expect(seen.main).toBe('works');
    expect(seen.thread).toEqual({ promiseHook: on ? 'works' : refused, als: 'kept', asyncHook: 'works' });
    // The SDK's installer: with the hook refused it runs without it (and says so once), as on a runtime without promise hooks.
    expect(seen.sdk).toEqual(on ? { installed: true, warned: false } : { installed: false, warned: true });
    expect(seen.preloadedMark).toBe(true);
  });

  test.each(NOT_PRELOADED)('not preloaded, setting %p: nothing changes anywhere (the SDK default)', async (value) => {
    const seen = await seenOf.get(key(false, value))!;
    expect(seen).toEqual({ main: 'works', thread: { promiseHook: 'works', als: 'kept', asyncHook: 'works' }, sdk: { installed: true, warned: false }, preloadedMark: false });
  });
});

/** Every recorded history (test/histories/), as the replay suite holds them. */
function historyFiles(dir = join(ROOT, 'test', 'histories')): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? historyFiles(p) : name.endsWith('.json') ? [p] : [];
  });
}

describe.each(NODE_LINES.map((l) => [l.name, l] as const))('every recorded history replays in a preloaded process, Node %s', (_name, line) => {
  // The replay suite runs inside jest, without the preload; this runs the same histories through the SDK's replay
  // worker in a process started as the image starts the service, with the setting off (the hook refused) and on.
  // `debugMode: false`: a replay worker otherwise runs workflows in the main thread, where the preload changes nothing;
  // this way they run in a workflow thread, as the live worker runs them.
  const build = dirname(ensureBuild());
  const preload = join(build, 'runtime', 'workflow-thread-preload.js');
  const files = historyFiles();
  // This build's workflow code, bundled once as `npm run build` bundles it; each process loads it as a worker loads
  // the prebuilt bundle. Not named workflow-bundle.js: the workers other tests spawn from this build bundle at start.
  const bundle = join(build, 'replay-check-bundle.js');
  const script = `
    const { DefaultLogger, Runtime, Worker } = require('@temporalio/worker');
    const { historyFromJSON } = require('@temporalio/common/lib/proto-utils');
    const { readFileSync } = require('node:fs');
    Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
    const files = ${JSON.stringify(files)};
    (async () => {
      const failed = [];
      let replayed = 0;
      const histories = files.map((f) => ({ workflowId: f, history: historyFromJSON(JSON.parse(readFileSync(f, 'utf8'))) }));
      for await (const r of Worker.runReplayHistories({ workflowBundle: { codePath: ${JSON.stringify(bundle)} }, debugMode: false }, histories)) {
        replayed += 1;
        if (r.error) failed.push(r.workflowId + ': ' + String(r.error.message).split('\\n')[0]);
      }
      console.log(JSON.stringify({ replayed, failed }));
    })().catch((e) => { console.error(e); process.exit(1); });
  `;
  const SETTINGS = ['off', 'on'];
  // The processes of both settings are started here, side by side (two at a time); each test awaits its own.
  const replays = new Map<string, ReturnType<typeof run>>();
  beforeAll(async () => {
    if (!existsSync(bundle)) {
      const { writeWorkflowBundle } = await import('../../src/runtime/workflow-bundle');
      await writeWorkflowBundle(bundle);
    }
    const node = line.bin();
    for (const value of SETTINGS) {
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES: value };
      // The child's own timeout bounds a hang.
      replays.set(value, twoAtATime(() => run(node, ['--require', preload, '-e', script], env, 100_000)));
    }
  }, 120_000);

  test.each(SETTINGS)('PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES=%s: none fails, and the hook is there exactly when on', async (value) => {
    const r = await replays.get(value)!;
    if (r.status !== 0) throw new Error(`the replay process exited with ${r.status}${r.signal ? ` (${r.signal}: timed out?)` : ''}:\n${r.stdout}\n${r.stderr}`);
    const seen = JSON.parse(r.stdout.trim().split('\n').pop()!) as { replayed: number; failed: string[] };
    expect(files.length).toBeGreaterThan(40);
    expect(seen).toEqual({ replayed: files.length, failed: [] });
    // The SDK's workflow thread says on stderr when it runs without its hook: exactly when off.
    const hookless = r.stderr.split('\n').filter((l) => l.includes('stack trace collection will be disabled')).length;
    if (value === 'off') expect(hookless).toBeGreaterThanOrEqual(1);
    else expect(hookless).toBe(0);
  }, 120_000);
});

describe('every entry point loads the preload the build writes', () => {
  test('the build writes dist/runtime/workflow-thread-preload.js from src/runtime/ (tsconfig.build.json: rootDir src, outDir dist)', () => {
    const build = JSON.parse(read('tsconfig.build.json')) as { compilerOptions: { rootDir: string; outDir: string } };
    expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(existsSync(join(ROOT, 'src', 'runtime', 'workflow-thread-preload.ts'))).toBe(true);
  });

  test("the image's entrypoint: node --require /app/dist/runtime/workflow-thread-preload.js dist/main.js (WORKDIR /app)", () => {
    const final = read('Dockerfile').split(/^FROM /m).pop()!;
    expect(final).toMatch(/^WORKDIR \/app$/m);
    expect(final).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    const entry = /^ENTRYPOINT (\[.*\])$/m.exec(final);
    expect(JSON.parse(entry![1]!)).toEqual(['node', '--require', '/app/dist/runtime/workflow-thread-preload.js', 'dist/main.js']);
  });

  test('npm start (scripts/start.sh) starts main.js with it', () => {
    const starts = read('scripts/start.sh').split('\n').filter((l) => /\bnode\b.*dist\/main\.js/.test(l));
    expect(starts).toHaveLength(1);
    expect(starts[0]).toMatch(/node --require \.\/dist\/runtime\/workflow-thread-preload\.js dist\/main\.js all/);
  });

  test('the cluster suite starts its workers and API replicas with it', () => {
    const topology = read('test/cluster/topology.ts');
    expect(topology).toContain("export const ENTRY_ARGS = ['--require', join(ROOT, 'dist', 'runtime', 'workflow-thread-preload.js')];");
    expect(topology).toMatch(/spawnWorker\(\{ \.\.\.this\.stack\.env, \.\.\.extra \}, role, DIST_MAIN, ENTRY_ARGS\)/);
  });

  test("docker-compose.yml runs the image's entrypoint: no service built from this repository replaces it", () => {
    const doc = parse(read('docker-compose.yml')) as { services: Record<string, { build?: unknown; image?: string; entrypoint?: unknown; command?: unknown }> };
    const ours = Object.entries(doc.services).filter(([, svc]) => svc.build !== undefined);
    expect(ours.map(([name]) => name)).toEqual(expect.arrayContaining(['worker', 'api']));
    for (const [, svc] of ours) {
      expect(svc.entrypoint).toBeUndefined();
      // A command is the role (and its arguments) after the entrypoint, never another program.
      if (svc.command !== undefined) expect(JSON.stringify(svc.command)).not.toMatch(/node|main\.js/);
    }
  });

  test('the bench starts ours, the API and the floor worker with it', () => {
    const bench = read('bench/main.ts');
    expect(bench).toContain("const ENTRY_ARGS = ['--require', join(__dirname, '..', 'src', 'runtime', 'workflow-thread-preload.js')];");
    expect(bench).toMatch(/const workerNodeArgs = \[.*\.\.\.ENTRY_ARGS/);
    expect(bench).toMatch(/stack\.spawn\('api',.*\.\.\.ENTRY_ARGS\]/);
    expect(bench).toMatch(/spawnScript\('floor-worker',.*workerNodeArgs\)/);
  });
});
