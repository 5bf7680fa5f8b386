import { HttpClient } from '../../src/http/client';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { withTenant } from '../../src/db/tenant-tx';
import { eventually, historyText, sleep, uniqueId } from '../helpers/shared';
import { incidentFor, sdkLogLines, startStack, type TestStack } from '../helpers/stack';

const KEY_A = 'RKEYtenantA-7f3c9e1d2b4a6f8e0c1d';
const KEY_B = 'RKEYtenantB-1a2b3c4d5e6f7a8b9c0d';

describe('tenancy, row-level security and secrets', () => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const tenantA = uniqueId('ta');
  const tenantB = uniqueId('tb');
  const tokenA = 'tokA-0123456789abcdef0123';
  const tokenB = 'tokB-fedcba9876543210fedc';

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: `${tenantA}|pagerduty|${pd.url}/v2/enqueue|${KEY_A},${tenantB}|pagerduty|${pd.url}/v2/enqueue|${KEY_B}`,
        PROBECTL_NOTIFY_API_TOKENS: `${tenantA}:${tokenA},${tenantB}:${tokenB}`,
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
  });

  const as = (token: string, method: 'GET' | 'POST', url: string, payload?: object) =>
    stack.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });

  test('missing or wrong token → 401', async () => {
    expect((await stack.app.inject({ method: 'GET', url: '/v1/incidents/x' })).statusCode).toBe(401);
    expect((await as('not-a-valid-token-at-all', 'GET', '/v1/incidents/x')).statusCode).toBe(401);
  });

  test("tenant B's token and signals never touch tenant A's incident", async () => {
    const inc = incidentFor(tenantA);
    expect((await as(tokenA, 'POST', '/v1/incidents', { id: inc.id, title: inc.title, severity: 'error' })).statusCode).toBe(201);
    await eventually(async () => (await stack.incidents.getIncident(inc.id)).links[0]?.status === 'open');
    const requestsBefore = pd.requests.length;

    for (const [method, url, body] of [
      ['GET', `/v1/incidents/${inc.id}`, undefined],
      ['GET', `/v1/incidents/${inc.id}/timeline`, undefined],
      ['POST', `/v1/incidents/${inc.id}/resolve`, {}],
      ['POST', `/v1/incidents/${inc.id}/acknowledge`, {}],
      ['POST', `/v1/incidents/${inc.id}/correlate`, { signalId: 'x' }],
    ] as const) {
      const r = await as(tokenB, method, url, body);
      expect({ url, status: r.statusCode }).toEqual({ url, status: 404 });
      expect(r.body).not.toContain(tenantA);
    }
    // An open of A's id with B's token is refused and pages nothing for B.
    const conflict = await as(tokenB, 'POST', '/v1/incidents', { id: inc.id, title: 'hijack', severity: 'critical' });
    expect(conflict.statusCode).toBe(409);

    // A signal that names tenant B reaches the workflow (a direct Temporal client) and is ignored.
    await stack.incidents.resolve(inc.id, { tenantId: tenantB, source: 'probectl', at: new Date().toISOString() });
    const state = await eventually(async () => {
      const s = await stack.incidents.getIncident(inc.id);
      return s.timeline.some((t) => t.kind === 'signal.rejected') ? s : undefined;
    });
    expect(state.status).toBe('open');
    await sleep(300);
    expect(pd.requests.length).toBe(requestsBefore);
    expect(pd.alerts.filter((a) => a.routingKey === KEY_B)).toHaveLength(0);

    expect((await as(tokenA, 'POST', `/v1/incidents/${inc.id}/resolve`, {})).statusCode).toBe(202);
    await stack.incidents.result(inc.id);
    expect((await as(tokenA, 'GET', `/v1/incidents/${inc.id}/timeline`)).statusCode).toBe(200);
    expect((await as(tokenB, 'GET', `/v1/incidents/${inc.id}/timeline`)).statusCode).toBe(404);
  });

  test("row-level security: scoped to tenant A, nothing of tenant B's rows can be read or written", async () => {
    const incB = incidentFor(tenantB);
    await stack.incidents.openIncident(incB);
    await eventually(async () => (await stack.mirror.read(tenantB, incB.id))?.links[0]?.status === 'open');

    await withTenant(stack.pool, tenantA, async (c) => {
      const who = await c.query<{ u: string; su: boolean }>("SELECT current_user AS u, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su");
      expect(who.rows[0]).toEqual({ u: 'probectl_notify_app', su: false });
      for (const table of ['incidents', 'incident_integrations', 'incident_timeline']) {
        const all = await c.query(`SELECT tenant_id FROM ${table}`);
        expect(all.rows.every((r) => r.tenant_id === tenantA)).toBe(true);
        const b = await c.query(`SELECT 1 FROM ${table} WHERE tenant_id = $1`, [tenantB]);
        expect(b.rowCount).toBe(0);
      }
      const upd = await c.query(`UPDATE incident_integrations SET status = 'resolved' WHERE tenant_id = $1`, [tenantB]);
      expect(upd.rowCount).toBe(0);
    });
    await expect(
      withTenant(stack.pool, tenantA, (c) =>
        c.query(`INSERT INTO incident_integrations (tenant_id, incident_id, connector_id, provider, status) VALUES ($1, 'x', 'pagerduty', 'pagerduty', 'open')`, [tenantB]),
      ),
    ).rejects.toThrow(/row-level security/);
    await expect(withTenant(stack.pool, tenantA, (c) => c.query('DELETE FROM incident_timeline'))).rejects.toThrow();
    const stillB = await stack.mirror.read(tenantB, incB.id);
    expect(stillB?.links[0]?.status).toBe('open');

    await stack.incidents.resolve(incB.id, { tenantId: tenantB, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(incB.id);
  });

  test('the routing key never appears in workflow history, logs, or API responses', async () => {
    const inc = incidentFor(tenantA);
    // A provider that echoes the routing key in its error body: the failure message must be scrubbed.
    pd.faults.before = (req) =>
      (req.json as { dedup_key?: string }).dedup_key === `probectl-${inc.id}` && (req.json as { event_action?: string }).event_action === 'trigger'
        ? { status: 400, body: { status: 'invalid event', message: `routing key ${KEY_A} is not allowed here` } }
        : undefined;
    const opened = await as(tokenA, 'POST', '/v1/incidents', { id: inc.id, title: inc.title, severity: 'critical' });
    await eventually(async () => (await stack.incidents.getIncident(inc.id)).links[0]?.status === 'failed');
    pd.faults = {};
    const shown = await as(tokenA, 'GET', `/v1/incidents/${inc.id}`);
    expect(shown.body).toContain('<secret>'); // the scrubbed echo is there, so the check below is meaningful
    await as(tokenA, 'POST', `/v1/incidents/${inc.id}/resolve`, {});
    await stack.incidents.result(inc.id);
    const timeline = await as(tokenA, 'GET', `/v1/incidents/${inc.id}/timeline`);

    const history = historyText(await stack.client.workflow.getHandle(`probectl-${inc.id}`).fetchHistory());
    expect(history.length).toBeGreaterThan(1000);
    expect(history).toContain(`probectl-${inc.id}`); // payloads are decoded: the dedup key in the activity results is visible
    for (const text of [history, opened.body, shown.body, timeline.body, stack.logLines.join('\n'), sdkLogLines.join('\n')]) {
      expect(text).not.toContain(KEY_A);
      expect(text).not.toContain(KEY_B);
    }
    // the history is not merely empty of it: it does hold the scrubbed failure
    expect(Buffer.from(history).toString()).toMatch(/HTTP 400/);
  });

  test('a key straddling the excerpt cut, and its fragments and encodings, reach none of history, Postgres, /v1, the timeline, logs or /metrics', async () => {
    const inc = incidentFor(tenantA);
    // The answer: the whole key starting 8 characters before the 300-character cut (on 528100c its first
    // part survived), then a fragment of it URL-encoded, JSON-escaped and in base64.
    const fragment = KEY_A.slice(5, 21);
    const body = `${'e'.repeat(292)}${KEY_A} | ${encodeURIComponent(fragment)} | ${JSON.stringify(fragment)} | ${Buffer.from(fragment).toString('base64')}`;
    pd.faults.before = (req) =>
      (req.json as { dedup_key?: string }).dedup_key === `probectl-${inc.id}` && (req.json as { event_action?: string }).event_action === 'trigger'
        ? { status: 400, body }
        : undefined;
    await as(tokenA, 'POST', '/v1/incidents', { id: inc.id, title: inc.title, severity: 'critical' });
    await eventually(async () => (await stack.incidents.getIncident(inc.id)).links[0]?.status === 'failed');
    // The link error as Postgres holds it, read while the run is open.
    const mirrored = JSON.stringify(await eventually(async () => {
      const r = await stack.mirror.read(tenantA, inc.id);
      return r?.links[0]?.status === 'failed' ? r : undefined;
    }, { what: 'the failed link in the mirror' }));
    expect(mirrored).toContain('HTTP 400: eeee');
    pd.faults = {};
    const shown = await as(tokenA, 'GET', `/v1/incidents/${inc.id}`);
    expect(shown.body).toContain('HTTP 400: eeee'); // the excerpt is really there
    await as(tokenA, 'POST', `/v1/incidents/${inc.id}/resolve`, {});
    await stack.incidents.result(inc.id);
    const timeline = await as(tokenA, 'GET', `/v1/incidents/${inc.id}/timeline`);
    expect(timeline.body).toContain('HTTP 400: eeee');
    const history = historyText(await stack.client.workflow.getHandle(`probectl-${inc.id}`).fetchHistory());
    expect(history).toContain('HTTP 400: eeee');
    const metrics = await stack.app.inject({ method: 'GET', url: '/metrics' });
    const forms = [KEY_A, encodeURIComponent(fragment), JSON.stringify(fragment).slice(1, -1), Buffer.from(fragment).toString('base64'), Buffer.from(KEY_A).toString('base64')];
    const places: Record<string, string> = {
      history, postgres: mirrored, state: shown.body, timeline: timeline.body, logs: stack.logLines.join('\n'), sdkLogs: sdkLogLines.join('\n'), metrics: metrics.body,
    };
    const leaks: string[] = [];
    for (const [place, text] of Object.entries(places)) {
      for (const form of forms) {
        for (let i = 0; i + 8 <= form.length; i++) if (text.includes(form.slice(i, i + 8))) leaks.push(`${place}: ${form.slice(i, i + 8)}`);
      }
    }
    expect(leaks).toEqual([]);
  });
});

describe('connectors unset', () => {
  test('zero requests reach any double: no outbound call is even attempted', async () => {
    const pd = await new PagerDutyDouble().start();
    const send = jest.spyOn(HttpClient.prototype, 'send');
    const tenant = uniqueId('none');
    const stack = await startStack({ env: { PROBECTL_NOTIFY_CONNECTORS: '' } });
    try {
      const inc = incidentFor(tenant);
      await stack.incidents.openIncident(inc);
      await eventually(async () => (await stack.incidents.getIncident(inc.id)).timeline.some((t) => t.kind === 'opened'));
      await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
      const result = await stack.incidents.result(inc.id);
      expect(result.links).toEqual([]);
      expect(pd.requests).toHaveLength(0);
      expect(send).not.toHaveBeenCalled();
    } finally {
      send.mockRestore();
      await stack.stop();
      await pd.stop();
    }
  });
});
