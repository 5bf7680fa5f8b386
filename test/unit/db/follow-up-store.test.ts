/**
 * The follow-up store (migrations/005, src/db/follow-up-store.ts) on the run's real Postgres: the writer inside the
 * mirror's record transaction is idempotent and stores known fields only; row-level security keeps tenants apart;
 * the due function returns only (tenant, id) of due, unleased, undone rows of one queue; claim, lease, complete,
 * reschedule and prune; and two runners racing on the same rows never both run one.
 */
import type { Pool } from 'pg';
import { HttpClient } from '../../../src/http/client';
import { Pacer } from '../../../src/activities/pacing';
import { ConnectorDirectory } from '../../../src/config/connectors';
import { Secret } from '../../../src/config/secret';
import { FollowUpStore, type LeasedFollowUp } from '../../../src/db/follow-up-store';
import { MirrorStore } from '../../../src/db/mirror-store';
import { createPool } from '../../../src/db/pool';
import { withServiceRole, withTenant } from '../../../src/db/tenant-tx';
import { FollowUpRunner, type TryOutcome } from '../../../src/followups/runner';
import { createLogger } from '../../../src/observability/logger';
import { NotifyMetrics } from '../../../src/observability/metrics';
import { ProbectlDouble } from '../../../dev/doubles/probectl';
import type { Incident } from '../../../src/shared/contract';
import type { FollowUpRecord } from '../../../src/shared/records';
import { sharedStack, sleep, uniqueId } from '../../helpers/shared';

const CALLBACK_SECRET = 'callback-secret-store-test-0123456789';

let pool: Pool;
beforeAll(() => {
  pool = createPool(new Secret(sharedStack().databaseUrl));
});
afterAll(async () => {
  await pool.end();
});

const incidentOf = (tenantId: string): Incident => ({ id: uniqueId('inc'), tenantId, title: 'Packet loss', severity: 'critical', openedAt: new Date().toISOString() });
const callbackOf = (inc: Incident, key: string, dueAt = new Date(Date.now() - 1_000).toISOString()): FollowUpRecord => ({
  key, kind: 'callback', dueAt,
  event: { type: 'incident.resolved', eventId: `probectl-${inc.id}/incident.resolved`, incidentId: inc.id, tenantId: inc.tenantId, source: 'api', at: dueAt, links: [] },
});
const reResolveOf = (key: string, dueAt = new Date(Date.now() - 1_000).toISOString()): FollowUpRecord => ({
  key, kind: 're-resolve', dueAt, connectorId: 'pagerduty', externalRef: 'probectl-x', resolution: { source: 'api', actor: 'alice' },
});
const rows = (tenantId: string, incidentId?: string) =>
  withTenant(pool, tenantId, async (c) =>
    (await c.query<{ id: string; tenant_id: string; key: string; attempts: number; outcome: string | null; payload: Record<string, unknown>; lease_until: Date | null; due_at: Date; last_error: string | null }>(
      `SELECT id::text AS id, tenant_id, key, attempts, outcome, payload, lease_until, due_at, last_error FROM follow_ups
        WHERE tenant_id = $1 ${incidentId ? 'AND incident_id = $2' : ''} ORDER BY id`,
      incidentId ? [tenantId, incidentId] : [tenantId],
    )).rows);

