/**
 * Task-queue priority by severity (src/client/priority.ts; docs/operations.md, "Storms") on the dev server the
 * tests start (with `matching.useNewMatcher=true` and one task-queue partition, as deploy/temporal/dynamicconfig.yaml
 * sets them): a backlog of
 * warning incidents opened while no worker runs, then one critical incident; when a worker comes, the critical's
 * first workflow task is dispatched among the first, not after the backlog. First come, first served (a server
 * without the priority matcher, or a client that starts without a priority) puts it last: this test fails.
 */
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { eventually, sleep, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';

const WARNINGS = 40;

describe('task-queue priority', () => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const tenant = uniqueId('prio');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    stack = await startStack({
      worker: false,
      env: { PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue?rate_per_min=6000|R0UT1NGKEYpriority000000000000001` },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
  });

  test(`a critical incident opened after a backlog of ${WARNINGS} warnings gets its first workflow task among the first`, async () => {
    const warnings = Array.from({ length: WARNINGS }, () => incidentFor(tenant, { severity: 'warning' }));
    for (const inc of warnings) await stack.incidents.openIncident(inc);
    const critical = incidentFor(tenant, { severity: 'critical' });
    await stack.incidents.openIncident(critical);
    await sleep(500); // the backlog is in the task queue, the critical last
    await stack.startWorker();

    const all = [...warnings, critical];
    await eventually(() => all.every((inc) => pd.alerts.some((a) => a.dedupKey === `probectl-${inc.id}`)), { timeoutMs: 120_000, intervalMs: 250, what: 'every alert' });
    const firstTask = async (id: string) => {
      const events = (await stack.client.workflow.getHandle(`probectl-${id}`).fetchHistory()).events ?? [];
      const e = events.find((x) => x.workflowTaskStartedEventAttributes);
      return Number(e!.eventTime!.seconds) * 1000 + Math.floor((e!.eventTime!.nanos ?? 0) / 1e6);
    };
    const criticalAt = await firstTask(critical.id);
    const warningsAt = await Promise.all(warnings.map((inc) => firstTask(inc.id)));
    const before = warningsAt.filter((t) => t < criticalAt).length;
    console.log(`[priority] the critical's first workflow task started after ${before} of ${WARNINGS} warnings' (first come, first served: all ${WARNINGS})`);
    // Pollers already waiting may take a task or two at once: not exactly first. (With the server's default four
    // partitions, priority holds only per partition: 2 to 7 here on a loaded machine, and 15 once in a CI run.)
    expect(before).toBeLessThanOrEqual(10);

    await Promise.all(all.map((inc) => stack.client.workflow.getHandle(`probectl-${inc.id}`).terminate('test done').catch(() => undefined)));
  });
});
