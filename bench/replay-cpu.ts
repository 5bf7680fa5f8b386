/**
 * `npm run bench:replay [-- --rounds=3 --passes=20]`: the workflow thread's CPU per run, measured by replaying every
 * recorded history (test/histories/) in one replay worker — no Temporal server, no Postgres, no network, so the
 * figure moves far less with the machine's state than the knee runs do. Each round runs two child processes, one
 * with PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES=off and one with on (the order alternates), both preloading the
 * workflow-thread module as the image does, and reports process CPU (every thread: the SDK core, the workflow
 * thread, the main thread) per replayed run. Writes bench/results/<date>-replay.md. Asserts nothing about timings;
 * a replay that fails fails the run.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const HISTORIES = join(ROOT, 'test', 'histories');
const BUNDLE = join(__dirname, '..', 'src', 'workflow-bundle.js');
const PRELOAD = join(__dirname, '..', 'src', 'runtime', 'workflow-thread-preload.js');

interface ChildResult {
  setting: 'on' | 'off';
  histories: number;
  replays: number;
  failed: number;
  cpuMsPerReplay: number;
  wallMs: number;
}

function historyFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return historyFiles(p);
    return name.endsWith('.json') ? [p] : [];
  }).sort();
}

const arg = (name: string, fallback: number): number => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  const n = a ? Number(a.slice(name.length + 3)) : fallback;
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number ≥ 1`);
  return n;
};

async function child(passes: number): Promise<void> {
  const { DefaultLogger, Runtime, Worker } = await import('@temporalio/worker');
  const { historyFromJSON } = await import('@temporalio/common/lib/proto-utils');
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  const files = historyFiles(HISTORIES);
  const histories = files.map((f) => historyFromJSON(JSON.parse(readFileSync(f, 'utf8'))));
  const replay = async (n: number): Promise<number> => {
    let failed = 0;
    const all = (function* () {
      for (let i = 0; i < n; i += 1) for (let j = 0; j < histories.length; j += 1) yield { workflowId: `replay-${i}-${j}`, history: histories[j]! };
    })();
    // debugMode false: in a workflow thread, as the live worker runs workflows (a replay worker's default is the main
    // thread, where the preload changes nothing). The SDK's type leaves the option out, but its replay worker takes it
    // (constructReplayWorker spreads the options over its debugMode: true); the SDK's one line on stderr that it runs
    // without its hook shows it took effect (test/deploy/workflow-thread-preload.test.ts checks that line).
    const options = { workflowBundle: { codePath: BUNDLE }, debugMode: false };
    for await (const r of Worker.runReplayHistories(options, all)) if (r.error) failed += 1;
    return failed;
  };
  await replay(1); // warm-up: the bundle, the thread, the JIT
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const failed = await replay(passes);
  const cpu = process.cpuUsage(cpu0);
  const result: ChildResult = {
    setting: process.env.PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES === 'on' ? 'on' : 'off',
    histories: histories.length,
    replays: passes * histories.length,
    failed,
    cpuMsPerReplay: (cpu.user + cpu.system) / 1000 / (passes * histories.length),
    wallMs: performance.now() - t0,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function parent(): void {
  const rounds = arg('rounds', 3);
  const passes = arg('passes', 20);
  const results: ChildResult[] = [];
  const started = Date.now();
  for (let round = 0; round < rounds; round += 1) {
    const order: Array<'on' | 'off'> = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
    for (const setting of order) {
      const t = Date.now();
      const r = spawnSync(process.execPath, ['--require', PRELOAD, __filename, '--child', `--passes=${passes}`], {
        env: { ...process.env, PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES: setting },
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      const line = r.stdout.trim().split('\n').pop() ?? '';
      if (r.status !== 0 || !line.startsWith('{')) throw new Error(`replay child (${setting}) exited with ${r.status}:\n${r.stdout}\n${r.stderr}`);
      const res = JSON.parse(line) as ChildResult;
      if (res.failed > 0) throw new Error(`${res.failed} of ${res.replays} replays failed with stack traces ${setting}`);
      // The SDK says on stderr, once per workflow thread, that it runs without its hook: the setting took effect.
      const hookless = r.stderr.includes('stack trace collection will be disabled');
      if (hookless !== (setting === 'off')) throw new Error(`the child with stack traces ${setting} ran ${hookless ? 'without' : 'with'} the SDK's promise hook`);
      results.push(res);
      process.stdout.write(`[replay ${round + 1}/${rounds}] stack traces ${setting}: ${res.cpuMsPerReplay.toFixed(2)} ms CPU per run (${res.replays} runs of ${res.histories} histories, ${((Date.now() - t) / 1000).toFixed(1)} s)\n`);
    }
  }
  const of = (s: 'on' | 'off') => results.filter((r) => r.setting === s).map((r) => r.cpuMsPerReplay);
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const on = of('on');
  const off = of('off');
  const md = [
    `## Replay CPU of ${new Date(started).toISOString()}`,
    '',
    `Command: \`npm run bench:replay -- --rounds=${rounds} --passes=${passes}\`. Node ${process.version}. Every history under test/histories/ (${results[0]!.histories}) replayed ${passes} times per child process, one replay worker running workflows in a workflow thread as the live worker does (\`debugMode: false\`), the build's workflow bundle, after one warm-up pass; process CPU (user + system, every thread) ÷ runs replayed. Children interleaved, the order alternating by round.`,
    '',
    '| PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES | CPU ms per replayed run, each child | median |',
    '|---|---|---|',
    `| on (the SDK's promise hook) | ${fmt(on)} | ${median(on).toFixed(2)} |`,
    `| off (as shipped) | ${fmt(off)} | ${median(off).toFixed(2)} |`,
    '',
    `off ÷ on (medians): ${(median(off) / median(on)).toFixed(2)}.`,
    '',
  ].join('\n');
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date(started).toISOString().replace(/[:.]/g, '-').slice(0, 19)}-replay.md`);
  writeFileSync(file, md);
  process.stdout.write(`\n${md}\nwritten: ${file}\n`);
}

if (process.argv.includes('--child')) {
  child(arg('passes', 20)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  });
} else {
  try {
    parent();
  } catch (err) {
    process.stderr.write(`bench:replay: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
