import { DoubleServer, type RecordedRequest, type Reply } from './server';

type Category = 'new' | 'indeterminate' | 'done';
interface Status { id: string; name: string; category: Category }
interface WorkflowTransition { id: string; name: string; to: Status }

const TODO: Status = { id: '10000', name: 'To Do', category: 'new' };
const PROGRESS: Status = { id: '3', name: 'In Progress', category: 'indeterminate' };
const DONE: Status = { id: '10001', name: 'Done', category: 'done' };
const RESOLVED: Status = { id: '5', name: 'Resolved', category: 'done' };
const CLOSED: Status = { id: '6', name: 'Closed', category: 'done' };
const REOPENED: Status = { id: '4', name: 'Reopened', category: 'new' };

/** Jira Software simplified (11 To Do, 21 In Progress, 31 Done; any → any) and the classic default (4, 5, 2, 3). */
const WORKFLOWS: Record<'simplified' | 'classic', (s: Status) => WorkflowTransition[]> = {
  simplified: (s) =>
    [{ id: '11', name: 'To Do', to: TODO }, { id: '21', name: 'In Progress', to: PROGRESS }, { id: '31', name: 'Done', to: DONE }].filter((t) => t.to.id !== s.id),
  classic: (s) =>
    s.category === 'done'
      ? [{ id: '3', name: 'Reopen Issue', to: REOPENED }, ...(s.id === RESOLVED.id ? [{ id: '2', name: 'Close Issue', to: CLOSED }] : [])]
      : [{ id: '4', name: 'Start Progress', to: PROGRESS }, { id: '5', name: 'Resolve Issue', to: RESOLVED }, { id: '2', name: 'Close Issue', to: CLOSED }],
};

export interface JiraIssue {
  id: string;
  key: string;
  project: string;
  summary: string;
  description?: string;
  issuetype: string;
  labels: string[];
  priority?: string;
  fields: Record<string, unknown>;
  status: Status;
  createdAt: number;
  /** Epoch ms of the last change (create, transition, setStatus). */
  updatedAt: number;
}

/** Jira's `2026-11-30T16:05:07.123+0000`. */
const jiraTime = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');

/**
 * The change listing's JQL, as per-connector reconciliation sends it:
 * `[project = "X" AND ]labels = probectl AND updated >= "-Nm" ORDER BY updated ASC`.
 */
const CHANGES_JQL = /^(?:project = "((?:[^"\\]|\\.)*)" AND )?labels = probectl AND updated >= "-(\d+)m" ORDER BY updated ASC$/;

export interface JiraDoubleOptions {
  /** Cloud: basic email:token. */
  email?: string;
  apiToken?: string;
  /** Data Center: a personal access token (Bearer). */
  pat?: string;
  /** Cloud has /search/jql and answers 410 on the classic /search; Data Center the other way round (404). */
  flavour?: 'cloud' | 'datacenter';
  workflow?: 'simplified' | 'classic';
  projects?: string[];
  /** Eventual consistency of Cloud's /search/jql: a new issue is invisible to it for this long. */
  searchLagMs?: number;
  /** Called after every transition (a test can signal the inbound side). */
  onTransition?: (issue: JiraIssue) => void;
  /** Fire a `jira:issue_updated` webhook here on every transition, with the signer's headers. */
  webhookUrl?: string;
  webhookSigner?: (body: string) => Record<string, string>;
}

const PRIORITIES = ['Highest', 'High', 'Medium', 'Low', 'Lowest'];
const ISSUE_TYPES = ['Task', 'Bug', 'Story', 'Incident'];

/**
 * Jira REST v2 as the docs describe it: create (201 {id,key,self}; 400 with field errors), search by JQL on
 * `/search/jql` (Cloud, eventually consistent) or the classic `/search` (Data Center; 410 Gone on Cloud),
 * transitions (GET the ones offered from the current status; POST → 204, 400 "Transition id 'X' is not
 * valid for this issue."), issue reads (404 when missing), basic or bearer auth (401 otherwise).
 */
export class JiraDouble extends DoubleServer {
  readonly issues: JiraIssue[] = [];
  readonly webhookDeliveries: Array<{ status: number | 'error' }> = [];

