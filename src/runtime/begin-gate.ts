/**
 * Whether the API passes new runs a checked begin snapshot now (PROBECTL_NOTIFY_BEGIN_IN_START=auto): only while
 * every worker Temporal lists as polling the task queue's workflow tasks carries the API's begin digest in its Build
 * ID (src/runtime/build-id.ts). A run that takes the snapshot asks the patch `first-run-checked-v1` (the digest names it,
 * src/activities/begin.ts), which a worker of an earlier release cannot replay: so while such a worker polls (a rolling deploy, workers started with another
 * configuration), the API passes nothing and runs read the snapshot on the worker, as they always could. The first
 * workflow task still checks its own worker's digest (src/workflows/v2/checked-begin.ts); this only keeps runs off
 * the new path while a worker that could not continue them is around.
 *
 * Every partition of the queue is asked (a worker's pollers spread over them): those Temporal lists and at least
 * the first four (the server's default number of read partitions; see MIN_PARTITIONS). Temporal keeps a poller listed for a
 * few minutes after its last poll, so the snapshot is passed again that long after the last such worker is gone. An
 * answer is used for 5 s (1 s when closed), then refreshed behind the next open for as long again; an older one is
 * not used: the open waits for a fresh look (within the API's 500 ms for the whole snapshot, else no snapshot).
 * While the API runs (`start()`), the answer is also looked at again every 4 s in the background, so an open after a
 * quiet spell finds a fresh answer instead of waiting for the look — five calls to Temporal, about 20 ms of the first
 * open after 40 s of quiet on the bench machine (docs/benchmarks.md, "The first page after a quiet spell").
 */
import type { Logger } from '../observability/logger';
import { beginDigestOfBuildId } from '../workflows/v2/checked-begin';

/** What the gate reads of DescribeTaskQueue's answer. */
export interface PollerInfo {
  identity?: string | null;
  workerVersionCapabilities?: { buildId?: string | null } | null;
}

/** The two calls the gate makes (the client's WorkflowService has them). */
export interface TaskQueueDescriber {
  listTaskQueuePartitions(req: { namespace: string; taskQueue: { name: string } }): Promise<{ workflowTaskQueuePartitions?: Array<{ key?: string | null }> | null }>;
  describeTaskQueue(req: { namespace: string; taskQueue: { name: string; kind: number }; taskQueueType: number }): Promise<{ pollers?: PollerInfo[] | null }>;
}

export interface Agreement {
  open: boolean;
  /** The look itself failed (logged as a warning). */
  failed?: boolean;
  /** Why, for the log: no secrets (Build IDs and counts). */
  reason: string;
}

/** Open when there is at least one poller and every one carries `digest`. Pure. */
export function pollerAgreement(listed: readonly PollerInfo[], digest: string): Agreement {
  // One entry per worker (identity and Build ID): a worker is listed on each partition it polled.
  const seen = new Map<string, PollerInfo>();
  for (const p of listed) seen.set(`${p.identity ?? ''}\u0000${p.workerVersionCapabilities?.buildId ?? ''}`, p);
  const pollers = [...seen.values()];
  if (pollers.length === 0) return { open: false, reason: 'no worker polls the task queue' };
  const others = pollers.filter((p) => beginDigestOfBuildId(p.workerVersionCapabilities?.buildId ?? undefined) !== digest);
  if (others.length === 0) return { open: true, reason: `all ${pollers.length} workers polling the task queue have this digest` };
  // Sorted: Temporal's list is reordered by every poll, and the reason is logged whenever it changes.
  const ids = [...new Set(others.map((p) => p.workerVersionCapabilities?.buildId || '(none)'))].sort().slice(0, 3);
  return { open: false, reason: `${others.length} of ${pollers.length} workers polling the task queue have another or no begin digest (Build IDs ${ids.join(', ')})` };
}

const TASK_QUEUE_TYPE_WORKFLOW = 1;
const TASK_QUEUE_KIND_NORMAL = 1;
/**
 * Partitions asked at least: the server's default number of read partitions. Temporal lists the write partitions
 * (one, as docker-compose.yml configures this queue), but pollers spread over the read partitions (four unless
 * `matching.numTaskqueueReadPartitions` says otherwise).
 */
export const MIN_PARTITIONS = 4;

/** The partitions to ask: those Temporal lists, and at least the first MIN_PARTITIONS. Pure. */
export function partitionNames(taskQueue: string, listed: readonly string[]): string[] {
  const names = new Set<string>([taskQueue]);
  for (let i = 1; i < Math.max(listed.length, MIN_PARTITIONS); i += 1) names.add(`/_sys/${taskQueue}/${i}`);
  for (const k of listed) names.add(k);
  return [...names];
}

/** How often the gate looks again in the background while the API runs: under the 5 s an open answer is used. */
export const BACKGROUND_LOOK_MS = 4_000;

/** Runs `fn` every `ms` until the returned function is called (the default: an unref'd interval). */
export type Every = (fn: () => void, ms: number) => () => void;
const every: Every = (fn, ms) => {
  const timer = setInterval(fn, ms);
  timer.unref();
  return () => clearInterval(timer);
};

export class BeginGate {
  #answer: (Looked & { at: number }) | undefined;
  #refreshing: Promise<boolean> | undefined;
  #stopLooking: (() => void) | undefined;

