import type { Incident, Severity } from '../../shared/contract';
import { incidentIdFromKey, incidentKey } from '../../shared/ids';
import { fitStrings, jsonUnits, truncateUnits, wellFormed } from '../text-limits';
import type { HttpRequest } from '../../http/types';
import { describe } from '../format';
import type { ChangePage, ChangedObject } from '../types';
import type { OpsgenieOptions, Responder } from './options';

/** Opsgenie Alert API limits (docs.opsgenie.com/docs/alert-api), in UTF-16 units (Opsgenie is Java). */
export const MAX_MESSAGE = 130;
export const MAX_DESCRIPTION = 15_000;
export const MAX_TAG = 50;
export const MAX_TAGS = 20;
export const MAX_ENTITY = 512;
export const MAX_NOTE = 25_000;
export const MAX_DETAIL_VALUE = 1_000;
/**
 * `details` is limited to 8,000 characters in all. Counted here as the map's JSON (keys, values, quotes and escapes:
 * more than any reading of the limit counts).
 */
export const MAX_DETAILS = 8_000;

export const DEFAULT_PRIORITY: Record<Severity, string> = { critical: 'P1', error: 'P2', warning: 'P3', info: 'P5' };
export const isPriority = (v: string): boolean => /^P[1-5]$/.test(v);
export const RESPONDER_TYPES = ['team', 'user', 'escalation', 'schedule'] as const;
/** An entry that sets no option (what ./options.ts makes of none). */
export const DEFAULT_OPTIONS: OpsgenieOptions = { priorities: DEFAULT_PRIORITY, responders: [], tags: [] };

/**
 * The alerts endpoint from the configured URL: `https://api.opsgenie.com/v2/alerts`, the EU host, or the
 * JSM ops endpoint `https://api.atlassian.com/jsm/ops/integration/v2/alerts`; a bare host means `/v2/alerts`.
 * Every other path (close, acknowledge, request status) hangs below it.
 */
export function alertsEndpoint(configured: string): URL {
  const u = new URL(configured);
  const path = u.pathname.replace(/\/+$/, '');
  u.pathname = path === '' ? '/v2/alerts' : path;
  return u;
}

export function isAlertsPath(pathname: string): boolean {
  const path = pathname.replace(/\/+$/, '');
  return path === '' || path.endsWith('/v2/alerts');
}

function headers(apiKey: string, withBody: boolean): Record<string, string> {
  return {
    authorization: `GenieKey ${apiKey}`,
    accept: 'application/json',
    ...(withBody ? { 'content-type': 'application/json' } : {}),
  };
}

function below(endpoint: string, ...segments: string[]): URL {
  const u = alertsEndpoint(endpoint);
  u.pathname = [u.pathname, ...segments.map(encodeURIComponent)].join('/');
  return u;
}

/** The `responders` option's entries → Opsgenie responders (`user` by username, the rest by name). */
export function responders(list: readonly Responder[]): Array<Record<string, string>> {
  return list.map(({ type, name }): Record<string, string> => (type === 'user' ? { type, username: name } : { type, name }));
}

/**
 * `details`: the incident's id, tenant and severity, then its source, URL and labels (`label.<key>`), within
 * MAX_DETAILS: the longest values are cut first (to one common cap); labels whose keys alone would not fit are left
 * out, from the last, and counted in `labels_omitted`.
 */
