/**
 * Rate limits on the real dev server: a 429 with Retry-After is honoured (the double measures the gap), and
 * a burst of 300 incidents on one PagerDuty routing key ends with one alert per incident, paced by the
 * connector's bucket (rate_per_min=600 here, a documented per-connector option, so the test takes ~30 s).
 *
 * The pacing bound is checked where it is decided, on the worker's grants of the key, for every window between any
 * two grants (test/helpers/pacing-grants.ts) — not on arrivals at the double, whose spacing also carries each call's
 * own delay after its grant, which no pacer bounds; every arrival must follow a grant of its own.
 */
import { STORE_TIMEOUT_MS, paceKey } from '../../src/activities/pacing';
import { paceKeyMaterial } from '../../src/activities/pace-key';
import { arrivalBeforeItsGrant, maxInWindow, pacingBreaches, type PaceGrant } from '../helpers/pacing-grants';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';

const BURST = 300;
const RATE = 600;

describe('pacing and rate limits', () => {
  let limited: PagerDutyDouble;
  let burst: PagerDutyDouble;
  let stack: TestStack;
  const tenant429 = uniqueId('rl');
  const tenantBurst = uniqueId('burst');
  const grants: Array<PaceGrant & { key: string }> = [];

  beforeAll(async () => {
    limited = await new PagerDutyDouble().start();
    burst = await new PagerDutyDouble().start();
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: [
          `${tenant429}|pagerduty|${limited.url}/v2/enqueue|R0UT1NGKEYratelimit00000000000001`,
          `${tenantBurst}|pagerduty|${burst.url}/v2/enqueue?rate_per_min=${RATE}|R0UT1NGKEYburst000000000000000001`,
        ].join(','),
      },
      onPaceGrant: (g) => void grants.push({ ...g, worker: 0 }),
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await limited?.stop();
    await burst?.stop();
  });

  test('a 429 with Retry-After: 3 is retried no sooner than 3 s later', async () => {
    const inc = incidentFor(tenant429);
    let refused = 0;
    limited.faults.before = (r) => ((r.json as { event_action?: string }).event_action === 'trigger' && refused++ === 0
      ? { status: 429, headers: { 'retry-after': '3' }, body: { status: 'throttled', message: 'Too many requests' } }
      : undefined);
    await stack.incidents.openIncident(inc);
    await eventually(() => limited.alerts.find((a) => a.dedupKey === `probectl-${inc.id}`), { what: 'the alert after the 429' });
    const triggers = limited.events('trigger');
    expect(triggers).toHaveLength(2);
    const gap = triggers[1]!.at - triggers[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(3_000);
    expect(gap).toBeLessThan(15_000);
    await stack.client.workflow.getHandle(`probectl-${inc.id}`).terminate('test done');
  });

  test(`a burst of ${BURST} incidents on one routing key: one alert each, none lost, paced at ${RATE}/min`, async () => {
    const incidents = Array.from({ length: BURST }, () => incidentFor(tenantBurst));
    const started = Date.now();
    for (let i = 0; i < incidents.length; i += 25) await Promise.all(incidents.slice(i, i + 25).map((inc) => stack.incidents.openIncident(inc)));
    await eventually(() => new Set(burst.alerts.map((a) => a.dedupKey)).size >= BURST, { timeoutMs: 170_000, intervalMs: 500, what: `${BURST} alerts` });

    for (const inc of incidents) expect(burst.alerts.filter((a) => a.dedupKey === `probectl-${inc.id}`)).toHaveLength(1);
    expect(burst.alerts).toHaveLength(BURST);

    const at = burst.events('trigger').map((r) => r.at).sort((a, b) => a - b);
    const connector = stack.config.connectors.all.find((c) => c.tenantId === tenantBurst)!;
    const key = paceKey(connector, paceKeyMaterial(stack.config.paceKeySecret!.reveal()));
    const ours = grants.filter((g) => g.key === key).sort((a, b) => a.at - b.at);
    expect(ours.length).toBeGreaterThanOrEqual(BURST);
    expect(pacingBreaches(ours, RATE, stack.config.paceWorkers)).toEqual([]);
    expect(arrivalBeforeItsGrant(at, ours.map((g) => g.at))).toBeUndefined();
    const fallback = (await stack.metrics.pacingFallbackTakes.get()).values.reduce((n, v) => n + v.value, 0);
    const late = at.map((t, k) => t - ours[k]!.at);
    console.log(`burst: ${at.length} trigger events for ${BURST} incidents in ${Math.round((Date.now() - started) / 1000)} s; ${ours.length} grants (${ours.filter((g) => g.source === 'local').length} local, ${fallback} tokens from the per-process fallback); at the double max ${maxInWindow(at, 1_000)}/s, ${maxInWindow(at, 10_000)}/10 s (grants: ${maxInWindow(ours.map((g) => g.at), 1_000)}/s, ${maxInWindow(ours.map((g) => g.at), 10_000)}/10 s); k-th arrival after k-th grant by ${Math.min(...late)}..${Math.max(...late)} ms (store timeout ${STORE_TIMEOUT_MS} ms)`);

    await Promise.all(incidents.map((inc) => stack.client.workflow.getHandle(`probectl-${inc.id}`).terminate('test done').catch(() => undefined)));
  });
});
