/**
 * PROBECTL_NOTIFY_LOCAL_FIRST_OPENS=on, the default (src/workflows/v2/local-first.ts, patch local-first-opens-v1), on
 * the real dev server, Postgres and the six providers' doubles. A run given the API's checked begin snapshot makes
 * every open's first attempt a local activity in its first workflow task; what that
 * attempt does not finish for good — a 5xx, a 429 with Retry-After, a provider that does not answer within the
 * limit — goes on as the ordinary activity after the back-off (or the provider's Retry-After), and still pages once;
 * a refusal is the outcome; a resolve sent while the attempt runs waits for it and then closes everything. A run that
 * reads its snapshot itself, and every run with the setting off, opens through ordinary activities and asks no patch.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { sharedWorkflowBundle } from '../helpers/shared-bundle';
import { JiraDouble } from '../../dev/doubles/jira';
import { OpsgenieDouble } from '../../dev/doubles/opsgenie';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import type { DoubleServer, RecordedRequest, Reply } from '../../dev/doubles/server';
import { ServiceNowDouble } from '../../dev/doubles/servicenow';
import { SlackDouble } from '../../dev/doubles/slack';
import { TeamsDouble } from '../../dev/doubles/teams';
import { LOCAL_FIRST_OPEN_MS } from '../../src/workflows/v2/local-first-setting';
import { activitiesOf, historyFacts, type HistoryFacts } from '../replay/history-facts';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';

jest.setTimeout(120_000);

const scratch = join(__dirname, '..', '..', 'test-artifacts', `local-first-opens-${process.pid}`);
const TEAMS_PATH = '/workflows/f00d/triggers/manual/paths/invoke';
const SECRETS = { pdPaced: 'RKEY-local-first-opens-paced-01', pdPacedAgain: 'RKEY-local-first-opens-paced-02', pd: 'RKEY-local-first-opens-00000001', og: 'og-key-local-first-opens-01', hook: '/services/TLFO/BLFO/LocalFirstHook01', sig: 'LocalFirstSig01', sn: 'svc.lfo:LocalFirstSnow01', jira: 'lfo@acme.com:LocalFirstJira01' };
const CONNECTORS = ['pagerduty', 'opsgenie', 'slack', 'teams', 'servicenow', 'jira'];

/** PagerDuty's trigger for an incident (the request the first page is). */
const triggerOf = (id: string) => (r: RecordedRequest) => (r.json as { event_action?: string; dedup_key?: string } | undefined)?.event_action === 'trigger'
  && (r.json as { dedup_key?: string }).dedup_key === `probectl-${id}`;

/** A request that names the incident: in its body (pages, alerts, posts, creates), its path (Opsgenie's alias) or its query (lookups). */
const mentionsIncident = (r: RecordedRequest, id: string) => r.body.includes(id) || r.path.includes(id) || r.query.toString().includes(id);

/** How the run's failed local first attempt ended: 'timed out' (its limit), 'failed' (an answer), or 'none'. */
async function localFailureOf(stack: TestStack, id: string): Promise<string> {
  const events = (await stack.client.workflow.getHandle(`probectl-${id}`).fetchHistory()).events ?? [];
  const failures = events.map((e) => e.markerRecordedEventAttributes).filter((m) => m?.markerName === 'core_local_activity' && m.failure).map((m) => m!.failure!);
  if (failures.length === 0) return 'none';
  return failures.some((f) => f.timeoutFailureInfo || f.cause?.timeoutFailureInfo) ? 'timed out' : 'failed';
}

/** The back-off timers of a run's fallbacks (the run's other timers are minutes long): duration and how each ended. */
async function backoffTimers(stack: TestStack, id: string): Promise<Array<{ timeout: string; outcome: string }>> {
  const events = (await stack.client.workflow.getHandle(`probectl-${id}`).fetchHistory()).events ?? [];
  const ended = new Map<string, string>();
  for (const e of events) {
    if (e.timerFiredEventAttributes) ended.set(String(e.timerFiredEventAttributes.startedEventId), 'fired');
    if (e.timerCanceledEventAttributes) ended.set(String(e.timerCanceledEventAttributes.startedEventId), 'canceled');
  }
  return events.filter((e) => e.timerStartedEventAttributes && Number(e.timerStartedEventAttributes.startToFireTimeout?.seconds ?? 0) < 60)
    .map((e) => ({ timeout: `${Number(e.timerStartedEventAttributes!.startToFireTimeout!.seconds ?? 0)}s`, outcome: ended.get(String(e.eventId)) ?? 'open' }));
}

