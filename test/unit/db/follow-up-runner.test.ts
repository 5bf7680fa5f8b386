/**
 * The follow-up runner (src/followups/) on the run's real Postgres against loopback doubles: what each kind does
 * and records on success, on a permanent failure, on a retryable one (Retry-After honoured, back-off), at the end
 * of its retry window, for a removed connector; the ticket passes' key scheme and final entry; metrics counted as
 * the activities count them; no secret in a row, an entry or a log line; a stop during a call gives the row back.
 */
import { Writable } from 'node:stream';
import type { Pool } from 'pg';
import { HttpClient } from '../../../src/http/client';
import { Pacer } from '../../../src/activities/pacing';
import { ConnectorDirectory, parseConnectors } from '../../../src/config/connectors';
import { Secret } from '../../../src/config/secret';
import { FollowUpStore, type LeasedFollowUp } from '../../../src/db/follow-up-store';
import { MirrorStore } from '../../../src/db/mirror-store';
import { createPool } from '../../../src/db/pool';
import { withTenant } from '../../../src/db/tenant-tx';
import { FollowUpRunner, type TryOutcome } from '../../../src/followups/runner';
import { nextPassKey } from '../../../src/followups/ticket-close';
import { createLogger } from '../../../src/observability/logger';
import { NotifyMetrics } from '../../../src/observability/metrics';
import { PagerDutyDouble } from '../../../dev/doubles/pagerduty';
import { ProbectlDouble } from '../../../dev/doubles/probectl';
import { ServiceNowDouble } from '../../../dev/doubles/servicenow';
import type { Incident } from '../../../src/shared/contract';
import type { FollowUpRecord } from '../../../src/shared/records';
import { MAX_TICKET_PASSES, initialState, ticketCloseKey } from '../../../src/workflows/v2/state';
import { sharedStack, sleep, uniqueId } from '../../helpers/shared';

const RK = 'R0UT1NGKEYrunnerSecret0000000001';
const SN_USER = 'svc.runner';
const SN_PASS = 'SnowSecretRunner7777';
const CALLBACK_SECRET = 'cb-signing-key-runner-test-0123456789';
const DAY = 24 * 60 * 60_000;

let pool: Pool;
let pd: PagerDutyDouble;
let sn: ServiceNowDouble;
let probectl: ProbectlDouble;
let http: HttpClient;
beforeAll(async () => {
  pool = createPool(new Secret(sharedStack().databaseUrl));
  pd = await new PagerDutyDouble().start();
  sn = await new ServiceNowDouble({ user: SN_USER, password: SN_PASS }).start();
  probectl = await new ProbectlDouble(CALLBACK_SECRET).start();
  http = new HttpClient({ timeoutMs: 5_000 });
});
afterAll(async () => {
  await http.close();
  await pd.stop();
  await sn.stop();
  await probectl.stop();
  await pool.end();
});
afterEach(() => {
  pd.faults = {};
  sn.faults = {};
  probectl.faults = {};
});

interface Setup {
  tenant: string;
  store: FollowUpStore;
  mirror: MirrorStore;
  runner: FollowUpRunner;
  metrics: NotifyMetrics;
  logLines: string[];
  tried: Array<{ row: LeasedFollowUp; outcome: TryOutcome }>;
}

function setup(opts: { connectors?: (tenant: string) => string; callback?: boolean; stopGraceMs?: number; callbackOrder?: boolean } = {}): Setup {
  const tenant = uniqueId('run');
  const store = new FollowUpStore(pool, uniqueId('tq'));
  const mirror = new MirrorStore(pool, store);
  const metrics = new NotifyMetrics();
  const logLines: string[] = [];
  const log = createLogger('info', new Writable({ write: (chunk: Buffer, _e, cb) => (logLines.push(chunk.toString()), cb()) }));
  const tried: Setup['tried'] = [];
  const entries = opts.connectors?.(tenant) ?? `${tenant}|pagerduty|${pd.url}/v2/enqueue|${RK},${tenant}|servicenow|${sn.url}|${SN_USER}:${SN_PASS}`;
  const runner = new FollowUpRunner({
    store, mirror, log, metrics, ...(opts.stopGraceMs !== undefined ? { stopGraceMs: opts.stopGraceMs } : {}),
    deps: {
      connectors: new ConnectorDirectory(parseConnectors(entries)), http, pacer: new Pacer(), pagerReResolveDelayMs: 0,
      ...(opts.callback === false ? {} : { callback: { url: new Secret(`${probectl.url}/api/notify/events`), secret: new Secret(CALLBACK_SECRET), signature: 'timestamped' as const } }),
      ...(opts.callbackOrder ? { callbacks: (tenantId: string, incidentId: string) => store.callbacks(tenantId, incidentId) } : {}),
    },
    onTried: (row, outcome) => tried.push({ row, outcome }),
  });
  return { tenant, store, mirror, runner, metrics, logLines, tried };
}

