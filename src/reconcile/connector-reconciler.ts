/**
 * Per-connector reconciliation (PROBECTL_NOTIFY_RECONCILE_MODE=per-connector): every interval, for each configured
 * readable connector (tenant + connector id), ONE listing of what changed at the provider since the connector's
 * cursor (minus a small overlap) — paged, bounded — instead of one read per open incident. Each object found
 * resolved (acknowledged) whose incident is open here is signalled like an inbound webhook would be: `resolve`
 * (`acknowledge`) with the connector id as the source, so the fan-out skips the origin, after the owner check
 * (the workflow's tenant memo must be the connector's tenant: another tenant's incident does not exist for it).
 *
 * Several workers: a lease row per connector in Postgres (migrations/007) lets one of them run a connector's
 * pass per interval. The cursor moves only past objects processed; a listing cut by its page bound leaves a resume
 * position, and the next pass continues there (a burst larger than the bound is read over several passes, never
 * re-read from the cursor forever). Postgres down: the pass is skipped (nothing
 * else waits for it; pages never do). Reads take pacing tokens of the lowest class (3, reconcile).
 */
import { ApplicationFailure, msOptionalToNumber } from '@temporalio/common';
import type { ConnectorConfig, ConnectorDirectory } from '../config/connectors';
import type { HttpClient } from '../http/client';
import { FailureType } from '../http/failures';
import { scrub } from '../http/scrub';
import { LEAST_URGENT } from '../activities/pace-class';
import { holdOnRateLimit, type Pacer } from '../activities/pacing';
import type { ChangeLister } from '../providers/definition';
import { findProvider } from '../providers/registry';
import { secretsOf, type CallContext, type ChangeListing, type ChangedObject } from '../providers/types';
import type { LeasedRow, OutboxOutcome } from '../db/inbound-outbox';
import type { CursorLease } from '../db/reconcile-cursor-store';
import type { Provider } from '../shared/contract';

/** A provider's connector-wide change listing, where it has one (its folder's `listChanges`). */
const listerOf = (provider: string): ChangeLister | undefined => findProvider(provider)?.listChanges;

/** Pages per connector per pass (100 objects each): a pass reads at most this many times per connector. */
export const MAX_PAGES = 10;
/**
 * Each listing starts this long before the cursor: provider clock skew, Jira's eventually consistent search. Objects
 * changed within it are listed again by the next pass (and skipped: the mirror knows them settled).
 */
export const OVERLAP_MS = 60_000;

export interface CursorStore {
  lease(tenantId: string, connectorId: string, leaseMs: number, initial: string): Promise<CursorLease | undefined>;
  /** Move the cursor forward and set the resume position (undefined: none, the next pass starts from the cursor). */
  advance(lease: CursorLease, cursor: string, resume?: string): Promise<boolean>;
}

export interface MirrorReader {
  read(tenantId: string, incidentId: string): Promise<MirrorView | undefined>;
}

/** What the reconciler needs of the tenant's mirror: the incident's status and its links. */
export interface MirrorView {
  status: string;
  links: ReadonlyArray<{ connectorId: string; status: string; externalRef?: string }>;
}

/** Signal one incident as the inbound path does (src/api/inbound/signal.ts: owner check, then the signal). */
export type Signaller = (row: LeasedRow) => Promise<OutboxOutcome>;

export interface ReconcilerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ConnectorReconcilerOptions {
  connectors: ConnectorDirectory;
  http: HttpClient;
  pacer: Pacer;
  store: CursorStore;
  mirror: MirrorReader;
  signal: Signaller;
  intervalMs: number;
  log: ReconcilerLog;
  overlapMs?: number;
  maxPages?: number;
  /** Every listing's request count, per connector (metrics, tests). */
  onPass?: (p: PassReport) => void;
  /** The order of connectors in a pass is shuffled with this (tests pin it); Math.random by default. */
  random?: () => number;
}

export interface PassReport {
  tenantId: string;
  connectorId: string;
  provider: Provider;
  reads: number;
  found: number;
  signalled: number;
  /** Where the pass's listing began (its cursor less the overlap), once it read. */
  since?: string;
  outcome: 'done' | 'leased-elsewhere' | 'store-unavailable' | 'read-failed' | 'signal-failed' | 'truncated' | 'stopped' | 'out-of-time';
}

/** Which of a listing's objects ask for a signal: resolved, or acknowledged (never open or gone). */
export function wantsSignal(o: ChangedObject): o is ChangedObject & { state: 'resolved' | 'acknowledged' } {
  return o.state === 'resolved' || o.state === 'acknowledged';
}

/**
 * The row the inbound signaller takes for one object: the connector's own tenant, the connector id as the
 * source, and the owner check always on (the object was found by its key only).
 */