describe('the writer (inside MirrorStore.record)', () => {
  test('records follow-ups with the batch; a repeated record is one row per key; followUpsRecorded says so', async () => {
    const store = new FollowUpStore(pool, uniqueId('tq'));
    const mirror = new MirrorStore(pool, store);
    const tenant = uniqueId('fw');
    const inc = incidentOf(tenant);
    const f = [reResolveOf('chain-1:re-resolve:pagerduty'), callbackOf(inc, 'chain-1:callback:resolved')];
    expect(await mirror.record({ incident: inc, status: 'resolved', followUps: f })).toEqual({ followUpsRecorded: true });
    expect(await mirror.record({ incident: inc, status: 'resolved', followUps: [...f].reverse() })).toEqual({ followUpsRecorded: true });
    expect((await rows(tenant, inc.id)).map((r) => r.key)).toEqual(['chain-1:re-resolve:pagerduty', 'chain-1:callback:resolved']);
    // Without a writer, nothing is recorded and the caller is told so.
    const bare = new MirrorStore(pool);
    const other = incidentOf(tenant);
    expect(await bare.record({ incident: other, followUps: [callbackOf(other, 'chain-2:callback:resolved')] })).toEqual({ followUpsRecorded: false });
    expect(await rows(tenant, other.id)).toEqual([]);
  });

  test('a follow-up written again with other content keeps the first; only known fields are stored', async () => {
    const store = new FollowUpStore(pool, uniqueId('tq'));
    const mirror = new MirrorStore(pool, store);
    const tenant = uniqueId('fw');
    const inc = incidentOf(tenant);
    const smuggled = { ...reResolveOf('chain-1:re-resolve:pagerduty'), credential: 'R0UT1NGKEYmustNotBeStored000001', resolution: { source: 'api', token: 'tok-must-not-be-stored-000' } };
    await mirror.record({ incident: { ...inc, ...({ webhookUrl: 'https://hooks.example/T0/B0/secret-path-0000' } as object) }, followUps: [smuggled as unknown as FollowUpRecord] });
    await mirror.record({ incident: inc, followUps: [{ ...reResolveOf('chain-1:re-resolve:pagerduty'), connectorId: 'other' } as FollowUpRecord] });
    const stored = await withTenant(pool, tenant, async (c) => (await c.query('SELECT payload, incident FROM follow_ups WHERE tenant_id = $1', [tenant])).rows);
    expect(stored).toHaveLength(1);
    expect(stored[0].payload).toEqual({ key: 'chain-1:re-resolve:pagerduty', kind: 're-resolve', dueAt: expect.any(String), connectorId: 'pagerduty', externalRef: 'probectl-x', resolution: { source: 'api' } });
    const text = JSON.stringify(stored);
    expect(text).not.toContain('R0UT1NGKEYmustNotBeStored');
    expect(text).not.toContain('tok-must-not-be-stored');
    expect(text).not.toContain('secret-path');
  });

  test('a failing writer rolls the whole record back', async () => {
    const store = new FollowUpStore(pool, uniqueId('tq'));
    const mirror = new MirrorStore(pool, store);
    const tenant = uniqueId('fw');
    const inc = incidentOf(tenant);
    const tooLong = reResolveOf(`k${'x'.repeat(400)}`); // over the key's length check
    await expect(mirror.record({ incident: inc, entries: [{ key: 'chain-1:d1', at: new Date().toISOString(), kind: 'resolved' }], followUps: [tooLong] })).rejects.toThrow();
    expect(await mirror.timeline(tenant, inc.id)).toEqual([]);
  });
});

