/**
 * Where a worker's memory is, preloaded with `--require` next to the request probe (bench/lib/probe.ts). Node
 * runs preloaded modules in every thread, so this runs in the main thread and in the SDK's workflow thread
 * (its own V8 isolate). Every 2 s each thread writes its own V8 heap figures to
 * `$BENCH_PROBE_DIR/mem-<pid>-<threadId>.json`; the memory phase reads them next to /proc's split of the RSS
 * (bench/lib/machine.ts, rssBreakdown) to say what of the RSS is which heap and what is native. Nothing else in
 * the worker changes; without BENCH_PROBE_DIR it does nothing.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { isMainThread, threadId } from 'node:worker_threads';

export interface ThreadMemory {
  thread: 'main' | 'worker';
  threadId: number;
  at: number;
  /** V8's committed heap of this isolate (all spaces), MB. */
  heapTotalMB: number;
  heapUsedMB: number;
  /** Memory V8 allocated with malloc for this isolate (outside the heap spaces), MB. */
  mallocedMB: number;
  /** Off-heap memory held by this isolate's objects (Buffers, ArrayBuffers), MB. */
  externalMB: number;
  /** Committed size of each heap space, MB. */
  spaces: Record<string, number>;
}

const mb = (b: number) => Math.round(b / 104_857.6) / 10;
const dir = process.env.BENCH_PROBE_DIR;

function sample(): ThreadMemory {
  const h = getHeapStatistics();
  return {
    thread: isMainThread ? 'main' : 'worker',
    threadId,
    at: Date.now(),
    heapTotalMB: mb(h.total_heap_size),
    heapUsedMB: mb(h.used_heap_size),
    mallocedMB: mb(h.malloced_memory),
    externalMB: mb(h.external_memory),
    spaces: Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, mb(s.space_size)])),
  };
}

if (dir) {
  const file = join(dir, `mem-${process.pid}-${threadId}.json`);
  const write = () => {
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(sample()));
      renameSync(`${file}.tmp`, file);
    } catch {
      // A sample that cannot be written is skipped; the next one replaces it.
    }
  };
  write();
  setInterval(write, 2000).unref();
}
