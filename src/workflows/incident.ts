/**
 * incidentWorkflow — one long-lived workflow per incident, id `probectl-<incidentId>`
 * (docs/workflow-contract.md). This entry validates the input and picks the code path the run was started
 * with: runs from before a patch replay the legacy code unchanged (src/workflows/patches.ts).
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { IncidentResolution, IncidentWorkflowInput } from '../shared/contract';
import { incidentProblems } from '../shared/validate';
import { incidentWorkflowV1 } from './legacy/incident-v1';

export async function incidentWorkflow(input: IncidentWorkflowInput): Promise<IncidentResolution> {
  const problems = incidentProblems(input?.incident);
  if (problems.length > 0) throw ApplicationFailure.nonRetryable(`invalid incident: ${problems.join('; ')}`, 'InvalidInput');
  return incidentWorkflowV1(input);
}
