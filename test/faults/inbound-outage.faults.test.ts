/**
 * Signed ServiceNow resolutions arriving while Temporal is unreachable — its dev server stopped, or frozen
 * (SIGSTOP: it still accepts connections but never answers) — for 30 s: each is answered 202 `queued` within
 * a second, recorded in the outbox, and once Temporal is back the dispatcher signals every one; each incident
 * resolves once, its fan-out (PagerDuty) done once, counted at the doubles. (Full mode: 200 resolutions, 75 s.)
 *
 * The origin is ServiceNow with reconciliation off, so nothing but the delivery can resolve an incident (a
 * lost delivery would stay lost). Ten incidents per round are taken out of the mirror first, so their
 * deliveries take the fallback path whose owner check needs Temporal too; two deliveries come from another
 * tenant's entry naming this tenant's incidents and must end ignored.
 *
 * The two outages are separate rounds, each with its own dev server (on a SQLite file, so it can be
 * restarted), database, worker, API and registry. They are staggered to save wall time: the frozen round
 * opens its incidents while the stopped round waits out its outage, and the stopped round settles while the
 * frozen one waits out its own; the deliveries of one round (whose answer times are measured) never run
 * beside the other round's busy phases.
 */
import { createHmac } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { NotifyMetrics } from '../../src/observability/metrics';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { eventually, sleep } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import { findTemporalCli, startDevServer, type DevServer } from '../setup/temporal-server';
import { Providers, expectClean, faultTenant, printResults, recordResult, scale, tally, withTimeout, type IncidentExpectation, type ScenarioResult } from './harness';

const GROUP = 'inbound-outage';
const N = scale(100, 200);
/**
 * Longer than every deadline on the way (the inline try's 300 ms, the dispatcher's 2 s probe and 5 s calls,
 * the request's 10 s lease) and than the client's retry span (~20 s). The full run's 75 s also outlasts the
 * gRPC keepalive (30 s + 15 s), so the client drops the frozen connection and must find the server again.
 */
const OUTAGE_MS = scale(30_000, 75_000);
const FALLBACK = 10;
/** A field only the bodies carry: it must never reach a log line. */
const BODY_MARKER = `body-only-${Math.random().toString(36).slice(2, 12)}`;

const sign = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const m = /^([^{ ]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',').filter(Boolean);
    if (want.every((w) => have.includes(w)) && have.length === want.length) return Number(m[3]);
  }
  return 0;
}

type Mode = 'stopped' | 'frozen';

/** One outage scenario on infrastructure of its own. */
class Round {
  providers!: Providers;
  other!: Providers;
  db!: TestDatabase;
  server!: DevServer;
  stack!: TestStack;
  readonly tenant = faultTenant('out');
  readonly tenant2 = faultTenant('oth');
  readonly secret = `sn-outage-${Math.random().toString(36).slice(2, 14)}`;
  readonly otherSecret = `sn-other-${Math.random().toString(36).slice(2, 14)}`;
  readonly dbFile: string;
  incs: ReturnType<typeof incidentFor>[] = [];
  tickets: Array<{ sys_id: string; number: string; state: string }> = [];
  t0 = 0;
  back = 0;
  readonly notes: Record<string, string> = {};

  constructor(readonly mode: Mode, private readonly cli: string) {
    this.dbFile = join(__dirname, '..', '..', 'test-artifacts', `inbound-outage-${mode}-${process.pid}.sqlite`);
  }

  async setup(): Promise<void> {
    [this.providers, this.other] = await Promise.all([new Providers().start(), new Providers().start()]);
    this.db = await createTestDatabase(`outage_${this.mode}`);
    this.server = await startDevServer({ cli: this.cli, dbFile: this.dbFile });
    const p = this.providers;
    this.stack = await startStack({
      temporalAddress: this.server.address,
      metrics: new NotifyMetrics(),
      env: {
        DATABASE_URL: this.db.url,
        // Pacing lifted (rate_per_min): the doubles take any rate, and 100 incidents should not wait on it.
        PROBECTL_NOTIFY_CONNECTORS: [
          `${this.tenant}|servicenow|${p.servicenow.url}?rate_per_min=6000|${p.secrets.snUser}:${p.secrets.snPass}`,
          `${this.tenant}|pagerduty|${p.pagerduty.url}/v2/enqueue?rate_per_min=6000|${p.secrets.pd}`,
          this.other.entry(this.tenant2, 'servicenow'),
        ].join(','),
        PROBECTL_NOTIFY_INBOUND: `sn:${this.tenant}:servicenow:${this.secret},sn-other:${this.tenant2}:servicenow:${this.otherSecret}`,
        // Nothing but the delivery may resolve: no read-back of ServiceNow; one resolve per pager, no second.
        PROBECTL_NOTIFY_RECONCILE_INTERVAL: '0s',
        PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '0s',
        PROBECTL_NOTIFY_HTTP_TIMEOUT: '5s',
        LOG_LEVEL: 'info',
      },
    });
  }

