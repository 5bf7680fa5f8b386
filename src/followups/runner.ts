/**
 * The worker's follow-up runner (docs/workflow-contract.md, "Follow-ups"): carries out the follow-ups recorded in
 * Postgres (migrations/005) — a pager's second resolve, a ticket's next lookup-and-close, the callback to
 * probectl — once they are due, so the workflow neither waits on a timer for them nor stays open until probectl
 * took its callback.
 *
 * Each pass lists due rows of this worker's task queue over every tenant (a SECURITY DEFINER function returning
 * only tenant and id), leases them under each tenant's row-level security (FOR UPDATE SKIP LOCKED, so several
 * workers share the work and a row is carried out by one of them in the normal case), runs them — one incident's
 * rows one after another in due order, different incidents in parallel — and records each outcome with
 * MirrorStore.record (keyed entries, links, a next pass) before it marks the row done. A worker that dies holding
 * a lease leaves the row due again when the lease runs out: at least once, and every kind is idempotent.
 *
 * Failures are read as Temporal reads an activity's (failure.ts): retryable ones are rescheduled (the failure's
 * own delay, e.g. a 429's Retry-After, else capped exponential back-off) until the kind's retry window ends;
 * permanent ones end the row and are recorded as the workflow's own fallback records them. Every attempt is
 * counted in probectl_notify_deliveries_total exactly as the activity counts it.
 */
import { secretsOf } from '../providers/types';
import type { FollowUpOutcome, FollowUpStore, LeasedFollowUp } from '../db/follow-up-store';
import type { MirrorStore } from '../db/mirror-store';
import { OutageLog, PollSleep, pollUntilStopped } from '../db/poll';
import type { Logger } from '../observability/logger';
import type { DeliveryOutcome, NotifyMetrics } from '../observability/metrics';
import { reportBacklog } from './backlog-gauge';
import { callback } from './callback';
import { FailureType } from '../http/failures';
import { backoffMs, readFailure } from './failure';
import { reResolve } from './re-resolve';
import { ticketClose } from './ticket-close';
import type { Finished, FollowUpDeps, FollowUpHandler } from './types';

const HANDLERS: Record<LeasedFollowUp['followUp']['kind'], FollowUpHandler> = {
  're-resolve': reResolve,
  'ticket-close': ticketClose,
  callback,
};

/** What became of one try of a row (tests and diagnostics). */
export type TryOutcome = 'deferred' | FollowUpOutcome | 'retried' | 'cancelled' | 'unrecorded';

export interface FollowUpRunnerOptions {
  store: FollowUpStore;
  mirror: Pick<MirrorStore, 'record'>;
  deps: FollowUpDeps;
  log: Logger;
  /** Delivery and backlog metrics: the worker process's registry. */
  metrics: NotifyMetrics;
  /** Between passes while nothing is due (default 1 s). */
  pollMs?: number;
  /** Rows listed and leased per pass (default 50). */
  batchSize?: number;
  /** Incidents whose rows run at once (default 4). */
  concurrency?: number;
  /** A leased row is due again after this if its holder vanished (default 2 min); each try is cut 15 s before. */
  leaseMs?: number;
  /** On stop, tries in flight get this long to finish before they are aborted and given back (default 10 s). */
  stopGraceMs?: number;
  /** How often each tenant's done rows older than the retention are pruned (default 1 h). */
  pruneEveryMs?: number;
  /** Called once per row tried. */
  onTried?: (row: LeasedFollowUp, outcome: TryOutcome) => void;
}

const human = (ms: number) => (ms >= 172_800_000 ? `${Math.round(ms / 86_400_000)} d` : ms >= 3_600_000 ? `${Math.round(ms / 3_600_000)} h` : `${Math.round(ms / 60_000)} min`);

export class FollowUpRunner {
  readonly #o: Required<Omit<FollowUpRunnerOptions, 'onTried'>> & Pick<FollowUpRunnerOptions, 'onTried'>;
  #running = false;
  /** stop() was called: rows listed but not started yet are given back. */
  #stopping = false;
  #loop: Promise<void> | undefined;
  readonly #sleep = new PollSleep();
  #abort = new AbortController();
  readonly #pruned = new Map<string, number>();
  #unreport: (() => void) | undefined;

