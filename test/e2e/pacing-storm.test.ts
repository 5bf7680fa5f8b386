/**
 * Storm behaviour on the real dev server (docs/providers.md, "Rate pacing"; docs/operations.md, "Storms"): a storm
 * of warning incidents on one PagerDuty routing key paced low, then critical incidents arriving last. The critical
 * triggers reach the double before the warnings still waiting, every incident is paged exactly once, none lost,
 * and the key's pace holds throughout. The figures (the criticals' first-page latency) go to docs/benchmarks.md.
 * Two sizes (FAULTS_MODE): `reduced` (in `npm test`) 100 warnings; `full` (`npm run faults`) issue 17's storm of 300
 * incidents, 290 warnings then 10 criticals.
 */
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';

const WARNINGS = process.env.FAULTS_MODE === 'full' ? 290 : 100;
const CRITICALS = 10;
const RATE = 120; // 2 triggers/s: the warnings alone take ~50 s (reduced) or ~145 s (full)
const DRAIN_MS = ((WARNINGS + CRITICALS) / RATE) * 60_000 + 60_000;
const CAPACITY = Math.max(1, Math.floor(RATE / 60)); // one second's worth (src/activities/pacing.ts)

describe('a storm on one key', () => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const tenant = uniqueId('storm');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    stack = await startStack({
      env: { PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue?rate_per_min=${RATE}|R0UT1NGKEYstorm00000000000000001` },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
  });

  test(`${WARNINGS} warnings, then ${CRITICALS} criticals: the critical pages go first, every incident paged once`, async () => {
    const warnings = Array.from({ length: WARNINGS }, () => incidentFor(tenant, { severity: 'warning' }));
    const criticals = Array.from({ length: CRITICALS }, () => incidentFor(tenant, { severity: 'critical' }));
    const keyOf = (inc: { id: string }) => `probectl-${inc.id}`;
    const warningKeys = new Set(warnings.map(keyOf));
    const criticalKeys = new Set(criticals.map(keyOf));
    const triggers = () => pd.events('trigger').map((r) => ({ at: r.at, key: (r.json as { dedup_key: string }).dedup_key }));

    for (let i = 0; i < warnings.length; i += 25) await Promise.all(warnings.slice(i, i + 25).map((inc) => stack.incidents.openIncident(inc)));
    // The storm is under way: the key is saturated and most warnings wait (in the pacer or deferred to Temporal).
    await eventually(() => triggers().filter((t) => warningKeys.has(t.key)).length >= 10, { timeoutMs: 60_000, what: 'the storm under way' });
    const criticalsAt = Date.now();
    await Promise.all(criticals.map((inc) => stack.incidents.openIncident(inc)));
    await eventually(() => new Set(triggers().filter((t) => criticalKeys.has(t.key)).map((t) => t.key)).size >= CRITICALS, { timeoutMs: 120_000, intervalMs: 250, what: 'the critical pages' });
    const criticalTriggers = triggers().filter((t) => criticalKeys.has(t.key));
    const lastCritical = Math.max(...criticalTriggers.map((t) => t.at));
    const warningsPendingWhenCriticalsCame = WARNINGS - triggers().filter((t) => warningKeys.has(t.key) && t.at < criticalsAt).length;
    const warningsOvertaking = triggers().filter((t) => warningKeys.has(t.key) && t.at >= criticalsAt && t.at <= lastCritical).length;

    // Then the rest of the storm drains: every incident paged exactly once.
    await eventually(() => new Set(pd.alerts.map((a) => a.dedupKey)).size >= WARNINGS + CRITICALS, { timeoutMs: DRAIN_MS, intervalMs: 500, what: 'every alert' });
    for (const inc of [...warnings, ...criticals]) expect(pd.alerts.filter((a) => a.dedupKey === keyOf(inc))).toHaveLength(1);

    // Where a critical page's time went, from its history: start → first workflow task → the open scheduled → the
    // attempt that paged started (attempts > 1 were deferred by the pacer).
    const phases = await Promise.all(criticals.map(async (inc) => {
      const events = (await stack.client.workflow.getHandle(`probectl-${inc.id}`).fetchHistory()).events ?? [];
      const ms = (e: (typeof events)[number] | undefined) => (e?.eventTime ? Number(e.eventTime.seconds) * 1000 + Math.floor((e.eventTime.nanos ?? 0) / 1e6) : NaN);
      const started = events.find((e) => e.activityTaskStartedEventAttributes);
      return {
        firstTask: ms(events.find((e) => e.workflowTaskStartedEventAttributes)) - criticalsAt,
        scheduled: ms(events.find((e) => e.activityTaskScheduledEventAttributes)) - criticalsAt,
        attemptStarted: ms(started) - criticalsAt,
        attempt: started?.activityTaskStartedEventAttributes?.attempt ?? 0,
      };
    }));
    // The runs carry their severity's task-queue priority (src/client/priority.ts): critical 1, warning 3.
    const priorityOf = async (id: string) => (await stack.client.workflow.getHandle(`probectl-${id}`).describe()).raw.workflowExecutionInfo?.priority?.priorityKey;
    expect(await priorityOf(criticals[0]!.id)).toBe(1);
    expect(await priorityOf(warnings[0]!.id)).toBe(3);
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(
      `[storm] criticals, median ms from their start: first workflow task ${med(phases.map((p) => p.firstTask))}, open scheduled ` +
        `${med(phases.map((p) => p.scheduled))}, paging attempt started ${med(phases.map((p) => p.attemptStarted))}; attempts ${phases.map((p) => p.attempt).join(',')}`,
    );

    const latencies = criticals.map((inc) => Math.min(...criticalTriggers.filter((t) => t.key === keyOf(inc)).map((t) => t.at)) - criticalsAt).sort((a, b) => a - b);
    const fifo = (warningsPendingWhenCriticalsCame / (RATE / 60)) * 1000;
    console.log(
      `[storm] rate ${RATE}/min, ${WARNINGS} warnings then ${CRITICALS} criticals (${warningsPendingWhenCriticalsCame} warnings pending): ` +
        `critical first-page latency min ${latencies[0]} ms, median ${latencies[Math.floor(latencies.length / 2)]} ms, max ${latencies.at(-1)} ms; ` +
        `warnings sent before the last critical ${warningsOvertaking}; first come first served would start the criticals after ~${Math.round(fifo / 1000)} s`,
    );

    // First come first served would have sent every pending warning first. With priority, only what was already on
    // its way when the critical incidents reached the worker (their workflows' first tasks, the activity schedule:
    // a few seconds of the key's budget at most) goes before the last critical page.
    expect(warningsPendingWhenCriticalsCame).toBeGreaterThan(CRITICALS * 3);
    expect(warningsOvertaking).toBeLessThanOrEqual(3 * (RATE / 60));

    // The pace holds over the whole storm.
    const at = triggers().map((t) => t.at).sort((a, b) => a - b);
    const maxIn = (ms: number) => Math.max(...at.map((t) => at.filter((x) => x >= t && x < t + ms).length));
    expect(maxIn(10_000)).toBeLessThanOrEqual(CAPACITY + (RATE / 60) * 10 + 2);

    await Promise.all([...warnings, ...criticals].map((inc) => stack.client.workflow.getHandle(`probectl-${inc.id}`).terminate('test done').catch(() => undefined)));
  }, DRAIN_MS + 120_000);
});
