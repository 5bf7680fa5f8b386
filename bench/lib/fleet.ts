/**
 * The six provider doubles (plus probectl's callback double) on loopback, and the tracker that stamps, per
 * incident and provider, when the double first received the request that *creates* the incident's object
 * (open) and the one that *closes* it (resolve). Lookups and status polls are not counted as "reached".
 */
import { randomUUID } from 'node:crypto';
import { JiraDouble } from '../../dev/doubles/jira';
import { OpsgenieDouble } from '../../dev/doubles/opsgenie';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { ProbectlDouble } from '../../dev/doubles/probectl';
import type { DoubleServer, RecordedRequest } from '../../dev/doubles/server';
import { ServiceNowDouble } from '../../dev/doubles/servicenow';
import { SlackDouble } from '../../dev/doubles/slack';
import { TeamsDouble } from '../../dev/doubles/teams';

export const PROVIDERS = ['pagerduty', 'opsgenie', 'slack', 'teams', 'servicenow', 'jira'] as const;
export type BenchProvider = (typeof PROVIDERS)[number];

export interface Arrivals {
  open: Partial<Record<BenchProvider, number>>;
  resolve: Partial<Record<BenchProvider, number>>;
  /** Slack and Teams get posts only: the first is the open, the second the resolution. */
  posts: Partial<Record<BenchProvider, number>>;
  /** The first request of any kind that names the incident (a lookup before a create counts), per provider. */
  first: Partial<Record<BenchProvider, number>>;
}

export const OG_KEY = 'b3nch000-0000-4ba2-a551-1afdf565c889';
const SN = { user: 'probectl.bench', password: 'B3nch-S3cret' };
export const JIRA = { email: 'bench@acme.test', apiToken: 'ATATTbenchT0ken0000' };
export const SLACK_PATH = '/services/T0BENCH/B0BENCH/benchhook';
export const TEAMS_SIG = 'BenchSig';
export const CALLBACK_SECRET = 'bench-callback-secret-0123456789';
/** Keeps pacing out of the measurement: 6,000 calls/min per connector key (the maximum rate_per_min). */
export const RATE_OPTION = 'rate_per_min=6000';

export class Fleet {
  pd!: PagerDutyDouble;
  og!: OpsgenieDouble;
  slack!: SlackDouble;
  teams!: TeamsDouble;
  sn!: ServiceNowDouble;
  jira!: JiraDouble;
  probectl!: ProbectlDouble;
  readonly arrivals = new Map<string, Arrivals>();
  /** Requests seen per provider (all kinds, polls and lookups included). */
  readonly requestCounts: Record<string, number> = {};
  readonly #idPattern: RegExp;
  readonly #byPort = new Map<string, BenchProvider>();
  /** Stamp `first` too (the per-phase breakdown turns it on: it maps every request, lookups included, to its incident). */
  trackFirst = false;

  /** `idPrefix`: every incident id of this run starts with it (letters/digits), followed by `-<n>`. */
  constructor(readonly idPrefix: string) {
    this.#idPattern = new RegExp(`(${idPrefix}-[0-9a-z]+-\\d+)`);
  }

  async start(): Promise<this> {
    this.pd = await new PagerDutyDouble().start();
    this.og = await new OpsgenieDouble({ apiKey: OG_KEY }).start();
    this.slack = await new SlackDouble({ webhookPath: SLACK_PATH }).start();
    this.teams = await new TeamsDouble({ sig: TEAMS_SIG }).start();
    this.sn = await new ServiceNowDouble(SN).start();
    this.jira = await new JiraDouble({ ...JIRA }).start();
    this.probectl = await new ProbectlDouble(CALLBACK_SECRET).start();
    const observe = (
      provider: BenchProvider,
      d: DoubleServer,
      action: (r: RecordedRequest) => 'open' | 'resolve' | 'post' | undefined,
      adapt?: (r: RecordedRequest) => void,
    ) => {
      this.#byPort.set(new URL(d.url).port, provider);
      d.faults = {
        before: (r) => {
          this.requestCounts[provider] = (this.requestCounts[provider] ?? 0) + 1;
          if (d.requests.length > 2000) d.requests.length = 0; // the tracker keeps what the report needs
          adapt?.(r);
          const a = action(r);
          if (!a && !this.trackFirst) return undefined;
          const id = this.#incidentOf(r);
          if (!id) return undefined;
          const rec = this.#rec(id);
          if (this.trackFirst && rec.first[provider] === undefined) rec.first[provider] = r.at;
          if (!a) return undefined;
          if (a === 'post') {
            if (rec.posts[provider] === undefined) {
              rec.posts[provider] = 1;
              rec.open[provider] = r.at;
            } else if (rec.posts[provider] === 1) {
              rec.posts[provider] = 2;
              rec.resolve[provider] = r.at;
            }
          } else if (rec[a][provider] === undefined) rec[a][provider] = r.at;
          return undefined;
        },
      };
    };
    const j = (r: RecordedRequest) => r.json as Record<string, unknown> | undefined;
    observe('pagerduty', this.pd, (r) => (j(r)?.event_action === 'trigger' ? 'open' : j(r)?.event_action === 'resolve' ? 'resolve' : undefined));
    observe('opsgenie', this.og, (r) => (r.method !== 'POST' ? undefined : r.path.endsWith('/alerts') ? 'open' : r.path.endsWith('/close') ? 'resolve' : undefined));
    observe('slack', this.slack, (r) => (r.method === 'POST' ? 'post' : undefined));
    observe('teams', this.teams, (r) => (r.method === 'POST' ? 'post' : undefined));
    observe('servicenow', this.sn, (r) => (r.method === 'POST' ? 'open' : r.method === 'PATCH' || r.method === 'PUT' ? 'resolve' : undefined));
    observe(
      'jira', this.jira,
      (r) => (r.method !== 'POST' ? undefined : r.path === '/rest/api/2/issue' ? 'open' : r.path.endsWith('/transitions') ? 'resolve' : undefined),
      jiraSearchByPost,
    );
    return this;
  }

