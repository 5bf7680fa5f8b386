/**
 * Every connector through the real HttpClient against its loopback double: the requests it builds are the
 * ones the double (and so the documented API) accepts, and the double's object counts show the effect.
 */
import { HttpClient } from '../../../src/http/client';
import { jira } from '../../../src/providers/jira/connector';
import { opsgenie } from '../../../src/providers/opsgenie/connector';
import { pagerduty } from '../../../src/providers/pagerduty/connector';
import { servicenow } from '../../../src/providers/servicenow/connector';
import { slack } from '../../../src/providers/slack/connector';
import { teams } from '../../../src/providers/teams/connector';
import type { CallContext } from '../../../src/providers/types';
import { JiraDouble, type JiraIssue } from '../../../dev/doubles/jira';
import { OpsgenieDouble } from '../../../dev/doubles/opsgenie';
import { PagerDutyDouble } from '../../../dev/doubles/pagerduty';
import type { DoubleServer } from '../../../dev/doubles/server';
import { ServiceNowDouble } from '../../../dev/doubles/servicenow';
import { SlackDouble } from '../../../dev/doubles/slack';
import { TeamsDouble } from '../../../dev/doubles/teams';
import { GOLDEN_INCIDENT, connectorFrom, loadFixture, outcomeOf } from '../../helpers/retry-table';

const http = new HttpClient({ timeoutMs: 5_000 });
const doubles: DoubleServer[] = [];
async function started<T extends DoubleServer>(d: T): Promise<T> {
  doubles.push(d);
  return d.start();
}
afterAll(async () => {
  await Promise.all(doubles.map((d) => d.stop()));
  await http.close();
});

const ctx = (entry: string, attempt = 1): CallContext<any> => ({ connector: connectorFrom(entry), http, attempt });
const inc = (id: string) => ({ ...GOLDEN_INCIDENT, id });
const by = { source: 'api', actor: 'alice', reason: 'fixed' };

/** Send a golden fixture to a double, as is. */
async function sendFixture(d: DoubleServer, provider: string, name: string): Promise<number> {
  const f = loadFixture(provider, name);
  const res = await fetch(`${d.url}${f.path}`, { method: f.method, headers: f.headers, ...(f.body ? { body: JSON.stringify(f.body) } : {}) });
  return res.status;
}

test('PagerDuty: trigger, acknowledge, resolve → one alert, resolved', async () => {
  const pd = await started(new PagerDutyDouble());
  const c = ctx(`acme|pagerduty|${pd.url}/v2/enqueue|R0UT1NGKEYgolden000000000000000001`);
  await pagerduty.open(c, inc('pd-1'));
  await pagerduty.open(c, inc('pd-1'));
  await pagerduty.acknowledge!(c, inc('pd-1'), {});
  expect(pd.alerts[0]!.status).toBe('acknowledged');
  await pagerduty.resolve(c, inc('pd-1'), {}, by);
  expect(pd.alerts).toHaveLength(1);
  expect(pd.alerts[0]).toMatchObject({ status: 'resolved', triggers: 2 });
  expect(await sendFixture(pd, 'pagerduty', 'trigger')).toBe(202);
});

describe('Opsgenie', () => {
  const KEY = 'eb243592-faa2-4ba2-a551-1afdf565c889';
  test.each(['/v2/alerts', '/jsm/ops/integration/v2/alerts'])('create, re-send, acknowledge, close on %s → one alert, closed', async (base) => {
    const og = await started(new OpsgenieDouble({ apiKey: KEY, processingMs: 150 }));
    const c = ctx(`acme|opsgenie|${og.url}${base}|${KEY}`);
    expect(await opsgenie.open(c, inc('og-1'))).toEqual({ externalRef: 'probectl-og-1' });
    await opsgenie.open(c, inc('og-1'));
    expect(og.alerts).toHaveLength(1);
    expect(og.alerts[0]).toMatchObject({ alias: 'probectl-og-1', count: 2, priority: 'P1', basePath: base, status: 'open' });
    await opsgenie.acknowledge!(c, inc('og-1'), {}, 'alice');
    expect(og.alerts[0]!.acknowledged).toBe(true);
    await opsgenie.resolve(c, inc('og-1'), {}, by);
    expect(og.openAlerts()).toHaveLength(0);
    await opsgenie.resolve(c, inc('og-1'), {}, by); // nothing open any more: "Alert does not exist" = done
    expect(og.alertRequests.at(-1)!.status).toBe('Alert does not exist');
    expect(og.requests.filter((r) => r.path.includes('/requests/')).length).toBeGreaterThanOrEqual(og.alertRequests.length);
  });

  test('a wrong key is refused (401) and permanent; golden fixture accepted', async () => {
    const og = await started(new OpsgenieDouble({ apiKey: KEY }));
    const r = await outcomeOf(() => opsgenie.open(ctx(`acme|opsgenie|${og.url}/v2/alerts|wrong-key-0000`), inc('og-2')));
    expect(r.outcome).toBe('permanent');
    expect(r.failure?.type).toBe('AuthRejected');
    expect(og.alerts).toHaveLength(0);
    expect(await sendFixture(og, 'opsgenie', 'create')).toBe(202);
    expect(og.alerts).toHaveLength(1);
  });
});