async function factsOf(stack: TestStack, id: string): Promise<HistoryFacts> {
  mkdirSync(scratch, { recursive: true });
  const file = join(scratch, `${id}.json`);
  writeFileSync(file, historyToJSON(await stack.client.workflow.getHandle(`probectl-${id}`).fetchHistory()));
  return historyFacts(file);
}

describe('local first opens: a run given the checked begin snapshot', () => {
  let pd: PagerDutyDouble, og: OpsgenieDouble, sl: SlackDouble, tm: TeamsDouble, sn: ServiceNowDouble, jira: JiraDouble;
  let stack: TestStack;
  const tenant = uniqueId('lfo');
  /** PagerDuty alone, paced to 6 a minute (a bucket of one): a second open within 10 s finds its turn too far off. */
  const paced = uniqueId('lfo-paced');
  /**
   * The same for the second paced test, with a bucket of its own (another routing key): its first open takes the
   * bucket's one token at once instead of waiting out the turn the first test's two pages used up.
   */
  const pacedAgain = uniqueId('lfo-paced-again');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    og = await new OpsgenieDouble({ apiKey: SECRETS.og }).start();
    sl = await new SlackDouble({ webhookPath: SECRETS.hook }).start();
    tm = await new TeamsDouble({ sig: SECRETS.sig, path: TEAMS_PATH }).start();
    const [snUser, snPass] = SECRETS.sn.split(':') as [string, string];
    sn = await new ServiceNowDouble({ user: snUser, password: snPass }).start();
    const [jiraEmail, jiraToken] = SECRETS.jira.split(':') as [string, string];
    jira = await new JiraDouble({ email: jiraEmail, apiToken: jiraToken }).start();
    // Pacing raised out of the way (a turn further than 0.5 s off would send a local attempt the ordinary way: the
    // pacer's own test above), so what is measured here is the local attempt itself.
    const fast = 'rate_per_min=6000';
    const entries = [
      `${tenant}|pagerduty|${pd.url}/v2/enqueue?${fast}|${SECRETS.pd}`,
      `${tenant}|opsgenie|${og.url}/v2/alerts?${fast}|${SECRETS.og}`,
      `${tenant}|slack|${sl.url}${SECRETS.hook}?${fast}|`,
      `${tenant}|teams|${tm.url}${TEAMS_PATH}?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${SECRETS.sig}&${fast}|`,
      `${tenant}|servicenow|${sn.url}?${fast}|${SECRETS.sn}`,
      `${tenant}|jira|${jira.url}/rest/api/2/issue?project=OPS&${fast}|${SECRETS.jira}`,
      // Its own routing key: a pacing bucket of its own (one rate per URL and credential).
      `${paced}|pagerduty|${pd.url}/v2/enqueue?rate_per_min=6|${SECRETS.pdPaced}`,
      `${pacedAgain}|pagerduty|${pd.url}/v2/enqueue?rate_per_min=6|${SECRETS.pdPacedAgain}`,
    ];
    // The defaults: PROBECTL_NOTIFY_LOCAL_FIRST_OPENS and PROBECTL_NOTIFY_BEGIN_IN_START unset; the request timeout as
    // shipped (10 s), longer than a local attempt's limit, so the limit is what cuts a provider that does not answer.
    stack = await startStack({ env: { PROBECTL_NOTIFY_CONNECTORS: entries.join(','), PROBECTL_NOTIFY_HTTP_TIMEOUT: '10s' } });
    await eventually(() => stack.beginGate!.refresh(), { what: 'the begin gate open' });
  });
  afterEach(() => {
    for (const d of [pd, og, sl, tm, sn, jira] as DoubleServer[]) d.faults = {};
  });
  afterAll(async () => {
    await stack?.stop();
    for (const d of [pd, og, sl, tm, sn, jira] as DoubleServer[]) await d?.stop();
  });

  async function resolveAll(id: string) {
    await stack.incidents.resolve(id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    return stack.incidents.result(id);
  }

  // A fresh gate answer for each open (a stale one is asked again within the start's 500 ms budget).
  const openGiven = async (inc: ReturnType<typeof incidentFor>) => {
    await eventually(() => stack.beginGate!.refresh(), { what: 'the begin gate open' });
    await stack.incidents.openIncident(inc);
  };

  const linkStatuses = async (id: string) => Object.fromEntries((await stack.incidents.getIncident(id)).links.map((l) => [l.connectorId, l.status]));

  test('every open is a local activity in the first workflow task; no ordinary open; resolve closes all six', async () => {
    const inc = incidentFor(tenant);
    await openGiven(inc);
    await eventually(async () => Object.values(await linkStatuses(inc.id)).filter((s) => s === 'open').length === 6, { what: 'six links open' });
    const result = await resolveAll(inc.id);
    expect(Object.fromEntries(result.links.map((l) => [l.connectorId, l.status]))).toEqual(Object.fromEntries(CONNECTORS.map((c) => [c, 'resolved'])));
    const f = await factsOf(stack, inc.id);
    expect(f.patches).toEqual(['first-run-checked-v1', 'local-first-opens-v1']);
    expect(f.localActivities.filter((t) => t === 'openConnector')).toHaveLength(CONNECTORS.length);
    expect(activitiesOf(f, 'openConnector')).toEqual([]);
    // One object per provider.
    const key = `probectl-${inc.id}`;
    expect([pd.alerts.filter((a) => a.dedupKey === key).length, og.byAlias(key).length, sn.byCorrelation(key).length, jira.byLabel(key).length]).toEqual([1, 1, 1, 1]);
  });

  // Each way the local attempt can end short of success, on PagerDuty's first trigger of the incident; the others page.
  // [what, the double's answer, the back-off timer, the least time from the open's request to the second trigger, goes on]
  test.each([
    ['a 500 goes on as the ordinary activity after the back-off', () => ({ status: 500, body: { status: 'error' } }) as const, '1s', 1_000, true],
    ['a 429 with Retry-After 3 s goes on after 3 s', () => ({ status: 429, headers: { 'retry-after': '3' }, body: { status: 'throttled' } }) as const, '3s', 3_000, true],
    // The local attempt's limit counts from its scheduling, after the open's request to the API.
    ['no answer within the limit goes on after the limit and the back-off', () => 'hang' as const, '1s', LOCAL_FIRST_OPEN_MS + 1_000, true],
    ['a refusal (400) is the outcome: no ordinary activity, the link failed', () => ({ status: 400, body: { status: 'invalid event', errors: ['bad routing key'] } }) as const, undefined, undefined, false],
  ])('%s', async (_what, reply, timer, afterOpenMs, goesOn) => {
    const inc = incidentFor(tenant);
    const opened = Date.now();
    const isTrigger = triggerOf(inc.id);
    let faulted = false;
    pd.faults.before = (r) => {
      if (faulted || !isTrigger(r)) return undefined;
      faulted = true;
      return reply();
    };
    await openGiven(inc);
    await eventually(async () => {
      const s = await linkStatuses(inc.id);
      if (Object.values(s).filter((x) => x === 'open').length === (goesOn ? 6 : 5) && (goesOn || s.pagerduty === 'failed')) return true;
      const failedLink = (await stack.incidents.getIncident(inc.id)).links.find((l) => l.status === 'failed');
      throw new Error(`links ${JSON.stringify(s)}; ${pd.requests.filter(isTrigger).length} trigger(s)${failedLink ? `; failed: ${JSON.stringify(failedLink)}` : ''}`);
    }, { timeoutMs: 60_000, what: goesOn ? 'six links open' : 'five links open, PagerDuty failed' });
    const triggers = pd.requests.filter(isTrigger);
    const f = await factsOf(stack, inc.id);
    expect(f.localActivities.filter((t) => t === 'openConnector')).toHaveLength(CONNECTORS.length);
    const ordinary = activitiesOf(f, 'openConnector');
    const timers = await backoffTimers(stack, inc.id);
    // What ended the local attempt: the limit (a time-out, not the request timeout) for the provider that never answers.
    expect(await localFailureOf(stack, inc.id)).toEqual(timer === undefined ? 'failed' : reply() === 'hang' ? 'timed out' : 'failed');
    if (goesOn) {
      expect(triggers).toHaveLength(2);
      expect(triggers[1]!.at - opened).toBeGreaterThanOrEqual(afterOpenMs! - 50);
      expect(ordinary.map((a) => a.connectorId)).toEqual(['pagerduty']);
      expect(ordinary[0]!.input.notBefore).toBeUndefined();
      expect(timers).toEqual([{ timeout: timer, outcome: 'fired' }]);
      expect(pd.alerts.filter((a) => a.dedupKey === `probectl-${inc.id}`)).toHaveLength(1);
    } else {
      expect(triggers).toHaveLength(1);
      expect(ordinary).toHaveLength(0);
      expect(timers).toEqual([]);
    }
    const before = pd.requests.length;
    const result = await resolveAll(inc.id);
    // A refused open made nothing: the resolve leaves that link alone (refused-opens-v1), and PagerDuty hears nothing more.
    expect(Object.fromEntries(result.links.map((l) => [l.connectorId, l.status]))).toEqual(Object.fromEntries(CONNECTORS.map((c) => [c, goesOn || c !== 'pagerduty' ? 'resolved' : 'failed'])));
    if (!goesOn) {
      expect(pd.requests.slice(before).filter((r) => mentionsIncident(r, inc.id))).toEqual([]);
      const after = await factsOf(stack, inc.id);
      expect(activitiesOf(after, 'resolveConnector', 'pagerduty')).toEqual([]);
      expect(after.patches).toEqual(['first-run-checked-v1', 'local-first-opens-v1', 'refused-opens-v1']);
    } else {
      expect((await factsOf(stack, inc.id)).patches).toEqual(['first-run-checked-v1', 'local-first-opens-v1']);
    }
  });

  // The same ways to end short of success, on every other provider's first create of the incident (PagerDuty's above):
  // a 5xx and a 429 with Retry-After go on after their back-off and leave one object; a refusal is the outcome. A chat
  // post cut by the limit waits the hand-over guard like a ticket (ServiceNow's row below), then posts once.
  // [provider, the double's answer, the back-off timer (undefined: a refusal)]
  const creates: Record<string, { double: () => DoubleServer; isCreate: (r: RecordedRequest, id: string) => boolean; objects: (id: string) => number }> = {
    opsgenie: { double: () => og, isCreate: (r, id) => r.method === 'POST' && (r.json as { alias?: string } | undefined)?.alias === `probectl-${id}`, objects: (id) => og.byAlias(`probectl-${id}`).length },
    slack: { double: () => sl, isCreate: (r, id) => r.method === 'POST' && r.body.includes(id), objects: (id) => sl.topLevel().filter((m) => JSON.stringify(m).includes(id)).length },
    teams: { double: () => tm, isCreate: (r, id) => r.method === 'POST' && r.body.includes(id), objects: (id) => tm.posts.filter((p) => JSON.stringify(p.card).includes(id)).length },
    servicenow: { double: () => sn, isCreate: (r, id) => r.method === 'POST' && (r.json as { correlation_id?: string } | undefined)?.correlation_id === `probectl-${id}`, objects: (id) => sn.byCorrelation(`probectl-${id}`).length },
    jira: { double: () => jira, isCreate: (r, id) => r.method === 'POST' && r.path.endsWith('/issue') && ((r.json as { fields?: { labels?: string[] } } | undefined)?.fields?.labels ?? []).includes(`probectl-${id}`), objects: (id) => jira.byLabel(`probectl-${id}`).length },
  };
  type Row = [provider: string, what: string, reply: () => Reply | 'hang', timer: string | undefined];
  const http500 = (): Reply => ({ status: 500, body: { error: 'internal' } });
  const http429 = (): Reply => ({ status: 429, headers: { 'retry-after': '2' }, body: { error: 'throttled' } });
  const http400 = (): Reply => ({ status: 400, body: { error: 'invalid' } });
  test.each<Row>([
    ...['opsgenie', 'slack', 'teams', 'servicenow', 'jira'].flatMap((p): Row[] => [
      [p, '500', http500, '1s'],
      [p, '429 with Retry-After 2 s', http429, '2s'],
      [p, '400', http400, undefined],
    ]),
    ['slack', 'no answer within the limit (the hand-over guard)', () => 'hang', '25s'],
  ])('%s, %s: its first create goes on or fails as it would ordinarily; one object', async (provider, _what, reply, timer) => {
    const inc = incidentFor(tenant);
    const { double, isCreate, objects } = creates[provider]!;
    let faulted = false;
    double().faults.before = (r) => {
      if (faulted || !isCreate(r, inc.id)) return undefined;
      faulted = true;
      return reply();
    };
    await openGiven(inc);
    const goesOn = timer !== undefined;
    const sentCreates = () => double().requests.filter((r) => isCreate(r, inc.id)).length;
    await eventually(async () => {
      const st = await linkStatuses(inc.id);
      if (Object.values(st).filter((x) => x === 'open').length === (goesOn ? 6 : 5) && (goesOn || st[provider] === 'failed')) return true;
      throw new Error(`links ${JSON.stringify(st)}; ${sentCreates()} create(s) of ${provider}`);
    }, { timeoutMs: 60_000, what: goesOn ? 'six links open' : `five links open, ${provider} failed` });
    expect(faulted).toBe(true);
    const f = await factsOf(stack, inc.id);
    expect(f.localActivities.filter((t) => t === 'openConnector')).toHaveLength(CONNECTORS.length);
    // The provider's own path (another provider slowed past the limit by a loaded machine would add its own fallback).
    expect(activitiesOf(f, 'openConnector', provider).length).toBe(goesOn ? 1 : 0);
    const timers = await backoffTimers(stack, inc.id);
    if (goesOn) expect(timers).toContainEqual({ timeout: timer, outcome: 'fired' });
    else expect(activitiesOf(f, 'openConnector')).toEqual([]);
    // Two creates when it goes on (the faulted one and the fallback's), one for a refusal; one object either way (the
    // Opsgenie double merges a create into an open alert of the same alias, so the count of creates is the check there).
    if (reply() === 'hang') expect(await localFailureOf(stack, inc.id)).toBe('timed out');
    expect(sentCreates()).toBe(goesOn ? 2 : 1);
    expect(objects(inc.id)).toBe(goesOn ? 1 : 0);
    double().faults = {};
    const before = double().requests.length;
    const result = await resolveAll(inc.id);
    // A refused open made nothing: the resolve leaves the link failed and sends that provider nothing (no resolve by
    // key, no standalone resolution post, no ticket lookup; refused-opens-v1, docs/workflow-contract.md "Links").
    expect(result.links.find((l) => l.connectorId === provider)?.status).toBe(goesOn ? 'resolved' : 'failed');
    if (!goesOn) {
      // Every request after the resolve that names the incident (chat posts name it in the body, tickets in the query).
      expect(double().requests.slice(before).filter((r) => mentionsIncident(r, inc.id)).map((r) => `${r.method} ${r.path}`)).toEqual([]);
      // Nor later: no resolve was scheduled, so no pager's second resolve or ticket's lookup-and-close pass is owed.
      const after = await factsOf(stack, inc.id);
      expect(activitiesOf(after, 'resolveConnector', provider)).toEqual([]);
      expect(after.patches).toEqual(['first-run-checked-v1', 'local-first-opens-v1', 'refused-opens-v1']);
      const timeline = await stack.mirror.timeline(tenant, inc.id);
      expect(timeline.filter((e) => e.kind === 'connector.skipped' && e.connectorId === provider).map((e) => e.detail)).toEqual([expect.stringMatching(/refused the open/)]);
    }
  });

  test('a ticket create that lands after the limit: the ordinary open waits the hand-over guard, then its lookup adopts the ticket: one ticket', async () => {
    const inc = incidentFor(tenant);
    const key = `probectl-${inc.id}`;
    const isCreate = (r: RecordedRequest) => creates.servicenow!.isCreate(r, inc.id);
    let deferred = 0;
    sn.faults.defer = (r) => isCreate(r) && deferred++ === 0;
    await openGiven(inc);
    await sn.waitDeferred(1);
    // ServiceNow carries the create out well past the limit, and past where an ordinary 1 s back-off's lookup would
    // have looked (and, finding nothing, created a second ticket): only the guard keeps it to one.
    await new Promise((r) => setTimeout(r, LOCAL_FIRST_OPEN_MS + 5_000));
    sn.releaseDeferred();
    const link = await eventually(async () => (await stack.incidents.getIncident(inc.id)).links.find((l) => l.connectorId === 'servicenow' && l.status === 'open'), { timeoutMs: 60_000, what: 'the ServiceNow link open' });
    expect(sn.byCorrelation(key)).toHaveLength(1);
    expect(link.externalRef).toBe(sn.byCorrelation(key)[0]!.sys_id);
    expect(sn.requests.filter(isCreate)).toHaveLength(1); // adopted by the lookup, never created again
    expect(await backoffTimers(stack, inc.id)).toEqual([{ timeout: '25s', outcome: 'fired' }]); // 10 s + the request timeout + 5 s
    expect(await localFailureOf(stack, inc.id)).toBe('timed out');
    sn.faults = {};
    await resolveAll(inc.id);
  });

  test('two local attempts failing apart (PagerDuty 500, Opsgenie 503) both go on, each after its back-off; one page, one alert', async () => {
    const inc = incidentFor(tenant);
    const key = `probectl-${inc.id}`;
    const isTrigger = triggerOf(inc.id);
    let pdFaulted = false;
    let ogFaulted = false;
    pd.faults.before = (r) => (!pdFaulted && isTrigger(r) ? ((pdFaulted = true), { status: 500, body: { status: 'error' } }) : undefined);
    og.faults.before = (r) => (!ogFaulted && r.method === 'POST' && (r.json as { alias?: string } | undefined)?.alias === key ? ((ogFaulted = true), { status: 503, body: { message: 'unavailable' } }) : undefined);
    await openGiven(inc);
    await eventually(async () => Object.values(await linkStatuses(inc.id)).filter((x) => x === 'open').length === 6, { timeoutMs: 60_000, what: 'six links open' });
    const f = await factsOf(stack, inc.id);
    expect(activitiesOf(f, 'openConnector').map((a) => a.connectorId).sort()).toEqual(['opsgenie', 'pagerduty']);
    expect(await backoffTimers(stack, inc.id)).toEqual([{ timeout: '1s', outcome: 'fired' }, { timeout: '1s', outcome: 'fired' }]);
    expect([pd.alerts.filter((a) => a.dedupKey === key).length, og.byAlias(key).length]).toEqual([1, 1]);
    og.faults = {};
    await resolveAll(inc.id);
  });

  test("a local attempt whose pacing turn is further off than its wait sends nothing and goes on after the pacer's turn: one page, the rate kept", async () => {
    const a = incidentFor(paced);
    const b = incidentFor(paced);
    await openGiven(a);
    await eventually(() => pd.requests.some(triggerOf(a.id)), { what: "the first incident's page (the bucket's one token)" });
    await openGiven(b);
    const link = await eventually(async () => (await stack.incidents.getIncident(b.id)).links.find((l) => l.status === 'open'), { timeoutMs: 60_000, what: "the second incident's page" });
    expect(link.connectorId).toBe('pagerduty');
    const [first] = pd.requests.filter(triggerOf(a.id));
    const second = pd.requests.filter(triggerOf(b.id));
    // The refused attempt sent nothing: one trigger, the ordinary open's, no sooner than the rate allows (6 a minute:
    // grants 10 s apart; arrivals at the double trail their grants by amounts the pacer does not bound, hence the slack).
    expect(second).toHaveLength(1);
    expect(second[0]!.at - first!.at).toBeGreaterThanOrEqual(10_000 - 2_000);
    const f = await factsOf(stack, b.id);
    expect(f.localActivities.filter((t) => t === 'openConnector')).toHaveLength(1);
    expect(activitiesOf(f, 'openConnector').map((o) => o.connectorId)).toEqual(['pagerduty']);
    expect(await localFailureOf(stack, b.id)).toBe('failed');
    // The back-off is the pacer's turn (under 10 s, past the 1 s default), not the limit.
    const [timer, ...others] = await backoffTimers(stack, b.id);
    expect(others).toEqual([]);
    expect(timer!.outcome).toBe('fired');
    expect(parseInt(timer!.timeout, 10)).toBeGreaterThanOrEqual(2);
    expect(parseInt(timer!.timeout, 10)).toBeLessThanOrEqual(10);
    expect(pd.alerts.filter((x) => x.dedupKey === `probectl-${b.id}`)).toHaveLength(1);
    // Their resolves would be paced too (a turn every 10 s, with the pagers' second resolves about a minute): what is
    // checked here ends with the page, so the two runs are ended without resolving.
    for (const inc of [a, b]) await stack.client.workflow.getHandle(`probectl-${inc.id}`).terminate('test: paced page checked');
  }, 180_000);

  test("a local attempt the pacer refused sent nothing: the ordinary open after it, refused on its attempt 1, is still the first try, so the resolve leaves the link alone", async () => {
    const a = incidentFor(pacedAgain);
    const b = incidentFor(pacedAgain);
    await openGiven(a);
    await eventually(() => pd.requests.some(triggerOf(a.id)), { timeoutMs: 30_000, what: "the first incident's page (the bucket's one token)" });
    pd.faults.before = (r) => (triggerOf(b.id)(r) ? { status: 400, body: { status: 'invalid event', errors: ['bad routing key'] } } : undefined);
    await openGiven(b);
    await eventually(async () => (await stack.incidents.getIncident(b.id)).links.find((l) => l.status === 'failed'), { timeoutMs: 60_000, what: "the second incident's refused page" });
    const f = await factsOf(stack, b.id);
    // The local attempt was refused by the pacer (nothing sent); the one trigger is the ordinary open's attempt 1.
    expect(await localFailureOf(stack, b.id)).toBe('failed');
    expect(activitiesOf(f, 'openConnector').map((o) => [o.connectorId, o.outcome])).toEqual([['pagerduty', 'failed']]);
    expect(pd.requests.filter(triggerOf(b.id))).toHaveLength(1);
    const before = pd.requests.length;
    await stack.incidents.resolve(b.id, { tenantId: pacedAgain, source: 'probectl', at: new Date().toISOString() });
    const result = await stack.incidents.result(b.id);
    expect(result.links.map((l) => l.status)).toEqual(['failed']);
    expect(pd.requests.slice(before).filter((r) => mentionsIncident(r, b.id))).toEqual([]);
    expect((await factsOf(stack, b.id)).patches).toEqual(['first-run-checked-v1', 'local-first-opens-v1', 'refused-opens-v1']);
    await stack.client.workflow.getHandle(`probectl-${a.id}`).terminate('test: paced page checked');
  }, 120_000);

  test('a resolve sent while the local attempt is held past its limit is applied before the back-off ends: no ordinary open, one trigger, every connector closed', async () => {
    const inc = incidentFor(tenant);
    const isTrigger = triggerOf(inc.id);
    pd.faults.hold = isTrigger;
    await openGiven(inc);
    await eventually(() => pd.requests.some(isTrigger), { what: 'the trigger held at the double' });
    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    // The resolve waits for the local attempt's limit; it is applied in the next task and cancels the back-off timer.
    const result = await stack.incidents.result(inc.id);
    pd.releaseHeld();
    expect(Object.fromEntries(result.links.map((l) => [l.connectorId, l.status]))).toEqual(Object.fromEntries(CONNECTORS.map((c) => [c, 'resolved'])));
    const key = `probectl-${inc.id}`;
    await eventually(() => pd.alerts.find((a) => a.dedupKey === key)?.status === 'resolved', { what: 'the page resolved' });
    expect(pd.alerts.filter((a) => a.dedupKey === key)).toHaveLength(1);
    expect(pd.requests.filter(isTrigger)).toHaveLength(1);
    const f = await factsOf(stack, inc.id);
    expect(f.localActivities.filter((t) => t === 'openConnector')).toHaveLength(CONNECTORS.length);
    expect(activitiesOf(f, 'openConnector')).toEqual([]);
    expect(await backoffTimers(stack, inc.id)).toEqual([{ timeout: '1s', outcome: 'canceled' }]);
    expect((await stack.mirror.timeline(tenant, inc.id)).filter((e) => e.kind === 'connector.failed').map((e) => e.detail)).toEqual(['open cancelled: the incident was resolved first']);
  });
});