const incidentOf = (tenantId: string): Incident => ({ id: uniqueId('inc'), tenantId, title: 'Packet loss', severity: 'critical', openedAt: new Date().toISOString() });
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const reResolve = (dueAt = ago(100)): FollowUpRecord => ({ key: 'chain-1:re-resolve:pagerduty', kind: 're-resolve', dueAt, connectorId: 'pagerduty', externalRef: 'x', resolution: { source: 'api', actor: 'alice' } });
const ticketClose = (pass: number, dueAt = ago(100)): FollowUpRecord => ({
  key: `chain-1:ticket-close:servicenow:${pass}`, kind: 'ticket-close', dueAt, connectorId: 'servicenow', resolution: { source: 'api', actor: 'alice' }, pass,
});
const callback = (inc: Incident, dueAt = ago(100)): FollowUpRecord => ({
  key: 'chain-1:callback:resolved', kind: 'callback', dueAt,
  event: { type: 'incident.resolved', eventId: `probectl-${inc.id}/incident.resolved`, incidentId: inc.id, tenantId: inc.tenantId, source: 'api', at: dueAt },
});
const rowsOf = (tenant: string, inc: Incident) =>
  withTenant(pool, tenant, async (c) =>
    (await c.query<{ key: string; attempts: number; outcome: string | null; due_at: Date; last_error: string | null; payload: Record<string, unknown> }>(
      'SELECT key, attempts, outcome, due_at, last_error, payload FROM follow_ups WHERE tenant_id = $1 AND incident_id = $2 ORDER BY id', [tenant, inc.id])).rows);
const sample = async (m: NotifyMetrics, name: string, labels: Record<string, string>) => {
  const got = (await m.registry.getSingleMetric(name)?.get()) as { values: Array<{ labels: Record<string, string>; value: number }> } | undefined;
  return (got?.values ?? []).filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
};
const pdResolves = (inc: Incident) => pd.events('resolve').filter((r) => (r.json as { dedup_key?: string }).dedup_key === `probectl-${inc.id}`);

describe('ticket-close keys', () => {
  test('the next pass keeps the chain prefix: the same key the workflow builds', () => {
    const s = initialState({ id: 'inc-1', tenantId: 't', title: 'x', severity: 'info', openedAt: ago(0) }, 'a1b2c3d4-run-id');
    for (let pass = 2; pass < MAX_TICKET_PASSES; pass++) {
      expect(nextPassKey({ key: ticketCloseKey(s, 'jira-ops', pass), connectorId: 'jira-ops', pass }, pass + 1)).toBe(ticketCloseKey(s, 'jira-ops', pass + 1));
    }
    expect(() => nextPassKey({ key: 'other:key', connectorId: 'jira-ops', pass: 2 }, 3)).toThrow();
  });
});

