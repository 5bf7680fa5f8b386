import type { Incident, Severity } from '../../shared/contract';
import { incidentIdFromKey, incidentKey } from '../../shared/ids';
import { truncateUnits, wellFormed } from '../text-limits';
import type { HttpRequest } from '../../http/types';
import { basicAuth, describe } from '../format';
import type { ChangePage, ChangedObject } from '../types';
import type { JiraOptions } from './options';

/** Jira summary is limited to 255 characters; a description to 32,767 (both UTF-16 units: Jira is Java). */
export const MAX_SUMMARY = 255;
export const MAX_DESCRIPTION = 32_767;
export const DEFAULT_ISSUE_TYPE = 'Task';
export const DEFAULT_RESOLVE_TRANSITION = '31';
export const DEFAULT_PRIORITY: Record<Severity, string> = { critical: 'Highest', error: 'High', warning: 'Medium', info: 'Low' };
export const isPriorityName = (v: string): boolean => v.length > 0 && v.length <= 60;

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

export function priorityFor(severity: Severity, options: Pick<JiraOptions, 'priorities'>): string | undefined {
  return options.priorities?.[severity];
}

/** What ends a line (Jira's summary is one line): CR, LF, VT, FF, NEL, LS, PS and the other C0 controls. */
// eslint-disable-next-line no-control-regex -- control characters are what this pattern is about
const LINE_BREAKS = /[\u0000-\u001f\u007f\u0085\u2028\u2029]+/g;

/**
 * The summary: one line (every line break and control character a space), at most MAX_SUMMARY UTF-16 units; a title
 * that is blank then (Jira refuses a blank summary) is replaced by the incident's id.
 */
export function summaryLine(incident: Pick<Incident, 'id' | 'title'>): string {
  const line = incident.title.replace(LINE_BREAKS, ' ');
  return truncateUnits(line.trim() === '' ? `probectl incident ${incident.id}` : line, MAX_SUMMARY);
}

