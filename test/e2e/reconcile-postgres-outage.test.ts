/**
 * Per-connector reconciliation with Postgres unreachable: the reconciler skips its passes (no listing is sent
 * without a lease), pages still go out meanwhile, and a ticket resolved in ServiceNow during the outage resolves
 * its incident once Postgres is back (the cursor had not moved past it).
 */
import type { PassReport } from '../../src/reconcile/connector-reconciler';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { ServiceNowDouble } from '../../dev/doubles/servicenow';
import { startWorker, type WorkerHandle } from '../../src/worker';
import { eventually, sharedStack, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, workflowBundle, type TestStack } from '../helpers/stack';
import { CuttableProxy } from '../helpers/tcp-proxy';

describe('per-connector reconciliation, Postgres unreachable', () => {
  let pd: PagerDutyDouble;
  let sn: ServiceNowDouble;
  let proxy: CuttableProxy;
  let stack: TestStack;
  let worker: WorkerHandle;
  const reports: PassReport[] = [];
  const tenant = uniqueId('rcPg');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    sn = await new ServiceNowDouble({ user: 'svc', password: 'pw' }).start();
    const db = new URL(sharedStack().databaseUrl);
    proxy = await CuttableProxy.forAddress(`${db.hostname}:${db.port || 5432}`).start();
    db.host = proxy.address;
    stack = await startStack({
      worker: false,
      env: {
        DATABASE_URL: db.toString(),
        PROBECTL_NOTIFY_CONNECTORS: [
          `${tenant}|pagerduty|${pd.url}/v2/enqueue?rate_per_min=6000|RKEY-rc-pg-outage-00000000000`,
          `${tenant}|servicenow|${sn.url}?rate_per_min=6000|svc:pw`,
        ].join(','),
        PROBECTL_NOTIFY_RECONCILE_INTERVAL: '1s',
        PROBECTL_NOTIFY_RECONCILE_MODE: 'per-connector',
      },
    });
    worker = await startWorker({
      config: stack.config, pool: stack.pool, log: stack.log, metrics: stack.metrics, env: stack.env, workflowBundle: await workflowBundle(),
      onReconcilePass: (r) => reports.push(r), reconcileOverlapMs: 2_000,
    });
  }, 60_000);
  afterAll(async () => {
    proxy?.restore();
    await worker?.shutdown();
    await stack?.stop();
    await proxy?.stop();
    await Promise.all([pd?.stop(), sn?.stop()]);
  });

  test('passes are skipped without a read; pages go out; the resolve made meanwhile is found once it is back', async () => {
    const a = incidentFor(tenant, { severity: 'warning' });
    await stack.incidents.openIncident(a);
    await eventually(async () => (await stack.incidents.getIncident(a.id)).links.filter((l) => l.status === 'open').length === 2, { timeoutMs: 30_000 });
    await eventually(() => reports.some((r) => r.outcome === 'done'), { timeoutMs: 20_000 });

    proxy.cut();
    const cutAt = reports.length;
    await eventually(() => reports.slice(cutAt).filter((r) => r.outcome === 'store-unavailable').length >= 2, { timeoutMs: 60_000, intervalMs: 200 });
    const listingsWhileDown = sn.changeListings().length;
    const skippedBefore = reports.slice(cutAt).filter((r) => r.outcome === 'store-unavailable').length;
    // a page during the outage goes out
    const b = incidentFor(tenant, { severity: 'critical' });
    await stack.incidents.openIncident(b);
    await eventually(() => pd.alerts.find((x) => x.dedupKey === `probectl-${b.id}`), { what: 'the page during the outage', timeoutMs: 20_000 });
    // the ticket of A is resolved in ServiceNow meanwhile; no webhook
    sn.setState(sn.byCorrelation(`probectl-${a.id}`)[0]!.sys_id, '6');
    await eventually(() => reports.slice(cutAt).filter((r) => r.outcome === 'store-unavailable').length >= skippedBefore + 2, { timeoutMs: 60_000, intervalMs: 200 });
    expect(sn.changeListings().length).toBe(listingsWhileDown); // no listing without a lease
    expect((await stack.incidents.getIncident(a.id)).status).toBe('open');

    proxy.restore();
    const result = await stack.incidents.result(a.id);
    expect(result.source).toBe('servicenow');
    expect(pd.alerts.find((x) => x.dedupKey === `probectl-${a.id}`)?.status).toBe('resolved');
  }, 180_000);
});