  constructor(private readonly opts: JiraDoubleOptions) {
    super((req) => this.#handle(req));
  }

  byLabel(label: string): JiraIssue[] {
    return this.issues.filter((i) => i.labels.includes(label));
  }

  /** Move an issue as a person would (e.g. to Done), without a webhook. */
  setStatus(key: string, category: Category): void {
    const issue = this.issues.find((i) => i.key === key);
    if (issue) {
      issue.status = category === 'done' ? DONE : category === 'new' ? TODO : PROGRESS;
      issue.updatedAt = Date.now();
    }
  }

  /** The change listings received (JQL on `updated`): per-connector reconciliation's reads. */
  changeListings(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'GET' && CHANGES_JQL.test(r.query.get('jql') ?? ''));
  }

  #view(i: JiraIssue, base: string): Record<string, unknown> {
    return {
      id: i.id, key: i.key, self: `${base}/rest/api/2/issue/${i.id}`,
      fields: {
        summary: i.summary, labels: i.labels, updated: jiraTime(i.updatedAt),
        status: { id: i.status.id, name: i.status.name, statusCategory: { key: i.status.category, name: i.status.name } },
      },
    };
  }

  #authorized(h: string | undefined): boolean {
    const { email, apiToken, pat } = this.opts;
    if (email && apiToken && h === `Basic ${Buffer.from(`${email}:${apiToken}`).toString('base64')}`) return true;
    return Boolean(pat) && h === `Bearer ${pat}`;
  }

  #handle(req: RecordedRequest): Reply {
    const err = (status: number, ...messages: string[]): Reply => ({ status, body: { errorMessages: messages, errors: {} } });
    if (!this.#authorized(req.headers.authorization)) return err(401, 'Client must be authenticated to access this resource.');
    const base = this.url;
    const cloud = (this.opts.flavour ?? 'cloud') === 'cloud';
    const p = req.path;
    if (p === '/rest/api/2/search/jql' || p === '/rest/api/2/search') {
      if (p.endsWith('/jql') !== cloud) {
        return cloud ? err(410, 'The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.') : err(404, 'null for uri');
      }
      const jql = req.query.get('jql') ?? '';
      const changes = CHANGES_JQL.exec(jql);
      if (changes) return this.#changes(req, base, cloud, changes[1], Number(changes[2]));
      const label = /labels\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(jql)?.[1];
      const project = /project\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(jql)?.[1];
      if (!label) return err(400, 'Unbounded JQL queries are not allowed here.');
      const lag = cloud ? (this.opts.searchLagMs ?? 0) : 0;
      const hits = this.issues.filter((i) => i.labels.includes(label) && (!project || i.project === project) && Date.now() - i.createdAt >= lag);
      const max = Number(req.query.get('maxResults') ?? '50');
      const issues = hits.slice(0, max).map((i) => this.#view(i, base));
      return { status: 200, body: cloud ? { issues, isLast: true } : { startAt: 0, maxResults: max, total: hits.length, issues } };
    }
    if (p === '/rest/api/2/issue' && req.method === 'POST') return this.#create(req, base);
    const m = /^\/rest\/api\/2\/issue\/([^/]+)(\/transitions)?$/.exec(p);
    const issue = m ? this.issues.find((i) => i.key === decodeURIComponent(m[1]!) || i.id === m[1]) : undefined;
    if (!m) return err(404, 'null for uri');
    if (!issue) return err(404, 'Issue does not exist or you do not have permission to see it.');
    const wf = WORKFLOWS[this.opts.workflow ?? 'simplified'];
    if (!m[2] && req.method === 'GET') return { status: 200, body: this.#view(issue, base) };
    if (m[2] && req.method === 'GET') {
      return {
        status: 200,
        body: { transitions: wf(issue.status).map((t) => ({ id: t.id, name: t.name, to: { id: t.to.id, name: t.to.name, statusCategory: { key: t.to.category } } })) },
      };
    }
    if (m[2] && req.method === 'POST') {
      const id = String((req.json as { transition?: { id?: unknown } } | undefined)?.transition?.id ?? '');
      const t = wf(issue.status).find((x) => x.id === id);
      if (!t) return err(400, `Transition id '${id}' is not valid for this issue.`);
      const from = issue.status;
      issue.status = t.to;
      issue.updatedAt = Date.now();
      this.opts.onTransition?.(issue);
      this.#fireWebhook(issue, from, base);
      return { status: 204 };
    }
    return err(405, 'Method not allowed');
  }

  /** A change listing: probectl-labelled issues updated within the last `minutes`, oldest change first, paged. */
  #changes(req: RecordedRequest, base: string, cloud: boolean, project: string | undefined, minutes: number): Reply {
    const max = Number(req.query.get('maxResults') ?? '50');
    if (!Number.isInteger(max) || max < 1 || max > 5000) return { status: 400, body: { errorMessages: ['maxResults'], errors: {} } };
    const from = Date.now() - minutes * 60_000;
    const hits = this.issues
      .filter((i) => i.labels.includes('probectl') && (!project || i.project === project) && i.updatedAt >= from)
      .sort((a, b) => a.updatedAt - b.updatedAt);
    let start = 0;
    if (cloud) {
      const token = req.query.get('nextPageToken');
      if (token !== null) {
        start = Number(Buffer.from(token, 'base64url').toString());
        if (!Number.isInteger(start) || start < 0) return { status: 400, body: { errorMessages: ['Invalid nextPageToken'], errors: {} } };
      }
      if (req.query.get('startAt') !== null) return { status: 400, body: { errorMessages: ['startAt is not supported by /search/jql; use nextPageToken'], errors: {} } };
    } else start = Number(req.query.get('startAt') ?? '0');
    const page = hits.slice(start, start + max).map((i) => this.#view(i, base));
    const end = start + page.length;
    if (cloud) return { status: 200, body: { issues: page, ...(end < hits.length ? { nextPageToken: Buffer.from(String(end)).toString('base64url') } : { isLast: true }) } };
    return { status: 200, body: { startAt: start, maxResults: max, total: hits.length, issues: page } };
  }

  #create(req: RecordedRequest, base: string): Reply {
    const f = (req.json as { fields?: Record<string, any> } | undefined)?.fields;
    const errors: Record<string, string> = {};
    if (!f) return { status: 400, body: { errorMessages: ['Can not deserialize the request body.'], errors } };
    if (!(this.opts.projects ?? ['OPS']).includes(f.project?.key)) errors.project = 'project is required';
    if (typeof f.summary !== 'string' || f.summary.trim() === '') errors.summary = 'You must specify a summary of the issue.';
    // Jira is Java: its limits count UTF-16 units (String.length), not code points.
    else if (f.summary.length > 255) errors.summary = 'Summary must be less than 255 characters.';
    // eslint-disable-next-line no-control-regex -- line breaks are what this pattern is about
    else if (/[\r\n\u000b\u000c\u0085\u2028\u2029]/.test(f.summary)) errors.summary = 'Field \'summary\' cannot contain newline characters.';
    if (typeof f.description === 'string' && f.description.length > 32_767) errors.description = 'Description is too long: it must be less than 32767 characters.';
    if (!ISSUE_TYPES.includes(f.issuetype?.name)) errors.issuetype = 'Specify a valid issue type';
    if (f.priority !== undefined && !PRIORITIES.includes(f.priority?.name)) errors.priority = 'Specify a valid priority';
    if (Array.isArray(f.labels) && f.labels.some((l: unknown) => typeof l !== 'string' || /\s/.test(l))) errors.labels = 'Labels cannot contain spaces.';
    if (Object.keys(errors).length > 0) return { status: 400, body: { errorMessages: [], errors } };
    const n = this.issues.length + 1;
    const issue: JiraIssue = {
      id: String(10_000 + n), key: `${f.project.key}-${n}`, project: f.project.key, summary: f.summary,
      ...(typeof f.description === 'string' ? { description: f.description } : {}),
      issuetype: f.issuetype.name, labels: f.labels ?? [], ...(f.priority?.name ? { priority: f.priority.name } : {}),
      fields: f, status: TODO, createdAt: Date.now(), updatedAt: Date.now(),
    };
    this.issues.push(issue);
    return { status: 201, body: { id: issue.id, key: issue.key, self: `${base}/rest/api/2/issue/${issue.id}` } };
  }

  #fireWebhook(issue: JiraIssue, from: Status, base: string): void {
    if (!this.opts.webhookUrl) return;
    const body = JSON.stringify({
      timestamp: Date.now(), webhookEvent: 'jira:issue_updated', issue_event_type_name: 'issue_generic',
      user: { displayName: 'Jira Double' },
      issue: this.#view(issue, base),
      changelog: { id: String(Date.now()), items: [{ field: 'status', fieldtype: 'jira', from: from.id, fromString: from.name, to: issue.status.id, toString: issue.status.name }] },
    });
    const headers = { 'content-type': 'application/json', 'x-atlassian-webhook-identifier': `${issue.id}-${Date.now()}`, ...this.opts.webhookSigner?.(body) };
    fetch(this.opts.webhookUrl, { method: 'POST', headers, body }).then(
      (r) => this.webhookDeliveries.push({ status: r.status }),
      () => this.webhookDeliveries.push({ status: 'error' }),
    );
  }
}