describe('re-resolve', () => {
  test('carried out: PagerDuty resolved with the trigger’s keys; the row done; counted ok; nothing recorded on the timeline', async () => {
    const t = setup();
    const inc = incidentOf(t.tenant);
    await t.mirror.record({ incident: inc, followUps: [reResolve()] });
    await t.runner.step();
    expect(pdResolves(inc).map((r) => r.json)).toEqual([{ routing_key: RK, event_action: 'resolve', dedup_key: `probectl-${inc.id}` }]);
    expect((await rowsOf(t.tenant, inc)).map((r) => `${r.outcome}:${r.attempts}`)).toEqual(['ok:1']);
    expect(await sample(t.metrics, 'probectl_notify_deliveries_total', { provider: 'pagerduty', action: 'resolve', outcome: 'ok' })).toBe(1);
    expect(await t.mirror.timeline(t.tenant, inc.id)).toEqual([]);
    expect(t.tried.map((x) => x.outcome)).toEqual(['ok']);
  });

  test('refused (400, echoing the routing key): ended, recorded as the workflow’s fallback records it, scrubbed, counted permanent', async () => {
    const t = setup();
    const inc = incidentOf(t.tenant);
    pd.faults.before = (r) => ({ status: 400, body: { status: 'invalid event', message: `routing key ${(r.json as { routing_key: string }).routing_key} is disabled` } });
    await t.mirror.record({ incident: inc, followUps: [reResolve()] });
    await t.runner.step();
    const timeline = await t.mirror.timeline(t.tenant, inc.id);
    expect(timeline).toEqual([expect.objectContaining({ kind: 'connector.failed', connectorId: 'pagerduty', detail: expect.stringMatching(/^second resolve: PagerDuty resolve: HTTP 400/) })]);
    const [row] = await rowsOf(t.tenant, inc);
    expect(row).toMatchObject({ outcome: 'failed', attempts: 1 });
    expect(await sample(t.metrics, 'probectl_notify_deliveries_total', { provider: 'pagerduty', action: 'resolve', outcome: 'permanent' })).toBe(1);
    expect(await sample(t.metrics, 'probectl_notify_permanent_failures_total', { provider: 'pagerduty', reason: 'ProviderRejected' })).toBe(1);
    for (const text of [JSON.stringify(timeline), JSON.stringify(row), t.logLines.join('\n')]) expect(text).not.toContain(RK);
    expect(row!.last_error).toContain('<secret>');
    // The same key as ownFollowUpDone: written again, it is one entry.
    await t.mirror.record({ incident: inc, entries: [{ key: 'chain-1:re-resolve:pagerduty:failed', at: ago(0), kind: 'connector.failed', detail: 'again' }] });
    expect(await t.mirror.timeline(t.tenant, inc.id)).toHaveLength(1);
  });

  test('429 with Retry-After: rescheduled after exactly that long, and the key held as long; 503: after the back-off; counted retried', async () => {
    const t = setup();
    const inc = incidentOf(t.tenant);
    pd.faults.before = () => ({ status: 429, headers: { 'retry-after': '3' }, body: { status: 'throttled' } });
    await t.mirror.record({ incident: inc, followUps: [reResolve()] });
    const before = Date.now();
    await t.runner.step();
    let [row] = await rowsOf(t.tenant, inc);
    expect(row!.outcome).toBeNull();
    expect(row!.last_error).toContain('HTTP 429');
    expect(row!.due_at.getTime() - before).toBeGreaterThanOrEqual(3_000);
    expect(row!.due_at.getTime() - Date.now()).toBeLessThanOrEqual(3_000);
    expect(await t.store.due(10)).toEqual([]);

    // The 429 holds the key in the runner's pacer too (docs/providers.md, "Rate pacing"): nothing else goes to this
    // routing key before the provider's time. Due again when that time has passed: a 503 now, rescheduled after the
    // exponential back-off of attempt 2 (2 s ± 20 %).
    await new Promise((r) => setTimeout(r, Math.max(0, row!.due_at.getTime() - Date.now()) + 50));
    pd.faults.before = () => ({ status: 503, body: 'unavailable' });
    const again = Date.now();
    await t.runner.step();
    [row] = await rowsOf(t.tenant, inc);
    expect(row!.attempts).toBe(2);
    expect(row!.due_at.getTime() - again).toBeGreaterThanOrEqual(1_600);
    expect(row!.due_at.getTime() - Date.now()).toBeLessThanOrEqual(2_400);
    expect(await sample(t.metrics, 'probectl_notify_deliveries_total', { provider: 'pagerduty', action: 'resolve', outcome: 'retried' })).toBe(2);
    expect(t.tried.map((x) => x.outcome)).toEqual(['retried', 'retried']);
  });

  test('still failing 24 h after it was due: given up (expired), recorded, counted permanent', async () => {
    const t = setup();
    const inc = incidentOf(t.tenant);
    pd.faults.before = () => ({ status: 503, body: 'unavailable' });
    await t.mirror.record({ incident: inc, followUps: [reResolve(ago(DAY + 1_000))] });
    await t.runner.step();
    expect((await rowsOf(t.tenant, inc))[0]).toMatchObject({ outcome: 'expired' });
    expect((await t.mirror.timeline(t.tenant, inc.id))[0]?.detail).toMatch(/^second resolve: gave up after 24 h of retries: PagerDuty resolve: HTTP 503/);
    expect(await sample(t.metrics, 'probectl_notify_permanent_failures_total', { provider: 'pagerduty', reason: 'ProviderUnavailable' })).toBe(1);
  });

  test('its connector removed from the configuration: connector.orphaned, counted as the activity counts it', async () => {
    const t = setup({ connectors: (tenant) => `${tenant}|servicenow|${sn.url}|${SN_USER}:${SN_PASS}` });
    const inc = incidentOf(t.tenant);
    await t.mirror.record({ incident: inc, followUps: [reResolve()] });
    await t.runner.step();
    expect(await t.mirror.timeline(t.tenant, inc.id)).toEqual([
      expect.objectContaining({ kind: 'connector.orphaned', connectorId: 'pagerduty', detail: 'removed from the configuration before the second resolve' }),
    ]);
    expect((await rowsOf(t.tenant, inc))[0]).toMatchObject({ outcome: 'orphaned' });
    expect(await sample(t.metrics, 'probectl_notify_permanent_failures_total', { provider: 'other', reason: 'ConnectorRemoved' })).toBe(1);
    expect(pdResolves(inc)).toEqual([]);
  });
});