  constructor(opts: FollowUpRunnerOptions) {
    this.#o = {
      pollMs: 1_000, batchSize: 50, concurrency: 4, leaseMs: 120_000, stopGraceMs: 10_000, pruneEveryMs: 3_600_000,
      ...opts,
    };
    for (const c of opts.deps.connectors.all) this.#pruned.set(c.tenantId, 0);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopping = false;
    this.#abort = new AbortController();
    this.#unreport = reportBacklog(this.#o.metrics, () => this.#o.store.backlog());
    this.#loop = this.#run();
  }

  /** Stop taking rows; tries in flight get the grace period, then are aborted and their rows given back. */
  async stop(): Promise<void> {
    if (!this.#loop) return;
    this.#running = false;
    this.#stopping = true;
    this.#sleep.wake();
    const grace = setTimeout(() => this.#abort.abort(), this.#o.stopGraceMs);
    try {
      await this.#loop;
    } finally {
      clearTimeout(grace);
      this.#loop = undefined;
      this.#unreport?.();
    }
  }

  async #run(): Promise<void> {
    await pollUntilStopped({
      running: () => this.#running,
      step: () => this.step(),
      after: () => this.#prune(),
      reason: (err) => readFailure(err, []).reason,
      outage: new OutageLog(this.#o.log, 'follow-ups', 'cannot read the follow-up store'),
      sleep: this.#sleep,
      pollMs: this.#o.pollMs,
    });
  }

  /** One pass: due rows → lease → run → record → done. Returns whether a full batch was listed. Throws when Postgres fails. */
  async step(): Promise<boolean> {
    const o = this.#o;
    const due = await o.store.due(o.batchSize);
    if (due.length === 0) return false;
    const byTenant = new Map<string, string[]>();
    for (const d of due) byTenant.set(d.tenantId, [...(byTenant.get(d.tenantId) ?? []), d.id]);
    const rows: LeasedFollowUp[] = [];
    for (const [tenantId, ids] of byTenant) rows.push(...(await o.store.claim(tenantId, ids, o.leaseMs)));

    // One incident's rows one after another in due order (an acknowledgement's callback before the resolution's).
    rows.sort((a, b) => Date.parse(a.firstDueAt) - Date.parse(b.firstDueAt) || Number(BigInt(a.id) - BigInt(b.id)));
    const byIncident = new Map<string, LeasedFollowUp[]>();
    for (const row of rows) {
      const k = `${row.tenantId}\u0000${row.incidentId}`;
      byIncident.set(k, [...(byIncident.get(k) ?? []), row]);
    }
    const queue = [...byIncident.values()];
    const worker = async () => {
      for (let group = queue.shift(); group; group = queue.shift()) {
        for (const row of group) {
          if (this.#stopping) {
            await this.#giveBack(row, 'not tried: the runner stopped');
            continue;
          }
          await this.#try(row);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.concurrency, queue.length) }, worker));
    return due.length >= o.batchSize;
  }

  /** Every secret a try of this row could have seen: its connector's and the callback's. */
  #secrets(row: LeasedFollowUp): string[] {
    const f = row.followUp;
    const config = f.kind !== 'callback' ? this.#o.deps.connectors.find(row.tenantId, f.connectorId) : undefined;
    const cb = this.#o.deps.callback;
    return [...(config ? secretsOf(config) : []), ...(cb ? [cb.url.reveal(), cb.secret.reveal()] : [])];
  }

  async #try(row: LeasedFollowUp): Promise<void> {
    const o = this.#o;
    const handler = HANDLERS[row.followUp.kind];
    const provider = handler.provider(row, o.deps);
    // Aborted when the runner stops (after its grace) or when the lease is about to run out. Built by hand rather
    // than with AbortSignal.any, which keeps every composed signal alive as long as the runner's own.
    const attempt = new AbortController();
    const stop = () => attempt.abort();
    this.#abort.signal.addEventListener('abort', stop, { once: true });
    const deadline = setTimeout(stop, Math.max(o.leaseMs - 15_000, 5_000));
    try {
      await this.#attempt(row, handler, provider, attempt.signal);
    } finally {
      clearTimeout(deadline);
      this.#abort.signal.removeEventListener('abort', stop);
    }
  }

  async #attempt(row: LeasedFollowUp, handler: FollowUpHandler, provider: string, signal: AbortSignal): Promise<void> {
    const o = this.#o;
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    const fields = { followUp: row.followUp.kind, key: row.key, tenantId: row.tenantId, incidentId: row.incidentId, attempts: row.attempts };
    let finished: Finished;
    let lastError: string | undefined;
    try {
      finished = await handler.run(row, o.deps, signal);
      if (finished.deferMs !== undefined) {
        await this.#reschedule(row, finished.deferMs, 'not yet');
        o.onTried?.(row, 'deferred');
        return;
      }
      if (finished.sent) this.#count(provider, handler, 'ok', seconds());
    } catch (err) {
      const f = readFailure(err, this.#secrets(row));
      if (this.#abort.signal.aborted) {
        this.#count(provider, handler, 'cancelled', seconds(), 'Cancelled');
        await this.#giveBack(row, 'not finished: the runner stopped');
        o.onTried?.(row, 'cancelled');
        return;
      }
      // Cut by the per-try deadline (the lease is about to run out): a transport failure like a timeout.
      if (f.cancelled) Object.assign(f, { type: 'TransportError', reason: 'no result before the lease ran out' });
      // A 5xx's Retry-After is a floor under the back-off, never a shortcut: `503 Retry-After: 1` from a load balancer in
      // front of a dead service must not turn every owed row into one try a second for days. A 429's (and a pacing
      // deferral's) delay is the provider's own schedule, taken as it is.
      const delay = f.type === FailureType.ProviderUnavailable && f.delayMs !== undefined
        ? Math.max(f.delayMs, backoffMs(row.attempts, handler.maxBackoffMs))
        : backoffMs(row.attempts, handler.maxBackoffMs, f.delayMs);
      const windowEnds = Date.parse(row.firstDueAt) + handler.retryWindowMs;
      const expired = f.retryable && Date.now() + delay >= windowEnds;
      if (f.retryable && !expired) {
        this.#count(provider, handler, 'retried', seconds(), f.type);
        o.log.warn({ ...fields, retryInMs: delay, reason: f.reason }, 'follow-up failed; retrying');
        await this.#reschedule(row, delay, f.reason);
        o.onTried?.(row, 'retried');
        return;
      }
      this.#count(provider, handler, 'permanent', seconds(), f.type);
      const reason = expired ? `gave up after ${human(handler.retryWindowMs)} of retries: ${f.reason}` : f.reason;
      finished = handler.failed(row, { reason, type: f.type, expired }, new Date().toISOString());
      lastError = reason;
      if (handler.action === 'callback') o.log.error({ ...fields, reason }, 'callback to probectl given up: probectl was not told; reconcile the incident in probectl');
      else o.log.warn({ ...fields, outcome: finished.outcome, reason }, 'follow-up failed for good');
    }
    try {
      if (finished.record) await o.mirror.record({ incident: row.incident, ...finished.record });
      await o.store.complete(row, finished.outcome, lastError);
    } catch (err) {
      // Done at the provider, not recorded: tried again (a no-op there) once the row is due again.
      o.log.warn({ ...fields, err: { message: readFailure(err, this.#secrets(row)).reason } }, 'follow-up carried out but not recorded; it is tried again');
      await this.#reschedule(row, backoffMs(row.attempts, handler.maxBackoffMs), 'carried out, but recording the outcome failed');
      o.onTried?.(row, 'unrecorded');
      return;
    }
    this.#pruned.set(row.tenantId, this.#pruned.get(row.tenantId) ?? 0);
    o.log.info({ ...fields, outcome: finished.outcome }, 'follow-up done');
    o.onTried?.(row, finished.outcome);
  }

  #count(provider: string, handler: FollowUpHandler, outcome: DeliveryOutcome, seconds: number, reason?: string): void {
    this.#o.metrics.delivery({ provider, action: handler.action, outcome, seconds, ...(reason ? { reason } : {}) });
  }

  async #reschedule(row: LeasedFollowUp, delayMs: number, why: string): Promise<void> {
    try {
      await this.#o.store.reschedule(row, delayMs, why);
    } catch {
      // Postgres went away: the lease runs out and the row is due again then.
    }
  }

  #giveBack(row: LeasedFollowUp, why: string): Promise<void> {
    return this.#reschedule(row, 0, why);
  }

  /** At most one tenant per pass: its done rows older than the retention go (bounded batch). */
  async #prune(): Promise<void> {
    const now = Date.now();
    for (const [tenantId, last] of this.#pruned) {
      if (now - last < this.#o.pruneEveryMs) continue;
      this.#pruned.set(tenantId, now);
      try {
        const n = await this.#o.store.prune(tenantId);
        if (n > 0) this.#o.log.info({ tenantId, pruned: n }, 'follow-ups: done rows past the retention pruned');
      } catch {
        // tried again next interval
      }
      return;
    }
  }
}
