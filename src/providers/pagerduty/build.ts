import type { Incident } from '../../shared/contract';
import { incidentKey } from '../../shared/ids';
import { fitStrings, truncateUnits, wellFormed } from '../text-limits';
import type { HttpRequest } from '../../http/types';

/** https://developer.pagerduty.com/docs/events-API-v2/trigger-events/ : payload.summary is limited to 1024. */
export const MAX_SUMMARY = 1024;
/** dedup_key is limited to 255 characters; `probectl-` + a 128-character id fits. */
export const MAX_DEDUP_KEY = 255;
/** payload.source, kept to 255 UTF-16 units. */
export const MAX_SOURCE = 255;
/**
 * The Events API refuses an event over 512 KB (400, the page is lost); a trigger is kept to this many bytes of encoded
 * JSON, well under it, by cutting the longest of custom_details' summary and label values first (never the keys).
 */
export const MAX_BODY_BYTES = 500_000;

type Action = 'trigger' | 'acknowledge' | 'resolve';

function envelope(endpoint: string, body: Record<string, unknown>): HttpRequest {
  return {
    method: 'POST',
    url: endpoint,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  };
}

/**
 * Events API v2 trigger. The routing key goes in the body: the Events API has no auth header. payload.summary is cut to
 * 1024 UTF-16 units (what the Events API counts); the whole body stays within MAX_BODY_BYTES: the free text of
 * custom_details (the incident's summary and label values) is cut, longest first, to what the rest leaves.
 */
export function buildTrigger(endpoint: string, routingKey: string, incident: Incident): HttpRequest {
  const labels = Object.entries(incident.labels ?? {}).map(([k, v]) => [wellFormed(k), v] as const);
  const build = (summary: string | undefined, values: readonly string[]): Record<string, unknown> => {
    const customDetails: Record<string, unknown> = { incident_id: incident.id, tenant: incident.tenantId };
    if (summary !== undefined) customDetails.summary = summary;
    if (labels.length > 0) customDetails.labels = Object.fromEntries(labels.map(([k], i) => [k, values[i] ?? '']));
    const body: Record<string, unknown> = {
      routing_key: routingKey,
      event_action: 'trigger' satisfies Action,
      dedup_key: incidentKey(incident.id),
      payload: {
        summary: truncateUnits(incident.title, MAX_SUMMARY),
        source: truncateUnits(incident.source ?? 'probectl', MAX_SOURCE),
        severity: incident.severity,
        timestamp: incident.openedAt,
        custom_details: customDetails,
      },
      client: 'probectl',
    };
    if (incident.url) {
      const url = wellFormed(incident.url);
      body.client_url = url;
      body.links = [{ href: url, text: 'Incident in probectl' }];
    }
    return body;
  };
  const summary = incident.summary ? incident.summary : undefined;
  const free = [summary ?? '', ...labels.map(([, v]) => v)];
  // Every free text '' gives the bytes of the rest; the free texts share what is left of the budget.
  const rest = Buffer.byteLength(JSON.stringify(build(summary === undefined ? undefined : '', free.slice(1).map(() => ''))), 'utf8');
  const [cutSummary = '', ...values] = fitStrings(free, MAX_BODY_BYTES - rest);
  return envelope(endpoint, build(summary === undefined ? undefined : cutSummary, values));
}

export function buildFollowUp(endpoint: string, routingKey: string, incident: Incident, action: 'acknowledge' | 'resolve'): HttpRequest {
  return envelope(endpoint, { routing_key: routingKey, event_action: action, dedup_key: incidentKey(incident.id) });
}
