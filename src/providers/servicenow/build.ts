import type { Incident, Severity } from '../../shared/contract';
import { incidentIdFromKey, incidentKey } from '../../shared/ids';
import { truncateUnits } from '../text-limits';
import type { HttpRequest } from '../../http/types';
import { basicAuth, describe } from '../format';
import type { ChangePage, ChangedObject, RemoteState } from '../types';
import type { ServiceNowOptions } from './options';

/** incident.short_description is 160 characters; description is 4000 on a default instance (UTF-16 units: Java). */
export const MAX_SHORT_DESCRIPTION = 160;
export const MAX_DESCRIPTION = 4_000;
export const MAX_CLOSE_NOTES = 4_000;
export const DEFAULT_CLOSE_CODE = 'Solution provided';
/** Resolved, Closed, Canceled: nothing left to resolve. */
export const DONE_STATES = new Set(['6', '7', '8']);

export const DEFAULT_URGENCY: Record<Severity, string> = { critical: '1', error: '1', warning: '2', info: '3' };
export const DEFAULT_IMPACT: Record<Severity, string> = { critical: '1', error: '2', warning: '2', info: '3' };
export const isLevel = (v: string): boolean => /^[123]$/.test(v);

/** An entry that sets no option (what ./options.ts makes of none). */
export const DEFAULT_OPTIONS: ServiceNowOptions = { closeCode: DEFAULT_CLOSE_CODE, urgency: DEFAULT_URGENCY, impact: DEFAULT_IMPACT };

const TABLE_PATH = /\/api\/now(\/v\d+)?\/table\/incident$/;

/**
 * The incident table endpoint from the configured URL: the instance base (`https://acme.service-now.com`)
 * means `/api/now/table/incident`; a URL that already ends in `/api/now[/v2]/table/incident` is used as is.
 */
export function tableEndpoint(configured: string): URL {
  const u = new URL(configured);
  const path = u.pathname.replace(/\/+$/, '');
  u.pathname = TABLE_PATH.test(path) ? path : `${path}/api/now/table/incident`;
  u.search = '';
  return u;
}

export function isTablePath(pathname: string): boolean {
  const path = pathname.replace(/\/+$/, '');
  return path === '' || TABLE_PATH.test(path);
}

/** `https://<instance>/nav_to.do?uri=incident.do?sys_id=<id>` for people. */
export function ticketUrl(configured: string, sysId: string): string {
  const u = new URL(configured);
  return `${u.origin}/nav_to.do?uri=${encodeURIComponent(`incident.do?sys_id=${sysId}`)}`;
}

function headers(credential: string, withBody: boolean): Record<string, string> {
  return { authorization: basicAuth(credential), accept: 'application/json', ...(withBody ? { 'content-type': 'application/json' } : {}) };
}

/** Look the ticket up by correlation_id (the crash-safe check before a create, and the resolve without a sys_id). */
export function buildLookup(configured: string, credential: string, incident: Incident): HttpRequest {
  const u = tableEndpoint(configured);
  u.searchParams.set('sysparm_query', `correlation_id=${incidentKey(incident.id)}`);
  u.searchParams.set('sysparm_fields', 'sys_id,number,state');
  u.searchParams.set('sysparm_limit', '1');
  return { method: 'GET', url: u.toString(), headers: headers(credential, false) };
}

export function buildRead(configured: string, credential: string, sysId: string): HttpRequest {
  const u = tableEndpoint(configured);
  u.pathname += `/${encodeURIComponent(sysId)}`;
  u.searchParams.set('sysparm_fields', 'sys_id,number,state');
  return { method: 'GET', url: u.toString(), headers: headers(credential, false) };
}

export function buildCreate(configured: string, credential: string, incident: Incident, options: ServiceNowOptions = DEFAULT_OPTIONS): HttpRequest {
  const u = tableEndpoint(configured);
  u.searchParams.set('sysparm_fields', 'sys_id,number,state');
  const body: Record<string, string> = {
    short_description: truncateUnits(incident.title, MAX_SHORT_DESCRIPTION),
    description: truncateUnits(describe(incident), MAX_DESCRIPTION),
    correlation_id: incidentKey(incident.id),
    correlation_display: 'probectl',
    urgency: options.urgency[incident.severity],
    impact: options.impact[incident.severity],
  };
  if (options.assignmentGroup) body.assignment_group = options.assignmentGroup;
  if (options.callerId) body.caller_id = options.callerId;
  if (options.category) body.category = options.category;
  return { method: 'POST', url: u.toString(), headers: headers(credential, true), body: JSON.stringify(body) };
}

