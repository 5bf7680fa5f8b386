/**
 * incidentWorkflow — one long-lived workflow per incident, id `probectl-<incidentId>`
 * (docs/workflow-contract.md). This entry validates the input and picks the code path the run takes:
 * runs that started before `state-machine-v1` replay the legacy code unchanged (src/workflows/patches.ts).
 */
import { ApplicationFailure, patched, workflowInfo } from '@temporalio/workflow';
import type { IncidentResolution, IncidentWorkflowInput } from '../shared/contract';
import { incidentProblems, labelProblems } from '../shared/validate';
import { incidentWorkflowV1 } from './legacy/incident-v1';
import { FIRST_RUN_CHECKED_V1, STATE_MACHINE_V1 } from './patches';
import { offeredBegins, takesCheckedBegin } from './v2/checked-begin';
import { fromLegacy, isLegacyState } from './v2/from-legacy';
import { incidentWorkflowV2 } from './v2/incident-v2';
import { STATE_VERSION, type IncidentState } from './v2/state';

export async function incidentWorkflow(input: IncidentWorkflowInput): Promise<IncidentResolution> {
  const problems = incidentProblems(input?.incident);
  if (problems.length > 0) throw ApplicationFailure.nonRetryable(`invalid incident: ${problems.join('; ')}`, 'InvalidInput');
  const carried = input.carried as { v?: number } | undefined;
  // A run continued from the state machine knows its path from its state: no patch asked (two events saved).
  if (carried?.v === STATE_VERSION) return incidentWorkflowV2(input, carried as IncidentState);
  // State this build does not know (a newer version carried into an older worker): never start over, which
  // would begin and page again. A plain Error fails the workflow task, retried until a build that knows it runs.
  if (carried !== undefined && carried !== null && !isLegacyState(carried)) {
    throw new Error(`carried state of an unknown version (v: ${String(carried.v).slice(0, 20)}): this build cannot continue the run`);
  }
  // A first run given a checked begin snapshot that its first task's worker takes: one patch names both the state
  // machine and the snapshot (one marker and one version upsert fewer than state-machine-v1 + begin-checked-v1).
  // Asked live only when taken; on replay by every first run with such a snapshot, where the marker decides. The
  // snapshot is the one the state machine would consider (incident-v2.ts): a well-formed unchecked `begin` wins.
  if (carried === undefined || carried === null) {
    const { checked } = offeredBegins(input);
    const info = workflowInfo();
    if (checked && (info.unsafe.isReplaying || takesCheckedBegin(checked.configDigest, info)) && patched(FIRST_RUN_CHECKED_V1)) {
      const labels = labelProblems(input.incident);
      if (labels.length > 0) throw ApplicationFailure.nonRetryable(`invalid incident: ${labels.join('; ')}`, 'InvalidInput');
      return incidentWorkflowV2(input, undefined, checked.begin);
    }
  }
  if (patched(STATE_MACHINE_V1)) {
    const legacy = isLegacyState(carried) ? carried : undefined;
    // Label sizes are a condition of starting on this path. A legacy run handing over accepted any label; its
    // incident carries on as it is (failing it here would leave its pages open for good).
    const labels = legacy ? [] : labelProblems(input.incident);
    if (labels.length > 0) throw ApplicationFailure.nonRetryable(`invalid incident: ${labels.join('; ')}`, 'InvalidInput');
    const chain = workflowInfo().firstExecutionRunId;
    return incidentWorkflowV2(input, legacy ? fromLegacy(legacy, chain) : undefined);
  }
  return incidentWorkflowV1(input);
}