export function signalRow(connector: Pick<ConnectorConfig, 'tenantId' | 'id' | 'provider'>, o: ChangedObject & { state: 'resolved' | 'acknowledged' }): LeasedRow {
  return {
    id: `reconcile:${connector.id}:${o.externalRef}`,
    tenantId: connector.tenantId,
    incidentId: o.incidentId,
    kind: o.state,
    source: connector.id,
    ...(o.state === 'resolved' ? { reason: `resolved at ${connector.provider}, found by per-connector reconciliation` } : {}),
    entryId: `reconcile:${connector.id}`,
    provider: connector.provider,
    receivedAt: o.updatedAt,
    attempts: 1,
    leaseToken: '',
  };
}

/**
 * A listed object speaks for its incident only when it is this connector's own linked object: the mirror holds a
 * link of this connector, open or acknowledged, with that very reference. Never on the `probectl-<id>` key alone:
 * anyone who can write to the provider (a cloned Jira issue keeps its labels, a ServiceNow user can set a
 * correlation id, another connector on the same instance) could otherwise resolve the incident, and the real
 * ticket would stay open (the resolve skips its origin).
 */
export function ownsObject(mirrored: MirrorView | undefined, connectorId: string, o: Pick<ChangedObject, 'externalRef'>): boolean {
  const link = mirrored?.links.find((l) => l.connectorId === connectorId);
  return link !== undefined && (link.status === 'open' || link.status === 'acknowledged') && link.externalRef === o.externalRef;
}

/** The incident as this tenant's mirror knows it needs no signal: already resolved, or already acknowledged. */
export function mirrorSettles(mirrored: { status: string } | undefined, state: 'resolved' | 'acknowledged'): boolean {
  if (!mirrored) return false;
  return mirrored.status === 'resolved' || (state === 'acknowledged' && mirrored.status === 'acknowledged');
}

export class ConnectorReconciler {
  readonly #opts: ConnectorReconcilerOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #abort = new AbortController();
  #stopped = false;

  constructor(opts: ConnectorReconcilerOptions) {
    this.#opts = opts;
  }

  /** Readable connectors of every tenant. */
  connectors(): ConnectorConfig[] {
    return this.#opts.connectors.all.filter((c) => listerOf(c.provider) !== undefined);
  }

