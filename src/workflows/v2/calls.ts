/**
 * Carries out the provider calls the state machine decided: one ordinary activity per call (its own retry
 * policy, timeout and heartbeat; one slow provider never holds up another), each open in its own cancellation
 * scope so a resolve can stop it. Every call carries what the workflow owes Postgres at that moment and records
 * it with its own outcome; its result goes back to the state machine.
 */
import { CancellationScope } from '@temporalio/workflow';
import type { ConnectorRef } from '../../config/connectors';
import type { RecordSpec } from '../../activities/contract';
import { acknowledging, opening, resolving } from '../activity-options';
import { isPager, isTicket } from '../capabilities';
import { acknowledgeSummary, openSummary, openedDetail, resolveSummary } from '../ui';
import { failureOutcome } from './failures';
import { attach, confirm, release } from './records';
import {
  ownFollowUps, reResolveKey, resolutionRef, settled, ticketCloseKey, type Action, type CallOutcome, type IncidentState,
} from './state';
import type { Wake } from './wake';

export class Calls {
  readonly #scopes = new Map<string, CancellationScope>();
  #ended = false;

  constructor(
    private readonly s: IncidentState,
    private readonly wake: Wake,
    private readonly now: () => string,
  ) {}

  /** Schedule every decided call that is not running yet. */
  startDecided(): void {
    for (const a of this.s.actions) {
      if (a.running) continue;
      if (a.kind === 'resolve' ? !this.s.resolving : this.s.resolution !== undefined) continue;
      this.start(a);
    }
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

  private start(a: Action): void {
    const s = this.s;
    const ref = s.connectors.find((c) => c.id === a.connectorId);
    if (!ref) return;
    a.running = true;
    delete a.reissue;
    const record: RecordSpec = { chain: s.chain, actionId: a.id, owed: attach(s.outbox, a.id) };
    const promise = a.kind === 'open' ? this.open(a, ref, record) : a.kind === 'acknowledge' ? this.acknowledge(ref, record) : this.resolve(ref, record);
    void promise.then(
      (res) => this.done(a, ref, { ok: true, recorded: res?.recorded === true, ...res }),
      (err: unknown) => this.done(a, ref, failureOutcome(err)),
    );
  }

  private open(a: Action, ref: ConnectorRef, record: RecordSpec) {
    const s = this.s;
    const scope = new CancellationScope();
    this.#scopes.set(a.id, scope);
    // Re-issued after a hand-over that interrupted it: a create without a provider-side key waits until the
    // interrupted attempt has certainly stopped (state.ts handover), so the lookup finds its ticket instead of
    // creating another.
    const notBefore = a.notBefore;
    return scope.run(() => opening(ref).openConnector.executeWithOptions({ summary: openSummary(ref, s.incident) }, [{
      incident: s.incident, connectorId: ref.id, record, ...(notBefore ? { notBefore } : {}),
    }]));
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
    const s = this.s;
    if (out.ok && out.recorded) ownFollowUps(s, confirm(s.outbox, a.id, out.followUpsRecorded !== false));
    else release(s.outbox, a.id);
    settled(s, a.id, out, this.now(), out.ok && a.kind === 'open' ? openedDetail(ref, out.externalRef ?? '') : undefined);
    this.wake.bump();
  }
}
