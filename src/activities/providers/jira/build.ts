import type { Incident, Severity } from '../../../shared/contract';
import { incidentKey } from '../../../shared/ids';
import { truncate } from '../../../shared/text';
import type { HttpRequest } from '../../http/types';
import { basicAuth, describe, listOption, mapSeverity } from '../format';

/** Jira summary is limited to 255 characters; a description to 32,767. */
export const MAX_SUMMARY = 255;
export const MAX_DESCRIPTION = 32_767;
export const DEFAULT_ISSUE_TYPE = 'Task';
export const DEFAULT_RESOLVE_TRANSITION = '31';
export const DEFAULT_PRIORITY: Record<Severity, string> = { critical: 'Highest', error: 'High', warning: 'Medium', info: 'Low' };
export const isPriorityName = (v: string): boolean => v.length > 0 && v.length <= 60;

export interface JiraOptions {
  project?: string;
  issuetype?: string;
  resolve_transition?: string;
  components?: string;
  priority?: string;
  priority_map?: string;
  fields?: string;
}

const ISSUE_PATH = /\/rest\/api\/2\/issue$/;

/** The site base (with a Data Center context path, if any) from `https://acme.atlassian.net/rest/api/2/issue`. */
export function siteBase(configured: string): string {
  const u = new URL(configured);
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.origin}${path.replace(ISSUE_PATH, '')}`;
}

export function isIssuePath(pathname: string): boolean {
  const path = pathname.replace(/\/+$/, '');
  return path === '' || ISSUE_PATH.test(path);
}

/** `email:api-token` → Basic (Cloud); anything else is a personal access token → Bearer (Data Center). */
export function authHeader(credential: string): string {
  return credential.includes(':') ? basicAuth(credential) : `Bearer ${credential}`;
}

function headers(credential: string, withBody: boolean): Record<string, string> {
  return { authorization: authHeader(credential), accept: 'application/json', ...(withBody ? { 'content-type': 'application/json' } : {}) };
}

const jqlString = (s: string) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;

/** `project = "OPS" AND labels = "probectl-<id>"`: the id was validated, and both values are quoted anyway. */
export function labelJql(incident: Incident, project: string | undefined): string {
  const label = `labels = ${jqlString(incidentKey(incident.id))}`;
  return project ? `project = ${jqlString(project)} AND ${label}` : label;
}

/** Cloud's enhanced search (`/search/jql`) or, on Data Center, the classic `/search`. */
export function buildSearch(configured: string, credential: string, incident: Incident, project: string | undefined, flavour: 'jql' | 'classic'): HttpRequest {
  const u = new URL(`${siteBase(configured)}/rest/api/2/${flavour === 'jql' ? 'search/jql' : 'search'}`);
  u.searchParams.set('jql', labelJql(incident, project));
  u.searchParams.set('fields', 'key,status');
  u.searchParams.set('maxResults', '1');
  return { method: 'GET', url: u.toString(), headers: headers(credential, false) };
}

/** The custom `fields` option: a JSON object (checked at start-up). */
export function extraFields(raw: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  const v = JSON.parse(raw) as unknown;
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function priorityFor(severity: Severity, options: JiraOptions): string | undefined {
  if (options.priority?.toLowerCase() === 'none') return undefined;
  if (options.priority) return options.priority;
  return mapSeverity(severity, DEFAULT_PRIORITY, options.priority_map, isPriorityName);
}

export function buildCreate(configured: string, credential: string, incident: Incident, options: JiraOptions): HttpRequest {
  const fields: Record<string, unknown> = {};
  const priority = priorityFor(incident.severity, options);
  if (priority) fields.priority = { name: priority };
  const components = listOption(options.components);
  if (components.length > 0) fields.components = components.map((name) => ({ name }));
  Object.assign(fields, extraFields(options.fields), {
    project: { key: options.project },
    issuetype: { name: options.issuetype || DEFAULT_ISSUE_TYPE },
    summary: truncate(incident.title.replace(/[\r\n]+/g, ' '), MAX_SUMMARY),
    description: truncate(describe(incident), MAX_DESCRIPTION),
    labels: ['probectl', incidentKey(incident.id)],
  });
  return { method: 'POST', url: `${siteBase(configured)}/rest/api/2/issue`, headers: headers(credential, true), body: JSON.stringify({ fields }) };
}

const issueUrl = (configured: string, key: string, tail = '') => `${siteBase(configured)}/rest/api/2/issue/${encodeURIComponent(key)}${tail}`;

export function buildReadStatus(configured: string, credential: string, key: string): HttpRequest {
  return { method: 'GET', url: issueUrl(configured, key, '?fields=status'), headers: headers(credential, false) };
}

export function buildListTransitions(configured: string, credential: string, key: string): HttpRequest {
  return { method: 'GET', url: issueUrl(configured, key, '/transitions'), headers: headers(credential, false) };
}

export function buildTransition(configured: string, credential: string, key: string, transitionId: string): HttpRequest {
  return {
    method: 'POST',
    url: issueUrl(configured, key, '/transitions'),
    headers: headers(credential, true),
    body: JSON.stringify({ transition: { id: transitionId } }),
  };
}

export function browseUrl(configured: string, key: string): string {
  return `${siteBase(configured)}/browse/${encodeURIComponent(key)}`;
}

export interface FoundIssue {
  key: string;
  statusCategory?: string;
}

const categoryOf = (fields: unknown): string | undefined => {
  const k = (fields as { status?: { statusCategory?: { key?: unknown } } } | undefined)?.status?.statusCategory?.key;
  return typeof k === 'string' ? k : undefined;
};

/** `{"issues":[{"key":"OPS-1","fields":{"status":...}}]}` → the first issue; undefined when none; 'malformed'. */
export function parseSearch(body: unknown): FoundIssue | undefined | 'malformed' {
  const issues = (body as { issues?: unknown } | null)?.issues;
  if (!Array.isArray(issues)) return 'malformed';
  const first = issues[0] as { key?: unknown; fields?: unknown } | undefined;
  if (!first) return undefined;
  if (typeof first.key !== 'string') return 'malformed';
  const cat = categoryOf(first.fields);
  return { key: first.key, ...(cat ? { statusCategory: cat } : {}) };
}

export function parseCreated(body: unknown): string | undefined {
  const key = (body as { key?: unknown } | null)?.key;
  return typeof key === 'string' && key.length > 0 ? key : undefined;
}

export function parseStatusCategory(body: unknown): string | undefined {
  return categoryOf((body as { fields?: unknown } | null)?.fields);
}

export interface Transition {
  id: string;
  name: string;
  toCategory?: string;
}

export function parseTransitions(body: unknown): Transition[] {
  const list = (body as { transitions?: unknown } | null)?.transitions;
  if (!Array.isArray(list)) return [];
  return list.flatMap((t: { id?: unknown; name?: unknown; to?: { statusCategory?: { key?: unknown } } }) =>
    typeof t?.id === 'string'
      ? [{ id: t.id, name: typeof t.name === 'string' ? t.name : '', ...(typeof t.to?.statusCategory?.key === 'string' ? { toCategory: t.to.statusCategory.key } : {}) }]
      : [],
  );
}
