import { PagerDutyDouble } from '../../src/sandbox/doubles/pagerduty';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';

const ROUTING_KEY = 'R0UT1NGKEY5ecretForTests00000001';

describe('PagerDuty lifecycle on the real dev server and Postgres', () => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const tenant = uniqueId('acme');
  const token = 'tok-acme-0123456789abcdef';

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${ROUTING_KEY}`,
        PROBECTL_NOTIFY_API_TOKENS: `${tenant}:${token}`,
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
  });

  const api = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    stack.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload: payload as object } : {}) });

  test('open → one alert with dedup_key probectl-<id>, link recorded; resolve → alert resolved, workflow result', async () => {
    const inc = incidentFor(tenant);
    const opened = await api('POST', '/v1/incidents', { id: inc.id, title: inc.title, severity: 'critical' });
    expect(opened.statusCode).toBe(201);

    await eventually(() => pd.alerts.find((a) => a.dedupKey === `probectl-${inc.id}`), { what: 'the alert' });
    const link = await eventually(async () => {
      const rec = await stack.mirror.read(tenant, inc.id);
      return rec?.links.find((l) => l.connectorId === 'pagerduty' && l.status === 'open');
    }, { what: 'the link row' });
    expect(link.externalRef).toBe(`probectl-${inc.id}`);

    const resolved = await api('POST', `/v1/incidents/${inc.id}/resolve`, { actor: 'alice', reason: 'fixed' });
    expect(resolved.statusCode).toBe(202);
    const result = await stack.incidents.result(inc.id);
    expect(result.source).toBe('api');
    expect(result.links).toEqual([expect.objectContaining({ connectorId: 'pagerduty', status: 'resolved' })]);

    const alerts = pd.alerts.filter((a) => a.dedupKey === `probectl-${inc.id}`);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.status).toBe('resolved');
    expect(alerts[0]!.routingKey).toBe(ROUTING_KEY);
    const rec = await stack.mirror.read(tenant, inc.id);
    expect(rec?.status).toBe('resolved');
    expect(rec?.links[0]?.status).toBe('resolved');
  });
});
