/**
 * The trace an activity belongs to (docs/configuration.md, "Traces"). Without workflow interceptors an
 * activity's headers carry no trace context, so the parent is read from the run's history instead, where the
 * Temporal client interceptor wrote it:
 *
 *   - a resolve or acknowledge activity: the newest `resolve` / `acknowledge` signal that carries a trace header
 *     (the fan-out of `POST /v1/incidents/{id}/resolve` or of an inbound webhook joins that request's trace);
 *     searched among the run's newest {@link SIGNAL_SEARCH_EVENTS} events only, else as below;
 *   - every other activity (opens, reconciliation reads, mirror writes): the run's start event, i.e. the trace of
 *     the request that opened the incident. A run continued as new starts without that header, so the first run
 *     of the chain is asked then.
 *
 * Only activities of `incidentWorkflow` are looked up: its local activities other than an open's local first attempt
 * (src/workflows/v2/local-first.ts; parented like the ordinary open) and every other workflow type (the heartbeat
 * canary above all: one new run per worker per interval) get no lookup and no parent.
 *
 * Cost, per worker: per incident run, one read of its first history event (and one more for a continued run's
 * first run), plus one read of at most 20 newest events per signal kind that caused a fan-out. Results are
 * cached (LRU, {@link MAX_CACHED} entries); a read that failed, timed out or found nothing is cached as nothing
 * for {@link NEGATIVE_TTL_MS}, so a slow or failing Temporal is not asked again by every activity. All the reads
 * one activity waits for share one budget ({@link BUDGET_MS}): tracing delays an activity's start by at most
 * that, once per run and cache miss, and never fails it.
 */
import type { Payload } from '@temporalio/common';
import type { WorkflowService } from '@temporalio/client';

export const TRACE_HEADER = '_tracer-data';
/** The one workflow type whose activities are parented (src/workflows/incident.ts). */
const TRACED_WORKFLOW_TYPE = 'incidentWorkflow';
const BUDGET_MS = 2_000;
const NEGATIVE_TTL_MS = 30_000;
const MAX_CACHED = 1_000;
export const SIGNAL_SEARCH_EVENTS = 20;
/** The budget of a local first attempt's lookup (ms): a cached run answers at once; a first lookup is one round trip. */
export const LOCAL_BUDGET_MS = 100;
/** The one local activity looked up: an open's local first attempt. */
const LOCAL_FIRST_OPEN = 'openConnector';
/** Activities a signal causes, and that signal's name (src/workflows/messages.ts). */
const SIGNAL_OF_ACTIVITY: Record<string, string> = { resolveConnector: 'resolve', acknowledgeConnector: 'acknowledge' };

/** The two history reads used (a fake in tests). */
export type HistoryService = Pick<WorkflowService, 'getWorkflowExecutionHistory' | 'getWorkflowExecutionHistoryReverse'>;

/** What of an activity's info decides its lookup. */
export interface ActivityIdentity {
  activityType: string;
  isLocal: boolean;
  workflowType?: string;
  workflowId: string;
  runId: string;
}

export interface TraceParentOptions {
  /** One budget for all the reads an activity waits for (default 2 s). */
  budgetMs?: number;
  /** How long nothing found (failed, timed out, absent) is remembered (default 30 s). */
  negativeTtlMs?: number;
  maxCached?: number;
  now?: () => number;
}

interface Entry {
  value: Promise<Payload | undefined>;
  /** Until when the entry holds (set once it resolved to nothing). */
  expiresAt?: number;
}

class TimedOut extends Error {}

export class RunTraceParents {
  readonly #cache = new Map<string, Entry>();
  readonly #budgetMs: number;
  readonly #negativeTtlMs: number;
  readonly #maxCached: number;
  readonly #now: () => number;

  constructor(
    private readonly service: HistoryService,
    private readonly namespace: string,
    opts: TraceParentOptions = {},
  ) {
    this.#budgetMs = opts.budgetMs ?? BUDGET_MS;
    this.#negativeTtlMs = opts.negativeTtlMs ?? NEGATIVE_TTL_MS;
    this.#maxCached = opts.maxCached ?? MAX_CACHED;
    this.#now = opts.now ?? Date.now;
  }