  async teardown(): Promise<void> {
    this.server?.process.kill('SIGCONT');
    await this.stack?.stop();
    await this.server?.stop();
    await this.db?.drop();
    await this.providers?.stop();
    await this.other?.stop();
    for (const s of ['', '-wal', '-shm']) rmSync(this.dbFile + s, { force: true });
  }

  #deliver(entry: string, secret: string, body: string) {
    return this.stack.app.inject({ method: 'POST', url: `/ingest/itsm/servicenow/${entry}`, headers: { 'content-type': 'application/json', 'x-probectl-signature': sign(secret, body) }, payload: body });
  }

  async #pending(t: string): Promise<number> {
    return Number((await this.stack.pool.query('SELECT count(*)::int AS n FROM inbound_outbox WHERE tenant_id = $1 AND done_at IS NULL', [t])).rows[0].n);
  }

  /** N open incidents, each with a ServiceNow ticket (the origin) and a PagerDuty alert (the fan-out). */
  async open(): Promise<void> {
    const started = Date.now();
    this.incs = Array.from({ length: N }, () => incidentFor(this.tenant));
    for (let i = 0; i < N; i += 20) await Promise.all(this.incs.slice(i, i + 20).map((inc) => this.stack.incidents.openIncident(inc)));
    const ids = this.incs.map((x) => x.id);
    await eventually(async () => {
      const r = await this.stack.pool.query(`SELECT count(*)::int AS n FROM incident_integrations WHERE tenant_id = $1 AND incident_id = ANY($2) AND status = 'open'`, [this.tenant, ids]);
      return r.rows[0].n === 2 * N;
    }, { timeoutMs: 180_000, intervalMs: 500, what: `${2 * N} links open in the mirror` });
    this.tickets = this.incs.map((inc) => this.providers.servicenow.byCorrelation(`probectl-${inc.id}`)[0]!);
    // The mirror lags for some: their deliveries fall back to the correlation id, and need the owner check.
    await this.stack.pool.query('DELETE FROM incident_integrations WHERE tenant_id = $1 AND incident_id = ANY($2)', [this.tenant, ids.slice(0, FALLBACK)]);
    this.notes.opened = `${((Date.now() - started) / 1000).toFixed(1)} s`;
  }

  /** Temporal goes away; the resolutions arrive; every answer is 202 queued within a second, and recorded. */
  async outage(): Promise<void> {
    const { stack, incs, tickets } = this;
    this.t0 = Date.now();
    if (this.mode === 'stopped') await this.server.stop();
    else this.server.process.kill('SIGSTOP');

    // A person resolves each ticket; ServiceNow's Business Rule posts it, signed, and does not retry.
    const latencies: number[] = [];
    for (let i = 0; i < N; i += 10) {
      await Promise.all(incs.slice(i, i + 10).map(async (inc, j) => {
        const t = tickets[i + j]!;
        t.state = '6';
        const body = JSON.stringify({ sys_id: t.sys_id, state: '6', number: t.number, correlation_id: `probectl-${inc.id}`, actor: 'noc.engineer', work_notes: BODY_MARKER });
        const s = Date.now();
        const res = await this.#deliver('sn', this.secret, body);
        latencies.push(Date.now() - s);
        expect({ id: inc.id, status: res.statusCode, body: res.json() }).toEqual({ id: inc.id, status: 202, body: { outcome: 'accepted', kind: 'resolved', incidentId: inc.id, queued: true } });
      }));
    }
    // Another tenant's entry naming two of these incidents: accepted as far as Postgres can tell, later ignored.
    for (const inc of incs.slice(FALLBACK, FALLBACK + 2)) {
      const body = JSON.stringify({ sys_id: `not-ours-${inc.id}`, state: 6, correlation_id: `probectl-${inc.id}` });
      const res = await this.#deliver('sn-other', this.otherSecret, body);
      expect({ status: res.statusCode, body: res.json() }).toMatchObject({ status: 202, body: { outcome: 'accepted', queued: true } });
    }
    const answeredIn = Date.now() - this.t0;
    const sorted = [...latencies].sort((a, b) => a - b);
    this.notes.latency = `p50 ${sorted[Math.floor(N / 2)]} ms, max ${sorted[N - 1]} ms; all answered ${answeredIn} ms after the ${this.mode === 'stopped' ? 'stop' : 'SIGSTOP'}`;
    expect(sorted[N - 1]).toBeLessThan(1_000);
    expect({ pending: await this.#pending(this.tenant), other: await this.#pending(this.tenant2) }).toEqual({ pending: N, other: 2 });
    // The backlog is visible to an alert, and the queued answers are counted.
    const during = await stack.metrics.text();
    expect({
      pending: sample(during, 'probectl_notify_inbound_outbox_pending'),
      queued: sample(during, 'probectl_notify_inbound_verifications_total', { provider: 'servicenow', outcome: 'queued_resolved' }),
    }).toEqual({ pending: N + 2, queued: N + 2 });
    // A load balancer checking /readyz/inbound keeps sending deliveries; /readyz (which needs Temporal) does not.
    const [inboundReady, fullReady] = await Promise.all([stack.app.inject({ url: '/readyz/inbound' }), stack.app.inject({ url: '/readyz' })]);
    expect({ inbound: inboundReady.statusCode, full: fullReady.statusCode }).toEqual({ inbound: 200, full: 503 });
  }

  /** Wait out the rest of the outage, check nothing got through, and bring Temporal back. */
  async restore(): Promise<void> {
    const rest = OUTAGE_MS - (Date.now() - this.t0);
    if (rest > 0) await sleep(rest);
    const keys = new Set(this.incs.map((inc) => `probectl-${inc.id}`));
    expect(this.providers.pagerduty.events('resolve').filter((r) => keys.has((r.json as { dedup_key?: string }).dedup_key ?? ''))).toEqual([]);
    expect(await this.#pending(this.tenant)).toBe(N);
    this.notes.outage = `${((Date.now() - this.t0) / 1000).toFixed(1)} s`;
    this.back = Date.now();
    if (this.mode === 'stopped') this.server = await startDevServer({ cli: this.cli, dbFile: this.dbFile, port: this.server.port });
    else this.server.process.kill('SIGCONT');
  }

  /** Every delivery signalled and applied once; returns the scenario's row. */
  async settle(): Promise<ScenarioResult> {
    const { stack, incs, tickets, providers } = this;
    await eventually(async () => (await this.#pending(this.tenant)) + (await this.#pending(this.tenant2)) === 0, { timeoutMs: 120_000, intervalMs: 250, what: 'the outbox drained' });
    const drainedIn = Date.now() - this.back;
    let unsettled = 0;
    await Promise.all(incs.map(async (inc) => {
      try {
        const r = await withTimeout(stack.incidents.result(inc.id), 180_000, `the workflow of ${inc.id}`);
        expect({ id: inc.id, source: r.source, actor: r.actor }).toEqual({ id: inc.id, source: 'servicenow', actor: 'noc.engineer' });
      } catch (err) {
        unsettled += 1;
        process.stdout.write(`[inbound-outage] ${inc.id}: ${(err as Error).message}\n`);
      }
    }));
    const settledIn = Date.now() - this.back;

    // Applied once each: one resolution and one PagerDuty resolve on the timeline, the one alert resolved at
    // the double (a resolve request retried by its activity is counted, not failed: requests are not objects),
    // nothing sent to the origin.
    let signalsSent = 0;
    let pdResolveRequests = 0;
    const verify = async (inc: (typeof incs)[number], i: number) => {
      const key = `probectl-${inc.id}`;
      const timeline = await eventually(async () => {
        const t = await stack.mirror.timeline(this.tenant, inc.id);
        return t.some((e) => e.kind === 'resolved') && t.some((e) => e.kind === 'connector.resolved') ? t : undefined;
      }, { timeoutMs: 60_000, what: `the timeline of ${inc.id}` });
      expect({
        id: inc.id,
        resolved: timeline.filter((e) => e.kind === 'resolved').length,
        pdResolved: timeline.filter((e) => e.kind === 'connector.resolved' && e.connectorId === 'pagerduty').length,
        rejected: timeline.filter((e) => e.kind === 'signal.rejected').length,
        alerts: providers.pagerduty.alerts.filter((a) => a.dedupKey === key).map((a) => a.status),
      }).toEqual({ id: inc.id, resolved: 1, pdResolved: 1, rejected: 0, alerts: ['resolved'] });
      pdResolveRequests += providers.pagerduty.events('resolve').filter((r) => (r.json as { dedup_key?: string }).dedup_key === key).length;
      expect(providers.servicenow.requests.filter((r) => (r.method === 'PATCH' || r.method === 'PUT') && r.path.endsWith(tickets[i]!.sys_id))).toEqual([]);
      const history = await stack.client.workflow.getHandle(key).fetchHistory();
      signalsSent += (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'resolve').length;
    };
    for (let i = 0; i < N; i += 20) await Promise.all(incs.slice(i, i + 20).map((inc, j) => verify(inc, i + j)));
    // The other tenant's two deliveries were ignored by the owner check: no signal, no rejection on the timeline.
    const foreign = await stack.pool.query('SELECT outcome FROM inbound_outbox WHERE tenant_id = $1', [this.tenant2]);
    expect(foreign.rows.map((r) => r.outcome)).toEqual(['not_owner', 'not_owner']);
    const mine = await stack.pool.query('SELECT outcome, count(*)::int AS n FROM inbound_outbox WHERE tenant_id = $1 GROUP BY outcome ORDER BY outcome', [this.tenant]);
    expect(mine.rows.every((r) => r.outcome === 'signalled' || r.outcome === 'closed')).toBe(true);
    expect(sample(await stack.metrics.text(), 'probectl_notify_inbound_outbox_pending')).toBe(0);
    const logs = stack.logLines.join('\n');
    expect(logs).toContain('inbound delivery accepted and queued');
    expect(logs).toContain('inbound outbox row signalled');
    for (const s of [this.secret, this.otherSecret, BODY_MARKER, providers.secrets.snPass, providers.secrets.pd]) expect(logs).not.toContain(s);

    const notes = `opened in ${this.notes.opened}; answers: ${N}× 202 queued (+2 foreign), latency ${this.notes.latency}; outage ${this.notes.outage}; outbox drained ${(drainedIn / 1000).toFixed(1)} s and all incidents resolved ${(settledIn / 1000).toFixed(1)} s after Temporal returned; resolve signals in the histories: ${signalsSent} for ${N} incidents; PagerDuty resolve requests ${pdResolveRequests}; outcomes ${JSON.stringify(mine.rows)}, foreign 2 not_owner`;
    process.stdout.write(`[inbound-outage] ${this.mode}: ${notes}\n`);
    const expectations: IncidentExpectation[] = incs.map((inc) => ({ incidentId: inc.id, providers, expect: { servicenow: 'open+resolve', pagerduty: 'open+resolve' } }));
    const result: ScenarioResult = {
      group: GROUP,
      name: `Temporal ${this.mode} for ${OUTAGE_MS / 1000} s, ${N} signed resolutions`,
      injected: `dev server ${this.mode === 'stopped' ? 'stopped (SQLite kept)' : 'frozen (SIGSTOP, SIGCONT after)'} for ${OUTAGE_MS / 1000} s; ${N} signed ServiceNow resolutions during it (${FALLBACK} via the fallback), 2 from another tenant`,
      incidents: N,
      tally: tally(expectations),
      unsettled,
      notes,
      seconds: Math.round((Date.now() - this.t0) / 100) / 10,
    };
    recordResult(result);
    return result;
  }
}

describe('inbound deliveries while Temporal is unreachable: accepted, recorded, signalled when it is back', () => {
  let stopped: Round;
  let frozen: Round;

  beforeAll(async () => {
    const cli = findTemporalCli();
    stopped = new Round('stopped', cli);
    frozen = new Round('frozen', cli);
    await stopped.setup();
    await frozen.setup();
  }, 180_000);
  afterAll(async () => {
    await stopped?.teardown();
    await frozen?.teardown();
    printResults();
  }, 120_000);

  test(`Temporal stopped for ${OUTAGE_MS / 1000} s, and separately frozen (SIGSTOP) for ${OUTAGE_MS / 1000} s`, async () => {
    await stopped.open();
    await stopped.outage();
    // While the stopped round waits out its outage, the frozen round opens its incidents and begins its own.
    await frozen.open();
    await frozen.outage();
    await stopped.restore();
    const settled = await Promise.allSettled([
      stopped.settle(),
      (async () => {
        await frozen.restore();
        return frozen.settle();
      })(),
    ]);
    for (const r of settled) if (r.status === 'rejected') throw r.reason;
    for (const r of settled) if (r.status === 'fulfilled') expectClean(r.value);
  }, scale(8, 15) * 60_000);
});
