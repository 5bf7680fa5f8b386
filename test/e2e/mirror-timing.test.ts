/**
 * When the mirror is written (lean-history-v1, docs/workflow-contract.md "History budget"): while one
 * connector's open keeps retrying, the other links, a correlated signal and the resolution still reach
 * Postgres promptly; nothing waits for the slow connector. And what a call carries for the workflow (an
 * acknowledgement's callback, its entry, the incident row) is not held by that call when it keeps failing.
 */
import { OpsgenieDouble } from '../../dev/doubles/opsgenie';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { ProbectlDouble } from '../../dev/doubles/probectl';
import { ServiceNowDouble } from '../../dev/doubles/servicenow';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';

describe('mirror writes while a connector keeps retrying', () => {
  let pd: PagerDutyDouble;
  let sn: ServiceNowDouble;
  let stack: TestStack;
  const tenant = uniqueId('mirrortime');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    sn = await new ServiceNowDouble({ user: 'mt-user', password: 'mt-password' }).start();
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: [
          `${tenant}|pagerduty|${pd.url}/v2/enqueue|RKEY-mirror-timing-0000000000000`,
          `${tenant}|servicenow|${sn.url}|mt-user:mt-password`,
        ].join(','),
        PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '1s',
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
    await sn?.stop();
  });

  test('links, a correlated signal and the resolve are mirrored while ServiceNow answers 503', async () => {
    let snDown = true;
    sn.faults.before = () => (snDown ? { status: 503, body: { error: { message: 'maintenance' } } } : undefined);
    const inc = incidentFor(tenant);
    await stack.incidents.openIncident(inc);

    // PagerDuty's link is an outcome: written although the ServiceNow open is still in flight.
    const links = await eventually(async () => {
      const rec = await stack.mirror.read(tenant, inc.id);
      return rec?.links.find((l) => l.connectorId === 'pagerduty' && l.status === 'open') ? rec.links : undefined;
    }, { what: 'the PagerDuty link in the mirror', timeoutMs: 20_000 });
    expect(links.find((l) => l.connectorId === 'servicenow')?.status ?? 'absent').not.toBe('open');

    await stack.incidents.correlate(inc.id, { tenantId: tenant, signalId: 'sig-mt-1', summary: 'flap', at: new Date().toISOString() });
    await eventually(async () => (await stack.mirror.timeline(tenant, inc.id)).some((t) => t.kind === 'correlated'), {
      what: 'the correlated entry in the mirror', timeoutMs: 10_000,
    });
    const live = await stack.incidents.getIncident(inc.id);
    expect(live.links.find((l) => l.connectorId === 'servicenow')?.status).toBe('pending'); // still retrying
    expect(sn.requests.length).toBeGreaterThan(0);

    // The resolve cancels the ServiceNow open; everything lands in the mirror and the run completes.
    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    snDown = false;
    await stack.incidents.result(inc.id);
    const rec = await stack.mirror.read(tenant, inc.id);
    expect(rec?.status).toBe('resolved');
    expect(rec?.links.find((l) => l.connectorId === 'pagerduty')?.status).toBe('resolved');
    const kinds = (await stack.mirror.timeline(tenant, inc.id)).map((t) => t.kind);
    expect(kinds).toEqual(expect.arrayContaining(['opened', 'connector.opened', 'correlated', 'resolved', 'connector.resolved']));
    expect(pd.alerts.filter((a) => a.dedupKey === `probectl-${inc.id}`)).toHaveLength(1);
  });
});

describe('what a failing call carries still reaches Postgres and probectl', () => {
  let pd: PagerDutyDouble;
  let og: OpsgenieDouble;
  let probectl: ProbectlDouble;
  let stack: TestStack;
  const tenant = uniqueId('carried');
  const OG_KEY = 'og-carried-0000-0000-000000000000';

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    og = await new OpsgenieDouble({ apiKey: OG_KEY, processingMs: 0 }).start();
    probectl = await new ProbectlDouble('callback-secret-carried-000001').start();
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: [
          `${tenant}|pagerduty|${pd.url}/v2/enqueue|RKEY-carried-00000000000000000`,
          `${tenant}|opsgenie|${og.url}/v2/alerts|${OG_KEY}`,
        ].join(','),
        PROBECTL_NOTIFY_CALLBACK_URL: `${probectl.url}/hooks/notify`,
        PROBECTL_NOTIFY_CALLBACK_SECRET: 'callback-secret-carried-000001',
        PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '0s',
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
    await og?.stop();
    await probectl?.stop();
  });

  // The acknowledgement's callback, entry and row status are owed when Opsgenie's acknowledge is scheduled, so
  // that call carries them. Opsgenie answers 503 to it: before carry-owed.ts they waited for its retries to end
  // (up to an hour); now the failed attempt writes them and the runner sends the callback.
  test('PagerDuty acknowledges while Opsgenie’s acknowledge keeps failing: probectl is told, the mirror says acknowledged', async () => {
    let ogDown = false;
    og.faults.before = (r) => (ogDown && r.method === 'POST' && r.path.endsWith('/acknowledge') ? { status: 503, body: { message: 'maintenance' } } : undefined);
    const inc = incidentFor(tenant);
    await stack.incidents.openIncident(inc);
    const link = async (id: string) => (await stack.incidents.getIncident(inc.id)).links.find((l) => l.connectorId === id);
    await eventually(async () => (await link('pagerduty'))?.status === 'open' && (await link('opsgenie'))?.status === 'open', { what: 'both pages' });
    ogDown = true;
    await stack.incidents.acknowledge(inc.id, { tenantId: tenant, source: 'pagerduty', actor: 'erin', at: new Date().toISOString() });
    await eventually(() => og.requests.some((r) => r.path.endsWith('/acknowledge')), { what: 'the Opsgenie acknowledge failing' });

    await eventually(() => probectl.accepted().some((e) => e.type === 'incident.acknowledged' && e.incidentId === inc.id), {
      what: 'the acknowledgement callback while Opsgenie still answers 503', timeoutMs: 20_000,
    });
    const rec = await stack.mirror.read(tenant, inc.id);
    expect(rec?.status).toBe('acknowledged');
    expect((await stack.mirror.timeline(tenant, inc.id)).map((t) => t.kind)).toContain('acknowledged');
    expect((await link('opsgenie'))?.status).toBe('open'); // its acknowledge is still retrying

    ogDown = false;
    await eventually(async () => (await link('opsgenie'))?.status === 'acknowledged', { what: 'the Opsgenie acknowledge once it answers', timeoutMs: 60_000 });
    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(inc.id);
    expect(probectl.accepted().filter((e) => e.type === 'incident.acknowledged' && e.incidentId === inc.id)).toHaveLength(1);
  });
});
