/**
 * /metrics reflects a scripted lifecycle: deliveries by provider, action and outcome (ok, retried,
 * permanent), the latency histogram, permanent failures by type, inbound verifications by outcome, and
 * the open-incidents gauge (Temporal visibility, this task queue). Counts are exact: the registry is this
 * test file's own (jest gives each file a fresh module registry) and only this file's worker feeds it.
 */
import type { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { openIncidentsFromVisibility } from '../../src/observability/open-incidents';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startPagerDutyStack, type TestStack } from '../helpers/stack';

const ROUTING_KEY = 'R0UT1NGKEYmetrics000000000000001';

/** The value of one series in Prometheus text format; 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{ ]+(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const have = (m[1] ?? '').split(',').filter(Boolean);
    if (want.every((w) => have.includes(w)) && have.length === want.length) return Number(m[2]);
  }
  return 0;
}

describe('/metrics after a scripted lifecycle', () => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const tenant = uniqueId('metrics');
  const token = 'tok-metrics-0123456789abcdef';

  beforeAll(async () => {
    ({ pd, stack } = await startPagerDutyStack(tenant, ROUTING_KEY, token));
    // No caching in the test: the gauge is read fresh on every scrape.
    stack.metrics.setOpenIncidentsSource(openIncidentsFromVisibility(stack.client, stack.config.temporal.taskQueue), 0);
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
  });

  const api = (method: 'GET' | 'POST', url: string, payload?: object) =>
    stack.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
  const scrape = async () => {
    const res = await stack.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    return res.body;
  };
  const deliveries = (text: string, action: string, outcome: string) =>
    sample(text, 'probectl_notify_deliveries_total', { provider: 'pagerduty', action, outcome });

  test('ok, retried and permanent deliveries, latency, inbound refusals and the open-incidents gauge', async () => {
    // 1. A plain lifecycle: one trigger, acknowledged through the API, resolved (fan-out + the delayed second resolve).
    const a = incidentFor(tenant);
    expect((await api('POST', '/v1/incidents', { id: a.id, title: a.title, severity: 'critical' })).statusCode).toBe(201);
    await eventually(async () => (await stack.incidents.getIncident(a.id)).links[0]?.status === 'open', { what: 'A paged' });
    await eventually(async () => sample(await scrape(), 'probectl_notify_open_incidents', { status: 'open' }) === 1, { what: 'gauge open=1' });
    expect((await api('POST', `/v1/incidents/${a.id}/acknowledge`, { actor: 'alice' })).statusCode).toBe(202);
    await eventually(async () => (await stack.incidents.getIncident(a.id)).timeline.some((t) => t.kind === 'connector.acknowledged'), { what: 'A acknowledged' });
    await eventually(async () => {
      const t = await scrape();
      return sample(t, 'probectl_notify_open_incidents', { status: 'acknowledged' }) === 1 && sample(t, 'probectl_notify_open_incidents', { status: 'open' }) === 0;
    }, { what: 'gauge acknowledged=1, open=0' });
    expect((await api('POST', `/v1/incidents/${a.id}/resolve`, { actor: 'alice' })).statusCode).toBe(202);
    await stack.incidents.result(a.id);

    // 2. The trigger fails once with a 500, then goes through: one retried attempt, one ok.
    let failed = 0;
    pd.faults.before = (req) => {
      const j = req.json as { event_action?: string; dedup_key?: string };
      if (j.event_action === 'trigger' && j.dedup_key === `probectl-${b.id}` && failed++ === 0) return { status: 500, body: { status: 'error' } };
      return undefined;
    };
    const b = incidentFor(tenant);
    await stack.incidents.openIncident(b);
    await eventually(async () => (await stack.incidents.getIncident(b.id)).links[0]?.status === 'open', { timeoutMs: 30_000, what: 'B paged after a retry' });

    // 3. The provider refuses the trigger (400): permanent, with its failure type.
    pd.faults.before = (req) => {
      const j = req.json as { event_action?: string; dedup_key?: string };
      return j.event_action === 'trigger' && j.dedup_key === `probectl-${c.id}` ? { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: ['nope'] } } : undefined;
    };
    const c = incidentFor(tenant);
    await stack.incidents.openIncident(c);
    await eventually(async () => (await stack.incidents.getIncident(c.id)).links[0]?.status === 'failed', { what: 'C failed' });
    pd.faults = {};
    for (const inc of [b, c]) {
      await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
      await stack.incidents.result(inc.id);
    }

    // 4. Two inbound deliveries without credentials: refused and counted.
    for (let i = 0; i < 2; i++) {
      const r = await stack.app.inject({ method: 'POST', url: '/ingest/itsm/pagerduty/nobody', payload: { external_ref: 'x', status: 'resolved' } });
      expect(r.statusCode).toBe(401);
    }

    const text = await eventually(async () => {
      const t = await scrape();
      // The pagers' second resolves are made by the follow-up runner once due, after the workflows completed.
      return sample(t, 'probectl_notify_open_incidents', { status: 'open' }) === 0 &&
        sample(t, 'probectl_notify_open_incidents', { status: 'acknowledged' }) === 0 &&
        deliveries(t, 'resolve', 'ok') >= 4 ? t : undefined;
    }, { what: 'gauge back to 0, the second resolves made' });

    expect(deliveries(text, 'open', 'ok')).toBe(2); // A, B
    expect(deliveries(text, 'open', 'retried')).toBe(1); // B's 500
    expect(deliveries(text, 'open', 'permanent')).toBe(1); // C's 400
    expect(deliveries(text, 'acknowledge', 'ok')).toBe(1); // A, acknowledged at the API: PagerDuty is told
    // A and B each get the fan-out resolve and the pagers' delayed second resolve; C, whose page was refused, neither
    // (nothing was paged: refused-opens-v1). C's fan-out would have been counted before its run completed.
    expect(deliveries(text, 'resolve', 'ok')).toBe(4);
    expect(sample(text, 'probectl_notify_permanent_failures_total', { provider: 'pagerduty', reason: 'ProviderRejected' })).toBe(1);
    expect(sample(text, 'probectl_notify_delivery_duration_seconds_count', { provider: 'pagerduty', action: 'open' })).toBe(4);
    expect(sample(text, 'probectl_notify_delivery_duration_seconds_count', { provider: 'pagerduty', action: 'resolve' })).toBe(4);
    expect(sample(text, 'probectl_notify_inbound_verifications_total', { provider: 'pagerduty', outcome: 'refused_401' })).toBe(2);
    // Nothing secret or tenant-specific in a scrape.
    expect(text).not.toContain(ROUTING_KEY);
    expect(text).not.toContain(tenant);
    expect(text).not.toContain(token);
  });
});