describe('row-level security and the due function', () => {
  test('tenant A neither sees nor changes tenant B’s follow-ups', async () => {
    const queue = uniqueId('tq');
    const store = new FollowUpStore(pool, queue);
    const mirror = new MirrorStore(pool, store);
    const [a, b] = [uniqueId('rls-a'), uniqueId('rls-b')];
    const incB = incidentOf(b);
    await mirror.record({ incident: incB, followUps: [callbackOf(incB, 'c:callback:resolved')] });
    const idB = (await rows(b))[0]!.id;
    await withTenant(pool, a, async (c) => {
      expect((await c.query('SELECT count(*)::int AS n FROM follow_ups WHERE tenant_id = $1', [b])).rows[0].n).toBe(0);
      expect((await c.query('SELECT count(*)::int AS n FROM follow_ups')).rows[0].n).toBe(0);
      expect((await c.query("UPDATE follow_ups SET done_at = now(), outcome = 'ok' WHERE id = $1", [idB])).rowCount).toBe(0);
      expect((await c.query('DELETE FROM follow_ups WHERE id = $1', [idB])).rowCount).toBe(0);
    });
    // Writing a row for B inside A's transaction is refused by the policy.
    await expect(withTenant(pool, a, (c) => store.write(c, incB, [callbackOf(incB, 'c:callback:acknowledged')]))).rejects.toThrow(/row-level security/);
    // Claiming B's id as A claims nothing; B's row is untouched.
    expect(await store.claim(a, [idB], 60_000)).toEqual([]);
    expect((await rows(b))[0]).toMatchObject({ attempts: 0, outcome: null, lease_until: null });
  });

  test('the due function returns only (tenant, id) of due, unleased, undone rows of its queue; the service role sees no row itself', async () => {
    const queue = uniqueId('tq');
    const store = new FollowUpStore(pool, queue);
    const elsewhere = new FollowUpStore(pool, uniqueId('tq'));
    const tenant = uniqueId('due');
    const inc = incidentOf(tenant);
    await new MirrorStore(pool, store).record({
      incident: inc,
      followUps: [callbackOf(inc, 'c:due'), callbackOf(inc, 'c:later', new Date(Date.now() + 60_000).toISOString()), callbackOf(inc, 'c:leased'), callbackOf(inc, 'c:done')],
    });
    await new MirrorStore(pool, elsewhere).record({ incident: inc, followUps: [callbackOf(inc, 'c:other-queue')] });
    const byKey = Object.fromEntries((await rows(tenant, inc.id)).map((r) => [r.key, r.id]));
    await store.claim(tenant, [byKey['c:leased']!], 60_000);
    const [done] = await store.claim(tenant, [byKey['c:done']!], 60_000);
    await store.complete(done!, 'ok');

    const listed = await withServiceRole(pool, async (c) => {
      const r = await c.query('SELECT * FROM probectl_follow_ups_due($1, 100)', [queue]);
      return { columns: r.fields.map((f) => f.name), rows: r.rows as Array<{ tenant_id: string; id: string }> };
    });
    expect(listed.columns).toEqual(['tenant_id', 'id']);
    expect(listed.rows.map((r) => String(r.id))).toEqual([byKey['c:due']]);
    expect(await store.due(100)).toEqual([{ tenantId: tenant, id: byKey['c:due'] }]);
    expect(await withServiceRole(pool, async (c) => (await c.query('SELECT count(*)::int AS n FROM follow_ups')).rows[0].n)).toBe(0);
    // The limit is applied.
    await new MirrorStore(pool, store).record({ incident: inc, followUps: [callbackOf(inc, 'c:due-2'), callbackOf(inc, 'c:due-3')] });
    expect(await store.due(2)).toHaveLength(2);
  });
});

