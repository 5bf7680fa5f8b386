/**
 * When the mirror is written (lean-history-v1, docs/workflow-contract.md "History budget"): while one
 * connector's open keeps retrying, the other links, a correlated signal and the resolution still reach
 * Postgres promptly; nothing waits for the slow connector.
 */
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
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