describe('ticket-close', () => {
  test('nothing found: pass 2 schedules pass 3 under the chain’s key; the last pass resolves the link with the “did not land” entry', async () => {
    const t = setup();
    const inc = incidentOf(t.tenant);
    await t.mirror.record({ incident: inc, followUps: [ticketClose(2)] });
    await t.runner.step();
    let rows = await rowsOf(t.tenant, inc);
    expect(rows.map((r) => `${r.key}:${r.outcome}`)).toEqual(['chain-1:ticket-close:servicenow:2:not_found', 'chain-1:ticket-close:servicenow:3:null']);
    expect(rows[1]!.payload).toMatchObject({ kind: 'ticket-close', pass: 3, connectorId: 'servicenow', resolution: { source: 'api', actor: 'alice' } });
    expect(await t.mirror.timeline(t.tenant, inc.id)).toEqual([]);
    await sleep(1_100); // the next pass is due max(delay, 1 s) later
    await t.runner.step();
    rows = await rowsOf(t.tenant, inc);
    expect(rows.map((r) => r.outcome)).toEqual(['not_found', 'not_found']);
    expect(await t.mirror.timeline(t.tenant, inc.id)).toEqual([
      expect.objectContaining({ kind: 'connector.resolved', connectorId: 'servicenow', detail: `no ticket found after ${MAX_TICKET_PASSES} lookups: the cancelled create did not land` }),
    ]);
    expect((await t.mirror.read(t.tenant, inc.id))?.links).toEqual([expect.objectContaining({ connectorId: 'servicenow', provider: 'servicenow', status: 'resolved' })]);
    // Each pass is a lookup at ServiceNow, counted as a resolve attempt.
    expect(await sample(t.metrics, 'probectl_notify_deliveries_total', { provider: 'servicenow', action: 'resolve', outcome: 'ok' })).toBe(2);
  });

  test('the ticket exists now: it is closed, the link resolved, “closed by lookup-and-close pass 2”', async () => {
    const t = setup();
    const inc = incidentOf(t.tenant);
    const created = await fetch(`${sn.url}/api/now/table/incident`, {
      method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${SN_USER}:${SN_PASS}`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ short_description: 'Packet loss', correlation_id: `probectl-${inc.id}` }),
    });
    expect(created.status).toBe(201);
    // The link as the first resolve left it: pending (no ticket found yet).
    await t.mirror.record({ incident: inc, links: [{ connectorId: 'servicenow', provider: 'servicenow', status: 'pending', updatedAt: ago(0) }], followUps: [ticketClose(2)] });
    await t.runner.step();
    expect(sn.byCorrelation(`probectl-${inc.id}`).map((x) => x.state)).toEqual(['6']);
    expect(await t.mirror.timeline(t.tenant, inc.id)).toEqual([expect.objectContaining({ kind: 'connector.resolved', detail: 'closed by lookup-and-close pass 2' })]);
    expect((await t.mirror.read(t.tenant, inc.id))?.links).toEqual([expect.objectContaining({ connectorId: 'servicenow', status: 'resolved' })]);
    expect((await rowsOf(t.tenant, inc)).map((r) => r.outcome)).toEqual(['ok']);
    expect(t.logLines.join('\n')).not.toContain(SN_PASS);
  });
});

describe('callback', () => {
  // probectl's order for one incident: an acknowledgement never after the resolution. Every state the other callback
  // can be in when one is tried (none, owed and backing off, delivered, given up) × the resolution inside or past its
  // wait; the events probectl took, in order, and how each row ended.
  describe('acknowledgement and resolution keep their order at probectl', () => {
    const acknowledged = (inc: Incident, dueAt = ago(100)): FollowUpRecord => ({
      key: 'chain-1:callback:acknowledged', kind: 'callback', dueAt,
      event: { type: 'incident.acknowledged', eventId: `probectl-${inc.id}/incident.acknowledged`, incidentId: inc.id, tenantId: inc.tenantId, source: 'api', at: dueAt },
    });
    const SETTLE = 5 * 60_000;
    const tookFor = (inc: Incident) => probectl.events.filter((e) => e.incidentId === inc.id).map((e) => e.type.replace('incident.', ''));
    const outcomes = async (t: Setup, inc: Incident) => (await rowsOf(t.tenant, inc)).map((r) => `${r.key.split(':').pop()}:${r.outcome ?? 'owed'}`).sort();

    type Case = [string, (t: Setup, inc: Incident) => Promise<void>, string[], string[]];
    const cases: Case[] = [
      ['no acknowledgement: the resolution goes', async (t, inc) => {
        await t.mirror.record({ incident: inc, followUps: [callback(inc)] });
      }, ['resolved'], ['resolved:ok']],
      ['both due in one pass: the acknowledgement first', async (t, inc) => {
        await t.mirror.record({ incident: inc, followUps: [acknowledged(inc, ago(200)), callback(inc, ago(100))] });
      }, ['acknowledged', 'resolved'], ['acknowledged:ok', 'resolved:ok']],
      ['the acknowledgement owed (backing off): the resolution waits', async (t, inc) => {
        await t.mirror.record({ incident: inc, followUps: [acknowledged(inc, ago(-60_000)), callback(inc)] });
      }, [], ['acknowledged:owed', 'resolved:owed']],
      ['the acknowledgement owed, the resolution past its wait: the resolution goes', async (t, inc) => {
        await t.mirror.record({ incident: inc, followUps: [acknowledged(inc, ago(-60_000)), callback(inc, ago(SETTLE + 1_000))] });
      }, ['resolved'], ['acknowledged:owed', 'resolved:ok']],
      ['the acknowledgement delivered before: the resolution goes', async (t, inc) => {
        await t.mirror.record({ incident: inc, followUps: [acknowledged(inc)] });
        await t.runner.step();
        await t.mirror.record({ incident: inc, followUps: [callback(inc)] });
      }, ['acknowledged', 'resolved'], ['acknowledged:ok', 'resolved:ok']],
      ['the resolution delivered first: the acknowledgement is not sent', async (t, inc) => {
        await t.mirror.record({ incident: inc, followUps: [callback(inc, ago(SETTLE + 1_000)), acknowledged(inc, ago(-60_000))] });
        await t.runner.step();
        await withTenant(pool, t.tenant, (c) => c.query("UPDATE follow_ups SET due_at = now() - interval '1 second' WHERE tenant_id = $1 AND incident_id = $2 AND done_at IS NULL", [t.tenant, inc.id]));
      }, ['resolved'], ['acknowledged:skipped', 'resolved:ok']],
      ['the resolution given up (not delivered): the acknowledgement still goes', async (t, inc) => {
        probectl.faults.before = () => ({ status: 503, body: { error: 'down' } });
        await t.mirror.record({ incident: inc, followUps: [callback(inc, ago(7 * DAY + 1_000))] });
        await t.runner.step();
        probectl.faults = {};
        await t.mirror.record({ incident: inc, followUps: [acknowledged(inc)] });
      }, ['acknowledged'], ['acknowledged:ok', 'resolved:expired']],
    ];

    test.each(cases)('%s', async (_what, arrange, took, ended) => {
      const t = setup({ callbackOrder: true });
      const inc = incidentOf(t.tenant);
      await arrange(t, inc);
      await t.runner.step();
      expect(tookFor(inc)).toEqual(took);
      expect(await outcomes(t, inc)).toEqual(ended);
    });

    test('the reported order: acknowledgement backing off through an outage, resolution recorded later, then probectl back — never resolved before acknowledged', async () => {
      const t = setup({ callbackOrder: true });
      const inc = incidentOf(t.tenant);
      probectl.faults.before = () => ({ status: 503, body: { error: 'down' } });
      await t.mirror.record({ incident: inc, followUps: [acknowledged(inc)] });
      await t.runner.step(); // refused: backing off
      await t.mirror.record({ incident: inc, followUps: [callback(inc)] });
      probectl.faults = {};
      await t.runner.step(); // the resolution is due; the acknowledgement is not yet
      expect(tookFor(inc)).toEqual([]);
      await withTenant(pool, t.tenant, (c) => c.query("UPDATE follow_ups SET due_at = now() - interval '1 second' WHERE tenant_id = $1 AND incident_id = $2 AND done_at IS NULL", [t.tenant, inc.id]));
      await t.runner.step();
      expect(tookFor(inc)).toEqual(['acknowledged', 'resolved']);
    });
  });

  test('not taken for 7 days: given up, counted as a lost callback, an error logged', async () => {
    const t = setup();
    const inc = incidentOf(t.tenant);
    probectl.faults.before = () => ({ status: 503, body: { error: 'down' } });
    await t.mirror.record({ incident: inc, followUps: [callback(inc, ago(7 * DAY + 1_000))] });
    await t.runner.step();
    expect((await rowsOf(t.tenant, inc))[0]).toMatchObject({ outcome: 'expired', last_error: expect.stringMatching(/^gave up after 7 d of retries: probectl callback: HTTP 503/) });
    expect(await sample(t.metrics, 'probectl_notify_permanent_failures_total', { provider: 'probectl', reason: 'ProviderUnavailable' })).toBe(1);
    expect(await sample(t.metrics, 'probectl_notify_deliveries_total', { provider: 'probectl', action: 'callback', outcome: 'permanent' })).toBe(1);
    const error = t.logLines.map((l) => JSON.parse(l) as { level: number; msg: string; incidentId?: string }).find((l) => l.level === 50);
    expect(error).toMatchObject({ msg: expect.stringContaining('callback to probectl given up'), incidentId: inc.id });
    expect(t.logLines.join('\n')).not.toContain(CALLBACK_SECRET);
  });

  // `Retry-After: 1` on every answer: a 5xx's is a floor under the back-off (a load balancer in front of a dead
  // probectl must not make each owed row try once a second for 7 days); a 429's is probectl's own schedule.
  test.each([[503, 240_000], [502, 240_000], [429, 1_000]])('HTTP %i with Retry-After: 1 on the 10th try: due again no sooner than %i ms', async (status, atLeast) => {
    const t = setup();
    const inc = incidentOf(t.tenant);
    probectl.faults.before = () => ({ status, headers: { 'retry-after': '1' }, body: { error: 'busy' } });
    await t.mirror.record({ incident: inc, followUps: [callback(inc)] });
    await withTenant(pool, t.tenant, (c) => c.query('UPDATE follow_ups SET attempts = 9 WHERE tenant_id = $1 AND incident_id = $2', [t.tenant, inc.id]));
    const before = Date.now();
    await t.runner.step();
    const [row] = await rowsOf(t.tenant, inc);
    expect(row!.outcome).toBeNull();
    const wait = row!.due_at.getTime() - before;
    expect(wait).toBeGreaterThanOrEqual(atLeast - 1_000);
    if (status === 429) expect(wait).toBeLessThan(5_000);
  });

  test('no callback URL configured: nothing sent, nothing counted, the row done as skipped', async () => {
    const t = setup({ callback: false });
    const inc = incidentOf(t.tenant);
    const before = probectl.requests.length;
    await t.mirror.record({ incident: inc, followUps: [callback(inc)] });
    await t.runner.step();
    expect(probectl.requests.length).toBe(before);
    expect((await rowsOf(t.tenant, inc))[0]).toMatchObject({ outcome: 'skipped' });
    expect(await sample(t.metrics, 'probectl_notify_deliveries_total', { action: 'callback' })).toBe(0);
  });

  test('stopped while probectl holds the answer: the call is aborted after the grace period, the row given back due at once', async () => {
    const t = setup({ stopGraceMs: 300 });
    const inc = incidentOf(t.tenant);
    probectl.faults.before = () => 'hang';
    await t.mirror.record({ incident: inc, followUps: [callback(inc)] });
    t.runner.start();
    await (async () => {
      for (let i = 0; i < 50 && !probectl.requests.some((r) => (r.json as { incidentId?: string } | undefined)?.incidentId === inc.id); i++) await sleep(100);
    })();
    const stopping = Date.now();
    await t.runner.stop();
    expect(Date.now() - stopping).toBeLessThan(3_000);
    expect(t.tried.map((x) => x.outcome)).toEqual(['cancelled']);
    const [row] = await rowsOf(t.tenant, inc);
    expect(row).toMatchObject({ outcome: null, attempts: 1 });
    expect(await t.store.due(10)).toHaveLength(1);
    expect(await sample(t.metrics, 'probectl_notify_deliveries_total', { provider: 'probectl', action: 'callback', outcome: 'cancelled' })).toBe(1);
  });
});
