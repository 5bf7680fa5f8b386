/**
 * The fault-injection harness (issue 6). Scenarios run on the real stack — the dev server, the local
 * Postgres, real workers (in process or as child processes), the API — against loopback doubles of all six
 * providers. What is counted are distinct objects at the doubles, by incident key: PagerDuty alerts by
 * dedup_key, Opsgenie alerts by alias, ServiceNow tickets by correlation_id, Jira issues by label, Slack and
 * Teams posts by the incident id they show. Requests are never what is counted.
 *
 * FAULTS_MODE=reduced (default: `npm run test:faults`, what CI runs) or full (the soak: `npm run faults`). Both use
 * jest.faults.config.js: the default jest config (`npm test`) leaves test/faults out.
 * Every file appends its rows to test-artifacts/faults-<mode>.md (one table per jest run) and prints them.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { JiraDouble } from '../../dev/doubles/jira';
import { OpsgenieDouble } from '../../dev/doubles/opsgenie';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import type { DoubleServer, RecordedRequest, Reply } from '../../dev/doubles/server';
import { ServiceNowDouble } from '../../dev/doubles/servicenow';
import { SlackDouble } from '../../dev/doubles/slack';
import { TeamsDouble } from '../../dev/doubles/teams';
import { stackFile } from '../setup/stack-file';
import { eventually, uniqueId } from '../helpers/shared';
import type { TestStack } from '../helpers/stack';

export type FaultsMode = 'reduced' | 'full';
export const MODE: FaultsMode = process.env.FAULTS_MODE === 'full' ? 'full' : 'reduced';
/** The reduced (CI) or the full (soak) value of a knob. */
export const scale = <T>(reduced: T, full: T): T => (MODE === 'full' ? full : reduced);

/** Short timeouts so a kill never waits minutes (the workflow's heartbeat timeout is 10 s). */
export const FAST_ENV: Record<string, string> = {
  PROBECTL_NOTIFY_HTTP_TIMEOUT: '2s',
  PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '1s',
  PROBECTL_NOTIFY_SHUTDOWN_DELAY: '0s',
  // info: the spawned processes announce readiness at that level.
  LOG_LEVEL: 'info',
};

// ---- the six providers --------------------------------------------------------------------------------

export const PROVIDER_KEYS = ['pagerduty', 'opsgenie', 'slack', 'teams', 'servicenow', 'jira'] as const;
export type ProviderKey = (typeof PROVIDER_KEYS)[number];
export const PAGERS: readonly ProviderKey[] = ['pagerduty', 'opsgenie'];
export const TICKETS: readonly ProviderKey[] = ['servicenow', 'jira'];
export const CHATS: readonly ProviderKey[] = ['slack', 'teams'];

const TEAMS_PATH = '/workflows/faults/triggers/manual/paths/invoke';

/** One set of the six doubles with distinctive credentials. */
export class Providers {
  readonly secrets = {
    pd: `PDfaultsR0utingKey${Math.random().toString(36).slice(2, 12)}`,
    og: `OGfaults-${Math.random().toString(36).slice(2, 12)}`,
    hook: `/services/TFAULTS/BFAULTS/${Math.random().toString(36).slice(2, 14)}`,
    sig: `TeamsSigFaults${Math.random().toString(36).slice(2, 10)}`,
    snUser: 'svc.faults',
    snPass: `SnowFaults${Math.random().toString(36).slice(2, 10)}`,
    jiraEmail: 'faults@acme.com',
    jiraToken: `JiraFaults${Math.random().toString(36).slice(2, 10)}`,
  };
  pagerduty!: PagerDutyDouble;
  opsgenie!: OpsgenieDouble;
  slack!: SlackDouble;
  teams!: TeamsDouble;
  servicenow!: ServiceNowDouble;
  jira!: JiraDouble;

  async start(): Promise<this> {
    const s = this.secrets;
    [this.pagerduty, this.opsgenie, this.slack, this.teams, this.servicenow, this.jira] = await Promise.all([
      new PagerDutyDouble().start(),
      new OpsgenieDouble({ apiKey: s.og, processingMs: 5 }).start(),
      new SlackDouble({ webhookPath: s.hook }).start(),
      new TeamsDouble({ sig: s.sig, path: TEAMS_PATH }).start(),
      new ServiceNowDouble({ user: s.snUser, password: s.snPass }).start(),
      new JiraDouble({ email: s.jiraEmail, apiToken: s.jiraToken }).start(),
    ]);
    return this;
  }

  double(p: ProviderKey): DoubleServer {
    return this[p];
  }

  all(): Array<[ProviderKey, DoubleServer]> {
    return PROVIDER_KEYS.map((p) => [p, this.double(p)]);
  }