  /** The provider whose double listens at `origin` (`http://127.0.0.1:<port>`). */
  providerAt(origin: string): BenchProvider | undefined {
    try {
      return this.#byPort.get(new URL(origin).port);
    } catch {
      return undefined;
    }
  }

  /** The incident id of this run named in `text`, if any. */
  incidentIn(text: string): string | undefined {
    return this.#idPattern.exec(text)?.[1];
  }

  #incidentOf(r: RecordedRequest): string | undefined {
    // Follow-up calls on tickets name the ticket, not the incident: map the key / sys_id back through the double.
    const jiraKey = /\/rest\/api\/2\/issue\/([A-Z][A-Z0-9_]*-\d+)\//.exec(r.path)?.[1];
    const fromJira = jiraKey ? this.jira.issues.find((i) => i.key === jiraKey)?.labels.find((l) => l.startsWith('probectl-')) : undefined;
    const snId = /\/table\/incident\/([0-9a-f]{32})$/.exec(r.path)?.[1];
    const fromSn = snId ? this.sn.tickets.find((t) => t.sys_id === snId)?.correlation_id : undefined;
    const mapped = fromJira ?? fromSn;
    if (mapped) return this.#idPattern.exec(mapped)?.[1];
    const m = this.#idPattern.exec(r.path) ?? this.#idPattern.exec([...r.query.values()].join(' ')) ?? this.#idPattern.exec(r.body);
    return m?.[1];
  }

  #rec(id: string): Arrivals {
    let rec = this.arrivals.get(id);
    if (!rec) {
      rec = { open: {}, resolve: {}, posts: {}, first: {} };
      this.arrivals.set(id, rec);
    }
    return rec;
  }

  /** Every provider reached for the open (or resolve, excluding `except`). */
  allReached(id: string, kind: 'open' | 'resolve', except?: BenchProvider): boolean {
    const rec = this.arrivals.get(id);
    if (!rec) return false;
    return PROVIDERS.every((p) => p === except || rec[kind][p] !== undefined);
  }

  /** ms from t0 to the first arrival of `provider`, or to the last of all (`'all'`), or undefined. */
  latency(id: string, kind: 'open' | 'resolve', t0: number, provider: BenchProvider | 'all', except?: BenchProvider): number | undefined {
    const rec = this.arrivals.get(id);
    if (!rec) return undefined;
    if (provider !== 'all') {
      const at = rec[kind][provider];
      return at === undefined ? undefined : at - t0;
    }
    if (!this.allReached(id, kind, except)) return undefined;
    return Math.max(...PROVIDERS.filter((p) => p !== except).map((p) => rec[kind][p]!)) - t0;
  }

  /**
   * Connector entries for `tenants` (all six providers each, pacing raised by RATE_OPTION), in the
   * PROBECTL_NOTIFY_CONNECTORS format.
   */
  connectorEntries(tenants: readonly string[]): string[] {
    const q = (url: string) => `${url}${url.includes('?') ? '&' : '?'}${RATE_OPTION}`;
    return tenants.flatMap((t, i) => [
      `${t}|pagerduty|${q(`${this.pd.url}/v2/enqueue`)}|${routingKey(i)}`,
      `${t}|opsgenie|${q(`${this.og.url}/v2/alerts`)}|${OG_KEY}`,
      `${t}|slack|${q(`${this.slack.url}${SLACK_PATH}`)}|`,
      `${t}|teams|${q(`${this.teams.url}${this.teams.path}?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${TEAMS_SIG}`)}|`,
      `${t}|servicenow|${q(this.sn.url)}|${SN.user}:${SN.password}`,
      `${t}|jira|${q(`${this.jira.url}/rest/api/2/issue?project=OPS`)}|${JIRA.email}:${JIRA.apiToken}`,
    ]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.pd, this.og, this.slack, this.teams, this.sn, this.jira, this.probectl].map((d) => d?.stop()));
  }
}

/**
 * Alertmanager's Jira receiver searches with `POST …/search` and the JQL in a JSON body (Data Center's form);
 * the Jira double, as Jira Cloud, searches with `GET …/search/jql?jql=…` (what the service's connector sends).
 * The bench turns the one into the other before the double sees it; the double's search itself is unchanged.
 */
function jiraSearchByPost(r: RecordedRequest): void {
  const body = r.json as { jql?: unknown; maxResults?: unknown } | undefined;
  if (r.method !== 'POST' || r.path !== '/rest/api/2/search' || typeof body?.jql !== 'string') return;
  r.path = '/rest/api/2/search/jql';
  r.query.set('jql', body.jql);
  if (typeof body.maxResults === 'number') r.query.set('maxResults', String(body.maxResults));
}

export function routingKey(i: number): string {
  return `R0UT1NGKEYbench${String(i).padStart(17, '0')}`;
}

export const randomSecret = () => randomUUID().replace(/-/g, '');
