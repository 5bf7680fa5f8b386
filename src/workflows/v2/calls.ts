/**
 * Carries out the provider calls the state machine decided: one ordinary activity per call (its own retry
 * policy, timeout and heartbeat; one slow provider never holds up another), each open in its own cancellation
 * scope so a resolve can stop it. With the begin snapshot's `localFirstOpenMs`, an open's first attempt is a local
 * activity (local-first.ts, patch local-first-opens-v1). Every call carries what the workflow owes Postgres at that moment and records
 * it with its own outcome; its result goes back to the state machine.
 */
import { CancellationScope, CancelledFailure, patched, sleep, workflowInfo } from '@temporalio/workflow';
import type { ConnectorRef } from '../../config/connectors';
import type { OpenOutcome, Recorded, RecordSpec } from '../../activities/contract';
import { PAGE_MAX_BACKOFF_MS, TICKET_MAX_BACKOFF_MS, acknowledging, opening, openingLocally, resolving } from '../activity-options';
import { LOCAL_FIRST_OPENS_V1 } from '../patches';
import { isPager, isTicket } from '../capabilities';
import { acknowledgeSummary, openSummary, openedDetail, resolveSummary } from '../ui';
import { failureOutcome } from './failures';
import { fallbackOf, sentNothing } from './local-first';
import { attach, confirm, release } from './records';
import {
  ownFollowUps, reResolveKey, resolutionRef, settled, ticketCloseKey, type Action, type CallOutcome, type IncidentState,
} from './state';
import type { Wake } from './wake';

/** A local first attempt in flight, with what its fallback needs. */
interface LocalFirst {
  a: Action;
  ref: ConnectorRef;
  record: RecordSpec;
  promise: Promise<OpenOutcome & Recorded>;
}

export class Calls {
  readonly #scopes = new Map<string, CancellationScope>();
  /** Opens started in this run as their first try: not re-issued after a hand-over, not a local attempt's fallback. */
  readonly #firstTries = new Set<string>();
  #ended = false;

  constructor(
    private readonly s: IncidentState,
    private readonly wake: Wake,
    private readonly now: () => string,
  ) {}

  /**
   * Schedule every decided call that is not running yet. Local first attempts (local-first.ts) decided together are
   * settled together: their results are applied, and their fallbacks scheduled, only once every one of them has
   * ended. They end in the workflow task that scheduled them, but not always in the same activation live and on
   * replay (a replay may hand over their markers together), so nothing may issue a command between two of them.
   */
  startDecided(): void {
    const local: LocalFirst[] = [];
    for (const a of this.s.actions) {
      if (a.running) continue;
      if (a.kind === 'resolve' ? !this.s.resolving : this.s.resolution !== undefined) continue;
      this.start(a, local);
    }
    if (local.length > 0) this.settleLocal(local);
  }

  /** A resolve overtook the opens: stop every running one (they are waited for; their results only mark links). */
  cancelOpens(): void {
    for (const a of this.s.actions) {
      if (a.kind !== 'open' || !a.running) continue;
      a.cancelled = true;
      this.#scopes.get(a.id)?.cancel();
    }
  }

  /** The run is ending (continue-as-new): results still arriving are not applied (the next run re-issues). */
  end(): void {
    this.#ended = true;
  }

