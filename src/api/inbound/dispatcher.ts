/**
 * The inbound outbox dispatcher (one per API process): signals every accepted delivery Temporal has not
 * taken yet, retried until it does (at-least-once; the workflow treats a repeated resolve or acknowledge as a
 * no-op). docs/inbound.md, "Accepted means recorded".
 *
 * Each pass lists due rows of every tenant (a SECURITY DEFINER function returning only tenant and id), leases
 * them under each tenant's row-level security (UPDATE … FOR UPDATE SKIP LOCKED, so replicas share the work
 * and a row is sent by one of them in the normal case), signals them with a deadline per call, and marks
 * them done. WorkflowNotFound is done (closed: a duplicate); a failed owner check is done (ignored, logged).
 *
 * Failures are of two kinds, backed off differently:
 *   - Temporal unreachable (unavailable, deadline passed): an outage, not a property of the row. The row is
 *     released due at once and no further row is tried; until Temporal answers a probe (one cheap call per
 *     poll interval) nothing is sent, and a pass that still finds it unreachable backs the next pass off
 *     exponentially (1 s … 30 s). So it wakes within a poll interval of Temporal's return, without growing
 *     per-row back-offs that would leave rows waiting long after the outage ended.
 *   - Temporal refused this call (anything else): the row backs off exponentially, 1 s … 30 s, on its own.
 */
import { isTemporalUnreachable, type IncidentClient } from '../../client';
import type { InboundOutbox, LeasedRow } from '../../db/inbound-outbox';
import { OutageLog, PollSleep, pollUntilStopped } from '../../db/poll';
import type { Logger } from '../../observability/logger';
import type { NotifyMetrics, OutboxDispatchOutcome } from '../../observability/metrics';
import { failureText, signalAccepted } from './signal';
import type { TemporalHealth } from './temporal-health';

export interface DispatcherOptions {
  outbox: InboundOutbox;
  incidents: IncidentClient;
  health: TemporalHealth;
  log: Logger;
  metrics?: NotifyMetrics;
  /** Between passes while nothing is due or Temporal is unreachable (default 1 s). */
  pollMs?: number;
  /** Rows listed and leased per pass (default 50). */
  batchSize?: number;
  /** Signals in flight at once (default 8). */
  concurrency?: number;
  /** A leased row is due again after this, if its holder vanished (default 30 s; well past a pass). */
  leaseMs?: number;
  /** Deadline of each Temporal call (default 5 s). */
  callDeadlineMs?: number;
  /** Cap of every back-off (default 30 s). */
  maxBackoffMs?: number;
  /** Called once per row tried (tests and diagnostics). */
  onTried?: (row: LeasedRow, outcome: OutboxDispatchOutcome) => void;
}

const jitter = (ms: number) => Math.round(ms * (0.8 + Math.random() * 0.4));

export class InboundDispatcher {
  readonly #o: Required<Omit<DispatcherOptions, 'metrics' | 'onTried'>> & Pick<DispatcherOptions, 'metrics' | 'onTried'>;
  #running = false;
  #loop: Promise<void> | undefined;
  readonly #sleep = new PollSleep();
  /** Passes in a row that found Temporal unreachable, and when the next pass may run. */
  #failedPasses = 0;
  #nextPassAt = 0;