export function details(incident: Incident): Record<string, string> {
  const fixed: Record<string, string> = { incident_id: incident.id, tenant: incident.tenantId, severity: incident.severity };
  const entries: Array<[string, string]> = [];
  if (incident.source) entries.push(['source', truncateUnits(incident.source, MAX_DETAIL_VALUE)]);
  if (incident.url) entries.push(['url', truncateUnits(incident.url, MAX_DETAIL_VALUE)]);
  for (const [k, v] of Object.entries(incident.labels ?? {})) entries.push([`label.${wellFormed(k)}`, truncateUnits(v, MAX_DETAIL_VALUE)]);
  const labelCount = entries.filter(([k]) => k.startsWith('label.')).length;
  const assemble = (kept: Array<[string, string]>, values: readonly string[]) => {
    const omitted = labelCount - kept.filter(([k]) => k.startsWith('label.')).length;
    return { ...fixed, ...Object.fromEntries(kept.map(([k], i) => [k, values[i] ?? ''])), ...(omitted > 0 ? { labels_omitted: String(omitted) } : {}) };
  };
  // Keys first: leave labels out, from the last, until the kept keys (with empty values) take at most 3/4 of the budget.
  let kept = entries;
  while (kept.length > 0 && JSON.stringify(assemble(kept, [])).length > (MAX_DETAILS * 3) / 4) kept = kept.slice(0, -1);
  const rest = JSON.stringify(assemble(kept, [])).length;
  return assemble(kept, fitStrings(kept.map(([, v]) => v), MAX_DETAILS - rest, jsonUnits));
}

/** A message Opsgenie takes: not blank (it refuses one), at most MAX_MESSAGE units. */
function message(incident: Incident): string {
  return truncateUnits(incident.title.trim() === '' ? `probectl incident ${incident.id}` : incident.title, MAX_MESSAGE);
}

export function buildCreate(endpoint: string, apiKey: string, incident: Incident, options: OpsgenieOptions = DEFAULT_OPTIONS): HttpRequest {
  const tags = ['probectl', `severity:${incident.severity}`, ...options.tags].map((t) => truncateUnits(t, MAX_TAG)).slice(0, MAX_TAGS);
  const body: Record<string, unknown> = {
    message: message(incident),
    alias: incidentKey(incident.id),
    description: truncateUnits(describe(incident), MAX_DESCRIPTION),
    priority: options.priorities[incident.severity],
    source: 'probectl',
    entity: truncateUnits(incident.source ?? 'probectl', MAX_ENTITY),
    tags,
    details: details(incident),
  };
  const r = responders(options.responders);
  if (r.length > 0) body.responders = r;
  return { method: 'POST', url: alertsEndpoint(endpoint).toString(), headers: headers(apiKey, true), body: JSON.stringify(body) };
}

/** Close or acknowledge by alias: `POST <alerts>/<alias>/<action>?identifierType=alias`. */
export function buildAliasAction(endpoint: string, apiKey: string, incident: Incident, action: 'close' | 'acknowledge', note: string): HttpRequest {
  const u = below(endpoint, incidentKey(incident.id), action);
  u.searchParams.set('identifierType', 'alias');
  return {
    method: 'POST',
    url: u.toString(),
    headers: headers(apiKey, true),
    body: JSON.stringify({ user: 'probectl', source: 'probectl', note: truncateUnits(note, MAX_NOTE) }),
  };
}

/** Read one alert by alias: `GET <alerts>/<alias>?identifierType=alias`. */
export function buildGetAlert(endpoint: string, apiKey: string, incident: Incident): HttpRequest {
  const u = below(endpoint, incidentKey(incident.id));
  u.searchParams.set('identifierType', 'alias');
  return { method: 'GET', url: u.toString(), headers: headers(apiKey, false) };
}

/** `{"data":{"status":"open"|"closed","acknowledged":bool}}` → its state; undefined when unreadable. */
export function parseAlertState(body: unknown): 'open' | 'acknowledged' | 'resolved' | undefined {
  const data = (body as { data?: Record<string, unknown> } | null)?.data;
  if (!data || typeof data.status !== 'string') return undefined;
  if (data.status === 'closed') return 'resolved';
  return data.acknowledged === true ? 'acknowledged' : 'open';
}

export function buildRequestStatus(endpoint: string, apiKey: string, requestId: string): HttpRequest {
  return { method: 'GET', url: below(endpoint, 'requests', requestId).toString(), headers: headers(apiKey, false) };
}