  private start(a: Action, local: LocalFirst[]): void {
    const s = this.s;
    const ref = s.connectors.find((c) => c.id === a.connectorId);
    if (!ref) return;
    a.running = true;
    // A first attempt: not re-issued after a hand-over (nor waiting for an interrupted one to stop).
    const first = !a.reissue && !a.notBefore;
    delete a.reissue;
    if (a.kind === 'open' && first) this.#firstTries.add(a.id);
    const record: RecordSpec = { chain: s.chain, actionId: a.id, owed: attach(s.outbox, a.id) };
    // Every first open of the task, or none: an ordinary activity scheduled beside local attempts would leave only when
    // the slowest of them ends (the task's commands go out together). Not in a task that ends the run (continue-as-new):
    // the result would be dropped and the call made again by the next run.
    if (a.kind === 'open' && first && !workflowInfo().continueAsNewSuggested && this.localFirst()) {
      // A local attempt of a workflow task that was tried before (a worker died or lost the run holding it) is made
      // again, and the earlier one may have landed: a first try only in a run's first task on its first try (its
      // history the start and that task's two events; a signal before it also counts it out, which only resolves).
      if (workflowInfo().historyLength > 3) this.#firstTries.delete(a.id);
      local.push(this.openLocally(a, ref, record));
      return;
    }
    const promise = a.kind === 'open' ? this.open(a, ref, record) : a.kind === 'acknowledge' ? this.acknowledge(ref, record) : this.resolve(ref, record);
    this.whenDone(a, ref, promise);
  }

  /** `local`: the outcome of a local first attempt itself (its one attempt), not of an ordinary activity. */
  private whenDone(a: Action, ref: ConnectorRef, promise: Promise<Recorded & Partial<OpenOutcome> | undefined>, local = false): void {
    void promise.then(
      (res) => this.done(a, ref, { ok: true, recorded: res?.recorded === true, ...res }),
      (err: unknown) => {
        const out = failureOutcome(err);
        // An open's first try: its local first attempt, or attempt 1 of the ordinary activity that was its first try.
        if (a.kind === 'open' && !out.cancelled) out.firstTry = this.#firstTries.has(a.id) && (local || out.attempt === 1);
        this.done(a, ref, out);
      },
    );
  }

  /** Whether an open's first attempt is local: the snapshot carried the setting (patch asked once, at the first such open). */
  private localFirst(): boolean {
    return this.s.settings.localFirstOpenMs !== undefined && patched(LOCAL_FIRST_OPENS_V1);
  }

  /**
   * An open as an ordinary activity in its own cancellation scope; `afterMs`: after a workflow timer of that long (the
   * fallback of a local first attempt), so a resolve that arrives meanwhile cancels it before it calls.
   */
  private open(a: Action, ref: ConnectorRef, record: RecordSpec, afterMs?: number) {
    const s = this.s;
    const scope = new CancellationScope();
    this.#scopes.set(a.id, scope);
    // Re-issued after a hand-over that interrupted it: a create without a provider-side key waits until the
    // interrupted attempt has certainly stopped (state.ts handover), so the lookup finds its ticket instead of
    // creating another.
    const notBefore = a.notBefore;
    const call = () => opening(ref).openConnector.executeWithOptions({ summary: openSummary(ref, s.incident) }, [{
      incident: s.incident, connectorId: ref.id, record, ...(notBefore ? { notBefore } : {}),
    }]);
    // Without a timer, exactly as before local first opens (the same promise chain: recorded runs replay unchanged).
    if (afterMs === undefined) return scope.run(call);
    return scope.run(async () => {
      await sleep(afterMs);
      return call();
    });
  }

  /** An open's first attempt as a local activity, in its own cancellation scope; settled with its batch. */
  private openLocally(a: Action, ref: ConnectorRef, record: RecordSpec): LocalFirst {
    const s = this.s;
    const scope = new CancellationScope();
    this.#scopes.set(a.id, scope);
    const promise = scope.run(() => openingLocally(s.settings.localFirstOpenMs!).openConnector.executeWithOptions({ summary: openSummary(ref, s.incident) }, [{
      incident: s.incident, connectorId: ref.id, record,
    }]));
    return { a, ref, record, promise };
  }