describe('Slack', () => {
  test('webhook: opened and resolved posts; a wrong webhook path is refused', async () => {
    const sl = await started(new SlackDouble({ webhookPath: '/services/T0ACME/B0ACME/golden' }));
    const c = ctx(`acme|slack|${sl.url}/services/T0ACME/B0ACME/golden|`);
    await slack.open(c, inc('sl-1'));
    await slack.resolve(c, inc('sl-1'), { externalRef: 'probectl-sl-1' }, by);
    expect(sl.messages.map((m) => m.text)).toEqual([expect.stringContaining('[CRITICAL]'), expect.stringContaining('Resolved:')]);
    const bad = await outcomeOf(() => slack.open(ctx(`acme|slack|${sl.url}/services/T0ACME/B0ACME/nope|`), inc('sl-2')));
    expect(bad.outcome).toBe('permanent');
    expect(bad.failure?.message).toContain('invalid_token');
    expect(await sendFixture(sl, 'slack', 'webhook-opened')).toBe(200);
  });

  test('Web API: one message, edited to resolved, one thread reply; a wrong token is permanent', async () => {
    const sl = await started(new SlackDouble({ webhookPath: '/services/x', botToken: 'xoxb-golden-token', channels: ['C0PROBECTL'] }));
    const c = ctx(`acme|slack|${sl.url}/api/chat.postMessage?channel=C0PROBECTL|xoxb-golden-token`);
    const out = await slack.open(c, inc('sl-3'));
    const [channel, ts] = out.externalRef.split(':');
    expect(channel).toBe('C0PROBECTL');
    await slack.resolve(c, inc('sl-3'), out, by);
    expect(sl.topLevel()).toHaveLength(1);
    expect(sl.topLevel()[0]).toMatchObject({ ts, edited: true, text: expect.stringContaining('Resolved') });
    expect(sl.replies(ts!)).toHaveLength(1);
    const bad = await outcomeOf(() => slack.open(ctx(`acme|slack|${sl.url}/api/chat.postMessage?channel=C0PROBECTL|xoxb-wrong`), inc('sl-4')));
    expect([bad.outcome, bad.failure?.type]).toEqual(['permanent', 'AuthRejected']);
    expect(await sendFixture(sl, 'slack', 'api-post')).toBe(200);
  });
});

test('Teams: opened and resolved cards; the signature in the query is what authenticates', async () => {
  const tm = await started(new TeamsDouble({ sig: 'GoldenSig', path: '/workflows/abc/triggers/manual/paths/invoke' }));
  const url = `${tm.url}/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=GoldenSig`;
  const c = ctx(`acme|teams|${url}&min_severity=info|`);
  await teams.open(c, inc('tm-1'));
  await teams.resolve(c, inc('tm-1'), {}, by);
  expect(tm.posts.map((p) => p.lines[0])).toEqual([GOLDEN_INCIDENT.title, `Resolved: ${GOLDEN_INCIDENT.title}`]);
  const bad = await outcomeOf(() => teams.open(ctx(`acme|teams|${url.replace('GoldenSig', 'forged')}|`), inc('tm-2')));
  expect([bad.outcome, bad.failure?.type]).toEqual(['permanent', 'AuthRejected']);
  expect(await sendFixture(tm, 'teams', 'opened')).toBe(202);
});

