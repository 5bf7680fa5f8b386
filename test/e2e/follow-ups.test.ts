/**
 * Follow-ups carried out by the worker's runner from Postgres (docs/workflow-contract.md, "Follow-ups"), on the
 * real dev server, Postgres and the loopback doubles: a pager's second resolve with no timer in the workflow's
 * history, a callback probectl refuses for a while and takes after the workflow completed (once), and a ticket
 * whose create lands after the resolve, closed by the second lookup-and-close pass.
 */
import { temporal } from '@temporalio/proto';
import { withTenant } from '../../src/db/tenant-tx';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { ProbectlDouble } from '../../dev/doubles/probectl';
import type { RecordedRequest } from '../../dev/doubles/server';
import { ServiceNowDouble } from '../../dev/doubles/servicenow';
import { eventually, historyText, sharedStack, sleep, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import { CuttableProxy } from '../helpers/tcp-proxy';

const EventType = temporal.api.enums.v1.EventType;
const ROUTING_KEY = 'R0UT1NGKEYfollowUps0000000000001';
const SN_USER = 'svc.followups';
const SN_PASS = 'SnowSecretFollowUps5555';
const CALLBACK_SECRET = 'callback-secret-follow-ups-0123456789';
const TOKEN = 'tok-follow-ups-0123456789abcdef';

type Json = Record<string, unknown>;

interface FollowUpRow {
  key: string;
  kind: string;
  task_queue: string;
  attempts: number;
  outcome: string | null;
  done_at: Date | null;
  last_error: string | null;
  payload: Json;
  incident: Json;
}

describe('follow-ups carried out by the worker runner', () => {
  let pd: PagerDutyDouble;
  let sn: ServiceNowDouble;
  let probectl: ProbectlDouble;
  let stack: TestStack;
  const tenant = uniqueId('fu');
  const snTenant = uniqueId('fu-sn');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    sn = await new ServiceNowDouble({ user: SN_USER, password: SN_PASS }).start();
    probectl = await new ProbectlDouble(CALLBACK_SECRET).start();
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${ROUTING_KEY},${snTenant}|servicenow|${sn.url}|${SN_USER}:${SN_PASS}`,
        PROBECTL_NOTIFY_API_TOKENS: `${tenant}:${TOKEN},${snTenant}:${TOKEN}-sn`,
        PROBECTL_NOTIFY_CALLBACK_URL: `${probectl.url}/api/notify/events`,
        PROBECTL_NOTIFY_CALLBACK_SECRET: CALLBACK_SECRET,
        // Long enough for the ticket test to let the held create land between the resolve and the second pass.
        PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '2s',
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
    await sn?.stop();
    await probectl?.stop();
  });
  afterEach(() => {
    pd.faults = {};
    sn.faults = {};
    probectl.faults = {};
  });

  const api = (method: 'GET' | 'POST', url: string, payload?: unknown, token = TOKEN) =>
    stack.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload: payload as object } : {}) });
  const resolvesOf = (id: string) => pd.events('resolve').filter((r) => (r.json as Json).dedup_key === `probectl-${id}`);
  const rowsOf = (tenantId: string, id: string) =>
    withTenant(stack.pool, tenantId, async (c) =>
      (await c.query<FollowUpRow>('SELECT key, kind, task_queue, attempts, outcome, done_at, last_error, payload, incident FROM follow_ups WHERE tenant_id = $1 AND incident_id = $2 ORDER BY id', [tenantId, id])).rows);
  const counter = async (name: string, labels: Record<string, string>): Promise<number> => {
    const m = (await stack.metrics.registry.getSingleMetric(name)?.get()) as { values: Array<{ labels: Record<string, string>; value: number }> } | undefined;
    return (m?.values ?? []).filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
  };
  const history = async (id: string) => (await stack.client.workflow.getHandle(`probectl-${id}`).fetchHistory()).events ?? [];
  const scheduled = (events: Awaited<ReturnType<typeof history>>, type: string) =>
    events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && e.activityTaskScheduledEventAttributes?.activityType?.name === type);

  test('PagerDuty resolved from the API → the runner makes the second resolve; the history has no timer and one resolve', async () => {
    const inc = incidentFor(tenant);
    const okBefore = await counter('probectl_notify_deliveries_total', { provider: 'pagerduty', action: 'resolve', outcome: 'ok' });
    expect((await api('POST', '/v1/incidents', { id: inc.id, title: inc.title, severity: 'critical' })).statusCode).toBe(201);
    await eventually(async () => (await stack.mirror.read(tenant, inc.id))?.links.find((l) => l.status === 'open'), { what: 'the open link' });
    expect((await api('POST', `/v1/incidents/${inc.id}/resolve`, { actor: 'alice' })).statusCode).toBe(202);
    const result = await stack.incidents.result(inc.id);
    expect(result.links).toEqual([expect.objectContaining({ connectorId: 'pagerduty', status: 'resolved' })]);

    await eventually(() => resolvesOf(inc.id).length === 2, { what: 'the second resolve', timeoutMs: 20_000 });
    const [first, second] = resolvesOf(inc.id);
    // Due the configured delay after the first resolve (2 s), taken within a poll (1 s) or so.
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1_900);
    expect(second!.json).toMatchObject({ routing_key: ROUTING_KEY, dedup_key: `probectl-${inc.id}`, event_action: 'resolve' });
    await sleep(2_500);
    expect(resolvesOf(inc.id)).toHaveLength(2);
    expect(pd.openAlerts().filter((a) => a.dedupKey === `probectl-${inc.id}`)).toEqual([]);

    // The workflow decided it and left it to Postgres: no timer, one resolveConnector, and it completed.
    const events = await history(inc.id);
    expect(events.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)).toEqual([]);
    expect(scheduled(events, 'resolveConnector')).toHaveLength(1);
    expect(events[events.length - 1]!.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    process.stdout.write(`PagerDuty open + API resolve: ${events.length} history events; second resolve ${second!.at - first!.at} ms after the first (delay 2000 ms)\n`);

    const rows = await eventually(async () => {
      const r = await rowsOf(tenant, inc.id);
      return r.every((x) => x.done_at) && r.length === 2 ? r : undefined;
    }, { what: 'both follow-ups done' });
    expect(rows.map((r) => `${r.kind}:${r.outcome}:${r.attempts}`).sort()).toEqual(['callback:ok:1', 're-resolve:ok:1']);
    expect(rows.every((r) => r.task_queue === stack.config.temporal.taskQueue)).toBe(true);
    // Counted like the activity's: the first resolve (activity) and the second (runner).
    expect(await counter('probectl_notify_deliveries_total', { provider: 'pagerduty', action: 'resolve', outcome: 'ok' })).toBe(okBefore + 2);
    // No credential in any row.
    expect(JSON.stringify(rows)).not.toContain(ROUTING_KEY);
  });

  test('probectl answers 401 for a while: the workflow completes, the runner delivers the callback later, once', async () => {
    const inc = incidentFor(tenant);
    let refusing = true;
    let refused = 0;
    probectl.faults.before = (req: RecordedRequest) => {
      if ((req.json as Json | undefined)?.incidentId !== inc.id || !refusing) return undefined;
      refused += 1;
      return { status: 401, body: { error: 'unknown key id' } };
    };
    const retriedBefore = await counter('probectl_notify_deliveries_total', { provider: 'probectl', action: 'callback', outcome: 'retried' });
    const okBefore = await counter('probectl_notify_deliveries_total', { provider: 'probectl', action: 'callback', outcome: 'ok' });

    await stack.incidents.openIncident(inc);
    await eventually(async () => (await stack.mirror.read(tenant, inc.id))?.links.find((l) => l.status === 'open'), { what: 'the open link' });
    expect((await api('POST', `/v1/incidents/${inc.id}/resolve`, { actor: 'bob', reason: 'fixed' })).statusCode).toBe(202);
    const result = await stack.incidents.result(inc.id);
    expect(result).toMatchObject({ source: 'api', actor: 'bob' });
    const desc = await stack.client.workflow.getHandle(`probectl-${inc.id}`).describe();
    expect(desc.status.name).toBe('COMPLETED');
    expect(scheduled(await history(inc.id), 'reportToProbectl')).toEqual([]);

    await eventually(() => refused >= 3, { what: 'three refused callbacks', timeoutMs: 30_000 });
    expect(probectl.events.filter((e) => e.incidentId === inc.id)).toEqual([]);
    const pending = (await rowsOf(tenant, inc.id)).find((r) => r.kind === 'callback')!;
    expect(pending.done_at).toBeNull();
    expect(pending.last_error).toContain('HTTP 401');
    expect(pending.last_error).not.toContain(CALLBACK_SECRET);
    // The backlog gauge counts it while probectl refuses it (backing off between attempts included).
    expect(await counter('probectl_notify_follow_ups_due', { kind: 'callback' })).toBeGreaterThanOrEqual(1);

    refusing = false;
    await eventually(() => probectl.accepted().some((e) => e.incidentId === inc.id), { what: 'the callback delivered', timeoutMs: 60_000 });
    await sleep(2_000);
    const told = probectl.events.filter((e) => e.incidentId === inc.id);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ type: 'incident.resolved', eventId: `probectl-${inc.id}/incident.resolved`, source: 'api', actor: 'bob', tenantId: tenant });
    expect(told[0]!.links).toEqual([expect.objectContaining({ connectorId: 'pagerduty', status: 'resolved' })]);

    const done = await eventually(async () => (await rowsOf(tenant, inc.id)).find((r) => r.kind === 'callback' && r.done_at), { what: 'the callback row done' });
    expect(done.outcome).toBe('ok');
    expect(done.attempts).toBe(refused + 1);
    // Every attempt counted where the activity counted its own: each refusal a retry, the delivery ok.
    expect(await counter('probectl_notify_deliveries_total', { provider: 'probectl', action: 'callback', outcome: 'retried' })).toBe(retriedBefore + refused);
    expect(await counter('probectl_notify_deliveries_total', { provider: 'probectl', action: 'callback', outcome: 'ok' })).toBe(okBefore + 1);
    // ... and no more once it is delivered (the gauge is cached for 10 s).
    await eventually(async () => (await counter('probectl_notify_follow_ups_due', { kind: 'callback' })) === 0, { what: 'the backlog empty', timeoutMs: 20_000, intervalMs: 1_000 });
  });

  test('a ticket whose create lands after the resolve → closed by the runner’s second pass; one ticket, resolved', async () => {
    const inc = incidentFor(snTenant);
    const key = `probectl-${inc.id}`;
    const isCreate = (r: RecordedRequest) => r.method === 'POST' && (r.json as Json | undefined)?.correlation_id === key;
    sn.faults.defer = isCreate;
    await stack.incidents.openIncident(inc);
    await sn.waitDeferred(1); // ServiceNow took the create in and has not carried it out yet
    expect(sn.byCorrelation(key)).toEqual([]);

    expect((await api('POST', `/v1/incidents/${inc.id}/resolve`, { actor: 'carol' }, `${TOKEN}-sn`)).statusCode).toBe(202);
    // The resolve cancelled the open, looked the ticket up, found none, and recorded the second pass.
    const pass2 = await eventually(async () => (await rowsOf(snTenant, inc.id)).find((r) => r.kind === 'ticket-close'), { what: 'the second pass recorded' });
    expect(pass2.done_at).toBeNull();
    expect(pass2.key).toMatch(/:ticket-close:servicenow:2$/);
    sn.releaseDeferred(); // the cancelled create lands now
    await eventually(() => sn.byCorrelation(key).length === 1, { what: 'the late ticket' });

    const result = await stack.incidents.result(inc.id);
    // The workflow completed with the link not closed: pending (the open was cancelled) or failed (its attempt
    // timed out before the cancellation reached it); the runner closes it later.
    expect(result.links).toHaveLength(1);
    expect(['pending', 'failed']).toContain(result.links[0]!.status);
    const ticket = await eventually(() => sn.byCorrelation(key).find((t) => t.state === '6'), { what: 'the ticket resolved', timeoutMs: 20_000 });
    expect(ticket.close_notes).toContain('carol');
    expect(sn.byCorrelation(key)).toHaveLength(1);

    const link = await eventually(async () => (await stack.mirror.read(snTenant, inc.id))?.links.find((l) => l.status === 'resolved'), { what: 'the link resolved' });
    expect(link.connectorId).toBe('servicenow');
    const timeline = await stack.mirror.timeline(snTenant, inc.id);
    expect(timeline.filter((t) => t.kind === 'connector.resolved').map((t) => t.detail)).toEqual([
      'no ticket found yet: a second lookup-and-close follows', 'closed by lookup-and-close pass 2',
    ]);
    const rows = (await rowsOf(snTenant, inc.id)).filter((r) => r.kind === 'ticket-close');
    expect(rows.map((r) => `${r.key.replace(/^.*:ticket-close:/, '')}:${r.outcome}`)).toEqual(['servicenow:2:ok']);
    const events = await history(inc.id);
    // No timer for the second pass (a follow-up, outside history). Two timers: the back-off of the create's local first
    // attempt (cut by its limit; PROBECTL_NOTIFY_LOCAL_FIRST_OPENS), which the resolve cancelled; then the fan-out's wait
    // for the cut attempt's window (cancelled-creates-wait-v1: the cut create may still land until then), which fired —
    // the double held the create longer still, so the lookup found nothing and the runner's second pass closed it.
    const timers = events.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED).map((e) => String(e.eventId));
    const canceled = events.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_CANCELED).map((e) => String(e.timerCanceledEventAttributes!.startedEventId));
    const fired = events.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED).map((e) => String(e.timerFiredEventAttributes!.startedEventId));
    expect(timers).toHaveLength(2);
    expect(canceled).toEqual([timers[0]]);
    expect(fired).toEqual([timers[1]]);
    const patches = events.map((e) => e.markerRecordedEventAttributes).filter((m) => m?.markerName === 'core_patch')
      .map((m) => (JSON.parse(Buffer.from(m!.details!['patch-data']!.payloads![0]!.data!).toString('utf8')) as { id: string }).id);
    expect(patches).toContain('cancelled-creates-wait-v1');
    expect(scheduled(events, 'resolveConnector')).toHaveLength(1);
    // Neither the rows nor the history hold the ServiceNow credential.
    expect(JSON.stringify(rows)).not.toContain(SN_PASS);
    expect(historyText(await stack.client.workflow.getHandle(`probectl-${inc.id}`).fetchHistory())).not.toContain(SN_PASS);
  });
});

describe('follow-ups while Postgres is cut at the resolve', () => {
  let pd: PagerDutyDouble;
  let proxy: CuttableProxy;
  let stack: TestStack;
  const tenant = uniqueId('fu-pg');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    const db = new URL(sharedStack().databaseUrl);
    proxy = await CuttableProxy.forAddress(`${db.hostname}:${db.port || 5432}`).start();
    db.host = proxy.address;
    stack = await startStack({ env: { DATABASE_URL: db.toString(), PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${ROUTING_KEY}` } });
  });
  afterAll(async () => {
    proxy.restore();
    await stack?.stop();
    await proxy?.stop();
    await pd?.stop();
  });

  test('Postgres cut at the resolve → the workflow’s own fallback makes the second resolve; exactly one, never two', async () => {
    const inc = incidentFor(tenant);
    await stack.incidents.openIncident(inc);
    await eventually(async () => (await stack.mirror.read(tenant, inc.id))?.links.find((l) => l.status === 'open'), { what: 'the open link' });
    proxy.cut();
    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    const resolves = () => pd.events('resolve').filter((r) => (r.json as Json).dedup_key === `probectl-${inc.id}`);
    // Both resolves while Postgres is still cut: the second one cannot have come from the runner.
    await eventually(() => resolves().length === 2, { what: 'the second resolve during the outage', timeoutMs: 30_000 });
    const [first, second] = resolves();
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1_000);
    const events = await stack.client.workflow.getHandle(`probectl-${inc.id}`).fetchHistory();
    const types = (events.events ?? []).map((e) => e.eventType);
    expect(types).toContain(EventType.EVENT_TYPE_TIMER_STARTED);
    expect((events.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'resolveConnector')).toHaveLength(2);

    proxy.restore();
    await stack.incidents.result(inc.id);
    // Postgres is back and the runner polls: nothing was left to it, so no third resolve.
    await sleep(4_000);
    expect(resolves()).toHaveLength(2);
    const rows = await withTenant(stack.pool, tenant, async (c) => (await c.query('SELECT key FROM follow_ups WHERE tenant_id = $1 AND incident_id = $2', [tenant, inc.id])).rows);
    expect(rows).toEqual([]);
    const rec = await stack.mirror.read(tenant, inc.id);
    expect(rec?.links).toEqual([expect.objectContaining({ connectorId: 'pagerduty', status: 'resolved' })]);
    expect(pd.openAlerts().filter((a) => a.dedupKey === `probectl-${inc.id}`)).toEqual([]);
  });
});
