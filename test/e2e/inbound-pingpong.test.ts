/**
 * Loop protection across providers on the real dev server and Postgres, with every provider's loopback
 * double: closing the ServiceNow ticket resolves the incident everywhere else exactly once, Jira's webhook
 * echo of our own transition changes nothing, and acknowledgements never bounce between two pagers.
 */
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { JiraDouble, type JiraDoubleOptions } from '../../dev/doubles/jira';
import { OpsgenieDouble } from '../../dev/doubles/opsgenie';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { ProbectlDouble } from '../../dev/doubles/probectl';
import { ServiceNowDouble } from '../../dev/doubles/servicenow';
import { eventually, sleep, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';

const ROUTING = 'R0UT1NGKEYpingpong00000000000001';
const ROUTING2 = 'R0UT1NGKEYpingpong00000000000002';
const OG_KEY = 'eb243592-faa2-4ba2-a551-1afdf565c889';
const SN_SECRET = 'servicenow-inbound-token-0123456789';
const JIRA_SECRET = 'jira-webhook-secret-0123456789abcd';
const PD_SECRET = 'pagerduty-webhook-secret-0123456789';
const OG_SECRET = 'opsgenie-inbound-token-0123456789';
const CALLBACK_SECRET = 'callback-secret-pingpong-012345';

const hmac = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');
type Json = Record<string, any>;

describe('inbound loop protection across ServiceNow, PagerDuty, Jira and Opsgenie', () => {
  let pd: PagerDutyDouble;
  let og: OpsgenieDouble;
  let sn: ServiceNowDouble;
  let jira: JiraDouble;
  let probectl: ProbectlDouble;
  let stack: TestStack;
  const tenant = uniqueId('acme');
  const tenant2 = uniqueId('beta');
  const jiraOpts: JiraDoubleOptions = {
    email: 'alice@acme.com',
    apiToken: 'ATATT3xPingPongToken',
    webhookSigner: (body) => ({ 'x-hub-signature': `sha256=${hmac(JIRA_SECRET, body)}` }),
  };

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    og = await new OpsgenieDouble({ apiKey: OG_KEY }).start();
    sn = await new ServiceNowDouble({ user: 'probectl.integration', password: 'S3cret!pp' }).start();
    jira = await new JiraDouble(jiraOpts).start();
    probectl = await new ProbectlDouble(CALLBACK_SECRET).start();
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: [
          `${tenant}|servicenow|${sn.url}|probectl.integration:S3cret!pp`,
          `${tenant}|pagerduty|${pd.url}/v2/enqueue|${ROUTING}`,
          `${tenant}|jira|${jira.url}/rest/api/2/issue?project=OPS|alice@acme.com:ATATT3xPingPongToken`,
          `${tenant2}|pagerduty|${pd.url}/v2/enqueue|${ROUTING2}`,
          `${tenant2}|opsgenie|${og.url}/v2/alerts|${OG_KEY}`,
        ].join(','),
        PROBECTL_NOTIFY_INBOUND: [
          `sn:${tenant}:servicenow:${SN_SECRET}`,
          `jira-cloud:${tenant}:jira:${JIRA_SECRET}`,
          `pd:${tenant2}:pagerduty:${PD_SECRET}`,
          `og:${tenant2}:opsgenie:${OG_SECRET}`,
        ].join(','),
        PROBECTL_NOTIFY_CALLBACK_URL: `${probectl.url}/api/notify/events`,
        PROBECTL_NOTIFY_CALLBACK_SECRET: CALLBACK_SECRET,
        PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '1s',
      },
    });
    // The Jira double calls us back over HTTP, as Jira Cloud would.
    await stack.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (stack.app.server.address() as AddressInfo).port;
    jiraOpts.webhookUrl = `http://127.0.0.1:${port}/ingest/itsm/jira/jira-cloud`;
  });
  afterAll(async () => {
    await stack?.stop();
    for (const d of [pd, og, sn, jira, probectl]) await d?.stop();
  });

  test('ping-pong: closing the ServiceNow ticket resolves PagerDuty and Jira once; Jira echoes; ServiceNow is never called again', async () => {
    const inc = incidentFor(tenant);
    const key = `probectl-${inc.id}`;
    await stack.incidents.openIncident(inc);
    await eventually(async () => (await stack.mirror.read(tenant, inc.id))?.links.filter((l) => l.status === 'open').length === 3, { what: 'three links open', timeoutMs: 60_000 });
    const ticket = sn.byCorrelation(key)[0]!;
    const issue = jira.byLabel(key)[0]!;
    expect(sn.byCorrelation(key)).toHaveLength(1);
    expect(jira.byLabel(key)).toHaveLength(1);

    // A person resolves the ticket; the Business Rule posts it.
    ticket.state = '6';
    const snCallsBefore = sn.requests.length;
    const res = await stack.app.inject({
      method: 'POST', url: '/ingest/itsm/servicenow/sn',
      headers: { 'content-type': 'application/json', 'x-probectl-token': SN_SECRET },
      payload: JSON.stringify({ sys_id: ticket.sys_id, state: '6', correlation_id: key, number: ticket.number, actor: 'noc.engineer' }),
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ outcome: 'accepted', kind: 'resolved', incidentId: inc.id });

    const result = await stack.incidents.result(inc.id);
    expect(result.source).toBe('servicenow');
    expect(result.links.map((l) => `${l.connectorId}:${l.status}`).sort()).toEqual(['jira:resolved', 'pagerduty:resolved', 'servicenow:resolved']);
    // PagerDuty resolved (fan-out + the delayed second resolve, by the follow-up runner), Jira transitioned once,
    // ServiceNow untouched.
    expect(pd.alerts.filter((a) => a.dedupKey === key).map((a) => a.status)).toEqual(['resolved']);
    await eventually(() => pd.events('resolve').filter((r) => (r.json as Json).dedup_key === key).length >= 2, { what: 'the second resolve' });
    expect(pd.events('resolve').filter((r) => (r.json as Json).dedup_key === key)).toHaveLength(2);
    expect(issue.status.category).toBe('done');
    expect(jira.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/transitions'))).toHaveLength(1);
    // Jira fired its webhook back on our transition: authenticated, answered 2xx, and a no-op.
    await eventually(() => jira.webhookDeliveries.length === 1, { what: 'the Jira echo' });
    expect([200, 202]).toContain(jira.webhookDeliveries[0]!.status);
    await sleep(1000);
    expect(sn.requests.length).toBe(snCallsBefore);
    expect(ticket.state).toBe('6');
    const timeline = await stack.mirror.timeline(tenant, inc.id);
    expect(timeline.filter((t) => t.kind === 'resolved')).toEqual([expect.objectContaining({ source: 'servicenow', actor: 'noc.engineer' })]);
    expect(timeline.filter((t) => t.kind === 'signal.rejected')).toEqual([]);
    expect(timeline.filter((t) => t.kind === 'origin.skipped')).toEqual([expect.objectContaining({ connectorId: 'servicenow' })]);
    const rec = await stack.mirror.read(tenant, inc.id);
    expect(rec?.links.map((l) => `${l.connectorId}:${l.status}`).sort()).toEqual(['jira:resolved', 'pagerduty:resolved', 'servicenow:resolved']);

    // probectl heard exactly one signed resolution, naming ServiceNow as its origin. The callback is a follow-up the
    // worker's runner delivers after the run (docs/workflow-contract.md): wait for it, then for any second one.
    await eventually(() => probectl.events.some((e) => e.incidentId === inc.id), { what: 'probectl told', timeoutMs: 30_000 });
    await sleep(1000);
    const told = probectl.events.filter((e) => e.incidentId === inc.id);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ type: 'incident.resolved', tenantId: tenant, source: 'servicenow', actor: 'noc.engineer' });
    expect(probectl.rejected).toBe(0);

    // A late echo of the ticket itself (the rule fires again on state 7) is a no-op after the close.
    const late = await stack.app.inject({
      method: 'POST', url: '/ingest/itsm/servicenow/sn',
      headers: { 'content-type': 'application/json', 'x-probectl-token': SN_SECRET },
      payload: JSON.stringify({ sys_id: ticket.sys_id, state: 7, correlation_id: key, number: ticket.number }),
    });
    expect(late.json()).toEqual({ outcome: 'duplicate' });
    expect(sn.requests.length).toBe(snCallsBefore);
  });

  test('acknowledged in PagerDuty → Opsgenie acknowledged once; Opsgenie’s echo is a no-op; Close in Opsgenie resolves PagerDuty', async () => {
    const inc = incidentFor(tenant2);
    const key = `probectl-${inc.id}`;
    await stack.incidents.openIncident(inc);
    await eventually(async () => (await stack.mirror.read(tenant2, inc.id))?.links.filter((l) => l.status === 'open').length === 2, { what: 'both pagers open', timeoutMs: 60_000 });
    const ogAcks = () => og.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/acknowledge'));
    const ogCloses = () => og.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/close'));
    const pdActions = (action: string) => pd.events(action).filter((r) => (r.json as Json).dedup_key === key);

    pd.alerts.find((a) => a.dedupKey === key)!.status = 'acknowledged'; // Erin acknowledged it in PagerDuty
    const ack = JSON.stringify({
      event: { id: uniqueId('ev'), event_type: 'incident.acknowledged', resource_type: 'incident', occurred_at: new Date().toISOString(), agent: { summary: 'Erin' }, data: { id: 'PX1', type: 'incident', incident_key: key, status: 'acknowledged' } },
    });
    const r1 = await stack.app.inject({
      method: 'POST', url: '/ingest/itsm/pagerduty/pd', payload: ack,
      headers: { 'content-type': 'application/json', 'x-webhook-id': uniqueId('wh'), 'x-pagerduty-signature': `v1=${hmac(PD_SECRET, ack)}` },
    });
    expect(r1.statusCode).toBe(202);
    await eventually(() => og.byAlias(key)[0]?.acknowledged, { what: 'Opsgenie acknowledged' });
    await eventually(async () => (await stack.mirror.read(tenant2, inc.id))?.status === 'acknowledged', { what: 'mirror acknowledged' });

    // Opsgenie's outgoing webhook reports our own acknowledgement back.
    const alert = og.byAlias(key)[0]!;
    const echo = await stack.app.inject({
      method: 'POST', url: '/ingest/itsm/opsgenie/og',
      headers: { 'content-type': 'application/json', 'x-probectl-token': OG_SECRET },
      payload: JSON.stringify({ action: 'Acknowledge', alert: { alertId: alert.id, alias: key, username: 'probectl' }, source: { name: 'probectl', type: 'API' } }),
    });
    expect(echo.json()).toEqual({ outcome: 'duplicate' });
    await sleep(1000);
    expect(ogAcks()).toHaveLength(1);
    expect(pdActions('acknowledge')).toHaveLength(0); // the origin is never acknowledged back
    const acked = probectl.events.filter((e) => e.incidentId === inc.id);
    expect(acked).toEqual([expect.objectContaining({ type: 'incident.acknowledged', source: 'pagerduty', actor: 'Erin' })]);

    // Closed in Opsgenie: PagerDuty resolved, Opsgenie not called back.
    alert.status = 'closed';
    const close = await stack.app.inject({
      method: 'POST', url: '/ingest/itsm/opsgenie/og',
      headers: { 'content-type': 'application/json', 'x-probectl-token': OG_SECRET },
      payload: JSON.stringify({ action: 'Close', alert: { alertId: alert.id, alias: key, username: 'frank' } }),
    });
    expect(close.statusCode).toBe(202);
    const result = await stack.incidents.result(inc.id);
    expect(result.source).toBe('opsgenie');
    await eventually(() => pdActions('resolve').length >= 2 && probectl.events.filter((e) => e.incidentId === inc.id).length >= 2, { what: 'the second resolve and the callback' });
    await sleep(1_500);
    expect(pdActions('resolve')).toHaveLength(2);
    expect(pd.alerts.filter((a) => a.dedupKey === key).map((a) => a.status)).toEqual(['resolved']);
    expect(ogCloses()).toHaveLength(0);
    expect(ogAcks()).toHaveLength(1);
    expect(probectl.events.filter((e) => e.incidentId === inc.id).map((e) => `${e.type}:${e.source}`)).toEqual([
      'incident.acknowledged:pagerduty', 'incident.resolved:opsgenie',
    ]);
  });
});