export function buildResolve(configured: string, credential: string, sysId: string, closeNotes: string, options: ServiceNowOptions = DEFAULT_OPTIONS): HttpRequest {
  const u = tableEndpoint(configured);
  u.pathname += `/${encodeURIComponent(sysId)}`;
  u.searchParams.set('sysparm_fields', 'sys_id,number,state');
  return {
    method: 'PATCH',
    url: u.toString(),
    headers: headers(credential, true),
    body: JSON.stringify({ state: '6', close_code: options.closeCode, close_notes: truncateUnits(closeNotes, MAX_CLOSE_NOTES) }),
  };
}

export interface TicketRecord {
  sysId: string;
  number?: string;
  state?: string;
}

function toRecord(r: unknown): TicketRecord | undefined {
  const o = r as Record<string, unknown> | null;
  if (!o || typeof o !== 'object' || typeof o.sys_id !== 'string' || !o.sys_id) return undefined;
  return { sysId: o.sys_id, ...(typeof o.number === 'string' ? { number: o.number } : {}), ...(o.state !== undefined ? { state: String(o.state) } : {}) };
}

/** `{"result":[...]}` (a query) or `{"result":{...}}` (a record) → the first record; undefined when none. */
export function parseResult(body: unknown): TicketRecord | undefined | 'malformed' {
  const result = (body as { result?: unknown } | null)?.result;
  if (Array.isArray(result)) return result.length === 0 ? undefined : (toRecord(result[0]) ?? 'malformed');
  if (result && typeof result === 'object') return toRecord(result) ?? 'malformed';
  return 'malformed';
}

// ---- per-connector reconciliation: what changed since ---------------------------------------------------

/** Records per page of a change listing (the Table API's sysparm_limit). */
export const CHANGES_PAGE_SIZE = 100;

/** `2026-11-30T16:05:07.123Z` → `2026-11-30 16:05:07` (the Table API's date-time form, UTC, whole seconds down). */
export function glideDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new Error('invalid date');
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

