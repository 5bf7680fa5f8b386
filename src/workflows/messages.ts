/**
 * Signal and query definitions of incidentWorkflow: the only workflow module the API and the client import.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AcknowledgeSignal, CorrelateSignal, IncidentStateView, RedriveSignal, ResolveSignal } from '../shared/contract';

export const WORKFLOW_TYPE = 'incidentWorkflow';

export const correlateSignal = defineSignal<[CorrelateSignal]>('correlate');
export const acknowledgeSignal = defineSignal<[AcknowledgeSignal]>('acknowledge');
export const resolveSignal = defineSignal<[ResolveSignal]>('resolve');
/** Operator action: re-open one connector whose link is `failed` (docs/workflow-contract.md). */
export const redriveSignal = defineSignal<[RedriveSignal]>('redrive');
export const stateQuery = defineQuery<IncidentStateView>('state');
