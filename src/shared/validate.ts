/**
 * Structural checks of the contract's payloads that the workflow itself applies (a Go client may send
 * anything). Pure, dependency-free: bundled into workflow code. The HTTP API validates with zod first.
 */
import { SEVERITIES, type Incident } from './contract';
import { isIncidentId, isTenantId } from './ids';

const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;
const isIso = (v: unknown): v is string => typeof v === 'string' && v.length <= 64 && !Number.isNaN(Date.parse(v));

/** Problems with an incident, empty when valid. */
export function incidentProblems(i: unknown): string[] {
  if (typeof i !== 'object' || i === null) return ['incident must be an object'];
  const o = i as Record<string, unknown>;
  const p: string[] = [];
  if (!isIncidentId(o.id)) p.push('incident.id must match [A-Za-z0-9._-]{1,128}');
  if (!isTenantId(o.tenantId)) p.push('incident.tenantId must match [A-Za-z0-9._-]{1,64}');
  if (!isText(o.title, 4096)) p.push('incident.title must be a non-empty string of at most 4096 characters');
  if (!SEVERITIES.includes(o.severity as never)) p.push(`incident.severity must be one of ${SEVERITIES.join(', ')}`);
  if (!isIso(o.openedAt)) p.push('incident.openedAt must be an ISO 8601 timestamp');
  if (o.summary !== undefined && (typeof o.summary !== 'string' || o.summary.length > 65_536)) p.push('incident.summary must be a string of at most 65536 characters');
  if (o.source !== undefined && !isText(o.source, 255)) p.push('incident.source must be a string of at most 255 characters');
  if (o.url !== undefined && !isText(o.url, 2048)) p.push('incident.url must be a string of at most 2048 characters');
  if (o.labels !== undefined) {
    const labels = o.labels;
    if (typeof labels !== 'object' || labels === null || Array.isArray(labels) || Object.values(labels).some((v) => typeof v !== 'string')) {
      p.push('incident.labels must be an object of strings');
    } else if (Object.keys(labels).length > 64) {
      p.push('incident.labels may hold at most 64 entries');
    }
  }
  return p;
}

/**
 * The label sizes the HTTP API enforces (key ≤ 128, value ≤ 1024 characters), for clients that start the
 * workflow directly. Checked when an incident starts on the state-machine path, so the carried state stays bounded
 * (src/workflows/v2/bounds.ts); not when a run of the legacy path (which passed without it) hands over to it — that
 * incident has already travelled twice in a continue-as-new input under the payload limit.
 */
export function labelProblems(i: Incident): string[] {
  const labels = i.labels ?? {};
  return Object.entries(labels).some(([k, v]) => k.length > 128 || v.length > 1024) ? ['incident.labels: keys at most 128 and values at most 1024 characters'] : [];
}

export function asIncident(i: unknown): Incident {
  return i as Incident;
}

/** A signal's common fields: tenantId, optional source/actor, at. */
export function signalProblems(sig: unknown, needsSource: boolean): string[] {
  if (typeof sig !== 'object' || sig === null) return ['signal must be an object'];
  const o = sig as Record<string, unknown>;
  const p: string[] = [];
  if (!isTenantId(o.tenantId)) p.push('tenantId is missing or malformed');
  if (needsSource && !isText(o.source, 128)) p.push('source is missing or malformed');
  if (o.actor !== undefined && !isText(o.actor, 256)) p.push('actor is malformed');
  if (o.at !== undefined && !isIso(o.at)) p.push('at is malformed');
  return p;
}