/** `2026-11-30 16:05:07` (UTC, as the Table API answers without display values) → ISO; undefined when not that form. */
export function fromGlideDateTime(v: unknown): string | undefined {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(v)) return undefined;
  const d = new Date(`${v.replace(' ', 'T')}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/**
 * Where a page of a change listing starts (keyset paging on (sys_updated_on, sys_id), never an offset: a ticket
 * updated between two page reads moves to the end of the order and would shift every later row by one, so the row
 * at the page boundary would never be returned while the listing looked complete).
 * - `from`: at or after this time (a glide date-time), leaving out the `skip` ids already read at exactly that time;
 * - `tie`: at exactly this time, sys_id after `afterId` (a page held nothing but that one time: more of it may follow);
 * - `after`: strictly after this time (every record at it was read).
 */
export type ChangesPosition = { from: string; skip: string[] } | { tie: string; afterId: string } | { after: string };

/** The first position of a listing of the changes at or after `since` (an ISO time). */
export function firstPosition(since: string): ChangesPosition {
  return { from: glideDateTime(since), skip: [] };
}

const GLIDE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const SYS_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A position stored between passes (a resume position), checked before it goes into a query; undefined when not one. */
export function parsePosition(raw: string | undefined | null): ChangesPosition | undefined {
  if (!raw) return undefined;
  let v: unknown;
  try { v = JSON.parse(raw); } catch { return undefined; }
  const o = v as Record<string, unknown> | null;
  if (!o || typeof o !== 'object') return undefined;
  if (typeof o.from === 'string' && GLIDE.test(o.from) && Array.isArray(o.skip) && o.skip.every((x) => typeof x === 'string' && SYS_ID.test(x))) {
    return { from: o.from, skip: o.skip as string[] };
  }
  if (typeof o.tie === 'string' && GLIDE.test(o.tie) && typeof o.afterId === 'string' && SYS_ID.test(o.afterId)) return { tie: o.tie, afterId: o.afterId };
  if (typeof o.after === 'string' && GLIDE.test(o.after)) return { after: o.after };
  return undefined;
}

/** The encoded query of one page: every probectl ticket at `pos` or after it, in (sys_updated_on, sys_id) order. */
export function changesQuery(pos: ChangesPosition | string): string {
  const p = typeof pos === 'string' ? firstPosition(pos) : pos;
  const base = 'correlation_idSTARTSWITHprobectl-';
  if ('tie' in p) return `${base}^sys_updated_on=${p.tie}^sys_id>${p.afterId}^ORDERBYsys_id`;
  if ('after' in p) return `${base}^sys_updated_on>${p.after}^ORDERBYsys_updated_on^ORDERBYsys_id`;
  return `${base}^sys_updated_on>=${p.from}^ORDERBYsys_updated_on^ORDERBYsys_id`;
}

/** One page of the tickets changed at or after a position: `GET <table>?sysparm_query=…&sysparm_limit=N` (no offset). */
export function buildChangedSince(configured: string, credential: string, pos: ChangesPosition | string, limit = CHANGES_PAGE_SIZE): HttpRequest {
  const u = tableEndpoint(configured);
  u.searchParams.set('sysparm_query', changesQuery(pos));
  u.searchParams.set('sysparm_fields', 'sys_id,number,state,correlation_id,sys_updated_on');
  u.searchParams.set('sysparm_display_value', 'false');
  u.searchParams.set('sysparm_exclude_reference_link', 'true');
  u.searchParams.set('sysparm_limit', String(limit));
  return { method: 'GET', url: u.toString(), headers: headers(credential, false) };
}

/**
 * `{"result":[…]}` of a change listing page → our tickets (correlation_id `probectl-<id>`), their state read the way
 * the connector's status read does (6/7 resolved, 8 canceled = gone, else open), and the next position when the
 * page was full: after its last record (time, sys_id). Records of a `from` page whose sys_id is in `skip` were read
 * on the page before and are left out. 'malformed' when there is no result list, or a full page whose last record
 * has no usable time or sys_id (no position to go on from).
 */
export function parseChangedSince(body: unknown, pos?: ChangesPosition, limit = CHANGES_PAGE_SIZE): ChangePage<ChangesPosition> | 'malformed' {
  const result = (body as { result?: unknown } | null)?.result;
  if (!Array.isArray(result)) return 'malformed';
  const skip = new Set(pos && 'from' in pos ? pos.skip : []);
  const items: ChangedObject[] = [];
  let latest: string | undefined;
  // the last record's key and the ids read at its time (for the next `from` page)
  let lastAt: string | undefined;
  let lastId: string | undefined;
  let idsAtLast: string[] = [];
  let firstAt: string | undefined;
  for (const r of result) {
    const o = r as Record<string, unknown> | null;
    if (!o || typeof o !== 'object') continue;
    const glide = typeof o.sys_updated_on === 'string' && GLIDE.test(o.sys_updated_on) ? o.sys_updated_on : undefined;
    const sysId = typeof o.sys_id === 'string' && o.sys_id ? o.sys_id : undefined;
    if (glide && sysId) {
      firstAt ??= glide;
      if (glide !== lastAt) idsAtLast = [];
      idsAtLast.push(sysId);
      lastAt = glide;
      lastId = sysId;
    }
    const updatedAt = fromGlideDateTime(o.sys_updated_on);
    if (updatedAt && (!latest || updatedAt > latest)) latest = updatedAt;
    const incidentId = incidentIdFromKey(o.correlation_id);
    // read on the page before only when still at the very time it was read at (a later change is a new change)
    if (!incidentId || !sysId || !updatedAt || (pos && 'from' in pos && glide === pos.from && skip.has(sysId))) continue;
    const state = o.state === undefined || o.state === null ? undefined : String(o.state);
    items.push({ incidentId, externalRef: sysId, state: remoteStateOf(state), updatedAt });
  }
  const page = { items, seen: result.length, ...(latest ? { latest } : {}) };
  if (result.length < limit) {
    // a `tie` page not full: that time is read to its end; what follows it is strictly later
    if (pos && 'tie' in pos) return { ...page, next: { after: pos.tie } };
    return page;
  }
  if (!lastAt || !lastId) return 'malformed';
  if (pos && 'tie' in pos) return { ...page, next: { tie: pos.tie, afterId: lastId } };
  // A full page all at one time: `from` it again would return the same page; walk that time by sys_id instead.
  if (firstAt === lastAt) return { ...page, next: { tie: lastAt, afterId: lastId } };
  return { ...page, next: { from: lastAt, skip: idsAtLast } };
}

/** 6 Resolved and 7 Closed resolve the incident; 8 Canceled does not (gone); anything else is open. */
export function remoteStateOf(state: string | undefined): RemoteState {
  if (state === '8') return 'gone';
  return state === '6' || state === '7' ? 'resolved' : 'open';
}