/** `{"result":"Request will be processed","requestId":"..."}` → the request id. */
export function parseAccepted(body: unknown): string | undefined {
  const id = (body as { requestId?: unknown } | null)?.requestId;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}

export interface RequestStatus {
  isSuccess: boolean;
  status: string;
  alertId?: string;
}

/** `{"data":{"success":true,"isSuccess":true,"status":"Created alert","alertId":"..."}}` → its outcome. */
export function parseRequestStatus(body: unknown): RequestStatus | undefined {
  const data = (body as { data?: Record<string, unknown> } | null)?.data;
  if (!data || typeof data !== 'object') return undefined;
  const ok = data.isSuccess ?? data.success;
  if (typeof ok !== 'boolean') return undefined;
  return {
    isSuccess: ok,
    status: typeof data.status === 'string' ? data.status : '',
    ...(typeof data.alertId === 'string' && data.alertId ? { alertId: data.alertId } : {}),
  };
}

/** A close or acknowledge that found nothing open is done: "Alert does not exist", or already closed. */
export function isNothingToDo(status: string): boolean {
  return /does not exist|already (closed|acknowledged)/i.test(status);
}

// ---- per-connector reconciliation: what changed since ---------------------------------------------------

/** Alerts per page of a change listing (List Alerts allows up to 100). */
export const CHANGES_PAGE_SIZE = 100;
/** List Alerts refuses offset + limit above 20,000. */
export const MAX_LIST_WINDOW = 20_000;

/**
 * One page of the probectl alerts, most recently updated first: `GET <alerts>?query=tag:probectl&sort=updatedAt&
 * order=desc&limit=N&offset=K`. Opsgenie's search query has no `updatedAt` field (createdAt, lastOccurredAt and
 * snoozedUntil are its only times), so the listing is sorted by it and read until it passes the cursor.
 */
export function buildChangedSince(endpoint: string, apiKey: string, offset = 0, limit = CHANGES_PAGE_SIZE): HttpRequest {
  const u = alertsEndpoint(endpoint);
  u.searchParams.set('query', 'tag:probectl');
  u.searchParams.set('sort', 'updatedAt');
  u.searchParams.set('order', 'desc');
  u.searchParams.set('limit', String(limit));
  u.searchParams.set('offset', String(offset));
  return { method: 'GET', url: u.toString(), headers: headers(apiKey, false) };
}

/**
 * A page of List Alerts → our alerts (alias `probectl-<id>`) updated at or after `since`, their state as the
 * connector's status read decides it (closed resolved, acknowledged, else open), and the next offset while the
 * page was full, its oldest record was not older than `since`, and the window allows. `done` means the listing
 * reached `since` (or its end).
 */
export function parseChangedSince(body: unknown, since: string, offset = 0, limit = CHANGES_PAGE_SIZE): (ChangePage<number> & { done: boolean }) | 'malformed' {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return 'malformed';
  const items: ChangedObject[] = [];
  let latest: string | undefined;
  let reachedSince = false;
  for (const raw of data) {
    const a = raw as Record<string, unknown> | null;
    const t = typeof a?.updatedAt === 'string' ? Date.parse(a.updatedAt) : NaN;
    if (Number.isNaN(t)) continue;
    const updatedAt = new Date(t).toISOString();
    if (updatedAt < since) {
      reachedSince = true;
      continue;
    }
    if (!latest || updatedAt > latest) latest = updatedAt;
    const incidentId = incidentIdFromKey(a!.alias);
    const state = parseAlertState({ data: a });
    if (!incidentId || !state) continue;
    items.push({ incidentId, externalRef: a!.alias as string, state, updatedAt });
  }
  const full = data.length >= limit;
  const nextOffset = offset + data.length;
  const more = full && !reachedSince && nextOffset + limit <= MAX_LIST_WINDOW;
  return { items, seen: data.length, ...(latest ? { latest } : {}), ...(more ? { next: nextOffset } : {}), done: reachedSince || !full };
}
