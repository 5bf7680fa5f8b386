/**
 * The worker's node options in docker-compose.yml are what the memory figures were measured with
 * (docs/benchmarks.md, "Where the worker's memory is"): node must accept them from NODE_OPTIONS, and the young
 * generation limit must reach the thread the SDK runs workflows in (a worker thread created without
 * resourceLimits), since half of the saving is there.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { NODE_LINES } from '../helpers/node-lines';

const ROOT = join(__dirname, '..', '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

/** The default of `${PROBECTL_NOTIFY_WORKER_NODE_OPTIONS:-…}` in the worker service. */
function composeWorkerNodeOptions(): string {
  const doc = parse(read('docker-compose.yml')) as { services: Record<string, { environment?: Record<string, string> }> };
  const raw = doc.services.worker?.environment?.NODE_OPTIONS ?? '';
  const m = /^\$\{PROBECTL_NOTIFY_WORKER_NODE_OPTIONS:-(.*)\}$/.exec(raw);
  if (!m) throw new Error(`docker-compose.yml: the worker's NODE_OPTIONS is not \${PROBECTL_NOTIFY_WORKER_NODE_OPTIONS:-…}: ${raw}`);
  return m[1]!;
}

/** heap_size_limit (MB) of the main thread and of a worker thread started as the SDK starts its workflow thread. */
function heapLimits(nodeOptions: string, node: string = process.execPath): { main: number; thread: number } {
  const script = `
    const { Worker } = require('node:worker_threads');
    const v8 = require('node:v8');
    const main = v8.getHeapStatistics().heap_size_limit / 1048576;
    const w = new Worker("require('node:worker_threads').parentPort.postMessage(require('node:v8').getHeapStatistics().heap_size_limit / 1048576)", { eval: true });
    w.once('message', (thread) => { console.log(JSON.stringify({ main, thread })); w.terminate(); });
  `;
  const out = execFileSync(node, ['-e', script], { env: { ...process.env, NODE_OPTIONS: nodeOptions }, encoding: 'utf8' });
  return JSON.parse(out) as { main: number; thread: number };
}

describe("the worker's node options", () => {
  const options = composeWorkerNodeOptions();

  test('cap the old generation and shrink the young one, and the bench measures with the same', () => {
    expect(options.split(/\s+/)).toEqual(expect.arrayContaining(['--max-old-space-size=256', '--max-semi-space-size=8']));
    expect(read('bench/main.ts')).toContain(`const WORKER_NODE_ARGS = '${options}';`);
  });

  test('the image runs every process with the same young generation and malloc arenas when nothing else is set', () => {
    // Only the final stage's ENV reaches a container; `docker run <image> worker` without compose gets these.
    const stages = read('Dockerfile').split(/^FROM /m);
    const final = stages[stages.length - 1]!;
    const env = new Map<string, string>();
    for (const line of final.split('\n')) {
      const m = /^ENV\s+(.*)$/.exec(line.trim());
      if (!m) continue;
      for (const pair of m[1]!.split(/\s+/)) {
        const eq = pair.indexOf('=');
        if (eq > 0) env.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
    }
    expect(env.get('NODE_OPTIONS')?.split(/\s+/)).toContain('--max-semi-space-size=8');
    expect(env.get('MALLOC_ARENA_MAX')).toBe('2');
    // The young generation they set reaches the workflow thread, whatever this host's default would be: with the old
    // generation pinned, the thread's limit is 256 + 3 × 8 MB.
    expect(heapLimits(`--max-old-space-size=256 ${env.get('NODE_OPTIONS')!}`).thread).toBe(256 + 3 * 8);
    // And the benchmark runs the API with the same (the worker's are checked above).
    expect(read('bench/main.ts')).toContain(`const API_NODE_ARGS = '${env.get('NODE_OPTIONS')!}';`);
  });

  test.each(NODE_LINES.map((l) => [l.name, l] as const))('Node %s accepts them from NODE_OPTIONS, and both limits reach the workflow thread', (_name, line) => {
    // V8's limit is the old generation plus three semi-spaces (two for the scavenger, one for large new objects):
    // 256 + 3 × 8 MB on every supported line, whatever the default semi-space (16 MB on Node 20 here, 64 MB
    // on Node 24 on a large host, less under a small memory limit).
    const withThem = heapLimits(options, line.bin());
    expect(withThem).toEqual({ main: 256 + 3 * 8, thread: 256 + 3 * 8 });
  });
});
