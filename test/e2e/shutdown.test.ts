import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { freePort } from '../setup/temporal-server';
import { eventually, sleep, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import { spawnWorker } from '../helpers/worker-process';

const TOKEN = 'tok-sigterm-0123456789abcdef';

describe.each([['auto', 'eager'], ['off', 'task_queue']] as const)('graceful shutdown on SIGTERM of `main.js all` (PROBECTL_NOTIFY_EAGER_START=%s)', (eagerStart, path) => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const tenant = uniqueId('term');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    stack = await startStack({
      worker: false,
      env: {
        PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|RKEY-sigterm-00000000000000`,
        PROBECTL_NOTIFY_API_TOKENS: `${tenant}:${TOKEN}`,
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
  });

  test('/readyz goes unready first while the worker keeps taking tasks, then in-flight activities finish, nothing is lost', async () => {
    const port = await freePort();
    const proc = spawnWorker({ ...stack.env, PROBECTL_NOTIFY_API_PORT: String(port), PROBECTL_NOTIFY_SHUTDOWN_DELAY: '6s', PROBECTL_NOTIFY_EAGER_START: eagerStart }, 'all');
    try {
      await proc.ready;
      const base = `http://127.0.0.1:${port}`;
      await eventually(async () => (await fetch(`${base}/readyz`)).status === 200, { what: 'ready', timeoutMs: 30_000 });

      const inc = incidentFor(tenant);
      const isTriggerOf = (req: { json?: unknown }, id: string) => {
        const j = req.json as { event_action?: string; dedup_key?: string };
        return j.event_action === 'trigger' && j.dedup_key === `probectl-${id}`;
      };
      pd.faults.hold = (req) => isTriggerOf(req, inc.id);
      await stack.incidents.openIncident(inc);
      await pd.waitHeld(1); // a page is in flight inside the worker

      const exited = new Promise<number | null>((r) => proc.child.once('exit', (code) => r(code)));
      proc.child.kill('SIGTERM');
      await eventually(async () => (await fetch(`${base}/readyz`)).status === 503, { what: 'unready', timeoutMs: 1500, intervalMs: 50 });
      expect((await fetch(`${base}/healthz`)).status).toBe(200); // still serving during the drain
      // While the API drains, the process's worker still takes tasks: an incident opened through it now is paged by
      // it before the process exits (no other worker polls this task queue).
      const late = incidentFor(tenant);
      const opened = await fetch(`${base}/v1/incidents`, {
        method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id: late.id, title: late.title, severity: late.severity }),
      });
      expect(opened.status).toBe(201);
      await eventually(() => pd.events('trigger').some((r) => isTriggerOf(r, late.id)), { what: 'the page of an incident opened during the drain', timeoutMs: 5_000, intervalMs: 50 });
      expect(proc.child.exitCode).toBeNull();
      // main.ts gave the API its worker's connection (or not, with the setting off): the one start it made went that way.
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain(`probectl_notify_incident_starts_total{path="${path}"} 1`);
      expect(metrics).not.toContain(`probectl_notify_incident_starts_total{path="${path === 'eager' ? 'task_queue' : 'eager'}"}`);
      await sleep(300);
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
