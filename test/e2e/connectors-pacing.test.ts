/**
 * Rate limits on the real dev server: a 429 with Retry-After is honoured (the double measures the gap), and
 * a burst of 300 incidents on one PagerDuty routing key ends with one alert per incident, spread out by the
 * connector's pace (rate_per_min=600 here, a documented per-connector option, so the test takes ~30 s).
 */
import { STORE_TIMEOUT_MS, TokenBucket } from '../../src/activities/pacing';
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
    const capacity = new TokenBucket(RATE, 0).capacity;
    const maxIn = (ms: number) => Math.max(...at.map((t) => at.filter((x) => x >= t && x < t + ms).length));
    // The shared bucket allows `capacity` + rate×window by the database's clock. Arrivals at the double follow each
    // grant after its store round trip (at most STORE_TIMEOUT_MS) and the request, so they may bunch by up to a
    // store timeout's worth of tokens at a window's edge, plus a few of network jitter.
    const jitter = 2 + Math.ceil((STORE_TIMEOUT_MS * RATE) / 60_000);
    expect(maxIn(1_000)).toBeLessThanOrEqual(capacity + RATE / 60 + jitter);
    expect(maxIn(10_000)).toBeLessThanOrEqual(capacity + (RATE / 60) * 10 + jitter);
    expect(at[at.length - 1]! - at[0]!).toBeGreaterThanOrEqual(((BURST - capacity) / (RATE / 60) - 1) * 1000);
    const fallback = (await stack.metrics.pacingFallbackTakes.get()).values.reduce((n, v) => n + v.value, 0);
    console.log(`burst: ${at.length} trigger events for ${BURST} incidents in ${Math.round((Date.now() - started) / 1000)} s; max ${maxIn(1_000)}/s, ${maxIn(10_000)}/10 s; ${fallback} tokens from the per-process fallback`);

    await Promise.all(incidents.map((inc) => stack.client.workflow.getHandle(`probectl-${inc.id}`).terminate('test done').catch(() => undefined)));
  });
});
