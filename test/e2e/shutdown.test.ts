import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { freePort } from '../setup/temporal-server';
import { eventually, sleep, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import { spawnWorker } from '../helpers/worker-process';

describe('graceful shutdown on SIGTERM', () => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const tenant = uniqueId('term');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    stack = await startStack({
      worker: false,
      env: { PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|RKEY-sigterm-00000000000000` },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
  });

  test('/readyz goes unready first, in-flight activities finish, nothing is lost', async () => {
    const port = await freePort();
    const proc = spawnWorker({ ...stack.env, PROBECTL_NOTIFY_API_PORT: String(port), PROBECTL_NOTIFY_SHUTDOWN_DELAY: '2s' }, 'all');
    try {
      await proc.ready;
      const base = `http://127.0.0.1:${port}`;
      await eventually(async () => (await fetch(`${base}/readyz`)).status === 200, { what: 'ready', timeoutMs: 30_000 });

      const inc = incidentFor(tenant);
      pd.faults.hold = (req) => (req.json as { event_action?: string }).event_action === 'trigger';
      await stack.incidents.openIncident(inc);
      await pd.waitHeld(1); // a page is in flight inside the worker

      const exited = new Promise<number | null>((r) => proc.child.once('exit', (code) => r(code)));
      proc.child.kill('SIGTERM');
      await eventually(async () => (await fetch(`${base}/readyz`)).status === 503, { what: 'unready', timeoutMs: 1500, intervalMs: 50 });
      expect((await fetch(`${base}/healthz`)).status).toBe(200); // still serving during the drain
      await sleep(500);
      pd.releaseHeld(); // the in-flight call completes during the worker's drain
      expect(await exited).toBe(0);
      expect(proc.output()).toContain('stopped');

      // Another worker picks the incident up: the completed trigger was recorded, nothing re-paged.
      await stack.startWorker();
      const state = await eventually(async () => {
        const s = await stack.incidents.getIncident(inc.id);
        return s.links[0]?.status === 'open' ? s : undefined;
      }, { timeoutMs: 30_000 });
      expect(state.links[0]!.externalRef).toBe(`probectl-${inc.id}`);
      expect(pd.events('trigger').filter((r) => (r.json as { dedup_key: string }).dedup_key === `probectl-${inc.id}`)).toHaveLength(1);
      pd.faults = {};
      await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
      await stack.incidents.result(inc.id);
      expect(pd.openAlerts().filter((a) => a.dedupKey === `probectl-${inc.id}`)).toHaveLength(0);
    } finally {
      await proc.kill('SIGKILL');
    }
  });
});
