/**
 * The incident workflow as it ran before the `state-machine-v1` patch (src/workflows/patches.ts). Runs that
 * started before that patch replay this code, unchanged, until they end: do not edit it except to keep it
 * compiling (its meaning is fixed by the histories under test/histories/ that took this path).
 *
 * Handlers only change state; the main body opens every connector once, waits for the resolution, cancels
 * outstanding opens and waits for them, then resolves every link except the origin.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
  condition,
  continueAsNew,
  inWorkflowContext,
  patched,
  isCancellation,
  setHandler,
  sleep,
  allHandlersFinished,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ConnectorRef } from '../../config/connectors';
import { SEVERITY_RANK } from '../../connectors/spec';
import type {
  AcknowledgeSignal, CorrelateSignal, IncidentResolution, IncidentWorkflowInput, Link, RedriveSignal, ResolveSignal,
} from '../../shared/contract';
import type { MirrorBatch } from '../../db/mirror-store';
import { incidentKey } from '../../shared/ids';
import { signalProblems } from '../../shared/validate';
import { truncate } from '../../shared/text';
import {
  acknowledging, beginning, beginningLocal, mirroring, mirroringLocal, opening, reconciling, reporting, resolving,
} from '../activity-options';
import { acknowledgeSignal, correlateSignal, redriveSignal, resolveSignal, stateQuery } from '../messages';
import { EXTERNAL_REFS, PROVIDERS, SEVERITY, STATUS, TENANT, indexedValues, signature } from '../search-attributes';
import {
  BEGIN_SUMMARY, acknowledgeSummary, currentDetails, mirrorSummary, openSummary, openedDetail, reportSummary, resolveSummary,
} from '../ui';
import {
  MAX_CARRIED_PENDING, hasMirrorWork, initialState, markIncidentDirty, record, rememberSignal, resolutionResult, setLink, takeMirrorBatch, view,
  type IncidentState,
} from './state-v1';

const PAGERS = new Set(['pagerduty', 'opsgenie']);
/** Providers whose objects can be read back to notice a missed webhook (PagerDuty's Events key cannot read). */
const READABLE = new Set(['servicenow', 'jira', 'opsgenie']);
const now = (): string => new Date().toISOString();
/** Link states that are an outcome of a provider call: the mirror needs them promptly (inbound reverse lookup). */
const OUTCOMES = new Set(['open', 'acknowledged', 'resolved', 'failed', 'orphaned']);
/** Timeline entries recorded away from a fan-out (a correlated signal, a refused one): written promptly too. */
const PROMPT_KINDS = new Set(['correlated', 'signal.rejected']);
/** Past this many unwritten timeline entries the mirror is written even while provider calls are in flight. */
const MAX_HELD_ENTRIES = 50;
/** A mirror write with at most this many timeline entries (and no signal-fed ones) may be a local activity. */
const MAX_LOCAL_WRITE_ENTRIES = 20;

/** The scrubbed reason an activity failed, for the link and the timeline. */
function failureReason(err: unknown): string {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    if (cause instanceof TimeoutFailure) return 'gave up: the retry window ran out (timed out)';
    if (cause instanceof ApplicationFailure) return truncate(cause.message, 500);
    if (cause) return truncate(cause.message, 500);
  }
  return err instanceof Error ? truncate(err.message, 500) : 'unknown failure';
}

function failureType(err: unknown): string | undefined {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause.type ?? undefined : undefined;
}

