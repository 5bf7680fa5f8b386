/**
 * Prometheus metrics (prom-client). One registry per process, served by the API's /metrics and, in a
 * worker-only process, by the worker's own endpoint (PROBECTL_NOTIFY_METRICS_PORT; docs/configuration.md).
 *
 * Labels are closed sets (provider, action, outcome, failure type): never a tenant, an incident id, a
 * reference or a message, so the cardinality is bounded and no secret or tenant data reaches a scrape.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { paceClassName, type PaceClass } from '../activities/pace-class';
import { isProvider } from '../providers/registry';

export type DeliveryAction = 'open' | 'acknowledge' | 'resolve' | 'callback';
/** ok; retried = this attempt failed and Temporal will retry it; permanent = no retry follows; cancelled. */
export type DeliveryOutcome = 'ok' | 'retried' | 'permanent' | 'cancelled';

/** A provider label: one of the known providers (src/providers/registry.ts) or probectl (callbacks), else "other". */
export function providerLabel(p: unknown): string {
  return typeof p === 'string' && (p === 'probectl' || isProvider(p)) ? p : 'other';
}

/** A failure-type label: a short identifier (the ApplicationFailure type), else "other". */
export function reasonLabel(t: unknown): string {
  return typeof t === 'string' && /^[A-Za-z][A-Za-z0-9_:.-]{0,47}$/.test(t) ? t : 'other';
}

export interface OpenIncidentCounts {
  open: number;
  acknowledged: number;
}

export interface OutboxBacklogNumbers {
  pending: number;
  oldestSeconds: number;
}

/** What the inbound outbox dispatcher did with one row it tried. */
export type OutboxDispatchOutcome = 'signalled' | 'closed' | 'not_owner' | 'retried' | 'unreachable';

export class NotifyMetrics {
  readonly registry = new Registry();

