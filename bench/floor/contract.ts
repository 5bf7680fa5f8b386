/**
 * The Temporal floor's names and input, shared by the driver, the floor worker and the floor workflow (type
 * imports only: the workflow bundle takes this file). Registered only by the bench's floor worker.
 */
import type { Incident } from '../../src/shared/contract';

export const FLOOR_TASK_QUEUE = 'probectl-notify-bench-floor';
export const FLOOR_WORKFLOW_TYPE = 'benchFloorIncident';
export const FLOOR_PROVIDERS = ['pagerduty', 'opsgenie', 'slack', 'teams', 'servicenow', 'jira'] as const;
export type FloorProvider = (typeof FLOOR_PROVIDERS)[number];

/** The incident as the service's API builds it. */
export type FloorIncident = Incident;

/**
 * The floor workflow's input. `local`: the six calls run as local activities in the workflow task instead of
 * ordinary activities (`--floor-activities=local`, the local-activity lever measured on the floor itself).
 */
export interface FloorInput {
  incident: FloorIncident;
  local?: boolean;
}

export interface FloorOpenCall {
  incident: FloorIncident;
  provider: FloorProvider;
}
