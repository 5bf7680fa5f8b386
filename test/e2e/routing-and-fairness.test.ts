/**
 * Routing filters and fairness between tenants (production hardening).
 */
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { SlackDouble } from '../../dev/doubles/slack';
import { eventually, sleep, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';

/** The documented bound (docs/providers.md, Pacing and fairness) on tenant B's page latency during A's storm. */
const FAIRNESS_BOUND_MS = 60_000;

describe('min_severity routing', () => {
  let pd: PagerDutyDouble;
  let slack: SlackDouble;
  let stack: TestStack;
  const tenant = uniqueId('sev');
  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    slack = await new SlackDouble({ webhookPath: '/services/T0/B0/minsev' }).start();
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: [
          `${tenant}|pagerduty|${pd.url}/v2/enqueue?min_severity=critical|RKEY-minsev-000000000000000`,
          `${tenant}|slack|${slack.url}/services/T0/B0/minsev|`,
        ].join(','),
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
    await slack?.stop();
  });

  test('a min_severity=critical PagerDuty connector stays silent for a warning while Slack posts', async () => {
    const warning = incidentFor(tenant, { severity: 'warning' });
    await stack.incidents.openIncident(warning);
    const state = await eventually(async () => {
      const s = await stack.incidents.getIncident(warning.id);
      return s.links.find((l) => l.connectorId === 'slack')?.status === 'open' ? s : undefined;
    });
    expect(state.links.find((l) => l.connectorId === 'pagerduty')?.status).toBe('skipped');
    expect(state.timeline.some((t) => t.kind === 'connector.skipped' && t.connectorId === 'pagerduty')).toBe(true);
    await stack.incidents.resolve(warning.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(warning.id);
    expect(pd.requests).toHaveLength(0); // neither trigger nor resolve
    expect(slack.requests.filter((r) => r.body.includes(warning.id)).length).toBeGreaterThanOrEqual(2); // opened + resolved

    const critical = incidentFor(tenant, { severity: 'critical' });
    await stack.incidents.openIncident(critical);
    await eventually(() => pd.alerts.find((a) => a.dedupKey === `probectl-${critical.id}`));
    await stack.incidents.resolve(critical.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(critical.id);
  });
});

describe('fairness between tenants', () => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const tenantA = uniqueId('storm');
  const tenantB = uniqueId('calm');
  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: [
          // A's key is paced slowly, so its storm queues for minutes behind its own rate limit.
          `${tenantA}|pagerduty|${pd.url}/v2/enqueue?rate_per_min=60|RKEY-storm-A-00000000000000`,
          `${tenantB}|pagerduty|${pd.url}/v2/enqueue|RKEY-calm-B-000000000000000`,
        ].join(','),
        PROBECTL_NOTIFY_RECONCILE_INTERVAL: '0s',
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
  });

  test("a storm of 500 incidents on tenant A leaves tenant B's page latency within the documented bound", async () => {
    const storm = Array.from({ length: 500 }, () => incidentFor(tenantA));
    // open the storm with bounded concurrency
    let next = 0;
    await Promise.all(Array.from({ length: 20 }, async () => {
      while (next < storm.length) await stack.incidents.openIncident(storm[next++]!);
    }));
    await eventually(() => pd.alerts.filter((a) => a.routingKey === 'RKEY-storm-A-00000000000000').length >= 20, { timeoutMs: 60_000 });
    const backlog = 500 - pd.alerts.filter((a) => a.routingKey === 'RKEY-storm-A-00000000000000').length;
    expect(backlog).toBeGreaterThan(100); // A really is queued behind its rate limit while B pages

    const calm = incidentFor(tenantB);
    const t0 = Date.now();
    await stack.incidents.openIncident(calm);
    await eventually(() => pd.alerts.find((a) => a.dedupKey === `probectl-${calm.id}`), { timeoutMs: FAIRNESS_BOUND_MS + 30_000, intervalMs: 50 });
    const latency = Date.now() - t0;
    process.stdout.write(`tenant B page latency during tenant A's storm of 500: ${latency} ms (A backlog ${backlog})\n`);
    expect(latency).toBeLessThan(FAIRNESS_BOUND_MS);

    // Clean up: resolve everything (A's opens are cancelled or resolved; nothing is left open at the end).
    for (const inc of [...storm, calm]) {
      await stack.incidents.resolve(inc.id, { tenantId: inc.tenantId, source: 'probectl', at: new Date().toISOString() });
    }
    await sleep(100);
  }, 300_000);
});