  constructor(private readonly o: {
    service: TaskQueueDescriber;
    namespace: string;
    taskQueue: string;
    digest: string;
    log: Logger;
    /** How long an open answer is used before it is asked again (default 5 s). */
    refreshMs?: number;
    /** The same for a closed answer (default 1 s). */
    closedRefreshMs?: number;
    /** How long one look at the task queue may take before it counts as failed (default 2 s). */
    lookTimeoutMs?: number;
    /** Runs a look's calls under a deadline (the client's `withDeadline`), so a look that times out stops too. */
    withDeadline?: <T>(deadlineMs: number, fn: () => Promise<T>) => Promise<T>;
    now?: () => number;
    /** The background looks' schedule (tests); the default is an unref'd interval. */
    every?: Every;
    /** Their period (default BACKGROUND_LOOK_MS). */
    backgroundMs?: number;
  }) {}

  /**
   * Look now and then every BACKGROUND_LOOK_MS until `stop()`, so an open after a quiet spell is answered from a fresh
   * look rather than waiting for one. A look still running is not started again (one request at a time).
   */
  start(): void {
    if (this.#stopLooking) return;
    void this.refresh();
    this.#stopLooking = (this.o.every ?? every)(() => void this.refresh(), this.o.backgroundMs ?? BACKGROUND_LOOK_MS);
  }

  /** No more background looks (a look running finishes on its own; its answer is kept). */
  stop(): void {
    this.#stopLooking?.();
    this.#stopLooking = undefined;
  }

  /**
   * The cached answer while it is fresh; a little older (up to twice its refresh time), the same answer while a
   * refresh runs behind it; older still, or none yet: waits for Temporal (the caller bounds the wait). So after a
   * quiet hour the first open looks again rather than trusting what it saw an hour ago.
   */
  async open(): Promise<boolean> {
    const now = (this.o.now ?? Date.now)();
    const known = this.#answer;
    // A closed gate is asked again sooner: workers that have just started should not wait long for it.
    const fresh = known ? (known.open ? this.o.refreshMs ?? 5_000 : this.o.closedRefreshMs ?? 1_000) : 0;
    if (known && now - known.at < fresh) return known.open;
    const refreshed = this.refresh();
    // While the background looks run, an answer is at most one period and one look old, open or closed: the open
    // asks again behind it but does not wait (a closed gate during a rolling deploy would otherwise make about half
    // of all opens wait for a look).
    const usable = this.#stopLooking ? Math.max(2 * fresh, (this.o.backgroundMs ?? BACKGROUND_LOOK_MS) + (this.o.lookTimeoutMs ?? 2_000)) : 2 * fresh;
    return known && now - known.at < usable ? known.open : refreshed;
  }

  /** Ask Temporal now (one request at a time); an error closes the gate until the next answer. */
  refresh(): Promise<boolean> {
    this.#refreshing ??= this.#ask().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #ask(): Promise<boolean> {
    let next: Looked;
    try {
      const ms = this.o.lookTimeoutMs ?? 2_000;
      const look = this.o.withDeadline ? this.o.withDeadline((this.o.now ?? Date.now)() + ms, () => this.#pollers()) : this.#pollers();
      next = pollerAgreement(await withTimeout(look, ms), this.o.digest);
    } catch (err) {
      // A warning: a proxy or authorizer that refuses these calls keeps the snapshot off for good.
      const message = String((err as Error)?.message ?? err);
      next = {
        open: false, failed: true,
        reason: `the task queue's workers could not be listed (ListTaskQueuePartitions, DescribeTaskQueue): ${message.slice(0, 200)}`,
        // Numbers out before the cut: a number one digit longer would otherwise shift the cut and make the same
        // error news again.
        key: message.replace(/\d+/g, '#').slice(0, 200),
      };
    }
    const before = this.#answer;
    if (!before || changeKey(before) !== changeKey(next)) {
      const fields = { taskQueue: this.o.taskQueue, beginDigest: this.o.digest, passed: next.open, reason: next.reason };
      if (next.open) this.o.log.info(fields, 'begin snapshot: passed to new runs');
      else if (next.failed) this.o.log.warn(fields, 'begin snapshot: not passed to new runs (they read it on the worker)');
      else this.o.log.info(fields, 'begin snapshot: not passed to new runs (they read it on the worker)');
    }
    this.#answer = { ...next, at: (this.o.now ?? Date.now)() };
    return next.open;
  }

  /**
   * The pollers of every partition of the task queue's workflow tasks: Temporal lists a poller on the partition it
   * polled, and a worker's pollers spread over the read partitions, so the root alone can miss one.
   */
  async #pollers(): Promise<PollerInfo[]> {
    const { namespace, taskQueue } = this.o;
    const listed = await this.o.service.listTaskQueuePartitions({ namespace, taskQueue: { name: taskQueue } });
    const keys = (listed.workflowTaskQueuePartitions ?? []).map((p) => p.key).filter((k): k is string => !!k);
    const partitions = partitionNames(taskQueue, keys);
    const answers = await Promise.all(partitions.map((name) => this.o.service.describeTaskQueue({
      namespace, taskQueue: { name, kind: TASK_QUEUE_KIND_NORMAL }, taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
    })));
    return answers.flatMap((a) => a.pollers ?? []);
  }
}

/** An answer as the gate keeps it: a failed look carries the key its log line is compared by. */
type Looked = Agreement & { key?: string };

/**
 * What decides whether an answer is news for the log: a failed look's text without its numbers (gRPC puts the
 * elapsed time or a timestamp in its errors, so every failed background look would otherwise warn again).
 */
function changeKey(a: Looked): string {
  return `${a.open}|${a.failed === true}|${a.key ?? a.reason}`;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  p.catch(() => undefined); // a late failure is nobody's
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
