import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { eventually, sleep, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import { sharedStack } from '../helpers/shared';
import { CuttableProxy } from '../helpers/tcp-proxy';

describe('Postgres unreachable', () => {
  let pd: PagerDutyDouble;
  let proxy: CuttableProxy;
  let stack: TestStack;
  const tenant = uniqueId('pgout');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    const db = new URL(sharedStack().databaseUrl);
    proxy = await CuttableProxy.forAddress(`${db.hostname}:${db.port || 5432}`).start();
    db.host = proxy.address;
    stack = await startStack({
      env: {
        DATABASE_URL: db.toString(),
        PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|RKEY-pg-outage-000000000000`,
      },
    });
  });
  afterAll(async () => {
    proxy.restore();
    await stack?.stop();
    await proxy?.stop();
    await pd?.stop();
  });

  test('pages still go out, resolves still fan out, and the mirror catches up when it returns', async () => {
    proxy.cut();
    const inc = incidentFor(tenant);
    const t0 = Date.now();
    await stack.incidents.openIncident(inc);
    await eventually(() => pd.alerts.find((a) => a.dedupKey === `probectl-${inc.id}`), { what: 'the page during the outage', timeoutMs: 20_000 });
    const pageLatency = Date.now() - t0;
    const state = await eventually(async () => {
      const s = await stack.incidents.getIncident(inc.id);
      return s.links[0]?.status === 'open' ? s : undefined;
    });
    expect(state.timeline.map((t) => t.kind)).toContain('mirror.unavailable');

    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    await eventually(() => pd.alerts.find((a) => a.dedupKey === `probectl-${inc.id}` && a.status === 'resolved'), { what: 'the resolve during the outage' });
    // The workflow waits for the mirror before it completes.
    await sleep(2000);
    const desc = await stack.client.workflow.getHandle(`probectl-${inc.id}`).describe();
    expect(desc.status.name).toBe('RUNNING');

    proxy.restore();
    await stack.incidents.result(inc.id);
    const rec = await stack.mirror.read(tenant, inc.id);
    expect(rec?.status).toBe('resolved');
    expect(rec?.links).toEqual([expect.objectContaining({ connectorId: 'pagerduty', status: 'resolved' })]);
    const timeline = await stack.mirror.timeline(tenant, inc.id);
    expect(timeline.map((t) => t.kind)).toEqual(expect.arrayContaining(['opened', 'mirror.unavailable', 'connector.opened', 'resolved', 'connector.resolved']));
    expect(pd.alerts.filter((a) => a.dedupKey === `probectl-${inc.id}`)).toHaveLength(1);
    process.stdout.write(`page latency with Postgres cut: ${pageLatency} ms\n`);
  });
});