describe('ServiceNow', () => {
  test('open twice → one ticket; resolve → state 6 with close code and notes; again → no-op; without sys_id → by correlation_id', async () => {
    const sn = await started(new ServiceNowDouble({ user: 'probectl.integration', password: 'S3cret!' }));
    const c = ctx(`acme|servicenow|${sn.url}?assignment_group=noc&category=network|probectl.integration:S3cret!`);
    const first = await servicenow.open(c, inc('sn-1'));
    const second = await servicenow.open(ctx(`acme|servicenow|${sn.url}|probectl.integration:S3cret!`, 2), inc('sn-1'));
    expect(second.externalRef).toBe(first.externalRef);
    expect(sn.tickets).toHaveLength(1);
    expect(sn.tickets[0]).toMatchObject({ correlation_id: 'probectl-sn-1', correlation_display: 'probectl', urgency: '1', impact: '1', assignment_group: 'noc', category: 'network' });
    expect(first.externalUrl).toContain(`incident.do%3Fsys_id%3D${first.externalRef}`);
    await servicenow.resolve(c, inc('sn-1'), first, by);
    expect(sn.tickets[0]).toMatchObject({ state: '6', close_code: 'Solution provided', close_notes: expect.stringContaining('alice') });
    sn.tickets[0]!.state = '7'; // auto-closed later: read-only, and resolving it again is a no-op
    await servicenow.resolve(c, inc('sn-1'), first, by);
    await servicenow.open(c, inc('sn-2'));
    await servicenow.resolve(c, inc('sn-2'), {}, by);
    expect(sn.byCorrelation('probectl-sn-2')[0]!.state).toBe('6');
    await servicenow.resolve(c, inc('sn-never'), {}, by);
    expect(sn.tickets).toHaveLength(2);
  });

  test('wrong password → 401, permanent; golden create fixture accepted', async () => {
    const sn = await started(new ServiceNowDouble({ user: 'probectl.integration', password: 'S3cret!' }));
    const r = await outcomeOf(() => servicenow.open(ctx(`acme|servicenow|${sn.url}|probectl.integration:nope`), inc('sn-3')));
    expect([r.outcome, r.failure?.type]).toEqual(['permanent', 'AuthRejected']);
    expect(await sendFixture(sn, 'servicenow', 'create')).toBe(201);
    expect(sn.tickets).toHaveLength(1);
  });
});

describe('Jira', () => {
  const CRED = 'alice@acme.com:ATATT3xGoldenToken';
  test('Cloud: create, retried open adopts it, resolve by 31, a second resolve is a no-op', async () => {
    const moved: JiraIssue[] = [];
    const j = await started(new JiraDouble({ email: 'alice@acme.com', apiToken: 'ATATT3xGoldenToken', onTransition: (i) => moved.push(i) }));
    const entry = `acme|jira|${j.url}/rest/api/2/issue?project=OPS|${CRED}`;
    const out = await jira.open(ctx(entry), inc('ji-1'));
    expect(out).toEqual({ externalRef: 'OPS-1', externalUrl: `${j.url}/browse/OPS-1` });
    expect((await jira.open(ctx(entry, 2), inc('ji-1'))).externalRef).toBe('OPS-1');
    expect(j.byLabel('probectl-ji-1')).toHaveLength(1);
    expect(j.issues[0]).toMatchObject({ issuetype: 'Task', priority: 'Highest', labels: ['probectl', 'probectl-ji-1'] });
    await jira.resolve(ctx(entry), inc('ji-1'), out, by);
    expect(j.issues[0]!.status.category).toBe('done');
    expect(moved.map((i) => i.key)).toEqual(['OPS-1']);
    await jira.resolve(ctx(entry), inc('ji-1'), out, by);
    expect(moved).toHaveLength(1);
  });

  test('eventually consistent search: a retried open waits for the lagging index instead of creating a second issue', async () => {
    const j = await started(new JiraDouble({ email: 'alice@acme.com', apiToken: 'ATATT3xGoldenToken', searchLagMs: 2_000 }));
    const entry = `acme|jira|${j.url}/rest/api/2/issue?project=OPS|${CRED}`;
    await jira.open(ctx(entry), inc('ji-2'));
    const again = await jira.open(ctx(entry, 2), inc('ji-2'));
    expect(again.externalRef).toBe('OPS-1');
    expect(j.issues).toHaveLength(1);
  });

  test('Data Center (PAT, classic search) with the classic workflow: 31 is not offered → "Resolve Issue" (done)', async () => {
    const j = await started(new JiraDouble({ pat: 'NjM0MDk1OTAxNTQ2OkdvbGRlblBBVA', flavour: 'datacenter', workflow: 'classic' }));
    const entry = `acme|jira|${j.url}/rest/api/2/issue?project=OPS|NjM0MDk1OTAxNTQ2OkdvbGRlblBBVA`;
    const out = await jira.open(ctx(entry), inc('ji-3'));
    expect((await jira.open(ctx(entry, 2), inc('ji-3'))).externalRef).toBe(out.externalRef);
    await jira.resolve(ctx(entry), inc('ji-3'), {}, by); // no ref: found by label
    expect(j.issues).toHaveLength(1);
    expect(j.issues[0]!.status).toMatchObject({ name: 'Resolved', category: 'done' });
    expect(j.requests.some((r) => r.path === '/rest/api/2/search')).toBe(true);
  });

  test('wrong token → 401, permanent; golden create fixture accepted', async () => {
    const j = await started(new JiraDouble({ email: 'alice@acme.com', apiToken: 'ATATT3xGoldenToken' }));
    const r = await outcomeOf(() => jira.open(ctx(`acme|jira|${j.url}/rest/api/2/issue?project=OPS|alice@acme.com:wrong`), inc('ji-4')));
    expect([r.outcome, r.failure?.type]).toEqual(['permanent', 'AuthRejected']);
    expect(await sendFixture(j, 'jira', 'create')).toBe(201);
  });
});
