/**
 * Identifiers that cross trust boundaries. An incident id becomes part of a workflow id, a Jira JQL
 * string, a ServiceNow query and a PagerDuty dedup key, so it is validated before it reaches any of them
 * (design.md, Tenancy). Pure: imported by workflow code.
 */
export const INCIDENT_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
export const TENANT_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const CONNECTOR_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const WORKFLOW_ID_PREFIX = 'probectl-';

export function isIncidentId(value: unknown): value is string {
  return typeof value === 'string' && INCIDENT_ID_PATTERN.test(value);
}

export function isTenantId(value: unknown): value is string {
  return typeof value === 'string' && TENANT_ID_PATTERN.test(value);
}

/** `probectl-<incidentId>`: the workflow id, and the external key every connector stamps on its object. */
export function incidentKey(incidentId: string): string {
  if (!isIncidentId(incidentId)) throw new Error('invalid incident id');
  return `${WORKFLOW_ID_PREFIX}${incidentId}`;
}

export const incidentWorkflowId = incidentKey;

/** Inverse of incidentKey; undefined when the value is not a well-formed key. */
export function incidentIdFromKey(key: unknown): string | undefined {
  if (typeof key !== 'string' || !key.startsWith(WORKFLOW_ID_PREFIX)) return undefined;
  const id = key.slice(WORKFLOW_ID_PREFIX.length);
  return isIncidentId(id) ? id : undefined;
}