  /** The PROBECTL_NOTIFY_CONNECTORS entry of provider `p` for `tenant`. */
  entry(tenant: string, p: ProviderKey): string {
    const s = this.secrets;
    switch (p) {
      case 'pagerduty': return `${tenant}|pagerduty|${this.pagerduty.url}/v2/enqueue|${s.pd}`;
      case 'opsgenie': return `${tenant}|opsgenie|${this.opsgenie.url}/v2/alerts|${s.og}`;
      case 'slack': return `${tenant}|slack|${this.slack.url}${s.hook}|`;
      case 'teams': return `${tenant}|teams|${this.teams.url}${TEAMS_PATH}?api-version=2016-06-01&sig=${s.sig}|`;
      case 'servicenow': return `${tenant}|servicenow|${this.servicenow.url}|${s.snUser}:${s.snPass}`;
      case 'jira': return `${tenant}|jira|${this.jira.url}/rest/api/2/issue?project=OPS&resolve_transition=31|${s.jiraEmail}:${s.jiraToken}`;
    }
  }

  entries(tenant: string, which: readonly ProviderKey[] = PROVIDER_KEYS): string[] {
    return which.map((p) => this.entry(tenant, p));
  }

  /** Clear every fault and release every held answer. */
  heal(): void {
    for (const [, d] of this.all()) {
      d.faults = {};
      d.releaseHeld();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map(([, d]) => d?.stop()));
  }

  /** Requests the doubles saw (all of them). */
  requestCount(): number {
    return this.all().reduce((n, [, d]) => n + d.requests.length, 0);
  }
}

/** Is this request the one that creates the object (the call a duplicate would come from)? */
export function isCreate(p: ProviderKey, r: RecordedRequest): boolean {
  const j = r.json as Record<string, unknown> | undefined;
  switch (p) {
    case 'pagerduty': return j?.event_action === 'trigger';
    case 'opsgenie': return r.method === 'POST' && /\/v2\/alerts$/.test(r.path);
    case 'servicenow': return r.method === 'POST';
    case 'jira': return r.method === 'POST' && r.path === '/rest/api/2/issue';
    case 'slack': return r.method === 'POST' && !(typeof j?.text === 'string' && j.text.startsWith('Resolved:'));
    case 'teams': return r.method === 'POST' && !JSON.stringify(j ?? {}).includes('"Resolved: ');
  }
}

/** Is this request part of a resolve (a close, a transition, a resolve event, a resolved post)? */
export function isResolve(p: ProviderKey, r: RecordedRequest): boolean {
  const j = r.json as Record<string, unknown> | undefined;
  switch (p) {
    case 'pagerduty': return j?.event_action === 'resolve';
    case 'opsgenie': return r.method === 'POST' && /\/close$/.test(r.path);
    case 'servicenow': return r.method === 'PATCH' || r.method === 'PUT';
    case 'jira': return r.path.endsWith('/transitions') && r.method === 'POST';
    case 'slack': return r.method === 'POST' && typeof j?.text === 'string' && j.text.startsWith('Resolved:');
    case 'teams': return r.method === 'POST' && JSON.stringify(j ?? {}).includes('"Resolved: ');
  }
}

/**
 * Let the provider do the work, then answer differently: a reset after the object exists, a 2xx whose body
 * is garbage. The worst case for idempotency, since the caller cannot know the call succeeded.
 */
export function processThen(d: DoubleServer, req: RecordedRequest, answer: 'reset' | Reply): Reply | 'reset' {
  (d as unknown as { handler: (r: RecordedRequest) => Reply }).handler(req);
  return answer;
}

// ---- counting -----------------------------------------------------------------------------------------

/** What a scenario expects of a provider for one incident. */
export type Expect =
  /** opened exactly once and resolved (chat: at least one post of each) */
  | 'open+resolve'
  /** opened exactly once, left as it is (e.g. its connector was removed) */
  | 'open'
  /** zero or one object, and nothing left open (a resolve that raced the open) */
  | 'maybe'
  /** never opened */
  | 'none';

export interface Counts {
  expected: number;
  present: number;
  duplicated: number;
  lost: number;
  /** Objects left open although the incident was resolved (alerts/tickets), or no resolved post (chat). */
  resolutionsLost: number;
  /** Objects that should not exist (a connector added later opened for an old incident). */
  unexpected: number;
}

const zero = (): Counts => ({ expected: 0, present: 0, duplicated: 0, lost: 0, resolutionsLost: 0, unexpected: 0 });

export interface ObjectsAt {
  /** Distinct alerts/tickets, or opening posts for chat. */
  objects: number;
  /** Of those, still open (alerts/tickets); for chat, the number of resolved posts. */
  open: number;
  resolvedPosts: number;
}

