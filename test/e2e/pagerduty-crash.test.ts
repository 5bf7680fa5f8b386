/**
 * The crash window of a page: the worker dies while PagerDuty holds its answer to the trigger. For both kinds of first
 * attempt: an ordinary activity (its heartbeat times out, it is retried on the new worker) and a local first attempt
 * (PROBECTL_NOTIFY_LOCAL_FIRST_OPENS, the default; the workflow task times out and the new worker makes it again).
 */
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { localOpensOf } from '../helpers/local-opens';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

const ROUTING_KEY = 'R0UT1NGKEYcrash000000000000000002';

describe.each([
  ['an ordinary first attempt', { PROBECTL_NOTIFY_LOCAL_FIRST_OPENS: 'off' }, false],
  ['a local first attempt', {}, true],
] as const)('a worker killed with SIGKILL while PagerDuty holds its answer to %s', (_mode, modeEnv, local) => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const workers: WorkerProcess[] = [];
  const tenant = uniqueId('crash');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    stack = await startStack({
      worker: false,
      env: { PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${ROUTING_KEY}`, ...modeEnv },
    });
  });
  afterAll(async () => {
    for (const w of workers) await w.kill();
    await stack?.stop();
    await pd?.stop();
  });

  test('still one alert, and the page is not lost', async () => {
    const first = spawnWorker(stack.env);
    workers.push(first);
    await first.ready;
    // The API passes the checked snapshot (the only way to a local first attempt) once it sees the worker polling.
    if (local) await eventually(() => stack.beginGate!.refresh(), { what: 'the begin gate open' });
    const inc = incidentFor(tenant);
    let held = 0;
    pd.faults.hold = (req) => (req.json as { event_action?: string }).event_action === 'trigger' && held++ === 0;
    await stack.incidents.openIncident(inc);
    await pd.waitHeld(1);
    expect(pd.alerts.filter((a) => a.dedupKey === `probectl-${inc.id}`)).toHaveLength(1);

    await first.kill('SIGKILL');
    const second = spawnWorker(stack.env);
    workers.push(second);
    await second.ready;

    // The open activity's heartbeat times out (or, for a local first attempt, the workflow task does), it is made
    // again on the new worker, and the re-sent trigger is coalesced by dedup_key into the alert that already exists.
    const link = await eventually(async () => {
      const s = await stack.incidents.getIncident(inc.id);
      return s.links.find((l) => l.connectorId === 'pagerduty' && l.status === 'open');
    }, { timeoutMs: 60_000, what: 'the link after the retry' });
    expect(link.externalRef).toBe(`probectl-${inc.id}`);
    pd.releaseHeld();

    const alerts = pd.alerts.filter((a) => a.dedupKey === `probectl-${inc.id}`);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.triggers).toBeGreaterThanOrEqual(2); // the trigger really was sent again
    expect(alerts[0]!.status).toBe('triggered');

    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(inc.id);
    expect(pd.openAlerts().filter((a) => a.dedupKey === `probectl-${inc.id}`)).toHaveLength(0);
    // The path the test meant to take.
    expect(await localOpensOf(stack.client, inc.id)).toEqual(local ? { local: 1, ordinary: 0 } : { local: 0, ordinary: 1 });
  });
});