/** Wiki markup that acts only at the start of a line: headings, quotes, rules, lists. */
const LINE_START_MARKUP = /^(?:h[1-6]\.|bq\.|-{4,}|[*#]|-(?=\s))/gim;

/**
 * User text for the description, which REST v2 renders as wiki markup: the characters that make links, images,
 * mentions and macros (`[x|https://…]`, `!https://…/p.png!`, `[~user]`, `{html}`) are escaped with `\`, and so is
 * markup that acts at the start of a line (`h1.`, `bq.`, `----`, `*`, `#`, `- `), so they show as typed. A backslash
 * is written `&#92;` (the renderer shows the entity as `\`; `\\` would be a forced line break).
 */
export function escapeWiki(text: string): string {
  return wellFormed(text)
    .replace(/[\\[\]{}!|]/g, (c) => (c === '\\' ? '&#92;' : `\\${c}`))
    .replace(LINE_START_MARKUP, (m) => `\\${m}`);
}

/** A URL for the description: the wiki characters percent-encoded, so it stays one link that leads to the same place. */
function wikiUrl(url: string): string {
  return wellFormed(url).replace(/[\\[\]{}!|\s]/g, (c) => (c === '!' ? '%21' : encodeURIComponent(c)));
}

/**
 * The description: the shared plain-text block with every user-supplied part escaped for wiki markup, cut to
 * MAX_DESCRIPTION UTF-16 units (a cut after an escape's `\` only escapes the ellipsis).
 */
export function wikiDescription(incident: Incident): string {
  const labels = incident.labels ? Object.fromEntries(Object.entries(incident.labels).map(([k, v]) => [escapeWiki(k), escapeWiki(v)])) : undefined;
  return truncateUnits(describe({
    ...incident,
    title: escapeWiki(incident.title),
    ...(incident.summary !== undefined ? { summary: escapeWiki(incident.summary) } : {}),
    ...(incident.source !== undefined ? { source: escapeWiki(incident.source) } : {}),
    ...(incident.url !== undefined ? { url: wikiUrl(incident.url) } : {}),
    ...(labels ? { labels } : {}),
  }), MAX_DESCRIPTION);
}

export function buildCreate(configured: string, credential: string, incident: Incident, options: JiraOptions): HttpRequest {
  const fields: Record<string, unknown> = {};
  const priority = priorityFor(incident.severity, options);
  if (priority) fields.priority = { name: priority };
  if (options.components.length > 0) fields.components = options.components.map((name) => ({ name }));
  Object.assign(fields, options.fields, {
    project: { key: options.project },
    issuetype: { name: options.issueType },
    summary: summaryLine(incident),
    description: wikiDescription(incident),
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

// ---- per-connector reconciliation: what changed since ---------------------------------------------------

/** Issues per page of a change listing. */
export const CHANGES_PAGE_SIZE = 100;

/**
 * The JQL of a change listing: every issue with the `probectl` label (every issue the connector creates carries
 * it, with `probectl-<id>`) updated within the last `minutes` (a relative date: no time zone of the Jira user
 * can shift it), oldest first; within the connector's project when it has one.
 */
export function changesJql(minutes: number, project: string | undefined): string {
  const m = Math.max(1, Math.ceil(minutes));
  const q = `labels = probectl AND updated >= "-${m}m" ORDER BY updated ASC`;
  return project ? `project = ${jqlString(project)} AND ${q}` : q;
}

/** Whole minutes from `since` to `now`, rounded up (at least 1). */
export function minutesSince(since: string, now: number): number {
  const t = Date.parse(since);
  if (Number.isNaN(t)) throw new Error('invalid date');
  return Math.max(1, Math.ceil((now - t) / 60_000));
}

export type ChangesCursor = { token: string } | { startAt: number };

/** The most pages one pass reads however often the listing was cut before (100 issues each). */
export const MAX_CHANGES_PAGES = 64;

/**
 * Jira's change listing has no resume position (offsets over a relative, minute-granular window are not stable from
 * one pass to the next), so a listing cut by its page bound cannot continue where it stopped. What it can do is read
 * further next time: its resume value is the page bound for the next pass — twice this pass's, at most
 * MAX_CHANGES_PAGES — so a burst of changes within one window (a bulk edit, a storm's ~1,000 creations within a
 * minute) is read through in one pass instead of the same first pages forever. `bound:<n>`; anything else (another
 * provider's position, a value from an older version) counts as no hint.
 */
export function pageBoundFrom(resume: string | undefined, maxPages: number): number {
  const m = resume === undefined ? null : /^bound:(\d{1,4})$/.exec(resume);
  const hinted = m ? Number(m[1]) : 0;
  return Math.max(maxPages, Math.min(hinted, MAX_CHANGES_PAGES));
}

/** The resume value a listing cut at `bound` pages leaves for the next pass. */
export function nextPageBound(bound: number): string {
  return `bound:${Math.min(bound * 2, MAX_CHANGES_PAGES)}`;
}

/** One page: Cloud's `/search/jql` pages by nextPageToken, Data Center's `/search` by startAt. */
export function buildChangedSince(
  configured: string, credential: string, jql: string, flavour: 'jql' | 'classic', page?: ChangesCursor, limit = CHANGES_PAGE_SIZE,
): HttpRequest {
  const u = new URL(`${siteBase(configured)}/rest/api/2/${flavour === 'jql' ? 'search/jql' : 'search'}`);
  u.searchParams.set('jql', jql);
  u.searchParams.set('fields', 'labels,status,updated');
  u.searchParams.set('maxResults', String(limit));
  if (page && 'token' in page) u.searchParams.set('nextPageToken', page.token);
  if (page && 'startAt' in page && page.startAt > 0) u.searchParams.set('startAt', String(page.startAt));
  return { method: 'GET', url: u.toString(), headers: headers(credential, false) };
}

/** Jira's `2026-11-30T16:05:07.123+0000` (or with a colon in the offset) → ISO UTC; undefined otherwise. */
export function fromJiraDateTime(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?)(Z|[+-]\d{2}:?\d{2})$/.exec(v);
  if (!m) return undefined;
  const zone = m[2] === 'Z' ? 'Z' : `${m[2]!.slice(0, 3)}:${m[2]!.slice(-2)}`;
  const t = Date.parse(`${m[1]}${zone}`);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/**
 * A change listing's page → our issues (the label `probectl-<id>`; an issue with several such labels is not
 * ours to judge and is left out), state as the connector's status read decides it (status category `done` is
 * resolved, anything else open), and the next page: Cloud's nextPageToken (absent or isLast: no more), Data
 * Center's startAt + issues < total.
 */
export function parseChangedSince(body: unknown, page?: ChangesCursor): ChangePage<ChangesCursor> | 'malformed' {
  const b = body as { issues?: unknown; nextPageToken?: unknown; isLast?: unknown; startAt?: unknown; total?: unknown } | null;
  if (!b || !Array.isArray(b.issues)) return 'malformed';
  const items: ChangedObject[] = [];
  let latest: string | undefined;
  for (const raw of b.issues) {
    const issue = raw as { key?: unknown; fields?: { labels?: unknown; updated?: unknown } } | null;
    const updatedAt = fromJiraDateTime(issue?.fields?.updated);
    if (updatedAt && (!latest || updatedAt > latest)) latest = updatedAt;
    if (!issue || typeof issue.key !== 'string' || !updatedAt) continue;
    const labels = Array.isArray(issue.fields?.labels) ? issue.fields.labels : [];
    const ids = [...new Set(labels.map((l) => incidentIdFromKey(l)).filter((x): x is string => x !== undefined))];
    if (ids.length !== 1) continue;
    items.push({ incidentId: ids[0]!, externalRef: issue.key, state: categoryOf(issue.fields) === 'done' ? 'resolved' : 'open', updatedAt });
  }
  let next: ChangesCursor | undefined;
  if (typeof b.nextPageToken === 'string' && b.nextPageToken && b.isLast !== true) next = { token: b.nextPageToken };
  else if (typeof b.total === 'number') {
    const startAt = typeof b.startAt === 'number' ? b.startAt : page && 'startAt' in page ? page.startAt : 0;
    if (b.issues.length > 0 && startAt + b.issues.length < b.total) next = { startAt: startAt + b.issues.length };
  }
  return { items, seen: b.issues.length, ...(latest ? { latest } : {}), ...(next ? { next } : {}) };
}
