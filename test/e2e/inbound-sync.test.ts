/**
 * Inbound status sync end to end on the real dev server and Postgres: acknowledgements and resolutions
 * from PagerDuty (two PagerDuty connectors of one tenant, pd-a being the origin), duplicates, a resolve
 * overtaking a retrying open, and the signed callback to a probectl double.
 */
import { createHmac } from 'node:crypto';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { ProbectlDouble } from '../../dev/doubles/probectl';
import type { RecordedRequest } from '../../dev/doubles/server';
import { eventually, sleep, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';

const RA = 'R0UT1NGKEYsyncA00000000000000001';
const RB = 'R0UT1NGKEYsyncB00000000000000002';
const SECRET_PD = 'pd-webhook-secret-sync-0123456789';
const CALLBACK_SECRET = 'callback-secret-sync-0123456789';

const hmac = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');
type Json = Record<string, any>;

describe('inbound status sync (PagerDuty V3 webhooks, callback to probectl)', () => {
  let pd: PagerDutyDouble;
  let probectl: ProbectlDouble;
  let stack: TestStack;
  const tenant = uniqueId('acme');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    probectl = await new ProbectlDouble(CALLBACK_SECRET).start();
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${RA}|pd-a,${tenant}|pagerduty|${pd.url}/v2/enqueue|${RB}|pd-b`,
        PROBECTL_NOTIFY_INBOUND: `pd-a:${tenant}:pagerduty:${SECRET_PD}`,
        PROBECTL_NOTIFY_CALLBACK_URL: `${probectl.url}/api/notify/events`,
        PROBECTL_NOTIFY_CALLBACK_SECRET: CALLBACK_SECRET,
        PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '1s',
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
    await probectl?.stop();
  });

  const key = (id: string) => `probectl-${id}`;
  const pdEvents = (action: string, routingKey: string, id: string) =>
    pd.events(action).filter((r) => (r.json as Json).routing_key === routingKey && (r.json as Json).dedup_key === key(id));
  const callbacks = (id: string, type?: string) => probectl.events.filter((e) => e.incidentId === id && (!type || e.type === type));

  const pdWebhook = (type: string, id: string) =>
    JSON.stringify({
      event: {
        id: uniqueId('ev'), event_type: type, resource_type: 'incident', occurred_at: new Date().toISOString(),
        agent: { summary: 'Erin Oncall', type: 'user_reference' },
        data: { id: 'PGR0VU2', type: 'incident', incident_key: key(id), status: type.split('.')[1] },
      },
    });
  const deliverPd = (body: string, webhookId: string) =>
    stack.app.inject({
      method: 'POST', url: '/ingest/itsm/pagerduty/pd-a', payload: body,
      headers: { 'content-type': 'application/json', 'x-webhook-id': webhookId, 'x-pagerduty-signature': `v1=${hmac('other-old-secret-000000000000', body)},v1=${hmac(SECRET_PD, body)}` },
    });
  const deliverPortable = (id: string, status: string) =>
    stack.app.inject({
      method: 'POST', url: '/ingest/itsm/pagerduty/pd-a', payload: JSON.stringify({ external_ref: key(id), status }),
      headers: { 'content-type': 'application/json; charset=utf-8', 'x-probectl-token': SECRET_PD },
    });

  /** PagerDuty itself changed the origin's alert (the webhook we simulate reports that). */
  const atOrigin = (id: string, status: 'acknowledged' | 'resolved') => {
    const a = pd.alerts.find((x) => x.routingKey === RA && x.dedupKey === key(id) && x.status !== 'resolved');
    if (a) a.status = status;
  };

  async function openBoth(): Promise<string> {
    const inc = incidentFor(tenant);
    await stack.incidents.openIncident(inc);
    await eventually(async () => (await stack.mirror.read(tenant, inc.id))?.links.filter((l) => l.status === 'open').length === 2, { what: 'both links open' });
    return inc.id;
  }

  test('acknowledged in PagerDuty (pd-a) → pd-b acknowledged once, pd-a never; repeats are no-ops; probectl told once', async () => {
    const id = await openBoth();
    atOrigin(id, 'acknowledged');
    const body = pdWebhook('incident.acknowledged', id);
    const first = await deliverPd(body, 'wh-ack-1');
    expect(first.statusCode).toBe(202);
    expect(first.json()).toEqual({ outcome: 'accepted', kind: 'acknowledged', incidentId: id });

    await eventually(() => pdEvents('acknowledge', RB, id).length === 1, { what: 'pd-b acknowledged' });
    const again = await deliverPd(body, 'wh-ack-1');
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ outcome: 'duplicate' });
    // a second acknowledgement with its own delivery id (PagerDuty re-sent it, or an echo): no-op
    await eventually(async () => (await stack.mirror.read(tenant, id))?.status === 'acknowledged', { what: 'mirror acknowledged' });
    const echo = await deliverPd(pdWebhook('incident.acknowledged', id), 'wh-ack-2');
    expect(echo.json()).toEqual({ outcome: 'duplicate' });
    const echoPortable = await deliverPortable(id, 'acknowledged');
    expect(echoPortable.json()).toEqual({ outcome: 'duplicate' });

    const cb = await eventually(() => callbacks(id, 'incident.acknowledged')[0], { what: 'the acknowledgement callback' });
    expect(cb).toMatchObject({ type: 'incident.acknowledged', incidentId: id, tenantId: tenant, source: 'pd-a', actor: 'Erin Oncall', eventId: `${key(id)}/incident.acknowledged` });
    await sleep(1500);
    expect(pdEvents('acknowledge', RB, id)).toHaveLength(1);
    expect(pdEvents('acknowledge', RA, id)).toHaveLength(0);
    expect(callbacks(id, 'incident.acknowledged')).toHaveLength(1);
    const state = await stack.incidents.getIncident(id);
    expect(state.status).toBe('acknowledged');
    expect(state.timeline.filter((t) => t.kind === 'acknowledged')).toHaveLength(1);
    expect(state.links.map((l) => `${l.connectorId}:${l.status}`).sort()).toEqual(['pd-a:acknowledged', 'pd-b:acknowledged']);
  });

  test('50 concurrent duplicate deliveries of one resolution → one resolution, one fan-out, one callback', async () => {
    const id = await openBoth();
    atOrigin(id, 'resolved');
    // probectl is briefly down: the follow-up runner retries the callback until it lands (after the workflow completed)
    let refused = 0;
    probectl.faults.before = (req: RecordedRequest) => {
      if ((req.json as Json)?.incidentId !== id || refused >= 2) return undefined;
      refused += 1;
      return { status: 503, body: { error: 'down' } };
    };
    const body = pdWebhook('incident.resolved', id);
    const answers = await Promise.all(Array.from({ length: 50 }, () => deliverPd(body, 'wh-resolve-1')));
    const codes = answers.map((a) => `${a.statusCode} ${a.json().outcome}`);
    expect(codes.filter((c) => c === '202 accepted')).toHaveLength(1);
    expect(codes.filter((c) => c === '200 duplicate')).toHaveLength(49);

    const result = await stack.incidents.result(id);
    await eventually(() => callbacks(id, 'incident.resolved').length >= 1, { what: 'the callback after two refusals', timeoutMs: 30_000 });
    expect(callbacks(id, 'incident.resolved')).toHaveLength(1);
    probectl.faults.before = undefined;
    expect(refused).toBe(2);
    expect(result.source).toBe('pd-a');
    expect(result.links.map((l) => `${l.connectorId}:${l.status}`).sort()).toEqual(['pd-a:resolved', 'pd-b:resolved']);
    // one fan-out: pd-b gets its resolve and the documented delayed second resolve; the origin nothing
    await eventually(() => pdEvents('resolve', RB, id).length >= 2, { what: 'the second resolve' });
    expect(pdEvents('resolve', RB, id)).toHaveLength(2);
    expect(pdEvents('resolve', RA, id)).toHaveLength(0);
    expect(pd.alerts.filter((a) => a.dedupKey === key(id) && a.status !== 'resolved')).toEqual([]);
    const timeline = await stack.mirror.timeline(tenant, id);
    expect(timeline.filter((t) => t.kind === 'resolved')).toHaveLength(1);
    expect(timeline.filter((t) => t.kind === 'origin.skipped')).toEqual([expect.objectContaining({ connectorId: 'pd-a' })]);

    const cb = callbacks(id, 'incident.resolved')[0]!;
    expect(cb).toMatchObject({ type: 'incident.resolved', tenantId: tenant, source: 'pd-a', actor: 'Erin Oncall' });
    expect(cb.links?.map((l) => `${l.connectorId}:${l.status}`).sort()).toEqual(['pd-a:resolved', 'pd-b:resolved']);
    expect(probectl.rejected).toBe(0);

    // after the workflow closed: the same delivery, a new delivery id, and the portable contract are no-ops
    expect((await deliverPd(body, 'wh-resolve-1')).json()).toEqual({ outcome: 'duplicate' });
    expect((await deliverPd(pdWebhook('incident.resolved', id), 'wh-resolve-2')).json()).toEqual({ outcome: 'duplicate' });
    expect((await deliverPortable(id, 'resolved')).json()).toEqual({ outcome: 'duplicate' });
    expect((await deliverPortable(id, 'acknowledged')).json()).toEqual({ outcome: 'duplicate' });
    await sleep(500);
    expect(pdEvents('resolve', RB, id)).toHaveLength(2);
    expect(callbacks(id)).toHaveLength(1);
    const rows = await stack.pool.query('SELECT delivery_id FROM inbound_deliveries WHERE tenant_id = $1 ORDER BY delivery_id', [tenant]);
    expect(rows.rows.map((r) => r.delivery_id)).toEqual(expect.arrayContaining(['wh-resolve-1', 'wh-resolve-2']));
  });

  test('50 concurrent resolutions without a delivery id → still one resolution and one fan-out', async () => {
    const id = await openBoth();
    atOrigin(id, 'resolved');
    const answers = await Promise.all(Array.from({ length: 50 }, () => deliverPortable(id, 'resolved')));
    expect(answers.every((a) => a.statusCode === 202 || (a.statusCode === 200 && a.json().outcome === 'duplicate'))).toBe(true);
    expect(answers.filter((a) => a.statusCode === 202).length).toBeGreaterThanOrEqual(1);
    const result = await stack.incidents.result(id);
    expect(result.source).toBe('pd-a');
    await eventually(() => pdEvents('resolve', RB, id).length >= 2 && callbacks(id, 'incident.resolved').length >= 1, { what: 'the second resolve and the callback' });
    await sleep(1_500);
    expect(pdEvents('resolve', RB, id)).toHaveLength(2);
    expect(pdEvents('resolve', RA, id)).toHaveLength(0);
    expect((await stack.mirror.timeline(tenant, id)).filter((t) => t.kind === 'resolved')).toHaveLength(1);
    expect(callbacks(id, 'incident.resolved')).toHaveLength(1);
  });

  test('a resolution arriving while the open fan-out is still retrying pd-b leaves no alert open', async () => {
    const inc = incidentFor(tenant);
    const isTrigger = (r: RecordedRequest) => (r.json as Json)?.routing_key === RB && (r.json as Json)?.dedup_key === key(inc.id) && (r.json as Json)?.event_action === 'trigger';
    let failures = 0;
    // pd-b: two attempts answer 500, then the trigger lands at PagerDuty but its answer never comes back
    pd.faults = {
      before: (r) => {
        if (!isTrigger(r) || failures >= 2) return undefined;
        failures += 1;
        return { status: 500, body: { status: 'error' } };
      },
      hold: (r) => isTrigger(r),
    };
    try {
      await stack.incidents.openIncident(inc);
      await eventually(() => pd.alerts.find((a) => a.routingKey === RA && a.dedupKey === key(inc.id)), { what: 'pd-a alert' });
      await eventually(async () => (await stack.mirror.read(tenant, inc.id))?.links.find((l) => l.connectorId === 'pd-a' && l.status === 'open'), { what: 'pd-a link' });
      await pd.waitHeld(1); // the third attempt created the alert; its answer is held
      expect(failures).toBe(2);
      expect((await stack.incidents.getIncident(inc.id)).links.find((l) => l.connectorId === 'pd-b')?.status).toBe('pending');

      atOrigin(inc.id, 'resolved');
      const res = await deliverPd(pdWebhook('incident.resolved', inc.id), uniqueId('wh'));
      expect(res.statusCode).toBe(202);
      const result = await stack.incidents.result(inc.id);
      expect(result.source).toBe('pd-a');
      expect(pd.alerts.filter((a) => a.dedupKey === key(inc.id) && a.status !== 'resolved')).toEqual([]);
      expect(pd.alerts.filter((a) => a.routingKey === RB && a.dedupKey === key(inc.id))).toHaveLength(1);
      expect(pdEvents('resolve', RA, inc.id)).toHaveLength(0);
      expect(result.links.find((l) => l.connectorId === 'pd-b')?.status).toBe('resolved');
    } finally {
      pd.faults = {};
      pd.releaseHeld();
    }
  });

  test('a resolution from probectl itself is not reported back; one through the API is', async () => {
    const fromProbectl = await openBoth();
    await stack.incidents.resolve(fromProbectl, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(fromProbectl);
    const viaApi = await openBoth();
    await stack.incidents.resolve(viaApi, { tenantId: tenant, source: 'api', actor: 'ops-bot', at: new Date().toISOString() });
    await stack.incidents.result(viaApi);
    await eventually(() => callbacks(viaApi).length >= 1, { what: 'the callback for the API resolution' });
    await sleep(1_500);
    expect(callbacks(fromProbectl)).toHaveLength(0);
    expect(callbacks(viaApi)).toEqual([expect.objectContaining({ type: 'incident.resolved', source: 'api', actor: 'ops-bot' })]);
  });
});
