/**
 * Signal and query definitions of incidentWorkflow: the only workflow module the API and the client import.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AcknowledgeSignal, CorrelateSignal, IncidentStateView, ResolveSignal } from '../shared/contract';

export const WORKFLOW_TYPE = 'incidentWorkflow';

export const correlateSignal = defineSignal<[CorrelateSignal]>('correlate');
export const acknowledgeSignal = defineSignal<[AcknowledgeSignal]>('acknowledge');
export const resolveSignal = defineSignal<[ResolveSignal]>('resolve');
export const stateQuery = defineQuery<IncidentStateView>('state');