describe('claim, lease, complete, reschedule, prune', () => {
  test('a claimed row is leased (not due, not claimable) until its lease ends, then due again; complete and reschedule', async () => {
    const store = new FollowUpStore(pool, uniqueId('tq'));
    const tenant = uniqueId('lease');
    const inc = incidentOf(tenant);
    await new MirrorStore(pool, store).record({ incident: inc, followUps: [callbackOf(inc, 'c:1')] });
    const id = (await store.due(10))[0]!.id;
    const [first] = await store.claim(tenant, [id], 400);
    expect(first).toMatchObject({ id, attempts: 1, key: 'c:1', incidentId: inc.id, followUp: { kind: 'callback' } });
    expect(await store.due(10)).toEqual([]);
    expect(await store.claim(tenant, [id], 400)).toEqual([]);
    await sleep(600); // the holder vanished: the lease ends
    expect(await store.due(10)).toEqual([{ tenantId: tenant, id }]);
    const [second] = await store.claim(tenant, [id], 60_000);
    expect(second!.attempts).toBe(2);
    // The first holder's lease passed to the second: its reschedule changes nothing.
    expect(await store.reschedule(first!, 0, 'late')).toBe(false);
    expect(await store.reschedule(second!, 60_000, 'probectl callback: HTTP 503')).toBe(true);
    const after = (await rows(tenant, inc.id))[0]!;
    expect(after.lease_until).toBeNull();
    expect(after.last_error).toBe('probectl callback: HTTP 503');
    expect(after.due_at.getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect(await store.due(10)).toEqual([]);
    // Completed by whoever finishes (even a holder whose lease ran out); done once.
    expect(await store.complete(first!, 'ok')).toBe(true);
    expect(await store.complete(second!, 'failed', 'x')).toBe(false);
    expect((await rows(tenant, inc.id))[0]).toMatchObject({ outcome: 'ok', last_error: null, lease_until: null });
    expect(await store.reschedule(second!, 0, 'x')).toBe(false);
  });

  test('an error text holding NUL (a provider body can) is stored with U+FFFD: reschedule and complete never fail on it', async () => {
    const store = new FollowUpStore(pool, uniqueId('tq'));
    const tenant = uniqueId('nul');
    const inc = incidentOf(tenant);
    await new MirrorStore(pool, store).record({ incident: inc, followUps: [callbackOf(inc, 'c:nul')] });
    const id = (await store.due(100)).find((d) => d.tenantId === tenant)!.id;
    // NUL first, in the middle, and as the last character the cut (500) keeps.
    for (const error of ['\u0000HTTP 400', 'HTTP 400: a\u0000b', `${'x'.repeat(499)}\u0000`]) {
      const [row] = await store.claim(tenant, [id], 60_000);
      expect(await store.reschedule(row!, 0, error)).toBe(true);
      const stored = (await rows(tenant, inc.id))[0]!.last_error!;
      expect([stored.includes('\u0000'), stored.includes('\ufffd')]).toEqual([false, true]);
    }
    const [last] = await store.claim(tenant, [id], 60_000);
    expect(await store.complete(last!, 'failed', 'HTTP 400: \u0000')).toBe(true);
    expect((await rows(tenant, inc.id))[0]).toMatchObject({ outcome: 'failed', last_error: 'HTTP 400: \ufffd' });
  });

  test('prune deletes the tenant’s done rows past the retention, never an undone one, never another tenant’s', async () => {
    const store = new FollowUpStore(pool, uniqueId('tq'));
    const mirror = new MirrorStore(pool, store);
    const [tenant, other] = [uniqueId('prune'), uniqueId('prune-other')];
    const inc = incidentOf(tenant);
    const incOther = incidentOf(other);
    await mirror.record({ incident: inc, followUps: [callbackOf(inc, 'old-done'), callbackOf(inc, 'old-undone'), callbackOf(inc, 'new-done')] });
    await mirror.record({ incident: incOther, followUps: [callbackOf(incOther, 'old-done')] });
    for (const [t, i] of [[tenant, inc], [other, incOther]] as const) {
      await withTenant(pool, t, (c) => c.query(
        `UPDATE follow_ups SET done_at = now() - CASE key WHEN 'new-done' THEN interval '1 day' ELSE interval '31 days' END, outcome = 'ok'
          WHERE tenant_id = $1 AND incident_id = $2 AND key <> 'old-undone'`, [t, i.id]));
    }
    expect(await store.prune(tenant)).toBe(1);
    expect((await rows(tenant, inc.id)).map((r) => r.key).sort()).toEqual(['new-done', 'old-undone']);
    expect((await rows(other, incOther.id)).map((r) => r.key)).toEqual(['old-done']);
  });
});

describe('two runners on the same queue', () => {
  test('concurrent claims of the same ids split them: no row is leased to both', async () => {
    const queue = uniqueId('tq');
    const [s1, s2] = [new FollowUpStore(pool, queue), new FollowUpStore(pool, queue)];
    const tenant = uniqueId('claims');
    for (let round = 0; round < 10; round++) {
      const inc = incidentOf(tenant);
      await new MirrorStore(pool, s1).record({ incident: inc, followUps: Array.from({ length: 20 }, (_, i) => callbackOf(inc, `c:${i}`)) });
      const ids = (await rows(tenant, inc.id)).map((r) => r.id);
      const [a, b] = await Promise.all([s1.claim(tenant, ids, 60_000), s2.claim(tenant, ids, 60_000)]);
      const got = [...a, ...b].map((r) => r.id);
      expect(got.sort()).toEqual([...ids].sort());
      expect(new Set(got).size).toBe(ids.length);
    }
  });


  test('racing on the same due rows: every row is carried out once, by one of them', async () => {
    const probectl = await new ProbectlDouble(CALLBACK_SECRET).start();
    const http = new HttpClient({ timeoutMs: 5_000 });
    const queue = uniqueId('tq');
    const tenants = [uniqueId('race-a'), uniqueId('race-b')];
    const N = 40;
    try {
      const writer = new FollowUpStore(pool, queue);
      const mirror = new MirrorStore(pool, writer);
      const incidents = Array.from({ length: N }, (_, i) => incidentOf(tenants[i % 2]!));
      for (const inc of incidents) await mirror.record({ incident: inc, followUps: [callbackOf(inc, 'c:callback:resolved')] });

      // Both runners list the same due rows before either claims (a barrier inside `due`), then race to claim them.
      const listed: string[][] = [];
      let arrived = 0;
      let open: () => void = () => undefined;
      const barrier = new Promise<void>((r) => (open = r));
      const tried: Array<{ runner: number; row: LeasedFollowUp; outcome: TryOutcome }> = [];
      const runner = (n: number) => {
        const store = new FollowUpStore(pool, queue);
        const due = store.due.bind(store);
        store.due = async (limit) => {
          const got = await due(limit);
          if (listed.length < 2) {
            listed.push(got.map((g) => g.id));
            arrived += 1;
            if (arrived === 2) open();
            await barrier;
          }
          return got;
        };
        return new FollowUpRunner({
          store, mirror, log: createLogger('silent'), metrics: new NotifyMetrics(), concurrency: 4, batchSize: N,
          deps: {
            connectors: new ConnectorDirectory([]), http, pacer: new Pacer(), pagerReResolveDelayMs: 1_000,
            callback: { url: new Secret(`${probectl.url}/api/notify/events`), secret: new Secret(CALLBACK_SECRET), signature: 'timestamped' },
          },
          onTried: (row, outcome) => tried.push({ runner: n, row, outcome }),
        });
      };
      const [r1, r2] = [runner(1), runner(2)];
      await Promise.all([r1.step(), r2.step()]);

      // The race really happened: both listed every row.
      expect(listed).toHaveLength(2);
      expect(listed[0]!.sort()).toEqual(listed[1]!.sort());
      expect(listed[0]).toHaveLength(N);
      // Yet each row was tried once, and each event reached probectl once.
      expect(tried).toHaveLength(N);
      expect(new Set(tried.map((t) => t.row.id)).size).toBe(N);
      expect(tried.every((t) => t.outcome === 'ok')).toBe(true);
      expect(probectl.events).toHaveLength(N);
      expect(probectl.accepted()).toHaveLength(N);
      for (const t of tenants) expect((await rows(t)).filter((r) => r.outcome === 'ok' && r.attempts === 1)).toHaveLength(N / 2);
      process.stdout.write(`two runners racing on ${N} rows: runner 1 took ${tried.filter((t) => t.runner === 1).length}, runner 2 ${tried.filter((t) => t.runner === 2).length}\n`);
    } finally {
      await http.close();
      await probectl.stop();
    }
  });
});