  start(): void {
    if (this.#opts.intervalMs <= 0 || this.connectors().length === 0) return;
    const tick = () => {
      if (this.#stopped) return;
      this.#running = this.runOnce().then(() => undefined, () => undefined).finally(() => {
        this.#running = undefined;
        if (!this.#stopped) this.#timer = setTimeout(tick, this.#opts.intervalMs);
      });
    };
    // The first pass a little after start (spread over a tenth of the interval, at most 5 s), then every interval.
    this.#timer = setTimeout(tick, Math.min(5_000, Math.floor(Math.random() * (this.#opts.intervalMs / 10))));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#abort.abort(new Error('the reconciler stopped'));
    await this.#running;
  }

  /**
   * One pass over every readable connector, one after another, in an order shuffled anew each pass (so with many
   * connectors on saturated keys no connector is always last, and workers do not all walk them in one order). A
   * pass takes at most 0.9 × the interval: connectors not begun by then are left to the next pass (or another
   * worker), reported `out-of-time` without a read or a lease.
   */
  async runOnce(): Promise<PassReport[]> {
    const reports: PassReport[] = [];
    const deadline = Date.now() + Math.max(1_000, Math.floor(this.#opts.intervalMs * 0.9));
    for (const c of shuffled(this.connectors(), this.#opts.random ?? Math.random)) {
      if (this.#stopped) break;
      const report = Date.now() >= deadline
        ? { tenantId: c.tenantId, connectorId: c.id, provider: c.provider, reads: 0, found: 0, signalled: 0, outcome: 'out-of-time' as const }
        : await this.reconcile(c);
      reports.push(report);
      this.#opts.onPass?.(report);
    }
    return reports;
  }

  /** One connector's pass: lease, list, signal, advance. Never throws. */
  async reconcile(c: ConnectorConfig): Promise<PassReport> {
    const { store, intervalMs, log } = this.#opts;
    const base = { tenantId: c.tenantId, connectorId: c.id, provider: c.provider, reads: 0, found: 0, signalled: 0 };
    // The lease lasts most of an interval: no second pass by another worker within it, and this worker's next
    // tick (one interval on) finds it passed.
    const leaseMs = Math.max(1_000, Math.floor(intervalMs * 0.9));
    let lease: CursorLease | undefined;
    try {
      lease = await store.lease(c.tenantId, c.id, leaseMs, new Date(Date.now() - intervalMs).toISOString());
    } catch (err) {
      log.warn({ connector: c.id, tenant: c.tenantId, err: { message: firstLine(err) } }, 'reconciliation skipped: the cursor store is unavailable');
      return { ...base, outcome: 'store-unavailable' };
    }
    if (!lease) return { ...base, outcome: 'leased-elsewhere' };

    const since = new Date(Date.parse(lease.cursor) - (this.#opts.overlapMs ?? OVERLAP_MS)).toISOString();
    const startedAt = new Date().toISOString();
    let listing: ChangeListing;
    try {
      listing = await this.#list(c, since, lease.resume);
    } catch (err) {
      // Scrubbed as an activity's failure is: a listing's error may quote the provider's answer (src/http/failures.ts).
      log.warn({ connector: c.id, tenant: c.tenantId, err: { message: firstLine(err, secretsOf(c)) } }, 'reconciliation read failed; the next interval tries again');
      return { ...base, outcome: 'read-failed' };
    }
    const report = { ...base, reads: listing.reads, found: listing.items.length, since };

    // Oldest first, so a failure leaves the cursor before every object not processed.
    const items = [...listing.items].sort((a, b) => (a.updatedAt < b.updatedAt ? -1 : a.updatedAt > b.updatedAt ? 1 : 0));
    let signalled = 0;
    for (const o of items) {
      if (this.#stopped) {
        // Stopping: the cursor stays before this object (as after a failed signal); the next pass goes on from it.
        if (!listing.truncated || listing.coveredUntil !== undefined) await store.advance(lease, o.updatedAt).catch(() => undefined);
        return { ...report, signalled, outcome: 'stopped' };
      }
      if (!wantsSignal(o)) continue;
      try {
        const mirrored = await this.#opts.mirror.read(c.tenantId, o.incidentId);
        if (!ownsObject(mirrored, c.id, o) || mirrorSettles(mirrored, o.state)) continue;
        const outcome = await this.#opts.signal(signalRow(c, o));
        if (outcome === 'signalled') signalled += 1;
      } catch (err) {
        log.warn({ connector: c.id, tenant: c.tenantId, err: { message: firstLine(err) } }, 'reconciliation could not signal; the cursor stays before this object');
        // The cursor may move up to this object only when every change before it was listed: a complete listing, or
        // one cut by its bound that lists oldest first (coveredUntil). A newest-first listing cut by its bound did
        // not reach the older changes: the cursor (and the resume position) stay. Otherwise the next pass starts
        // again from this object (no resume: it is before where the listing stopped).
        if (!listing.truncated || listing.coveredUntil !== undefined) await store.advance(lease, o.updatedAt).catch(() => undefined);
        return { ...report, signalled, outcome: 'signal-failed' };
      }
    }
    // A complete listing covered every change up to when it began; one cut by its bound up to its last record.
    // A listing that resumed where the last one stopped and came to its end covered every change up to when the
    // walk began (`coveredUntil` of a newest-first lister) or up to when it began (oldest-first: this pass's start).
    const covered = listing.truncated ? listing.coveredUntil : (listing.completedUntil ?? startedAt);
    // A newest-first listing cut by its bound (no coveredUntil): the cursor stays; the resume position is set (or
    // cleared, when the walk can go no further) so the next pass continues to older changes instead of re-reading.
    await store.advance(lease, covered ?? lease.cursor, listing.truncated ? listing.resume : undefined).catch(() => undefined);
    if (signalled > 0) log.info({ connector: c.id, tenant: c.tenantId, signalled, reads: listing.reads }, 'reconciliation signalled incidents resolved or acknowledged at the provider');
    if (listing.truncated) {
      log.warn({ connector: c.id, tenant: c.tenantId, reads: listing.reads }, 'reconciliation listing hit its page bound; the rest follows next interval');
    }
    return { ...report, signalled, outcome: listing.truncated ? 'truncated' : 'done' };
  }

  /** The listing, each request after a pacing token of the lowest class; a 429's delay holds the key's bucket. */
  async #list(c: ConnectorConfig, since: string, resume: string | undefined): Promise<ChangeListing> {
    const lister = listerOf(c.provider)!;
    const { pacer, http } = this.#opts;
    const signal = this.#abort.signal;
    const deadline = Date.now() + Math.max(2_000, this.#opts.intervalMs / 2);
    const beforeRequest = async () => {
      for (;;) {
        try {
          await pacer.take(c, { cls: LEAST_URGENT, signal });
          return;
        } catch (err) {
          // A saturated key defers the lowest class first: wait for the turn it names, within half an interval.
          if (!(err instanceof ApplicationFailure && err.type === FailureType.RateLimited)) throw err;
          const ms = (err.nextRetryDelay ? msOptionalToNumber(err.nextRetryDelay) : undefined) ?? 1_000;
          if (Date.now() + ms > deadline || signal.aborted) throw err;
          await abortableSleep(ms, signal);
        }
      }
    };
    const ctx: CallContext = { connector: c, http, signal, attempt: 1 };
    return holdOnRateLimit(pacer, c, () => lister(ctx, since, this.#opts.maxPages ?? MAX_PAGES, beforeRequest, resume));
  }
}

/** A copy of `xs` in random order (Fisher–Yates with `random`). */
export function shuffled<T>(xs: readonly T[], random: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Wait `ms`, or less when `signal` aborts (the reconciler stopping must not wait out a pacing turn). */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The error's first line, scrubbed of `secrets` when given — before it is cut (a cut secret no longer matches). */
function firstLine(err: unknown, secrets: readonly string[] = []): string {
  const m = (err as { message?: unknown } | undefined)?.message;
  return typeof m === 'string' ? scrub(m.split('\n')[0]!, secrets).slice(0, 200) : 'unknown error';
}