describe.each([
  ['the run reads its snapshot itself (PROBECTL_NOTIFY_BEGIN_IN_START=off)', { PROBECTL_NOTIFY_BEGIN_IN_START: 'off' }, ['state-machine-v1']],
  ['the setting off (PROBECTL_NOTIFY_LOCAL_FIRST_OPENS=off)', { PROBECTL_NOTIFY_LOCAL_FIRST_OPENS: 'off' }, ['first-run-checked-v1']],
  ['the API and the worker disagree (the API off): the gate stays shut, the run reads it', { API: 'off' }, ['state-machine-v1']],
] as const)('ordinary opens: %s', (_name, env, patches) => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  let api: TestStack | undefined;
  const tenant = uniqueId('lfo-off');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    const connectors = `${tenant}|pagerduty|${pd.url}/v2/enqueue|${SECRETS.pd}`;
    const own = 'API' in env ? {} : env;
    stack = await startStack({ env: { PROBECTL_NOTIFY_CONNECTORS: connectors, ...own } });
    if ('API' in env) {
      // An API apart from the worker, on its task queue, with the setting off: its digest is not the worker's.
      api = await startStack({ worker: false, env: { PROBECTL_NOTIFY_CONNECTORS: connectors, PROBECTL_NOTIFY_TASK_QUEUE: stack.env.PROBECTL_NOTIFY_TASK_QUEUE!, PROBECTL_NOTIFY_LOCAL_FIRST_OPENS: 'off' } });
      expect(await api.beginGate!.refresh()).toBe(false);
    } else if (!('PROBECTL_NOTIFY_BEGIN_IN_START' in env)) {
      await eventually(() => stack.beginGate!.refresh(), { what: 'the begin gate open' });
    }
  });
  afterAll(async () => {
    await api?.stop();
    await stack?.stop();
    await pd?.stop();
  });

  test('the open is an ordinary activity and the run asks no local-first patch; one page', async () => {
    const front = api ?? stack;
    const inc = incidentFor(tenant);
    await front.incidents.openIncident(inc);
    await eventually(() => pd.alerts.some((a) => a.dedupKey === `probectl-${inc.id}`), { what: 'the page' });
    await front.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    await front.incidents.result(inc.id);
    const f = await factsOf(stack, inc.id);
    expect(f.patches).toEqual(patches);
    expect(f.localActivities.filter((t) => t === 'openConnector')).toHaveLength(0);
    expect(activitiesOf(f, 'openConnector').map((a) => a.connectorId)).toEqual(['pagerduty']);
    expect(pd.alerts.filter((a) => a.dedupKey === `probectl-${inc.id}`)).toHaveLength(1);
  });
});

// Local first attempts end in the task that scheduled them, but a replay may hand their results to the workflow in
// other activations than the live run did; the workflow must issue the same commands either way. Every history this
// file made (successes, failures for good, fallbacks after a 5xx, a 429 and a time-out, a resolve during the attempts,
// the ordinary paths) replays against the code under test.
test('every history this file made replays against the workflow code', async () => {
  const files = readdirSync(scratch).filter((f) => f.endsWith('.json'));
  expect(files.length).toBeGreaterThanOrEqual(9);
  const histories = files.map((f) => ({ workflowId: f, history: historyFromJSON(JSON.parse(readFileSync(join(scratch, f), 'utf8'))) }));
  const failures: string[] = [];
  for await (const r of Worker.runReplayHistories({ workflowBundle: await sharedWorkflowBundle() }, histories)) {
    if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
  }
  expect(failures).toEqual([]);
  rmSync(scratch, { recursive: true, force: true });
});