  readonly deliveries = new Counter({
    name: 'probectl_notify_deliveries_total',
    help: 'Provider calls (activity attempts) by provider, action and outcome (ok, retried, permanent, cancelled).',
    labelNames: ['provider', 'action', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly deliveryLatency = new Histogram({
    name: 'probectl_notify_delivery_duration_seconds',
    help: 'Duration of one provider call attempt, including pacing, by provider and action.',
    labelNames: ['provider', 'action'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  readonly permanentFailures = new Counter({
    name: 'probectl_notify_permanent_failures_total',
    help: 'Provider calls that failed for good (refused, or out of retries), by provider and failure type.',
    labelNames: ['provider', 'reason'] as const,
    registers: [this.registry],
  });

  /** Inbound deliveries by verification outcome; call `inboundVerification.inc({ provider, outcome })`. */
  readonly inboundVerification = new Counter({
    name: 'probectl_notify_inbound_verifications_total',
    help: 'Inbound ITSM/pager deliveries by provider and outcome (accepted_*, queued_*, duplicate, ignored_*, refused_*, failed_*).',
    labelNames: ['provider', 'outcome'] as const,
    registers: [this.registry],
  });

  /** One per run the API started: `eager` when its first task came back with the start (src/runtime/api.ts). */
  readonly incidentStarts = new Counter({
    name: 'probectl_notify_incident_starts_total',
    help: 'New incident runs this API started, by how their first workflow task reached a worker: eager (handed back with the start to the worker of this process) or task_queue (through matching).',
    labelNames: ['path'] as const,
    registers: [this.registry],
  });

  /** One per row the inbound outbox dispatcher tried (the request's own inline try is counted by the route). */
  readonly inboundOutbox = new Counter({
    name: 'probectl_notify_inbound_outbox_total',
    help: 'Inbound outbox rows tried by the dispatcher, by outcome: signalled, closed (workflow closed: duplicate), not_owner (ignored), retried (refused, backing off), unreachable (Temporal unreachable, due again).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly inboundOutboxPending: Gauge;
  readonly inboundOutboxOldest: Gauge;
  #backlog: (() => Promise<OutboxBacklogNumbers>) | undefined;
  #backlogInFlight: Promise<OutboxBacklogNumbers> | undefined;

  /** Pacing (src/activities/pacing.ts): time a call waited for its token while holding the activity slot. */
  readonly pacingWait = new Histogram({
    name: 'probectl_notify_pacing_wait_seconds',
    help: 'Time a provider call waited for its pacing token inside the activity (0 when a token was free), by provider and priority class (page_critical, page, chat, reconcile). Waits are capped at 2 s; longer ones are deferrals.',
    labelNames: ['provider', 'priority'] as const,
    buckets: [0, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2],
    registers: [this.registry],
  });

  readonly pacingDeferrals = new Counter({
    name: 'probectl_notify_pacing_deferrals_total',
    help: 'Provider calls whose pacing wait would exceed 2 s: handed back to Temporal as a RateLimited retry at their likely turn, by provider and priority class.',
    labelNames: ['provider', 'priority'] as const,
    registers: [this.registry],
  });

  readonly pacingFallback = new Gauge({
    name: 'probectl_notify_pacing_fallback',
    help: '1 while this worker paces on its own share of each key (rate / PROBECTL_NOTIFY_PACE_WORKERS) because the shared pacing store (Postgres) failed or was slow; 0 once it answers again.',
    registers: [this.registry],
  });

  readonly outcomeRecordFailures = new Counter({
    name: 'probectl_notify_outcome_record_failures_total',
    help: 'Call outcomes this worker could not record in Postgres (the workflow records them later), by kind: unavailable (the database could not be reached; recording pauses 5 s) or refused (the database refused that batch: a data error).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly pacingFallbackTakes = new Counter({
    name: 'probectl_notify_pacing_fallback_takes_total',
    help: 'Pacing tokens this worker granted from its own per-process share because the shared pacing store was unreachable, by provider.',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  /** Per-connector reconciliation (src/reconcile/): passes by outcome, and the provider reads they made. */
  readonly reconcilePasses = new Counter({
    name: 'probectl_notify_reconcile_passes_total',
    help: 'Per-connector reconciliation passes of this worker by provider and outcome (done, truncated, leased-elsewhere, store-unavailable, read-failed, signal-failed, stopped, out-of-time).',
    labelNames: ['provider', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly reconcileReads = new Counter({
    name: 'probectl_notify_reconcile_reads_total',
    help: 'Provider requests made by per-connector reconciliation listings, by provider (one per page).',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  /** The dead man's switch (src/observability/heartbeat.ts): each synthetic check's outcome, and the last success. */
  readonly heartbeatChecks = new Counter({
    name: 'probectl_notify_heartbeat_checks_total',
    help: 'Dead man\'s switch checks by outcome: ok (canary done through Temporal and the heartbeat URL pinged), canary_failed (no ping sent), ping_failed (the heartbeat URL refused or was unreachable). Worker processes with PROBECTL_NOTIFY_HEARTBEAT_URL only.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly heartbeatLastSuccess = new Gauge({
    name: 'probectl_notify_heartbeat_last_success_timestamp_seconds',
    help: 'Unix time of the last dead man\'s switch check that went through Temporal and was pinged (0 until the first). Worker processes with PROBECTL_NOTIFY_HEARTBEAT_URL only.',
    registers: [this.registry],
  });

  #openIncidents: (() => Promise<OpenIncidentCounts>) | undefined;
  #cache: { at: number; value: OpenIncidentCounts } | undefined;
  #cacheMs: number;

  readonly openIncidents: Gauge<'status'>;

  constructor(opts: { defaultMetrics?: boolean; openIncidentsCacheMs?: number } = {}) {
    this.#cacheMs = opts.openIncidentsCacheMs ?? 10_000;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.openIncidents = new Gauge({
      name: 'probectl_notify_open_incidents',
      help: 'Incidents whose workflow is running, by status (open, acknowledged), counted in Temporal visibility for this task queue. Absent where no source is set (a worker-only process).',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        const source = self.#openIncidents;
        if (!source) return;
        try {
          if (!self.#cache || Date.now() - self.#cache.at >= self.#cacheMs) self.#cache = { at: Date.now(), value: await source() };
          this.set({ status: 'open' }, self.#cache.value.open);
          this.set({ status: 'acknowledged' }, self.#cache.value.acknowledged);
        } catch {
          // Visibility unreachable: the series go stale rather than report a wrong number.
          this.reset();
        }
      },
    });
    // Both backlog gauges are collected at once by a scrape and share one query (single flight, no cache).
    const backlog = async (): Promise<OutboxBacklogNumbers | undefined> => {
      const source = self.#backlog;
      if (!source) return undefined;
      if (!self.#backlogInFlight) {
        const value = source();
        self.#backlogInFlight = value;
        value.then(
          () => (self.#backlogInFlight = undefined),
          () => (self.#backlogInFlight = undefined),
        );
      }
      return self.#backlogInFlight;
    };
    this.inboundOutboxPending = new Gauge({
      name: 'probectl_notify_inbound_outbox_pending',
      help: 'Accepted inbound deliveries whose signal Temporal has not taken yet (the outbox backlog, all tenants; every API replica reports the same number, aggregate with max). Absent where no source is set.',
      registers: [this.registry],
      async collect() {
        try {
          const v = await backlog();
          if (v) this.set(v.pending);
        } catch {
          // Postgres unreachable: the last value stays (a label-less gauge cannot go absent)
        }
      },
    });
    this.inboundOutboxOldest = new Gauge({
      name: 'probectl_notify_inbound_outbox_oldest_seconds',
      help: 'Age of the oldest pending inbound outbox row, in seconds (0 when none is pending). Alert when it keeps growing: deliveries are accepted but not signalled.',
      registers: [this.registry],
      async collect() {
        try {
          const v = await backlog();
          if (v) this.set(v.oldestSeconds);
        } catch {
          // as above
        }
      },
    });
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'probectl_notify_' });
  }

  /** Where the open-incidents gauge reads its numbers (the API sets a Temporal visibility count). */
  setOpenIncidentsSource(source: (() => Promise<OpenIncidentCounts>) | undefined, cacheMs?: number): void {
    this.#openIncidents = source;
    this.#cache = undefined;
    if (cacheMs !== undefined) this.#cacheMs = cacheMs;
  }

  /** Where the outbox backlog gauges read their numbers (the API sets its outbox). */
  setOutboxBacklogSource(source: (() => Promise<OutboxBacklogNumbers>) | undefined): void {
    this.#backlog = source;
    this.#backlogInFlight = undefined;
  }

  /** Record one finished provider call attempt. */
  delivery(v: { provider: string; action: DeliveryAction; outcome: DeliveryOutcome; seconds: number; reason?: string }): void {
    const provider = providerLabel(v.provider);
    this.deliveries.inc({ provider, action: v.action, outcome: v.outcome });
    this.deliveryLatency.observe({ provider, action: v.action }, v.seconds);
    if (v.outcome === 'permanent') this.permanentFailures.inc({ provider, reason: reasonLabel(v.reason) });
  }

  /** Record one pacing decision: the milliseconds waited for a token, or 'deferred', and the caller's priority class. */
  pacing(provider: string, waited: number | 'deferred', cls: PaceClass = 1): void {
    const labels = { provider: providerLabel(provider), priority: paceClassName(cls) };
    if (waited === 'deferred') this.pacingDeferrals.inc(labels);
    else this.pacingWait.observe(labels, waited / 1000);
  }

  /** The pacer changed between the shared store and its per-process fallback. */
  pacingStore(state: 'shared' | 'fallback'): void {
    this.pacingFallback.set(state === 'fallback' ? 1 : 0);
  }

  reconcilePass(provider: string, outcome: string, reads: number): void {
    this.reconcilePasses.inc({ provider: providerLabel(provider), outcome });
    if (reads > 0) this.reconcileReads.inc({ provider: providerLabel(provider) }, reads);
  }

  outcomeRecordFailure(kind: 'unavailable' | 'refused'): void {
    this.outcomeRecordFailures.inc({ kind });
  }

  pacingFallbackTake(provider: string): void {
    this.pacingFallbackTakes.inc({ provider: providerLabel(provider) });
  }

  contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
