/**
 * The incident workflow since `state-machine-v1` (docs/workflow-contract.md): signals and call outcomes go
 * into the state machine (state.ts); what it decides is carried out here — provider calls (calls.ts), what it
 * owes Postgres (flusher.ts), follow-ups it must run itself (own-follow-ups.ts), reconciliation (reconcile.ts)
 * and the Temporal UI (ui-sync.ts). Continue-as-new never waits: what is in flight is handed to the next run.
 */
import { condition, continueAsNew, patched, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { IncidentResolution, IncidentWorkflowInput } from '../../shared/contract';
import { signalProblems } from '../../shared/validate';
import { beginningLocal } from '../activity-options';
import { acknowledgeSignal, correlateSignal, redriveSignal, resolveSignal, stateQuery } from '../messages';
import { ADOPTED_LINKS_ACKNOWLEDGED_V1, BEGIN_CHECKED_V1, BEGIN_IN_INPUT_V1, CANCELLED_CREATES_WAIT_V1, EARLIER_RUNS_RESOLVE_V1, REFUSED_OPENS_V1, RESOLVED_LEFT_OPEN_V1 } from '../patches';
import { BEGIN_SUMMARY } from '../ui';
import { offeredBegins, takesCheckedBegin } from './checked-begin';
import { Calls } from './calls';
import { withoutLocalFirst } from './local-first-setting';
import { Flusher } from './flusher';
import { OwnFollowUps } from './own-follow-ups';
import { reconcileLoop } from './reconcile';
import {
  acknowledge, begin, correlate, finished, handover, initialState, planResolve, redrive, rejectSignal, resolutionResult,
  resolve, view, type BeginInput, type IncidentState,
} from './state';
import { UiSync } from './ui-sync';
import { Wake } from './wake';

const now = (): string => new Date().toISOString();
/**
 * Whether the fan-out leaves alone a link whose only open try was refused: on `refused-opens-v1`, except where opens this
 * history does not hold may have been sent (`s.earlier`: a run started again, or made by a reset), where a refusal may
 * follow such a request (`earlier-runs-resolve-v1`, asked first so such a run records only its marker; a run recorded
 * before it has no marker and goes on as it did).
 */
const leavesRefused = (s: IncidentState) => (): boolean => !(mayFollowEarlier(s) && patched(EARLIER_RUNS_RESOLVE_V1)) && patched(REFUSED_OPENS_V1);
/**
 * `s.earlier`, as a live task sees it. On replay every run asks, and the marker decides: a replayer takes the run id from
 * the start event's original run id, so it cannot tell a reset run (a missing marker on replay answers no and decides
 * nothing, src/workflows/patches.ts).
 */
const mayFollowEarlier = (s: IncidentState): boolean => s.earlier === true || workflowInfo().unsafe.isReplaying;
/**
 * Whether the fan-out waits for a non-pager create the resolve cancelled while an earlier attempt of it may still land
 * (state.ts cancelledWindows): asked only where that would move the fan-out later; a run recorded before the patch has no
 * marker and goes on as it did.
 */
const waitsForCancelled = (): boolean => patched(CANCELLED_CREATES_WAIT_V1);
/** Whether the begin acknowledges adopted open pagers of an incident acknowledged before it: asked only where one would be. */
const acknowledgesAdopted = (): boolean => patched(ADOPTED_LINKS_ACKNOWLEDGED_V1);
/** Whether a begin that finds the incident resolved with links still open resolves them: asked only where there is one. */
const resolvesLeftOpen = (): boolean => patched(RESOLVED_LEFT_OPEN_V1);

/** `taken`: the begin snapshot the entry already took (a first run on `first-run-checked-v1`, src/workflows/incident.ts). */
export async function incidentWorkflowV2(input: IncidentWorkflowInput, carried?: IncidentState, taken?: BeginInput): Promise<IncidentResolution> {
  const s = carried ?? initialState(input.incident, workflowInfo().firstExecutionRunId);
  // Started again after an ended run (the client's `again`; a continued run carries the flag instead), or made by a reset,
  // which keeps the original run's start event and with it `originalExecutionRunId`. State only: no command.
  if (input.again === true || workflowInfo().runId !== workflowInfo().originalExecutionRunId) s.earlier = true;
  const wake = new Wake();
  listen(s, wake);
  if (taken !== undefined && !s.begun) {
    begin(s, taken, now(), acknowledgesAdopted, resolvesLeftOpen);
  } else if (!s.begun) {
    // A first run that took the checked snapshot under first-run-checked-v1 came in with it (`taken`, above). Here:
    // the unchecked snapshot earlier releases of the API passed (begin-in-input-v1); the checked one as runs begun
    // by the release before took it (begin-checked-v1: no longer asked live, since the entry asks its patch under the
    // same condition first; a replay follows the marker, whatever this worker is); else read here (local activity).
    const { given, checked } = offeredBegins(input);
    const info = workflowInfo();
    const b = given && patched(BEGIN_IN_INPUT_V1)
      ? given
      : checked && (info.unsafe.isReplaying || takesCheckedBegin(checked.configDigest, info)) && patched(BEGIN_CHECKED_V1)
        ? checked.begin
        : await beginningLocal.beginIncident.executeWithOptions({ summary: BEGIN_SUMMARY }, [{ incident: s.incident }]);
    // Local first opens only for a run that took the checked snapshot (above, `taken`): local-first.ts.
    begin(s, withoutLocalFirst(b), now(), acknowledgesAdopted, resolvesLeftOpen);
  }
  const calls = new Calls(s, wake, now);
  const flusher = new Flusher(s, wake);
  const own = new OwnFollowUps(s, wake, now);
  const ui = new UiSync(s);
  let ended = false;
  void reconcileLoop(s, wake, now, () => ended);
  /** One timer for a time the state machine waits for (a handed-over open's attempt certainly stopped). */
  let waitingFor: string | undefined;
  const wakeAt = (iso: string) => {
    if (waitingFor === iso) return;
    waitingFor = iso;
    void sleep(Math.max(Date.parse(iso) - Date.parse(now()), 0)).then(() => wake.bump());
  };
  for (;;) {
    wake.take();
    if (s.resolution) calls.cancelOpens();
    // A link whose open the provider refused gets no resolve on refused-opens-v1 (asked only when there is one); a
    // cancelled create that may still land is waited for on cancelled-creates-wait-v1 (asked only when it would be).
    if (!planResolve(s, now(), leavesRefused(s), waitsForCancelled) && s.resolveNotBefore && !s.resolving) wakeAt(s.resolveNotBefore);
    calls.startDecided();
    own.start();
    flusher.flush(s.resolving && s.actions.length === 0);
    ui.sync(s.actions.some((a) => a.kind === 'open' && a.running));
    if (finished(s) && !flusher.busy) break;
    if (workflowInfo().continueAsNewSuggested) {
      // Nothing is waited for: calls in flight, follow-ups and what Postgres is still owed go to the next run.
      ended = true;
      calls.end();
      flusher.end();
      own.end();
      return continueAsNew<(input: IncidentWorkflowInput) => Promise<IncidentResolution>>({ incident: s.incident, carried: handover(s, now()) });
    }
    await condition(() => wake.pending || workflowInfo().continueAsNewSuggested);
  }
  ended = true;
  return resolutionResult(s);
}

/** Signal handlers are synchronous: they only feed the state machine, which the main loop then acts on. */
function listen(s: IncidentState, wake: Wake): void {
  setHandler(stateQuery, () => view(s));
  /** Signals carry the tenant; a malformed one or a mismatch is ignored and recorded, never acted on. */
  const accept = (sig: unknown, needsSource: boolean): boolean => {
    const p = signalProblems(sig, needsSource);
    const detail = p.length > 0 ? p.join('; ') : (sig as { tenantId: string }).tenantId !== s.incident.tenantId ? 'tenant mismatch' : undefined;
    if (detail) {
      rejectSignal(s, now(), detail);
      wake.bump();
    }
    return detail === undefined;
  };
  setHandler(correlateSignal, (sig) => {
    if (!accept(sig, false)) return;
    if (typeof sig.signalId !== 'string' || sig.signalId.length === 0 || sig.signalId.length > 256) {
      rejectSignal(s, now(), 'correlate: signalId is missing or malformed');
    } else {
      correlate(s, sig, now());
    }
    wake.bump();
  });
  setHandler(acknowledgeSignal, (sig) => {
    if (!accept(sig, true)) return;
    if (acknowledge(s, sig, now())) wake.bump();
  });
  setHandler(resolveSignal, (sig) => {
    if (!accept(sig, true)) return;
    if (resolve(s, sig, now())) wake.bump();
  });
  setHandler(redriveSignal, (sig) => {
    if (!accept(sig, false)) return;
    redrive(s, sig, now());
    wake.bump();
  });
}