export async function incidentWorkflowV1(input: IncidentWorkflowInput): Promise<IncidentResolution> {

  const s: IncidentState = (input.carried as IncidentState | undefined) ?? initialState(input.incident);
  const incident = s.incident;
  s.run = (s.run ?? 0) + 1;
  // Fewer history events per incident (docs/workflow-contract.md, "History budget"): beginIncident as a local
  // activity, fewer mirror writes, search-attribute upserts once per fan-out. Runs from before the patch replay
  // the old path. (Every patch costs two events: its marker and a TemporalChangeVersion upsert.)
  const lean = patched('lean-history-v1');
  /** Provider calls (open, acknowledge, resolve) in flight. */
  let providerCalls = 0;
  const providerCall = async <T>(call: () => Promise<T>): Promise<T> => {
    providerCalls += 1;
    try {
      return await call();
    } finally {
      providerCalls -= 1;
    }
  };

  // ---- handlers: synchronous, they only change state -------------------------------------------------
  setHandler(stateQuery, () => view(s));

  setHandler(correlateSignal, (sig: CorrelateSignal) => {
    if (!acceptSignal(sig, false)) return;
    if (typeof sig.signalId !== 'string' || sig.signalId.length === 0 || sig.signalId.length > 256) {
      record(s, now(), 'signal.rejected', { detail: 'correlate: signalId is missing or malformed' });
      return;
    }
    if (!rememberSignal(s, sig.signalId)) return; // a duplicate delivery of the same correlated signal
    s.correlationCount += 1;
    record(s, now(), 'correlated', {
      detail: truncate(`${sig.signalId}${typeof sig.summary === 'string' && sig.summary ? `: ${sig.summary}` : ''}`, 500),
    });
  });

  setHandler(acknowledgeSignal, (sig: AcknowledgeSignal) => {
    if (!acceptSignal(sig, true)) return;
    if (s.status !== 'open') return; // a second acknowledgement, or one after the resolve: no-op
    s.status = 'acknowledged';
    s.acknowledgement = { source: sig.source, ...(sig.actor ? { actor: sig.actor } : {}), at: now() };
    markIncidentDirty(s);
    record(s, now(), 'acknowledged', { source: sig.source, ...(sig.actor ? { actor: sig.actor } : {}) });
  });

  setHandler(resolveSignal, (sig: ResolveSignal) => {
    if (!acceptSignal(sig, true)) return;
    if (s.status === 'resolved') return; // duplicate resolve: no-op
    s.status = 'resolved';
    s.resolution = {
      source: sig.source,
      ...(sig.actor ? { actor: sig.actor } : {}),
      ...(typeof sig.reason === 'string' && sig.reason ? { reason: truncate(sig.reason, 1000) } : {}),
      at: now(),
    };
    markIncidentDirty(s);
    record(s, now(), 'resolved', {
      source: sig.source,
      ...(sig.actor ? { actor: sig.actor } : {}),
      ...(s.resolution.reason ? { detail: s.resolution.reason } : {}),
    });
  });

  // Operator action (CLI `incident redrive`): re-open one connector whose link is failed. Queued here, run
  // by the main loop; anything else is recorded as rejected.
  const redriveQueue: ConnectorRef[] = [];
  setHandler(redriveSignal, (sig: RedriveSignal) => {
    if (!acceptSignal(sig, false)) return;
    const ref = s.connectors.find((c) => c.id === sig.connectorId);
    const link = ref ? s.links[ref.id] : undefined;
    const refuse = (why: string) => void record(s, now(), 'signal.rejected', { detail: `redrive ${truncate(String(sig.connectorId), 64)}: ${why}` });
    if (!ref || !link) return refuse('no such connector on this incident');
    if (s.resolution) return refuse('the incident is resolved');
    if (redriveQueue.includes(ref)) return; // a repeated request before the loop picked it up
    if (link.status !== 'failed') return refuse(`the link is ${link.status}; only a failed link is re-driven`);
    redriveQueue.push(ref);
    record(s, now(), 'connector.redriven', { connectorId: ref.id, ...(sig.actor ? { actor: truncate(sig.actor, 256) } : {}) });
  });

  /** Signals carry the tenant; a mismatch is ignored and recorded, never acted on. */
  function acceptSignal(sig: unknown, needsSource: boolean): boolean {
    const p = signalProblems(sig, needsSource);
    if (p.length > 0) {
      record(s, now(), 'signal.rejected', { detail: p.join('; ') });
      return false;
    }
    if ((sig as { tenantId: string }).tenantId !== incident.tenantId) {
      record(s, now(), 'signal.rejected', { detail: 'tenant mismatch' });
      return false;
    }
    return true;
  }

  // ---- the mirror: one writer, in order, retried until it lands ----------------------------------------
  let closing = false;
  /** The run is ending (continue-as-new or completion): the side loops must not touch workflow APIs after it. */
  let ended = false;
  let mirrorBusy = false;
  /** A continue-as-new is under way: no new mirror write starts (what is pending is carried), unless too much piles up. */
  let switching = false;
  // lean-history-v1: also held as soon as the server suggests the switch, so no write is in flight when it
  // comes (what is pending is carried).
  const mirrorHeld = () =>
    (switching || (lean && workflowInfo().continueAsNewSuggested)) && s.pending.timeline.length <= MAX_CARRIED_PENDING;
  /**
   * lean-history-v1: fewer mirror writes (each is three events and a workflow task of its own). None before
   * beginIncident has finished; while provider calls are in flight, only for a link outcome (the inbound
   * reverse lookup reads links from the mirror), a correlated or refused signal, or once 50 entries are held.
   * What a fan-out's own task records (opened, resolved, acknowledged) rides along with the next write or
   * waits until the calls settle.
   */
  const mirrorDue = () =>
    !lean || closing || ended ||
    (s.begun && (
      providerCalls === 0 ||
      s.pending.linkIds.some((id) => OUTCOMES.has(s.links[id]?.status ?? '')) ||
      s.pending.timeline.length >= MAX_HELD_ENTRIES ||
      s.pending.timeline.some((e) => PROMPT_KINDS.has(e.kind))
    ));
  /**
   * lean-history-v1: a small write that a fan-out caused (link outcomes, their entries) runs as a local
   * activity: one marker event instead of three plus a workflow task. Anything a signal stream feeds
   * (correlated or refused signals) or a large batch stays an ordinary activity: a local activity holds its
   * workflow task open until Postgres answers, and under a stream of signals that kept continue-as-new from
   * succeeding (one run grew to 8,000 events in the 10,000-signal test).
   */
  const localWrite = (batch: MirrorBatch) =>
    batch.timeline.length <= MAX_LOCAL_WRITE_ENTRIES && !batch.timeline.some((e) => PROMPT_KINDS.has(e.kind)) &&
    !workflowInfo().continueAsNewSuggested;
  const mirrorLoop = (async () => {
    for (;;) {
      await condition(() => (hasMirrorWork(s) && !mirrorHeld() && mirrorDue()) || closing || ended);
      if (ended || !inWorkflowContext() || !hasMirrorWork(s)) return;
      mirrorBusy = true;
      const batch = takeMirrorBatch(s);
      await (lean && localWrite(batch) ? mirroringLocal : mirroring).writeMirror.executeWithOptions({ summary: mirrorSummary(batch) }, [batch]);
      mirrorBusy = false;
    }
  })();

  // ---- the Temporal UI: search attributes (one upsert per change burst, only when values changed) and the
  // current-details table (refreshed on every change). Continue-as-new carries the search attributes over.
  const indexed = () => indexedValues({ tenantId: incident.tenantId, status: s.status, severity: incident.severity, links: Object.values(s.links) });
  const atStart = workflowInfo().typedSearchAttributes;
  let indexedSig = signature({
    tenant: atStart.get(TENANT) ?? '',
    status: (atStart.get(STATUS) ?? '') as IncidentState['status'],
    severity: (atStart.get(SEVERITY) ?? '') as IncidentState['incident']['severity'],
    providers: [...(atStart.get(PROVIDERS) ?? [])].sort(),
    externalRefs: [...(atStart.get(EXTERNAL_REFS) ?? [])].sort(),
  });
  const details = () => currentDetails({
    incident, status: s.status, connectors: s.connectors, links: s.links, correlationCount: s.correlationCount,
    ...(s.resolution ? { resolution: s.resolution } : {}), ...(s.acknowledgement ? { acknowledgement: s.acknowledgement } : {}), run: s.run ?? 1,
  });
  let shownDetails = '';
  const uiSynced = () => signature(indexed()) === indexedSig;
  /** lean-history-v1: a status change is upserted at once, providers and references once the calls settle. */
  let indexedStatus = atStart.get(STATUS) ?? '';
  const uiDue = () => !lean || providerCalls === 0 || closing || ended || s.status !== indexedStatus;
  const uiLoop = (async () => {
    for (;;) {
      await condition(() => closing || ended || (!uiSynced() && uiDue()) || details() !== shownDetails);
      // An evicted run's pending continuation may be flushed after its context is gone: never touch the APIs then.
      if (ended || !inWorkflowContext()) return;
      const v = indexed();
      if (signature(v) !== indexedSig && uiDue()) {
        indexedStatus = v.status;
        upsertSearchAttributes([
          { key: TENANT, value: v.tenant },
          { key: STATUS, value: v.status },
          { key: SEVERITY, value: v.severity },
          { key: PROVIDERS, value: v.providers.length > 0 ? v.providers : null },
          { key: EXTERNAL_REFS, value: v.externalRefs.length > 0 ? v.externalRefs : null },
        ]);
        indexedSig = signature(v);
      }
      const d = details();
      if (d !== shownDetails) {
        setCurrentDetails(d);
        shownDetails = d;
      }
      if (closing) return;
    }
  })();

  // ---- the callback to probectl: what it did not do itself, retried until delivered, never blocking ------
  const reports: Promise<unknown>[] = [];
  let reportsInFlight = 0;
  const tellProbectl = (type: 'incident.resolved' | 'incident.acknowledged'): void => {
    const what = type === 'incident.resolved' ? s.resolution : s.acknowledgement;
    if (!what || what.source === 'probectl') return;
    reportsInFlight += 1;
    reports.push(
      reporting.reportToProbectl
        .executeWithOptions({ summary: reportSummary(type) }, [{
          type, eventId: `${incidentKey(incident.id)}/${type}`, incidentId: incident.id, tenantId: incident.tenantId,
          source: what.source, ...(what.actor ? { actor: what.actor } : {}), at: what.at,
          ...(type === 'incident.resolved'
            ? { links: Object.values(s.links).map(({ connectorId, provider, status, externalRef, externalUrl }) => ({ connectorId, provider, status, ...(externalRef ? { externalRef } : {}), ...(externalUrl ? { externalUrl } : {}) })) }
            : {}),
        }])
        .finally(() => void (reportsInFlight -= 1)),
    );
  };

  const finish = async (): Promise<IncidentResolution> => {
    await Promise.all(reports); // the workflow completes only once probectl has the event
    closing = true;
    await mirrorLoop;
    await uiLoop;
    await condition(allHandlersFinished);
    ended = true;
    return resolutionResult(s);
  };

  // ---- open ---------------------------------------------------------------------------------------------
  if (!s.begun) {
    const begun = await (lean ? beginningLocal : beginning).beginIncident.executeWithOptions({ summary: BEGIN_SUMMARY }, [{ incident }]);
    s.begun = true;
    s.connectors = begun.connectors;
    s.settings = begun.settings;
    if (!s.resolution) record(s, now(), 'opened', { detail: truncate(incident.title, 200) });
    const mirrored = begun.mirror.record;
    if (!begun.mirror.available) {
      record(s, now(), 'mirror.unavailable', { detail: 'links could not be read; relying on provider-side idempotency keys' });
    }
    if (mirrored?.status === 'resolved' && !s.resolution) {
      // Re-opened after Temporal's retention: the incident was resolved already. Nothing pages.
      s.status = 'resolved';
      s.resolution = {
        source: mirrored.resolutionSource ?? 'probectl',
        ...(mirrored.resolutionActor ? { actor: mirrored.resolutionActor } : {}),
        at: mirrored.resolvedAt ?? now(),
      };
      for (const l of mirrored.links) s.links[l.connectorId] = l;
      record(s, now(), 'already.resolved', { detail: 'the mirror holds this incident as resolved; nothing was opened' });
      return finish();
    }
    for (const l of mirrored?.links ?? []) {
      const ref = s.connectors.find((c) => c.id === l.connectorId);
      if (!ref) continue;
      if (l.status === 'open' || l.status === 'acknowledged' || l.status === 'resolved') {
        // A re-driven run or a re-open after retention: adopt what exists, never open it again.
        setLink(s, ref, now(), l.status, { ...(l.externalRef ? { externalRef: l.externalRef } : {}), ...(l.externalUrl ? { externalUrl: l.externalUrl } : {}) });
        record(s, now(), 'connector.adopted', { connectorId: ref.id, ...(l.externalRef ? { detail: l.externalRef } : {}) });
      }
    }
  }

  const openScope = new CancellationScope();
  const toOpen: ConnectorRef[] = [];
  for (const ref of s.connectors) {
    if (s.links[ref.id]) continue;
    if (ref.minSeverity && SEVERITY_RANK[incident.severity] < SEVERITY_RANK[ref.minSeverity]) {
      setLink(s, ref, now(), 'skipped');
      record(s, now(), 'connector.skipped', { connectorId: ref.id, detail: `severity ${incident.severity} is below min_severity ${ref.minSeverity}` });
      continue;
    }
    if (s.resolution) continue; // resolved before anything was opened: never open
    toOpen.push(ref);
  }

  const acknowledgeOne = async (ref: ConnectorRef, link: Link): Promise<void> => {
    try {
      await providerCall(() => acknowledging.acknowledgeConnector.executeWithOptions({ summary: acknowledgeSummary(ref, link) }, [{
        incident, connectorId: ref.id,
        ...(link.externalRef ? { externalRef: link.externalRef } : {}),
        ...(s.acknowledgement?.actor ? { actor: s.acknowledgement.actor } : {}),
      }]));
      if (s.links[ref.id]?.status === 'open') setLink(s, ref, now(), 'acknowledged');
      record(s, now(), 'connector.acknowledged', { connectorId: ref.id });
    } catch (err) {
      if (isCancellation(err)) throw err;
      record(s, now(), 'connector.failed', { connectorId: ref.id, detail: `acknowledge: ${failureReason(err)}` });
    }
  };

  const inflightAcks: Promise<void>[] = [];
  const maybeAcknowledge = (ref: ConnectorRef): void => {
    const link = s.links[ref.id];
    if (!s.acknowledgement || !PAGERS.has(ref.provider) || link?.status !== 'open') return;
    if (ref.id === s.acknowledgement.source) {
      // The origin acknowledged it itself: mark it, never echo the acknowledgement back.
      setLink(s, ref, now(), 'acknowledged');
      return;
    }
    inflightAcks.push(acknowledgeOne(ref, link));
  };

  const openOne = async (ref: ConnectorRef): Promise<void> => {
    setLink(s, ref, now(), 'pending');
    try {
      const out = await providerCall(() => opening(ref).openConnector.executeWithOptions({ summary: openSummary(ref, incident) }, [{ incident, connectorId: ref.id }]));
      setLink(s, ref, now(), 'open', { externalRef: out.externalRef, ...(out.externalUrl ? { externalUrl: out.externalUrl } : {}) });
      record(s, now(), 'connector.opened', { connectorId: ref.id, detail: openedDetail(ref, out.externalRef) });
      if (s.status === 'acknowledged') maybeAcknowledge(ref);
    } catch (err) {
      if (isCancellation(err) || (err instanceof ActivityFailure && isCancellation(err.cause))) {
        record(s, now(), 'connector.failed', { connectorId: ref.id, detail: 'open cancelled: the incident was resolved first' });
        return; // stays pending; the resolve fan-out covers it with the deterministic key
      }
      const reason = failureReason(err);
      setLink(s, ref, now(), failureType(err) === 'ConnectorRemoved' ? 'orphaned' : 'failed', { error: reason });
      record(s, now(), 'connector.failed', { connectorId: ref.id, detail: `open: ${reason}` });
    }
  };

  const opens = toOpen.map((ref) => openScope.run(() => openOne(ref)));
  let opensSettled = false;
  const redrives: Promise<void>[] = [];
  let redrivesInFlight = 0;
  const allOpens = Promise.all(opens).then(() => {
    opensSettled = true;
  });

  // ---- wait: acknowledge fan-out, continue-as-new, until the resolve ------------------------------------
  let acknowledgedFanOut = s.acknowledgement !== undefined && s.status !== 'open';
  const needsAttention = () =>
    s.resolution !== undefined || (s.acknowledgement !== undefined && !acknowledgedFanOut) || redriveQueue.length > 0;
  /** Nothing in flight that a new run could not pick up: the switch may happen now. */
  const canSwitch = () =>
    opensSettled && redrivesInFlight === 0 && !mirrorBusy && reportsInFlight === 0 && uiSynced() && allHandlersFinished() &&
    s.pending.timeline.length <= MAX_CARRIED_PENDING;
  // Reconciliation: while open, read the tickets' and alerts' states back every interval, so a resolution whose
  // webhook never arrived is still noticed. Bounded cost: one read per readable open link per interval.
  const reconcileEvery = s.settings.reconcileIntervalMs ?? 0;
  const readable = () => s.connectors.filter((ref) => READABLE.has(ref.provider) && ['open', 'acknowledged'].includes(s.links[ref.id]?.status ?? ''));
  const canReconcile = () => reconcileEvery > 0 && opensSettled && readable().length > 0;
  for (;;) {
    const ready = () => needsAttention() || (workflowInfo().continueAsNewSuggested && opensSettled && redrivesInFlight === 0 && reportsInFlight === 0);
    // Every lean-history-v1 run postdates reconciliation-v1: no second patch (two more events) for it.
    if (canReconcile() && (lean || patched('reconciliation-v1'))) {
      if (!(await condition(ready, reconcileEvery))) {
        await reconcile();
        continue;
      }
    } else {
      // Also wake when reconciliation becomes possible (the opens settled), so its timer starts. Only on that
      // change: a run replaying history from before the patch has canReconcile() true and patched() false, and
      // waking on canReconcile() itself would spin without ever yielding.
      const couldReconcile = canReconcile();
      await condition(() => ready() || (!couldReconcile && canReconcile()));
      if (!ready()) continue;
    }
    if (s.resolution) break;
    if (s.acknowledgement && !acknowledgedFanOut) {
      acknowledgedFanOut = true;
      for (const ref of s.connectors) maybeAcknowledge(ref);
      tellProbectl('incident.acknowledged');
      continue;
    }
    if (redriveQueue.length > 0) {
      for (const ref of redriveQueue.splice(0)) {
        redrivesInFlight += 1;
        redrives.push(openScope.run(() => openOne(ref)).finally(() => void (redrivesInFlight -= 1)));
      }
      continue;
    }
    // History is large: carry the compact state into a fresh run. No new mirror write starts meanwhile (a
    // steady stream of signals would otherwise never leave a gap); the one in flight lands first, and what is
    // still pending is carried (bounded). Handlers are synchronous, so a signal that arrives during the switch
    // is already in `s`, or it makes the server refuse the completion and arrives in a new task, where this
    // check runs again: no signal is lost.
    switching = true;
    await Promise.all(inflightAcks);
    await condition(() => needsAttention() || canSwitch());
    if (needsAttention() || !canSwitch()) {
      switching = false;
      continue;
    }
    ended = true;
    await continueAsNew<typeof incidentWorkflowV1>({ incident, carried: s });
  }

  async function reconcile(): Promise<void> {
    const results = await Promise.all(
      readable().map(async (ref) => {
        const link = s.links[ref.id];
        try {
          const state = await reconciling.checkConnector.executeWithOptions({ summary: `${ref.id}: read state (reconciliation)` }, [{
            incident, connectorId: ref.id, ...(link?.externalRef ? { externalRef: link.externalRef } : {}),
          }]);
          return { ref, state };
        } catch (err) {
          if (isCancellation(err)) throw err;
          return { ref, state: 'unreadable' as const };
        }
      }),
    );
    if (s.status === 'resolved') return; // a signal won the race while we were reading
    const resolvedAt = results.find((r) => r.state === 'resolved');
    if (resolvedAt) {
      s.status = 'resolved';
      s.resolution = { source: resolvedAt.ref.id, at: now(), reason: 'resolved at the provider (reconciliation)' };
      markIncidentDirty(s);
      record(s, now(), 'resolved', { source: resolvedAt.ref.id, detail: `found resolved at ${resolvedAt.ref.provider} by reconciliation; its webhook did not arrive` });
      return;
    }
    const acked = results.find((r) => r.state === 'acknowledged');
    if (acked && s.status === 'open') {
      s.status = 'acknowledged';
      s.acknowledgement = { source: acked.ref.id, at: now() };
      markIncidentDirty(s);
      record(s, now(), 'acknowledged', { source: acked.ref.id, detail: `found acknowledged at ${acked.ref.provider} by reconciliation` });
    }
  }

  // ---- resolve ------------------------------------------------------------------------------------------
  // No trigger after its resolve: stop outstanding opens and wait until they have really stopped.
  openScope.cancel();
  await allOpens;
  await Promise.all(redrives);
  await Promise.all(inflightAcks);

  const resolution = s.resolution!;
  const origin = s.connectors.find((c) => c.id === resolution.source);
  if (origin) {
    // The origin closed it itself: mark its link resolved, never call it.
    if (s.links[origin.id] && s.links[origin.id]!.status !== 'skipped') setLink(s, origin, now(), 'resolved');
    record(s, now(), 'origin.skipped', { connectorId: origin.id, detail: 'resolved at the origin; not called back' });
  }
  const targets = s.connectors.filter((ref) => {
    if (ref.id === origin?.id) return false;
    const status = s.links[ref.id]?.status;
    return status === 'open' || status === 'acknowledged' || status === 'pending' || status === 'failed';
  });
  const resolveInfo = {
    source: resolution.source,
    ...(resolution.actor ? { actor: resolution.actor } : {}),
    ...(resolution.reason ? { reason: resolution.reason } : {}),
  };
  const resolveOne = async (ref: ConnectorRef, again: boolean): Promise<void> => {
    const link = s.links[ref.id];
    try {
      await providerCall(() => resolving.resolveConnector.executeWithOptions({ summary: resolveSummary(ref, link, again) }, [{
        incident, connectorId: ref.id, resolution: resolveInfo,
        ...(link?.externalRef ? { externalRef: link.externalRef } : {}),
      }]));
      if (!again) {
        setLink(s, ref, now(), 'resolved');
        record(s, now(), 'connector.resolved', { connectorId: ref.id });
      }
    } catch (err) {
      if (failureType(err) === 'ConnectorRemoved') {
        setLink(s, ref, now(), 'orphaned', { error: 'the connector was removed from the configuration' });
        if (!again) record(s, now(), 'connector.orphaned', { connectorId: ref.id, detail: 'removed from the configuration before the resolve' });
        return;
      }
      const reason = failureReason(err);
      if (!again) setLink(s, ref, now(), 'failed', { error: `resolve: ${reason}` });
      record(s, now(), 'connector.failed', { connectorId: ref.id, detail: `${again ? 'second resolve' : 'resolve'}: ${reason}` });
    }
  };
  await Promise.all(targets.map((ref) => resolveOne(ref, false)));
  tellProbectl('incident.resolved'); // after the fan-out, so the links are final; finish() waits for it

  // Pagers get a second, delayed resolve, so a trigger that was still in flight cannot leave a zombie alert.
  const pagers = targets.filter((ref) => PAGERS.has(ref.provider) && s.links[ref.id]?.status === 'resolved');
  if (pagers.length > 0 && s.settings.pagerReResolveDelayMs > 0) {
    await sleep(s.settings.pagerReResolveDelayMs);
    await Promise.all(pagers.map((ref) => resolveOne(ref, true)));
  }
  return finish();
}
