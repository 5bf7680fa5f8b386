import type { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { eventually, sleep, uniqueId } from '../helpers/shared';
import { incidentFor, startPagerDutyStack, type TestStack } from '../helpers/stack';

const ROUTING_KEY = 'R0UT1NGKEY5ecretForTests00000001';

describe('PagerDuty lifecycle on the real dev server and Postgres', () => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const tenant = uniqueId('acme');
  const token = 'tok-acme-0123456789abcdef';

  beforeAll(async () => {
    ({ pd, stack } = await startPagerDutyStack(tenant, ROUTING_KEY, token));
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
  });
  afterEach(() => {
    pd.faults = {};
  });

  const api = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    stack.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload: payload as object } : {}) });
  const alertsOf = (id: string) => pd.alerts.filter((a) => a.dedupKey === `probectl-${id}`);
  const eventsOf = (id: string, action?: string) =>
    pd.events(action).filter((r) => (r.json as { dedup_key?: string }).dedup_key === `probectl-${id}`);

  test('open → one alert with dedup_key probectl-<id>, link recorded; resolve → alert resolved with the same keys, workflow result', async () => {
    const inc = incidentFor(tenant);
    const opened = await api('POST', '/v1/incidents', { id: inc.id, title: inc.title, severity: 'critical' });
    expect(opened.statusCode).toBe(201);

    await eventually(() => alertsOf(inc.id)[0], { what: 'the alert' });
    const link = await eventually(async () => {
      const rec = await stack.mirror.read(tenant, inc.id);
      return rec?.links.find((l) => l.connectorId === 'pagerduty' && l.status === 'open');
    }, { what: 'the link row' });
    expect(link.externalRef).toBe(`probectl-${inc.id}`);

    const resolved = await api('POST', `/v1/incidents/${inc.id}/resolve`, { actor: 'alice', reason: 'fixed' });
    expect(resolved.statusCode).toBe(202);
    const result = await stack.incidents.result(inc.id);
    expect(result).toMatchObject({ source: 'api', actor: 'alice', reason: 'fixed' });
    expect(result.links).toEqual([expect.objectContaining({ connectorId: 'pagerduty', status: 'resolved' })]);

    const alerts = alertsOf(inc.id);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.status).toBe('resolved');
    // The fan-out's resolve plus the pager's delayed second resolve (made by the worker's follow-up runner, after
    // the workflow completed), both with the trigger's keys.
    await eventually(() => eventsOf(inc.id, 'resolve').length >= 2, { what: 'the second resolve' });
    await sleep(1_500);
    const resolves = eventsOf(inc.id, 'resolve');
    expect(resolves).toHaveLength(2);
    for (const r of resolves) expect(r.json).toMatchObject({ routing_key: ROUTING_KEY, dedup_key: `probectl-${inc.id}` });
    const rec = await stack.mirror.read(tenant, inc.id);
    expect(rec?.status).toBe('resolved');
    expect(rec?.links[0]?.status).toBe('resolved');
    const timeline = await stack.mirror.timeline(tenant, inc.id);
    expect(timeline.map((t) => t.kind)).toEqual(expect.arrayContaining(['opened', 'connector.opened', 'resolved', 'connector.resolved']));
  });

  test('the same open sent 20 times concurrently → one workflow run, one alert', async () => {
    const inc = incidentFor(tenant);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => api('POST', '/v1/incidents', { id: inc.id, title: inc.title, severity: 'critical', openedAt: inc.openedAt })),
    );
    expect(answers.map((a) => a.statusCode).every((c) => c === 201 || c === 200)).toBe(true);
    const runIds = new Set(answers.map((a) => a.json().workflowId));
    expect(runIds.size).toBe(1);
    await eventually(() => alertsOf(inc.id)[0], { what: 'the alert' });
    await eventually(async () => (await stack.incidents.getIncident(inc.id)).links[0]?.status === 'open');
    const runs = [];
    for await (const w of stack.client.workflow.list({ query: `WorkflowId = 'probectl-${inc.id}'` })) runs.push(w.runId);
    expect(runs).toHaveLength(1);
    expect(alertsOf(inc.id)).toHaveLength(1);
    expect(eventsOf(inc.id, 'trigger')).toHaveLength(1);
    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(inc.id);
  });

  test('correlated follow-ups → recorded, no new alert and no further trigger', async () => {
    const inc = incidentFor(tenant);
    await stack.incidents.openIncident(inc);
    await eventually(async () => (await stack.incidents.getIncident(inc.id)).links[0]?.status === 'open');
    for (let i = 0; i < 5; i++) {
      const r = await api('POST', `/v1/incidents/${inc.id}/correlate`, { signalId: `sig-${i}`, summary: `flap ${i}` });
      expect(r.statusCode).toBe(202);
    }
    // the same signal delivered twice counts once
    await api('POST', `/v1/incidents/${inc.id}/correlate`, { signalId: 'sig-0' });
    const state = await eventually(async () => {
      const s = await stack.incidents.getIncident(inc.id);
      return (s as { correlationCount?: number }).correlationCount === 5 ? s : undefined;
    });
    expect(state.timeline.filter((t) => t.kind === 'correlated')).toHaveLength(5);
    await sleep(500);
    expect(eventsOf(inc.id, 'trigger')).toHaveLength(1);
    expect(alertsOf(inc.id)).toHaveLength(1);
    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(inc.id);
  });

  test('open of an already-resolved incident → a no-op answer, no new alert', async () => {
    const inc = incidentFor(tenant);
    await api('POST', '/v1/incidents', { id: inc.id, title: inc.title, severity: 'critical' });
    await eventually(async () => (await stack.incidents.getIncident(inc.id)).links[0]?.status === 'open');
    await api('POST', `/v1/incidents/${inc.id}/resolve`, {});
    await stack.incidents.result(inc.id);
    const again = await api('POST', '/v1/incidents', { id: inc.id, title: inc.title, severity: 'critical' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ outcome: 'already_closed', noop: true });
    const resolveAgain = await api('POST', `/v1/incidents/${inc.id}/resolve`, {});
    expect(resolveAgain.statusCode).toBe(200);
    expect(resolveAgain.json()).toMatchObject({ noop: true });
    await sleep(300);
    expect(alertsOf(inc.id)).toHaveLength(1);
    expect(eventsOf(inc.id, 'trigger')).toHaveLength(1);
  });

  test('resolve sent while the double holds the trigger answer → no alert is left open', async () => {
    const inc = incidentFor(tenant);
    pd.faults.hold = (req) => (req.json as { event_action?: string; dedup_key?: string }).event_action === 'trigger';
    await stack.incidents.openIncident(inc);
    await pd.waitHeld(1);
    expect(alertsOf(inc.id)).toHaveLength(1);
    await api('POST', `/v1/incidents/${inc.id}/resolve`, { actor: 'bob' });
    const result = await stack.incidents.result(inc.id);
    pd.releaseHeld();
    expect(result.links[0]).toMatchObject({ connectorId: 'pagerduty', status: 'resolved' });
    expect(alertsOf(inc.id).filter((a) => a.status !== 'resolved')).toHaveLength(0);
    // the cancelled open was not retried after the resolve
    expect(eventsOf(inc.id, 'trigger')).toHaveLength(1);
  });

  test('double answers 500 then 202 → delivered', async () => {
    const inc = incidentFor(tenant);
    let failures = 0;
    pd.faults.before = (req) =>
      (req.json as { dedup_key?: string }).dedup_key === `probectl-${inc.id}` && failures++ < 1 ? { status: 500, body: { status: 'error' } } : undefined;
    await stack.incidents.openIncident(inc);
    await eventually(async () => (await stack.incidents.getIncident(inc.id)).links[0]?.status === 'open', { timeoutMs: 20_000 });
    expect(eventsOf(inc.id, 'trigger')).toHaveLength(2);
    expect(alertsOf(inc.id)).toHaveLength(1);
    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(inc.id);
  });

  test('double answers 400 → link failed with the reason, the incident still resolves; the refused page gets no resolve', async () => {
    const inc = incidentFor(tenant);
    pd.faults.before = (req) =>
      (req.json as { dedup_key?: string }).dedup_key === `probectl-${inc.id}` ? { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: ['bad'] } } : undefined;
    await stack.incidents.openIncident(inc);
    const link = await eventually(async () => (await stack.incidents.getIncident(inc.id)).links.find((l) => l.status === 'failed'));
    expect(link.error).toContain('HTTP 400');
    expect(eventsOf(inc.id, 'trigger')).toHaveLength(1); // a 400 is never retried
    await api('POST', `/v1/incidents/${inc.id}/resolve`, {});
    const result = await stack.incidents.result(inc.id);
    expect(result.source).toBe('api');
    const timeline = await stack.mirror.timeline(tenant, inc.id);
    expect(timeline.some((t) => t.kind === 'connector.failed' && t.detail?.includes('HTTP 400'))).toBe(true);
    // Nothing was paged, so nothing is resolved there (refused-opens-v1): the link stays failed, no resolve event.
    expect(result.links.map((l) => l.status)).toEqual(['failed']);
    expect(eventsOf(inc.id, 'resolve')).toHaveLength(0);
    expect(timeline.some((t) => t.kind === 'connector.skipped' && t.detail?.includes('refused the open'))).toBe(true);
  });
});
