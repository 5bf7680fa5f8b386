import type { Incident } from '../../shared/contract';
import { incidentKey } from '../../shared/ids';
import { truncate } from '../../shared/text';
import type { HttpRequest } from '../../http/types';

/** https://developer.pagerduty.com/docs/events-API-v2/trigger-events/ : payload.summary is limited to 1024. */
export const MAX_SUMMARY = 1024;
/** dedup_key is limited to 255 characters; `probectl-` + a 128-character id fits. */
export const MAX_DEDUP_KEY = 255;

type Action = 'trigger' | 'acknowledge' | 'resolve';

function envelope(endpoint: string, body: Record<string, unknown>): HttpRequest {
  return {
    method: 'POST',
    url: endpoint,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  };
}

/** Events API v2 trigger. The routing key goes in the body: the Events API has no auth header. */
export function buildTrigger(endpoint: string, routingKey: string, incident: Incident): HttpRequest {
  const customDetails: Record<string, unknown> = { incident_id: incident.id, tenant: incident.tenantId };
  if (incident.summary) customDetails.summary = incident.summary;
  if (incident.labels && Object.keys(incident.labels).length > 0) customDetails.labels = incident.labels;
  const body: Record<string, unknown> = {
    routing_key: routingKey,
    event_action: 'trigger' satisfies Action,
    dedup_key: incidentKey(incident.id),
    payload: {
      summary: truncate(incident.title, MAX_SUMMARY),
      source: truncate(incident.source ?? 'probectl', 255),
      severity: incident.severity,
      timestamp: incident.openedAt,
      custom_details: customDetails,
    },
    client: 'probectl',
  };
  if (incident.url) {
    body.client_url = incident.url;
    body.links = [{ href: incident.url, text: 'Incident in probectl' }];
  }
  return envelope(endpoint, body);
}

export function buildFollowUp(endpoint: string, routingKey: string, incident: Incident, action: 'acknowledge' | 'resolve'): HttpRequest {
  return envelope(endpoint, { routing_key: routingKey, event_action: action, dedup_key: incidentKey(incident.id) });
}