  /**
   * Once every local first attempt of a batch has ended, in the batch's order: a success or a failure for good is the
   * call's outcome; anything else goes on as the ordinary activity after a timer of its back-off (a resolve that
   * arrived meanwhile is applied first, in the next task, and cancels the timer: no request after it).
   */
  private settleLocal(batch: LocalFirst[]): void {
    void Promise.allSettled(batch.map((b) => b.promise)).then((results) => {
      for (const [i, b] of batch.entries()) {
        const r = results[i]!;
        if (r.status === 'fulfilled') {
          this.whenDone(b.a, b.ref, Promise.resolve(r.value));
          continue;
        }
        const fallback = fallbackOf(r.reason);
        if (fallback === undefined || this.#ended) {
          this.whenDone(b.a, b.ref, Promise.reject(r.reason), true);
          continue;
        }
        // What follows is not the open's first try, since the attempt may have landed (a 5xx, a time-out) — unless the
        // pacer refused it before it sent anything.
        if (!sentNothing(r.reason)) this.#firstTries.delete(b.a.id);
        // At most the ordinary retry's longest back-off; a create without a provider-side key cut by the limit may still
        // land, so it waits until it certainly has (the hand-over's guard): a ticket's lookup then adopts it. Until then
        // the cut attempt may land, and a resolve that cancels this open waits for it (state.ts cancelledWindows,
        // cancelled-creates-wait-v1). State only: no command.
        let afterMs = Math.min(fallback.afterMs, isTicket(b.ref) ? TICKET_MAX_BACKOFF_MS : PAGE_MAX_BACKOFF_MS);
        if (fallback.timedOut && !isPager(b.ref)) {
          afterMs = Math.max(afterMs, this.s.settings.reissueGuardMs);
          b.a.landsUntil = new Date(Date.parse(this.now()) + afterMs).toISOString();
        }
        // A resolve overtook the open meanwhile (only when the attempts outlived their task): cancelled, as an
        // ordinary open the resolve stopped (its link stays pending; the resolve covers it).
        if (b.a.cancelled) {
          this.whenDone(b.a, b.ref, Promise.reject(new CancelledFailure('the incident was resolved before the open could go on')));
          continue;
        }
        this.whenDone(b.a, b.ref, this.open(b.a, b.ref, b.record, afterMs));
      }
    });
  }

  private acknowledge(ref: ConnectorRef, record: RecordSpec) {
    const s = this.s;
    const link = s.links[ref.id];
    return acknowledging.acknowledgeConnector.executeWithOptions({ summary: acknowledgeSummary(ref, link) }, [{
      incident: s.incident, connectorId: ref.id, record,
      ...(link?.externalRef ? { externalRef: link.externalRef } : {}),
      ...(s.acknowledgement?.actor ? { actor: s.acknowledgement.actor } : {}),
    }]).then((r) => r ?? undefined);
  }

  private resolve(ref: ConnectorRef, record: RecordSpec) {
    const s = this.s;
    const link = s.links[ref.id];
    const delay = s.settings.pagerReResolveDelayMs;
    return resolving.resolveConnector.executeWithOptions({ summary: resolveSummary(ref, link, false) }, [{
      incident: s.incident, connectorId: ref.id, record, resolution: resolutionRef(s),
      ...(link?.externalRef ? { externalRef: link.externalRef } : {}),
      ...(isPager(ref) && delay > 0 ? { reResolve: { key: reResolveKey(s, ref.id), afterMs: delay } } : {}),
      ...(isTicket(ref) && !link?.externalRef ? { secondPass: { key: ticketCloseKey(s, ref.id, 2), afterMs: Math.max(delay, 1_000) } } : {}),
    }]).then((r) => r ?? undefined);
  }

  private done(a: Action, ref: ConnectorRef, out: CallOutcome): void {
    if (this.#ended) return;
    this.#scopes.delete(a.id);
    this.#firstTries.delete(a.id);
    const s = this.s;
    if (out.ok && out.recorded) ownFollowUps(s, confirm(s.outbox, a.id, out.followUpsRecorded !== false));
    else release(s.outbox, a.id);
    settled(s, a.id, out, this.now(), out.ok && a.kind === 'open' ? openedDetail(ref, out.externalRef ?? '') : undefined);
    this.wake.bump();
  }
}
