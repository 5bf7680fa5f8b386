/**
 * Whether the API passes new runs a checked begin snapshot now (PROBECTL_NOTIFY_BEGIN_IN_START=auto): only while
 * every worker Temporal lists as polling the task queue's workflow tasks carries the API's begin digest in its Build
 * ID (src/runtime/build-id.ts). A run that takes the snapshot asks the patch `begin-checked-v1`, which a worker of an
 * earlier release cannot replay: so while such a worker polls (a rolling deploy, workers started with another
 * configuration), the API passes nothing and runs read the snapshot on the worker, as they always could. The first
 * workflow task still checks its own worker's digest (src/workflows/v2/checked-begin.ts); this only keeps runs off
 * the new path while a worker that could not continue them is around.
 *
 * Temporal keeps a poller listed for a few minutes after its last poll, so the snapshot is passed again that long
 * after the last such worker is gone. The answer is cached (5 s when open, 1 s when closed) and refreshed in the
 * background, so an open waits for Temporal's list only the first time.
 */
import type { Logger } from '../observability/logger';
import { beginDigestOfBuildId } from '../workflows/v2/checked-begin';

/** What the gate reads of DescribeTaskQueue's answer. */
export interface PollerInfo {
  identity?: string | null;
  workerVersionCapabilities?: { buildId?: string | null } | null;
}

export interface TaskQueueDescriber {
  describeTaskQueue(req: { namespace: string; taskQueue: { name: string }; taskQueueType: number }): Promise<{ pollers?: PollerInfo[] | null }>;
}

export interface Agreement {
  open: boolean;
  /** Why, for the log: no secrets (Build IDs and counts). */
  reason: string;
}

/** Open when there is at least one poller and every one carries `digest`. Pure. */
export function pollerAgreement(pollers: readonly PollerInfo[], digest: string): Agreement {
  if (pollers.length === 0) return { open: false, reason: 'no worker polls the task queue' };
  const others = pollers.filter((p) => beginDigestOfBuildId(p.workerVersionCapabilities?.buildId ?? undefined) !== digest);
  if (others.length === 0) return { open: true, reason: `all ${pollers.length} workers polling the task queue have this digest` };
  const ids = [...new Set(others.map((p) => p.workerVersionCapabilities?.buildId || '(none)'))].slice(0, 3);
  return { open: false, reason: `${others.length} of ${pollers.length} workers polling the task queue have another or no begin digest (Build IDs ${ids.join(', ')})` };
}

const TASK_QUEUE_TYPE_WORKFLOW = 1;

export class BeginGate {
  #answer: (Agreement & { at: number }) | undefined;
  #refreshing: Promise<boolean> | undefined;

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
    now?: () => number;
  }) {}

  /** The cached answer (refreshed in the background once older than its refresh time); the first call waits for Temporal. */
  async open(): Promise<boolean> {
    const now = (this.o.now ?? Date.now)();
    const known = this.#answer;
    // A closed gate is asked again sooner: workers that have just started should not wait long for it.
    if (known && now - known.at < (known.open ? this.o.refreshMs ?? 5_000 : this.o.closedRefreshMs ?? 1_000)) return known.open;
    const refreshed = this.refresh();
    return known ? known.open : refreshed;
  }

  /** Ask Temporal now (one request at a time); an error closes the gate until the next answer. */
  refresh(): Promise<boolean> {
    this.#refreshing ??= this.#ask().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #ask(): Promise<boolean> {
    let next: Agreement;
    try {
      const res = await this.o.service.describeTaskQueue({ namespace: this.o.namespace, taskQueue: { name: this.o.taskQueue }, taskQueueType: TASK_QUEUE_TYPE_WORKFLOW });
      next = pollerAgreement(res.pollers ?? [], this.o.digest);
    } catch (err) {
      next = { open: false, reason: `the task queue's workers could not be listed: ${String((err as Error)?.message ?? err).slice(0, 200)}` };
    }
    const before = this.#answer;
    if (!before || before.open !== next.open || before.reason !== next.reason) {
      this.o.log.info({ taskQueue: this.o.taskQueue, beginDigest: this.o.digest, passed: next.open, reason: next.reason }, next.open
        ? 'begin snapshot: passed to new runs'
        : 'begin snapshot: not passed to new runs (they read it on the worker)');
    }
    this.#answer = { ...next, at: (this.o.now ?? Date.now)() };
    return next.open;
  }
}
