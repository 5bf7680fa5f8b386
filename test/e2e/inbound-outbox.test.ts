/**
 * The inbound outbox on the real dev server and Postgres (docs/inbound.md, "Accepted means recorded"):
 *   - Postgres unreachable (a cut proxy in DATABASE_URL): 503, and nothing recorded — no outbox row, no
 *     delivery id, no signal — so the provider's retry is processed as if it were the first.
 *   - Two API processes (`main.js api`) with their dispatchers on one database share a backlog built while
 *     their Temporal connection was cut: every row signalled once Temporal is back, no row by both.
 * The file has its own database: the dispatchers read every tenant's due rows.
 */
import { createHmac } from 'node:crypto';
import type { Pool } from 'pg';
import { Secret } from '../../src/config/secret';
import { InboundOutbox, type OutboxSignal } from '../../src/db/inbound-outbox';
import { migrate } from '../../src/db/migrate';
import { createPool } from '../../src/db/pool';
import { MirrorStore } from '../../src/db/mirror-store';
import { withServiceRole, withTenant } from '../../src/db/tenant-tx';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { freePort } from '../setup/temporal-server';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { eventually, sharedStack, sleep, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import { CuttableProxy } from '../helpers/tcp-proxy';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

const RA = 'R0UT1NGKEYoutboxA000000000000001';
const RB = 'R0UT1NGKEYoutboxB000000000000002';
const SECRET = 'pd-webhook-secret-outbox-0123456789';
const hmac = (body: string) => createHmac('sha256', SECRET).update(body).digest('hex');
type Json = Record<string, any>;

describe('inbound outbox: Postgres down, and several API replicas', () => {
  let pd: PagerDutyDouble;
  let db: TestDatabase;
  let direct: Pool;
  let pgProxy: CuttableProxy;
  let stack: TestStack;
  const tenant = uniqueId('obx');
  const procs: WorkerProcess[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    db = await createTestDatabase('outbox');
    direct = createPool(new Secret(db.url), { max: 2 });
    const url = new URL(db.url);
    pgProxy = await CuttableProxy.forAddress(`${url.hostname}:${url.port || 5432}`).start();
    url.host = pgProxy.address;
    env = {
      DATABASE_URL: url.toString(),
      // pd-a is the origin of every delivery here, pd-b the fan-out; pacing lifted, one resolve per pager.
      PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue?rate_per_min=6000|${RA}|pd-a,${tenant}|pagerduty|${pd.url}/v2/enqueue?rate_per_min=6000|${RB}|pd-b`,
      PROBECTL_NOTIFY_INBOUND: `pd-a:${tenant}:pagerduty:${SECRET}`,
      PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '0s',
      PROBECTL_NOTIFY_SHUTDOWN_DELAY: '0s',
      LOG_LEVEL: 'info',
    };
    stack = await startStack({ env });
    // The test's own reads through the proxy must survive the cut.
    stack.pool.on('connect', (client) => client.on('error', () => undefined));
  });
  afterAll(async () => {
    pgProxy?.restore();
    for (const p of procs) await p.kill('SIGKILL');
    await stack?.stop();
    await pgProxy?.stop();
    await direct?.end();
    await db?.drop();
    await pd?.stop();
  });

  const key = (id: string) => `probectl-${id}`;
  const webhook = (id: string) =>
    JSON.stringify({
      event: {
        id: uniqueId('ev'), event_type: 'incident.resolved', resource_type: 'incident', occurred_at: new Date().toISOString(),
        agent: { summary: 'Erin Oncall', type: 'user_reference' },
        data: { id: 'PGR0VU2', type: 'incident', incident_key: key(id), status: 'resolved' },
      },
    });
  const pdHeaders = (body: string, webhookId: string) => ({ 'content-type': 'application/json', 'x-webhook-id': webhookId, 'x-pagerduty-signature': `v1=${hmac(body)}` });
  const resolvesAt = (routingKey: string, id: string) =>
    pd.events('resolve').filter((r) => (r.json as Json).routing_key === routingKey && (r.json as Json).dedup_key === key(id)).length;
  const rows = async (table: 'inbound_outbox' | 'inbound_deliveries') =>
    Number((await direct.query(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [tenant])).rows[0].n);
  const resolveSignals = async (id: string) =>
    ((await stack.client.workflow.getHandle(key(id)).fetchHistory()).events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'resolve').length;

  async function openAll(n: number): Promise<string[]> {
    const incs = Array.from({ length: n }, () => incidentFor(tenant));
    await Promise.all(incs.map((inc) => stack.incidents.openIncident(inc)));
    const ids = incs.map((i) => i.id);
    await eventually(async () => {
      const r = await direct.query(`SELECT count(*)::int AS n FROM incident_integrations WHERE tenant_id = $1 AND incident_id = ANY($2) AND status = 'open'`, [tenant, ids]);
      return r.rows[0].n === 2 * n;
    }, { timeoutMs: 90_000, intervalMs: 250, what: `${2 * n} links open in the mirror` });
    return ids;
  }

  test('row-level security and leases: each tenant sees its own rows; the scan returns tenant and id only; a lease is held once', async () => {
    // Its own database: the stack's dispatcher scans and claims every due row of its database, and would race
    // the claims below (seen on a loaded machine: a1 claimed by the dispatcher first).
    const own = await createTestDatabase('outbox-rls');
    const direct = createPool(new Secret(own.url), { max: 2 });
    try {
      const mirror = new MirrorStore(direct);
      const outbox = new InboundOutbox(direct);
      const tA = uniqueId('rls-a');
      const tB = uniqueId('rls-b');
      const signal = (incidentId: string): OutboxSignal => ({ incidentId, kind: 'resolved', source: 'pd-a', entryId: 'pd-a', provider: 'pagerduty', actor: 'secret-free actor' });
      const enqueue = (t: string, incidentId: string, leaseMs?: number) =>
        mirror.inboundDelivery(t, undefined, (lookup) => lookup.enqueue(signal(incidentId), leaseMs)).then((o) => (o.duplicate ? undefined : o.value)!);
      const a1 = await enqueue(tA, 'inc-a1');
      const b1 = await enqueue(tB, 'inc-b1');
      const leased = await enqueue(tA, 'inc-a2', 60_000);

      // A tenant transaction sees, changes and inserts only its own rows.
      const seenByB = await withTenant(direct, tB, (c) => c.query('SELECT tenant_id, incident_id FROM inbound_outbox'));
      expect(seenByB.rows).toEqual([{ tenant_id: tB, incident_id: 'inc-b1' }]);
      expect((await withTenant(direct, tB, (c) => c.query("UPDATE inbound_outbox SET actor = 'x' WHERE id = $1", [a1.id]))).rowCount).toBe(0);
      expect((await withTenant(direct, tB, (c) => c.query('DELETE FROM inbound_outbox WHERE id = $1', [a1.id]))).rowCount).toBe(0);
      await expect(withTenant(direct, tB, (c) => c.query(
        "INSERT INTO inbound_outbox (tenant_id, incident_id, kind, source, entry_id, provider, check_owner) VALUES ($1, 'x', 'resolved', 's', 'e', 'pagerduty', false)", [tA],
      ))).rejects.toThrow(/row-level security/);
      // Without a tenant the service role sees nothing; the scan function gives due rows as (tenant, id) only.
      expect((await withServiceRole(direct, (c) => c.query('SELECT count(*)::int AS n FROM inbound_outbox'))).rows[0].n).toBe(0);
      const scan = await withServiceRole(direct, (c) => c.query('SELECT * FROM probectl_inbound_outbox_due(1000)'));
      expect(scan.fields.map((f) => f.name)).toEqual(['tenant_id', 'id']);
      const scanned = scan.rows.map((r) => `${r.tenant_id}:${r.id}`);
      expect(scanned).toEqual(expect.arrayContaining([`${tA}:${a1.id}`, `${tB}:${b1.id}`]));
      expect(scanned).not.toContain(`${tA}:${leased.id}`); // leased to its request: not due
      // Claiming through the wrong tenant gets nothing; the right one gets it once; a second claim gets nothing.
      expect(await outbox.claim(tB, [a1.id], 30_000)).toEqual([]);
      const first = await outbox.claim(tA, [a1.id, leased.id], 30_000);
      expect(first.map((r) => r.id)).toEqual([a1.id]);
      expect(first[0]).toMatchObject({ tenantId: tA, incidentId: 'inc-a1', attempts: 1, actor: 'secret-free actor' });
      expect(await outbox.claim(tA, [a1.id], 30_000)).toEqual([]);
      // A release by a stale holder changes nothing; the holder's own release makes it due again.
      await outbox.release({ ...first[0]!, leaseToken: 'not-the-lease' }, 0, 'stale');
      expect(await outbox.claim(tA, [a1.id], 30_000)).toEqual([]);
      await outbox.release(first[0]!, 0, 'Temporal unreachable');
      const again = await outbox.claim(tA, [a1.id], 30_000);
      expect(again.map((r) => [r.id, r.attempts])).toEqual([[a1.id, 2]]);
      await outbox.markDone(again[0]!, 'signalled');
      expect(await outbox.claim(tA, [a1.id], 0)).toEqual([]);
      const done = await direct.query('SELECT outcome, done_at IS NOT NULL AS done, lease_token FROM inbound_outbox WHERE id = $1', [a1.id]);
      expect(done.rows).toEqual([{ outcome: 'signalled', done: true, lease_token: null }]);

      // Retention: done rows go with the delivery ids after 30 days; a pending row never does.
      const old = await enqueue(tA, 'inc-old');
      await direct.query("UPDATE inbound_outbox SET received_at = now() - interval '40 days', done_at = now() - interval '31 days', outcome = 'signalled' WHERE id = ANY($1::bigint[])", [[a1.id]]);
      await direct.query("UPDATE inbound_outbox SET received_at = now() - interval '40 days' WHERE id = $1", [old.id]);
      await mirror.pruneDeliveries(tB, 30); // another tenant's pass deletes nothing of tA's
      expect((await direct.query('SELECT count(*)::int AS n FROM inbound_outbox WHERE tenant_id = $1', [tA])).rows[0].n).toBe(3);
      await mirror.pruneDeliveries(tA, 30);
      const left = await direct.query('SELECT incident_id FROM inbound_outbox WHERE tenant_id = $1 ORDER BY id', [tA]);
      expect(left.rows.map((r) => r.incident_id)).toEqual(['inc-a2', 'inc-old']);
      await direct.query('DELETE FROM inbound_outbox WHERE tenant_id = ANY($1)', [[tA, tB]]);
        } finally {
        await direct.end();
        await own.drop();
      }
    });

    test('owned by an ordinary role (as in production): the dispatcher still finds every tenant\'s due rows, and only those', async () => {
      // Tests otherwise run as a superuser, which bypasses row-level security altogether.
      const { adminUrl } = sharedStack();
      const role = `probectl_owner_${process.pid}_${Date.now().toString(36)}`;
      const name = `probectl_notify_owned_${process.pid}_${Date.now().toString(36)}`;
      const admin = createPool(new Secret(adminUrl), { max: 1 });
      await admin.query(`CREATE ROLE ${role} LOGIN NOSUPERUSER NOBYPASSRLS CREATEROLE`);
      await admin.query(`CREATE DATABASE ${name} OWNER ${role}`);
      const u = new URL(adminUrl);
      u.username = role;
      u.pathname = `/${name}`;
      const pool = createPool(new Secret(u.toString()));
      try {
        expect((await pool.query('SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user')).rows).toEqual([{ rolsuper: false, rolbypassrls: false }]);
        expect(await migrate(pool)).toEqual(expect.arrayContaining(['003_inbound_outbox.sql']));
        const mirror = new MirrorStore(pool);
        const signal = (incidentId: string): OutboxSignal => ({ incidentId, kind: 'acknowledged', source: 'pd-a', entryId: 'pd-a', provider: 'pagerduty' });
        const ids: Record<string, string> = {};
        for (const t of ['t-one', 't-two']) {
          const o = await mirror.inboundDelivery(t, { provider: 'pagerduty', deliveryId: `d-${t}`, entryId: 'pd-a' }, (lookup) => lookup.enqueue(signal(`inc-${t}`), undefined));
          ids[t] = o.duplicate ? '' : o.value.id;
        }
        const due = await mirror.outbox.due(10);
        expect(due.map((d) => `${d.tenantId}:${d.id}`).sort()).toEqual([`t-one:${ids['t-one']}`, `t-two:${ids['t-two']}`]);
        expect(await mirror.outbox.backlog()).toEqual({ pending: 2, oldestSeconds: expect.any(Number) });
        const [claimed] = await mirror.outbox.claim('t-one', [ids['t-one']!], 30_000);
        await mirror.outbox.markDone(claimed!, 'closed');
        expect((await mirror.outbox.due(10)).map((d) => d.tenantId)).toEqual(['t-two']);
        expect((await mirror.outbox.backlog()).pending).toBe(1);
        // The owning role itself reads pending rows only (the scan policy), never a done one.
        expect((await pool.query('SELECT tenant_id FROM inbound_outbox')).rows).toEqual([{ tenant_id: 't-two' }]);
        // The service role without a tenant: nothing.
        expect((await withServiceRole(pool, (c) => c.query('SELECT count(*)::int AS n FROM inbound_outbox'))).rows[0].n).toBe(0);
    } finally {
      await pool.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    }
  });

  test('Postgres unreachable: 503, nothing recorded, no signal; the retry is then processed once', async () => {
    const [id] = await openAll(1);
    const before = { outbox: await rows('inbound_outbox'), deliveries: await rows('inbound_deliveries') };
    const body = webhook(id!);
    pgProxy.cut();
    const t0 = Date.now();
    const withId = await stack.app.inject({ method: 'POST', url: '/ingest/itsm/pagerduty/pd-a', headers: pdHeaders(body, 'wh-pg-1'), payload: body });
    const portable = await stack.app.inject({
      method: 'POST', url: '/ingest/itsm/pagerduty/pd-a', headers: { 'content-type': 'application/json', 'x-probectl-token': SECRET },
      payload: JSON.stringify({ external_ref: key(id!), status: 'resolved' }),
    });
    const answeredIn = Date.now() - t0;
    for (const res of [withId, portable]) {
      expect({ status: res.statusCode, retryAfter: res.headers['retry-after'], body: res.json() }).toEqual({ status: 503, retryAfter: '30', body: { error: 'unavailable', message: expect.any(String) } });
    }
    expect(await stack.inboundMetrics.get('pagerduty', 'failed_503')).toBe(2);
    // A few dispatcher polls go by while Postgres is away, then it is back.
    await sleep(2_000);
    pgProxy.restore();
    await sleep(2_000);
    expect({ outbox: await rows('inbound_outbox'), deliveries: await rows('inbound_deliveries') }).toEqual(before);
    expect(await resolveSignals(id!)).toBe(0);
    expect((await stack.incidents.getIncident(id!)).status).toBe('open');
    expect(resolvesAt(RB, id!)).toBe(0);

    // PagerDuty retries the same delivery: it is new to us, accepted, and applied once.
    const retry = await stack.app.inject({ method: 'POST', url: '/ingest/itsm/pagerduty/pd-a', headers: pdHeaders(body, 'wh-pg-1'), payload: body });
    expect({ status: retry.statusCode, body: retry.json() }).toEqual({ status: 202, body: { outcome: 'accepted', kind: 'resolved', incidentId: id } });
    const result = await stack.incidents.result(id!);
    expect(result.source).toBe('pd-a');
    expect({ pdA: resolvesAt(RA, id!), pdB: resolvesAt(RB, id!), signals: await resolveSignals(id!) }).toEqual({ pdA: 0, pdB: 1, signals: 1 });
    await eventually(async () => (await direct.query('SELECT outcome FROM inbound_outbox WHERE tenant_id = $1', [tenant])).rows[0]?.outcome === 'signalled', { what: 'the row done' });
    expect({ outbox: await rows('inbound_outbox'), deliveries: await rows('inbound_deliveries') }).toEqual({ outbox: before.outbox + 1, deliveries: before.deliveries + 1 });
    process.stdout.write(`[inbound-outbox] Postgres cut: two deliveries answered 503 in ${answeredIn} ms\n`);
  }, 120_000);

  test('two API processes share a queued backlog: every row signalled, none by both', async () => {
    await stack.dispatcher?.stop(); // only the two API processes dispatch from here on
    const temporal = await CuttableProxy.forAddress(sharedStack().temporalAddress).start();
    try {
      const ports = [await freePort(), await freePort()];
      const apis = ports.map((port) => {
        const p = spawnWorker({ ...stack.env, DATABASE_URL: db.url, TEMPORAL_ADDRESS: temporal.address, PROBECTL_NOTIFY_API_PORT: String(port) }, 'api');
        procs.push(p);
        return p;
      });
      await Promise.all(apis.map((a) => a.ready));

      // A backlog: 25 incidents, 12 resolutions each without a delivery id (ServiceNow-style repeats),
      // posted to both replicas while their Temporal connection is cut.
      const ids = await openAll(25);
      const copies = 12;
      temporal.cut();
      const answers: Record<string, number> = {};
      const posts = ids.flatMap((id) => Array.from({ length: copies }, (_, i) => ({ id, port: ports[i % 2]! })));
      for (let i = 0; i < posts.length; i += 20) {
        await Promise.all(posts.slice(i, i + 20).map(async ({ id, port }) => {
          const res = await fetch(`http://127.0.0.1:${port}/ingest/itsm/pagerduty/pd-a`, {
            method: 'POST', headers: { 'content-type': 'application/json', 'x-probectl-token': SECRET },
            body: JSON.stringify({ external_ref: key(id), status: 'resolved' }), signal: AbortSignal.timeout(5_000),
          });
          const b = (await res.json()) as Json;
          const k = `${res.status} ${b.outcome}${b.queued ? ' queued' : ''}`;
          answers[k] = (answers[k] ?? 0) + 1;
        }));
      }
      expect(answers).toEqual({ '202 accepted queued': posts.length });
      const backlog = await direct.query<{ id: string }>('SELECT id::text AS id FROM inbound_outbox WHERE tenant_id = $1 AND done_at IS NULL ORDER BY id', [tenant]);
      expect(backlog.rows).toHaveLength(posts.length);
      for (const id of ids) expect(resolvesAt(RB, id)).toBe(0);

      const back = Date.now();
      temporal.restore();
      await eventually(async () => (await direct.query('SELECT count(*)::int AS n FROM inbound_outbox WHERE tenant_id = $1 AND done_at IS NULL', [tenant])).rows[0].n === 0, {
        timeoutMs: 60_000, intervalMs: 200, what: 'the backlog drained',
      });
      const drainedIn = Date.now() - back;

      // Which replica sent which row, from their logs.
      const sentBy = apis.map((a) => a.output().split('\n').filter((l) => l.includes('"inbound outbox row signalled"')).map((l) => String((JSON.parse(l) as Json).outboxId)));
      const all = sentBy.flat();
      const both = sentBy[0]!.filter((x) => sentBy[1]!.includes(x));
      expect({ both, duplicates: all.length - new Set(all).size }).toEqual({ both: [], duplicates: 0 });
      expect(new Set(all)).toEqual(new Set(backlog.rows.map((r) => r.id)));
      expect(sentBy.map((s) => s.length > 0)).toEqual([true, true]); // both replicas took part

      // Applied once per incident: one resolve at pd-b, none at the origin, one resolution on the timeline.
      for (const id of ids) {
        const result = await stack.incidents.result(id);
        expect({ id, source: result.source, pdA: resolvesAt(RA, id), pdB: resolvesAt(RB, id) }).toEqual({ id, source: 'pd-a', pdA: 0, pdB: 1 });
        const timeline = await eventually(async () => {
          const t = await stack.mirror.timeline(tenant, id);
          return t.some((e) => e.kind === 'connector.resolved') ? t : undefined;
        });
        expect(timeline.filter((e) => e.kind === 'resolved')).toHaveLength(1);
      }
      const outcomes = await direct.query('SELECT outcome, count(*)::int AS n FROM inbound_outbox WHERE tenant_id = $1 AND id = ANY($2::bigint[]) GROUP BY outcome ORDER BY outcome', [tenant, backlog.rows.map((r) => r.id)]);
      const split = sentBy.map((s) => s.length).join(' / ');
      process.stdout.write(`[inbound-outbox] ${posts.length} queued rows drained ${(drainedIn / 1000).toFixed(1)} s after Temporal returned; rows per replica ${split}; outcomes ${JSON.stringify(outcomes.rows)}\n`);
      for (const a of apis) expect(a.output()).not.toContain(SECRET);
    } finally {
      temporal.restore();
      for (const p of procs.splice(0)) await p.kill('SIGTERM');
      await temporal.stop();
    }
  }, 240_000);
});