  constructor(opts: DispatcherOptions) {
    this.#o = {
      pollMs: 1_000, batchSize: 50, concurrency: 8, leaseMs: 30_000, callDeadlineMs: 5_000, maxBackoffMs: 30_000,
      ...opts,
    };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stop taking rows; what is in flight finishes (each call is bounded by its deadline), the rest is released. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#sleep.wake();
    await this.#loop;
    this.#loop = undefined;
  }

  async #run(): Promise<void> {
    // Postgres unreachable (listing or leasing failed): try again next poll; said once, not every second.
    await pollUntilStopped({
      running: () => this.#running,
      step: () => this.step(),
      reason: failureText,
      outage: new OutageLog(this.#o.log, 'inbound outbox', 'cannot read the outbox'),
      sleep: this.#sleep,
      pollMs: this.#o.pollMs,
    });
  }

  /**
   * One pass: due rows → probe Temporal if it was last seen unreachable → lease → signal → done. Returns
   * whether a full batch was listed (more may be due: go again at once). Throws when Postgres fails.
   */
  async step(): Promise<boolean> {
    const o = this.#o;
    if (Date.now() < this.#nextPassAt) return false;
    const due = await o.outbox.due(o.batchSize);
    if (due.length === 0) return false;
    if (o.health.isDown()) {
      if (!(await o.incidents.reachable(Math.min(o.callDeadlineMs, 2_000)))) {
        o.health.unreachable();
        return false;
      }
      const downMs = o.health.reachable();
      o.log.info({ downMs, due: due.length }, 'inbound outbox: Temporal reachable again; sending what is due');
    }

    const byTenant = new Map<string, string[]>();
    for (const d of due) byTenant.set(d.tenantId, [...(byTenant.get(d.tenantId) ?? []), d.id]);
    const rows: LeasedRow[] = [];
    for (const [tenantId, ids] of byTenant) rows.push(...(await o.outbox.claim(tenantId, ids, o.leaseMs)));

    // One incident's rows go one after another, in the order they arrived (an acknowledgement before the
    // resolution that followed it); different incidents in parallel.
    const byIncident = new Map<string, LeasedRow[]>();
    for (const row of rows.sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)))) {
      const k = `${row.tenantId}\u0000${row.incidentId}`;
      byIncident.set(k, [...(byIncident.get(k) ?? []), row]);
    }
    let unreachable = false;
    const queue = [...byIncident.values()];
    const worker = async () => {
      for (let group = queue.shift(); group; group = queue.shift()) {
        for (const row of group) {
          if (unreachable || !this.#running) {
            await this.#release(row, 0, unreachable ? 'not tried: Temporal unreachable' : 'not tried: shutting down');
            continue;
          }
          if ((await this.#send(row)) === 'unreachable') unreachable = true;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.concurrency, queue.length) }, worker));

    if (unreachable) {
      if (!o.health.isDown()) o.log.warn({ pending: due.length }, 'inbound outbox: Temporal unreachable; probing every poll, sending when it answers');
      o.health.unreachable();
      this.#failedPasses += 1;
      this.#nextPassAt = Date.now() + jitter(Math.min(o.maxBackoffMs, 1_000 * 2 ** (this.#failedPasses - 1)));
      return false;
    }
    this.#failedPasses = 0;
    return due.length >= o.batchSize;
  }

  async #send(row: LeasedRow): Promise<OutboxDispatchOutcome> {
    const o = this.#o;
    let outcome: OutboxDispatchOutcome;
    try {
      outcome = await signalAccepted(o.incidents, row, o.callDeadlineMs);
    } catch (err) {
      const why = failureText(err);
      if (isTemporalUnreachable(err)) {
        await this.#release(row, 0, why);
        outcome = 'unreachable';
      } else {
        const delay = jitter(Math.min(o.maxBackoffMs, 1_000 * 2 ** Math.max(0, row.attempts - 1)));
        o.log.warn({ outboxId: row.id, entry: row.entryId, incidentId: row.incidentId, attempts: row.attempts, retryInMs: delay, why }, 'inbound outbox: Temporal refused the signal; retrying');
        await this.#release(row, delay, why);
        outcome = 'retried';
      }
      this.#count(row, outcome);
      return outcome;
    }
    o.health.reachable();
    try {
      await o.outbox.markDone(row, outcome);
    } catch (err) {
      // Sent, not marked: sent again after the lease (a no-op for the workflow).
      o.log.warn({ outboxId: row.id, err: { message: failureText(err) } }, 'inbound outbox: signalled but not marked done; it is sent again after its lease');
    }
    const fields = { outboxId: row.id, entry: row.entryId, provider: row.provider, incidentId: row.incidentId, kind: row.kind, source: row.source, outcome, attempts: row.attempts };
    if (outcome === 'not_owner') o.log.info({ ...fields, code: 'unknown_ref' }, 'inbound delivery ignored: no incident of this tenant matches the reference');
    else o.log.info(fields, 'inbound outbox row signalled');
    this.#count(row, outcome);
    return outcome;
  }

  async #release(row: LeasedRow, delayMs: number, why: string): Promise<void> {
    try {
      await this.#o.outbox.release(row, delayMs, why);
    } catch {
      // Postgres went away: the lease runs out and the row is due again then.
    }
  }

  #count(row: LeasedRow, outcome: OutboxDispatchOutcome): void {
    this.#o.metrics?.inboundOutbox.inc({ outcome });
    this.#o.onTried?.(row, outcome);
  }
}