export function objectsAt(providers: Providers, p: ProviderKey, incidentId: string): ObjectsAt {
  const key = `probectl-${incidentId}`;
  switch (p) {
    case 'pagerduty': {
      const a = providers.pagerduty.alerts.filter((x) => x.dedupKey === key);
      return { objects: a.length, open: a.filter((x) => x.status !== 'resolved').length, resolvedPosts: 0 };
    }
    case 'opsgenie': {
      const a = providers.opsgenie.byAlias(key);
      return { objects: a.length, open: a.filter((x) => x.status === 'open').length, resolvedPosts: 0 };
    }
    case 'servicenow': {
      const t = providers.servicenow.byCorrelation(key);
      return { objects: t.length, open: t.filter((x) => x.state !== '6' && x.state !== '7').length, resolvedPosts: 0 };
    }
    case 'jira': {
      const i = providers.jira.byLabel(key);
      return { objects: i.length, open: i.filter((x) => x.status.category !== 'done').length, resolvedPosts: 0 };
    }
    case 'slack': {
      const mine = providers.slack.messages.filter((m) => JSON.stringify(m.blocks).includes(`*Incident:* ${incidentId}\\n`));
      const resolved = mine.filter((m) => m.text.startsWith('Resolved:')).length;
      return { objects: mine.length - resolved, open: 0, resolvedPosts: resolved };
    }
    case 'teams': {
      const mine = providers.teams.posts.filter((p2) => p2.lines.includes(`Incident: ${incidentId}`));
      const resolved = mine.filter((p2) => (p2.lines[0] ?? '').startsWith('Resolved:')).length;
      return { objects: mine.length - resolved, open: 0, resolvedPosts: resolved };
    }
  }
}

export interface IncidentExpectation {
  incidentId: string;
  providers: Providers;
  expect: Partial<Record<ProviderKey, Expect>>;
}

export interface Tally {
  alerts: Counts;
  tickets: Counts;
  posts: Counts;
}

/** Count every incident's objects at its doubles against what the scenario expects. */
export function tally(expectations: readonly IncidentExpectation[]): Tally {
  const t: Tally = { alerts: zero(), tickets: zero(), posts: zero() };
  for (const e of expectations) {
    for (const [p, exp] of Object.entries(e.expect) as Array<[ProviderKey, Expect]>) {
      const c = CHATS.includes(p) ? t.posts : PAGERS.includes(p) ? t.alerts : t.tickets;
      const at = objectsAt(e.providers, p, e.incidentId);
      const chat = CHATS.includes(p);
      c.present += at.objects;
      if (exp === 'none') {
        c.unexpected += at.objects + at.resolvedPosts;
        continue;
      }
      if (exp === 'open' || exp === 'open+resolve') {
        c.expected += 1;
        if (at.objects === 0) c.lost += 1;
      }
      c.duplicated += Math.max(0, at.objects - 1);
      if (exp === 'open+resolve' || exp === 'maybe') {
        if (chat) {
          if (exp === 'open+resolve' && at.resolvedPosts === 0) c.resolutionsLost += 1;
        } else if (at.open > 0) c.resolutionsLost += 1;
      }
    }
  }
  return t;
}