  /** The `_tracer-data` header this activity is parented on, if any (never throws). */
  async forActivity(a: ActivityIdentity): Promise<Payload | undefined> {
    if ((a.isLocal && a.activityType !== LOCAL_FIRST_OPEN) || a.workflowType !== TRACED_WORKFLOW_TYPE) return undefined;
    // The lookup itself always has the whole budget (its answer is cached for the run's other activities); an open's
    // local first attempt, whose time limit is short, waits for it only briefly.
    const now = this.#now();
    const lookupDeadline = now + this.#budgetMs;
    const deadline = a.isLocal ? now + Math.min(this.#budgetMs, LOCAL_BUDGET_MS) : lookupDeadline;
    const signal = SIGNAL_OF_ACTIVITY[a.activityType];
    if (signal) {
      const fromSignal = await this.#cached(`${a.runId}/${signal}`, deadline, () => this.#signalHeader(a.workflowId, a.runId, signal, lookupDeadline));
      if (fromSignal) return fromSignal;
    }
    return this.#cached(a.runId, deadline, () => this.#lookup(a.workflowId, a.runId, lookupDeadline));
  }

  /** Cached results, newest use last (LRU). Nothing found is kept for the negative TTL only. */
  async #cached(key: string, deadline: number, lookup: () => Promise<Payload | undefined>): Promise<Payload | undefined> {
    let hit = this.#cache.get(key);
    if (hit && hit.expiresAt !== undefined && hit.expiresAt <= this.#now()) hit = undefined;
    if (hit) {
      this.#cache.delete(key);
    } else {
      const entry: Entry = { value: Promise.resolve(undefined) };
      entry.value = lookup().then(
        (v) => {
          if (!v) entry.expiresAt = this.#now() + this.#negativeTtlMs;
          return v;
        },
        () => {
          entry.expiresAt = this.#now() + this.#negativeTtlMs;
          return undefined;
        },
      );
      hit = entry;
    }
    this.#cache.set(key, hit);
    while (this.#cache.size > this.#maxCached) this.#cache.delete(this.#cache.keys().next().value!);
    // A shared lookup started by another activity may run on a later budget: wait no longer than ours.
    return this.#within(hit.value, deadline).catch(() => undefined);
  }

  async #signalHeader(workflowId: string, runId: string, signal: string, deadline: number): Promise<Payload | undefined> {
    const res = await this.#within(
      this.service.getWorkflowExecutionHistoryReverse({
        namespace: this.namespace, execution: { workflowId, runId }, maximumPageSize: SIGNAL_SEARCH_EVENTS,
      }),
      deadline,
    );
    for (const event of res.history?.events ?? []) {
      const attrs = event.workflowExecutionSignaledEventAttributes;
      const header = attrs?.signalName === signal ? attrs.header?.fields?.[TRACE_HEADER] : undefined;
      if (header) return header as Payload;
    }
    return undefined;
  }

  async #lookup(workflowId: string, runId: string, deadline: number): Promise<Payload | undefined> {
    const started = await this.#startEvent(workflowId, runId, deadline);
    const header = started?.header?.fields?.[TRACE_HEADER];
    if (header) return header as Payload;
    const first = started?.firstExecutionRunId;
    if (first && first !== runId) return ((await this.#startEvent(workflowId, first, deadline))?.header?.fields?.[TRACE_HEADER] as Payload | undefined) ?? undefined;
    return undefined;
  }

  async #startEvent(workflowId: string, runId: string, deadline: number) {
    const res = await this.#within(
      this.service.getWorkflowExecutionHistory({ namespace: this.namespace, execution: { workflowId, runId }, maximumPageSize: 1 }),
      deadline,
    );
    return res.history?.events?.[0]?.workflowExecutionStartedEventAttributes ?? undefined;
  }

  /** `call`, or a TimedOut rejection once the deadline has passed. */
  async #within<T>(call: Promise<T>, deadline: number): Promise<T> {
    const left = deadline - this.#now();
    if (left <= 0) {
      call.catch(() => undefined);
      throw new TimedOut('trace parent lookup out of budget');
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimedOut('trace parent lookup out of budget')), left);
    });
    try {
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
