/**
 * Rate limits on the real dev server: a 429 with Retry-After is honoured (the double measures the gap), and
 * a burst of 300 incidents on one PagerDuty routing key ends with one alert per incident, paced by the
 * connector's bucket (rate_per_min=600 here, a documented per-connector option, so the test takes ~30 s).
 *
 * The pacing bound is checked where it is decided, on the worker's grants of the key (by the deciding clock), for
 * every window between any two grants — not on arrivals at the double, whose spacing also carries each call's
 * own delay after its grant (the store's answer, the request), which no pacer bounds. What ties the two together,
 * with no timing margin: every call the double received was sent after a grant of its own (sorted, the k-th
 * arrival is no earlier than the k-th grant).
 */
import { STORE_TIMEOUT_MS, TokenBucket, paceKey } from '../../src/activities/pacing';
import { paceKeyMaterial } from '../../src/activities/pace-key';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';

interface Grant {
  key: string;
  source: 'shared' | 'local';
  at: number;
}

/**
 * The first pair of grants (by time) that breaks the token bucket's bound — more grants between them, both
 * counted, than `capacity` + `perMinute` × their distance, plus one for each return from the per-process fallback
 * in between (the drained bucket's one token) — or undefined when every pair keeps it.
 */
function bucketBreach(grants: readonly Grant[], perMinute: number, capacity: number): string | undefined {
  const g = [...grants].sort((a, b) => a.at - b.at);
  const returns: number[] = [0];
  for (let k = 1; k < g.length; k += 1) returns.push(returns[k - 1]! + (g[k]!.source === 'shared' && g[k - 1]!.source === 'local' ? 1 : 0));
  for (let i = 0; i < g.length; i += 1) {
    for (let j = i; j < g.length; j += 1) {
      const allowed = capacity + (returns[j]! - returns[i]!) + ((g[j]!.at - g[i]!.at) * perMinute) / 60_000;
      if (j - i + 1 > allowed + 1e-6) return `${j - i + 1} grants in ${(g[j]!.at - g[i]!.at).toFixed(1)} ms (grants #${i}..#${j}), allowed ${allowed.toFixed(2)}`;
    }
  }
  return undefined;
}

/** The most of `times` in any window of `ms` (reported, not asserted). */
const maxIn = (times: readonly number[], ms: number) => Math.max(...times.map((t) => times.filter((x) => x >= t && x < t + ms).length));

const BURST = 300;
const RATE = 600;

describe('pacing and rate limits', () => {
  let limited: PagerDutyDouble;
  let burst: PagerDutyDouble;
  let stack: TestStack;
  const tenant429 = uniqueId('rl');
  const tenantBurst = uniqueId('burst');
  const grants: Grant[] = [];

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
      onPaceGrant: (g) => void grants.push(g),
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

  test('the bound check itself: a bucket\'s grants pass; one grant too many, anywhere, is caught', () => {
    const shared = (at: number): Grant => ({ key: 'k', source: 'shared', at });
    const paced = [...Array.from({ length: 10 }, () => shared(0)), ...Array.from({ length: 50 }, (_, i) => shared(100 * (i + 1)))];
    expect(bucketBreach(paced, RATE, 10)).toBeUndefined();
    for (const extra of [0, 50, 2_550, 5_000]) expect(bucketBreach([...paced, shared(extra)], RATE, 10)).toMatch(/grants in/);
    // A return from the per-process fallback may add the drained bucket's one token, once per return.
    const local = (at: number): Grant => ({ key: 'k', source: 'local', at });
    const back = [...paced.slice(0, 20), local(1_100), local(1_200), local(1_300), shared(1_350), ...[1_450, 1_550, 1_650].map(shared)];
    expect(bucketBreach(back, RATE, 10)).toBeUndefined();
    expect(bucketBreach([...back, shared(1_360)], RATE, 10)).toMatch(/grants in/);
    expect(bucketBreach(back.map((g) => ({ ...g, source: 'shared' as const })), RATE, 10)).toMatch(/grants in/);
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
    const capacity = new TokenBucket(RATE, 0).capacity;
    // The bucket's bound over every pair of grants (every window, not only 1 s and 10 s ones).
    expect(ours.length).toBeGreaterThanOrEqual(BURST);
    expect(bucketBreach(ours, RATE, capacity)).toBeUndefined();
    // Each call the double received had a grant of its own before it was sent (arrival times are whole ms).
    at.forEach((t, k) => expect(t).toBeGreaterThanOrEqual(Math.floor(ours[k]!.at)));
    const fallback = (await stack.metrics.pacingFallbackTakes.get()).values.reduce((n, v) => n + v.value, 0);
    const late = at.map((t, k) => t - ours[k]!.at);
    console.log(`burst: ${at.length} trigger events for ${BURST} incidents in ${Math.round((Date.now() - started) / 1000)} s; ${ours.length} grants (${ours.filter((g) => g.source === 'local').length} local, ${fallback} tokens from the per-process fallback); at the double max ${maxIn(at, 1_000)}/s, ${maxIn(at, 10_000)}/10 s (grants: ${maxIn(ours.map((g) => g.at), 1_000)}/s, ${maxIn(ours.map((g) => g.at), 10_000)}/10 s); k-th arrival after k-th grant by ${Math.min(...late)}..${Math.max(...late)} ms (store timeout ${STORE_TIMEOUT_MS} ms)`);

    await Promise.all(incidents.map((inc) => stack.client.workflow.getHandle(`probectl-${inc.id}`).terminate('test done').catch(() => undefined)));
  });
});