/** Every incident the scenario resolved: its workflow completed and the mirror says resolved. */
export async function settled(stack: TestStack, tenantOf: (id: string) => string, ids: readonly string[], timeoutMs = 120_000): Promise<number> {
  let lost = 0;
  await Promise.all(ids.map(async (id) => {
    try {
      await withTimeout(stack.incidents.result(id), timeoutMs, `the workflow of ${id}`);
      await eventually(async () => (await stack.mirror.read(tenantOf(id), id))?.status === 'resolved', { timeoutMs: 60_000, what: `the mirror of ${id}` });
    } catch (err) {
      lost += 1;
      process.stdout.write(`[faults] ${id} did not settle: ${(err as Error).message}\n`);
    }
  }));
  return lost;
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

// ---- results ------------------------------------------------------------------------------------------

export interface ScenarioResult {
  group: string;
  name: string;
  injected: string;
  incidents: number;
  tally: Tally;
  /** Incidents whose workflow did not complete or whose mirror did not reach resolved. */
  unsettled: number;
  notes?: string;
  seconds: number;
}

export interface Scenario {
  group: string;
  name: string;
  injected: string;
}

/** Run a scenario body that returns its expectations; time it, tally it, record it. */
export async function runScenario(
  s: Scenario,
  body: () => Promise<{ expectations: IncidentExpectation[]; unsettled?: number; notes?: string; injected?: string }>,
): Promise<ScenarioResult> {
  const t0 = Date.now();
  const out = await body();
  const result: ScenarioResult = {
    group: s.group, name: s.name, injected: out.injected ?? s.injected, incidents: out.expectations.length,
    tally: tally(out.expectations), unsettled: out.unsettled ?? 0, ...(out.notes ? { notes: out.notes } : {}), seconds: Math.round((Date.now() - t0) / 100) / 10,
  };
  recordResult(result);
  return result;
}

/** The invariants every scenario must end with. */
export function expectClean(r: ScenarioResult): void {
  const bad = {
    alertsDuplicated: r.tally.alerts.duplicated, ticketsDuplicated: r.tally.tickets.duplicated,
    alertsLost: r.tally.alerts.lost, ticketsLost: r.tally.tickets.lost, postsLost: r.tally.posts.lost,
    resolutionsLost: r.tally.alerts.resolutionsLost + r.tally.tickets.resolutionsLost + r.tally.posts.resolutionsLost,
    unexpected: r.tally.alerts.unexpected + r.tally.tickets.unexpected + r.tally.posts.unexpected,
    unsettled: r.unsettled,
  };
  expect({ scenario: r.name, ...bad }).toEqual({
    scenario: r.name, alertsDuplicated: 0, ticketsDuplicated: 0, alertsLost: 0, ticketsLost: 0, postsLost: 0, resolutionsLost: 0, unexpected: 0, unsettled: 0,
  });
}

function runKey(): string {
  return basename(stackFile()).replace(/\.json$/, '');
}

function resultsDir(): string {
  return join(__dirname, '..', '..', 'test-artifacts', `faults-${MODE}-${runKey()}`);
}

const fileResults: ScenarioResult[] = [];

export function recordResult(r: ScenarioResult): void {
  fileResults.push(r);
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${process.pid}-${r.group.replace(/[^a-z0-9]+/gi, '-')}.json`);
  const mine = fileResults.filter((x) => x.group === r.group);
  writeFileSync(file, JSON.stringify(mine, null, 2));
  const all = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ScenarioResult[]);
  writeFileSync(join(__dirname, '..', '..', 'test-artifacts', `faults-${MODE}.md`), renderTable(all));
}

const cell = (c: Counts) => `${c.expected}/${c.present}/${c.duplicated}/${c.lost}`;

export function renderTable(rows: readonly ScenarioResult[]): string {
  const head = [
    `Fault scenarios, mode ${MODE}, ${new Date().toISOString()}.`,
    'Counts are distinct objects at the doubles: expected/present/duplicated/lost. Chat posts have no idempotency key: their "duplicated" is extra posts, reported, not a failure.',
    '',
    '| group | scenario | injected | incidents | alerts | tickets | chat posts | resolutions lost | unsettled | s |',
    '|---|---|---|---:|---|---|---|---:|---:|---:|',
  ];
  const body = rows.map((r) => {
    const rl = r.tally.alerts.resolutionsLost + r.tally.tickets.resolutionsLost + r.tally.posts.resolutionsLost;
    const unexpected = r.tally.alerts.unexpected + r.tally.tickets.unexpected + r.tally.posts.unexpected;
    return `| ${r.group} | ${r.name} | ${r.injected.replace(/\|/g, '/')} | ${r.incidents} | ${cell(r.tally.alerts)} | ${cell(r.tally.tickets)} | ${cell(r.tally.posts)} | ${rl} | ${r.unsettled}${unexpected ? ` (+${unexpected} unexpected)` : ''} | ${r.seconds} |${r.notes ? ` ${r.notes.replace(/\|/g, '/')}` : ''}`;
  });
  return [...head, ...body, ''].join('\n');
}

/** Print this file's rows (afterAll). */
export function printResults(): void {
  if (fileResults.length === 0) return;
  process.stdout.write(`\n${renderTable(fileResults)}\n`);
}

// ---- small helpers ------------------------------------------------------------------------------------

/** A seeded PRNG (mulberry32) so "random points" can be replayed: FAULTS_SEED. */
export function rng(seed = Number(process.env.FAULTS_SEED ?? Date.now() % 2 ** 31)): { seed: number; next(): number; int(min: number, max: number): number; pick<T>(xs: readonly T[]): T } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { seed, next, int: (min, max) => min + Math.floor(next() * (max - min + 1)), pick: (xs) => xs[Math.floor(next() * xs.length)]! };
}

export function faultTenant(prefix: string): string {
  return uniqueId(`f-${prefix}`);
}

/** Every provider expected to open once and resolve. */
export function allOpenResolve(which: readonly ProviderKey[] = PROVIDER_KEYS): Partial<Record<ProviderKey, Expect>> {
  return Object.fromEntries(which.map((p) => [p, 'open+resolve'])) as Partial<Record<ProviderKey, Expect>>;
}

/** Links of the incident in a final-ish state (open/acknowledged/failed/skipped/orphaned), by count. */
export async function linksSettled(stack: TestStack, id: string, n: number, timeoutMs = 90_000): Promise<void> {
  await eventually(async () => {
    const s = await stack.incidents.getIncident(id);
    return s.links.length >= n && s.links.every((l) => l.status !== 'pending');
  }, { timeoutMs, intervalMs: 250, what: `${n} links of ${id} settled` });
}
