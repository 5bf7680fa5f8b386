/**
 * A writer's record as one statement (src/db/record-statement.ts, MirrorStore.record) on the run's real Postgres:
 * - for any sequence of batches — raising or not, links repeated across and within batches, terminal links,
 *   older writes after newer ones, repeated entry keys, NUL characters — the rows it leaves are the rows the
 *   row-by-row writes (one statement per row, the incident always updated: the code before it, kept here as the
 *   reference) leave, except the incident's `updated_at`, which nothing reads;
 * - it is one round trip (the frame, the statement and COMMIT as one string) whatever the batch holds, and one with
 *   follow-ups or a connector named twice takes the statement-by-statement path (covered by the same property);
 * - every path takes its locks in one order — the incident row, the links, the entries — so two records of one
 *   incident never deadlock (a one-statement record against a statement-by-statement one holding the row);
 * - a batch that raises nothing takes no lock on the incident row: records of one incident do not queue behind one
 *   another (the row-by-row record did); only one behind an open acknowledgement or resolution waits for it.
 */
import fc from 'fast-check';
import type { Pool, PoolClient } from 'pg';
import { Secret } from '../../../src/config/secret';
import { MirrorStore, type RecordBatch } from '../../../src/db/mirror-store';
import { createPool } from '../../../src/db/pool';
import { frameSql, withTenant } from '../../../src/db/tenant-tx';
import { LINK_UPSERT, recordStatement } from '../../../src/db/record-statement';
import { storable } from '../../../src/db/storable';
import type { Incident, Link, LinkStatus } from '../../../src/shared/contract';
import { eventually, handled, sharedStack, uniqueId } from '../../helpers/shared';

let pool: Pool;
let mirror: MirrorStore;
beforeAll(() => {
  pool = createPool(new Secret(sharedStack().databaseUrl));
  mirror = new MirrorStore(pool);
});
afterAll(async () => {
  await pool.end();
});

/**
 * The row-by-row record as it was before the one statement (the reference the statement must match). Its SQL repeats
 * the production rules on purpose: a reference built from the same constants would agree with any change to them.
 */
async function referenceRecord(recorded: RecordBatch): Promise<void> {
  const batch = storable(recorded);
  const { incident } = batch;
  await withTenant(pool, incident.tenantId, async (c) => {
    await c.query(
      `INSERT INTO incidents (tenant_id, incident_id, title, severity, status, opened_at, acknowledged_at, resolved_at, resolution_source, resolution_actor)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (tenant_id, incident_id) DO UPDATE SET
         status = CASE
           WHEN incidents.status = 'resolved' OR EXCLUDED.status = 'resolved' THEN 'resolved'
           WHEN incidents.status = 'acknowledged' OR EXCLUDED.status = 'acknowledged' THEN 'acknowledged'
           ELSE 'open' END,
         acknowledged_at = COALESCE(incidents.acknowledged_at, EXCLUDED.acknowledged_at),
         resolved_at = COALESCE(incidents.resolved_at, EXCLUDED.resolved_at),
         resolution_source = COALESCE(incidents.resolution_source, EXCLUDED.resolution_source),
         resolution_actor = COALESCE(incidents.resolution_actor, EXCLUDED.resolution_actor),
         updated_at = now()`,
      [
        incident.tenantId, incident.id, incident.title, incident.severity, batch.status ?? 'open', incident.openedAt,
        batch.acknowledgedAt ?? null, batch.resolution?.at ?? null, batch.resolution?.source ?? null, batch.resolution?.actor ?? null,
      ],
    );
    for (const l of batch.links ?? []) {
      await c.query(
        `INSERT INTO incident_integrations (tenant_id, incident_id, connector_id, provider, status, external_ref, external_url, last_error, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (tenant_id, incident_id, connector_id) DO UPDATE SET
           status = EXCLUDED.status,
           external_ref = COALESCE(EXCLUDED.external_ref, incident_integrations.external_ref),
           external_url = COALESCE(EXCLUDED.external_url, incident_integrations.external_url),
           last_error = EXCLUDED.last_error,
           updated_at = EXCLUDED.updated_at
         WHERE (incident_integrations.status NOT IN ('resolved', 'orphaned') OR EXCLUDED.status IN ('resolved', 'orphaned'))
           AND (EXCLUDED.updated_at >= incident_integrations.updated_at OR EXCLUDED.status IN ('resolved', 'orphaned'))`,
        [incident.tenantId, incident.id, l.connectorId, l.provider, l.status, l.externalRef ?? null, l.externalUrl ?? null, l.error ?? null, l.updatedAt],
      );
    }
    for (const t of batch.entries ?? []) {
      await c.query(
        `INSERT INTO incident_timeline (tenant_id, incident_id, entry_key, at, kind, connector_id, source, actor, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
        [incident.tenantId, incident.id, t.key, t.at, t.kind, t.connectorId ?? null, t.source ?? null, t.actor ?? null, t.detail ?? null],
      );
    }
  });
}

/** The API's read as it was before the one statement (two statements), the reference MirrorStore.read must match. */
async function referenceRead(tenantId: string, incidentId: string) {
  return withTenant(pool, tenantId, async (c) => {
    const inc = await c.query<{ status: string; resolved_at: Date | null; resolution_source: string | null; resolution_actor: string | null }>(
      'SELECT status, resolved_at, resolution_source, resolution_actor FROM incidents WHERE tenant_id = $1 AND incident_id = $2', [tenantId, incidentId]);
    const links = await c.query<{ connector_id: string; provider: string; status: string; external_ref: string | null; external_url: string | null; last_error: string | null; updated_at: Date }>(
      'SELECT connector_id, provider, status, external_ref, external_url, last_error, updated_at FROM incident_integrations WHERE tenant_id = $1 AND incident_id = $2 ORDER BY id', [tenantId, incidentId]);
    const row = inc.rows[0];
    if (!row && links.rows.length === 0) return undefined;
    return {
      status: row?.status ?? 'open',
      ...(row?.resolved_at ? { resolvedAt: row.resolved_at.toISOString() } : {}),
      ...(row?.resolution_source ? { resolutionSource: row.resolution_source } : {}),
      ...(row?.resolution_actor ? { resolutionActor: row.resolution_actor } : {}),
      links: links.rows.map((r) => ({
        connectorId: r.connector_id, provider: r.provider, status: r.status,
        ...(r.external_ref ? { externalRef: r.external_ref } : {}),
        ...(r.external_url ? { externalUrl: r.external_url } : {}),
        ...(r.last_error ? { error: r.last_error } : {}),
        updatedAt: r.updated_at.toISOString(),
      })),
    };
  });
}

/** What a reader can see of one incident (ids, creation times and the incident's updated_at left out). */
async function rowsOf(tenantId: string, incidentId: string) {
  return withTenant(pool, tenantId, async (c) => ({
    incident: (await c.query(
      'SELECT title, severity, status, opened_at, acknowledged_at, resolved_at, resolution_source, resolution_actor FROM incidents WHERE tenant_id = $1 AND incident_id = $2',
      [tenantId, incidentId],
    )).rows,
    links: (await c.query(
      'SELECT connector_id, provider, status, external_ref, external_url, last_error, updated_at FROM incident_integrations WHERE tenant_id = $1 AND incident_id = $2 ORDER BY id',
      [tenantId, incidentId],
    )).rows,
    timeline: (await c.query(
      'SELECT entry_key, at, kind, connector_id, source, actor, detail FROM incident_timeline WHERE tenant_id = $1 AND incident_id = $2 ORDER BY at, id',
      [tenantId, incidentId],
    )).rows,
  }));
}

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const iso = (s: number) => new Date(T0 + s * 1_000).toISOString();
const text = fc.oneof(fc.constantFrom('a', 'b', 'x\u0000y', "q'uo\\te", 'é🙂', ''), fc.string({ maxLength: 6 }));
const LINK_STATUSES: LinkStatus[] = ['pending', 'open', 'acknowledged', 'resolved', 'failed', 'skipped', 'orphaned'];

/** A batch without its incident (added per run): a few connectors, statuses, times and entry keys, collisions likely. */
const batchArb = fc.record({
  status: fc.option(fc.constantFrom('open', 'acknowledged', 'resolved') as fc.Arbitrary<'open' | 'acknowledged' | 'resolved'>, { nil: undefined }),
  acknowledgedAt: fc.option(fc.integer({ min: 0, max: 9 }).map(iso), { nil: undefined }),
  resolution: fc.option(fc.record({ at: fc.integer({ min: 0, max: 9 }).map(iso), source: fc.constantFrom('pagerduty', 'jira'), actor: fc.option(text, { nil: undefined }) }), { nil: undefined }),
  links: fc.array(fc.record({
    connectorId: fc.constantFrom('pd', 'slack', 'jira'),
    status: fc.constantFrom(...LINK_STATUSES),
    externalRef: fc.option(text, { nil: undefined }),
    externalUrl: fc.option(fc.constantFrom('https://x.example/1', 'https://x.example/2'), { nil: undefined }),
    error: fc.option(text, { nil: undefined }),
    updatedAt: fc.integer({ min: 0, max: 9 }).map(iso),
  }), { maxLength: 4 }),
  entries: fc.array(fc.record({
    key: fc.constantFrom('k1', 'k2', 'k3', 'k4'),
    at: fc.integer({ min: 0, max: 3 }).map(iso),
    kind: fc.constantFrom('connector.opened', 'connector.failed', 'resolved') as fc.Arbitrary<'connector.opened' | 'connector.failed' | 'resolved'>,
    connectorId: fc.option(fc.constantFrom('pd', 'jira'), { nil: undefined }),
    source: fc.option(text, { nil: undefined }),
    actor: fc.option(text, { nil: undefined }),
    detail: fc.option(text, { nil: undefined }),
  }), { maxLength: 4 }),
});

type BatchShape = typeof batchArb extends fc.Arbitrary<infer T> ? T : never;

function batchFor(incident: Incident, b: BatchShape): RecordBatch {
  const links: Link[] = b.links.map((l) => ({ ...l, provider: l.connectorId === 'pd' ? 'pagerduty' : l.connectorId === 'jira' ? 'jira' : 'slack' }));
  return {
    incident,
    ...(b.status ? { status: b.status } : {}),
    ...(b.acknowledgedAt ? { acknowledgedAt: b.acknowledgedAt } : {}),
    ...(b.resolution ? { resolution: b.resolution } : {}),
    links,
    entries: b.entries,
  } as RecordBatch;
}

test('any sequence of batches leaves the rows the row-by-row writes leave', async () => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(batchArb, { minLength: 1, maxLength: 5 }), async (batches) => {
      runs += 1;
      const id = uniqueId('rec').replace(/[^A-Za-z0-9._-]/g, '-');
      const [tenantA, tenantB] = [uniqueId('recA'), uniqueId('recB')];
      const incidentOf = (tenantId: string): Incident => ({ id, tenantId, title: 'disk full', severity: 'critical', openedAt: iso(0) });
      for (const b of batches) {
        await mirror.record(batchFor(incidentOf(tenantA), b));
        await referenceRecord(batchFor(incidentOf(tenantB), b));
      }
      expect(await rowsOf(tenantA, id)).toEqual(await rowsOf(tenantB, id));
      expect(await mirror.read(tenantA, id)).toEqual(await referenceRead(tenantA, id));
    }),
    { numRuns: 150 },
  );
  expect(runs).toBe(150);
});

test('one round trip whatever the batch holds (frame, statement, COMMIT as one string), and one for the read', async () => {
  const tenantId = uniqueId('rt');
  const incident: Incident = { id: uniqueId('rt').replace(/[^A-Za-z0-9._-]/g, '-'), tenantId, title: 't', severity: 'warning', openedAt: iso(0) };
  const sent: string[] = [];
  const connect = pool.connect.bind(pool);
  const wrapped = new WeakSet<object>();
  const spy = jest.spyOn(pool, 'connect').mockImplementation((async () => {
    const c = await connect();
    if (wrapped.has(c)) return c;
    wrapped.add(c);
    const query = c.query.bind(c) as (...a: unknown[]) => unknown;
    (c as unknown as { query: unknown }).query = (...a: unknown[]) => {
      sent.push(String(typeof a[0] === 'string' ? a[0] : (a[0] as { text: string }).text).trim().split(/\s+/)[0]!);
      return query(...a);
    };
    return c;
  }) as unknown as typeof pool.connect);
  try {
    for (const n of [0, 1, 3]) {
      sent.length = 0;
      const links: Link[] = ['pd', 'slack', 'jira'].slice(0, n).map((connectorId) => ({ connectorId, provider: 'pagerduty', status: 'open', updatedAt: iso(n) }));
      await mirror.record({ incident, links, entries: Array.from({ length: n }, (_, i) => ({ key: `k${n}-${i}`, at: iso(1), kind: 'connector.opened' })) });
      expect(sent).toEqual(['BEGIN;']); // the frame, the statement and COMMIT as one string
      // And the API's read at open: the frame (with its timeout), the SELECT and COMMIT as one string.
      sent.length = 0;
      expect((await mirror.read(tenantId, incident.id, 500))!.links).toHaveLength(n);
      expect(sent).toEqual(['BEGIN;']);
    }
  } finally {
    spy.mockRestore();
  }
});

describe('the read at open', () => {
  test.each([
    ['no incident, no link', false, 0],
    ['links without their incident row', false, 2],
    ['an incident without links', true, 0],
    ['an incident and three links', true, 3],
  ])('%s: what the two statements read, in one', async (_what, withIncident, n) => {
    const tenantId = uniqueId('read');
    const id = uniqueId('read').replace(/[^A-Za-z0-9._-]/g, '-');
    await withTenant(pool, tenantId, async (c) => {
      if (withIncident) await c.query("INSERT INTO incidents (tenant_id, incident_id, title, severity, status, opened_at, resolved_at, resolution_source) VALUES ($1, $2, 't', 'critical', 'resolved', now(), now(), 'jira')", [tenantId, id]);
      for (const cid of ['c3', 'c1', 'c2'].slice(0, n)) {
        await c.query("INSERT INTO incident_integrations (tenant_id, incident_id, connector_id, provider, status, external_ref) VALUES ($1, $2, $3, 'jira', 'open', $3)", [tenantId, id, cid]);
      }
    });
    const read = await mirror.read(tenantId, id);
    expect(read).toEqual(await referenceRead(tenantId, id));
    expect(read === undefined).toBe(!withIncident && n === 0);
    expect(read?.links.map((l) => l.connectorId) ?? []).toEqual(['c3', 'c1', 'c2'].slice(0, n));
  });

  test('its timeout is the transaction\'s: a read held up longer is cancelled', async () => {
    const lock = await pool.connect();
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE incident_integrations IN ACCESS EXCLUSIVE MODE');
      await expect(mirror.read(uniqueId('read'), 'x', 200)).rejects.toThrow(/statement timeout/);
    } finally {
      await lock.query('ROLLBACK');
      lock.release();
    }
    expect(await mirror.read(uniqueId('read'), 'x', 200)).toBeUndefined();
  });
});

describe('the incident row lock', () => {
  type Holder = 'a record that raises nothing' | 'a record that resolves' | 'the row-by-row record before';
  /** A transaction that recorded `how` on the (committed) incident and is still open; with its backend's pid. */
  const hold = async (how: Holder, incident: Incident): Promise<{ c: PoolClient; pid: number }> => {
    await mirror.record({ incident, links: [] });
    const c = await pool.connect();
    await c.query(frameSql(c, incident.tenantId));
    const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    if (how === 'the row-by-row record before') {
      await c.query("INSERT INTO incidents (tenant_id, incident_id, title, severity, status, opened_at) VALUES ($1, $2, 't', 'warning', 'open', $3) ON CONFLICT (tenant_id, incident_id) DO UPDATE SET updated_at = now()", [incident.tenantId, incident.id, incident.openedAt]);
    } else {
      const { text, values } = recordStatement({
        incident, links: [], entries: [{ key: 'held', at: iso(1), kind: 'connector.opened' }],
        ...(how === 'a record that resolves' ? { status: 'resolved', resolution: { at: iso(1), source: 'jira' } } : {}),
      });
      await c.query(text, values);
    }
    return { c, pid };
  };
  const blockedBy = async (pid: number) => Number((await pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))', [pid],
  )).rows[0]!.n) > 0;

  const OPEN_LINK: Omit<RecordBatch, 'incident'> = { links: [{ connectorId: 'slack', provider: 'slack', status: 'open', updatedAt: iso(2) }], entries: [{ key: 'e', at: iso(2), kind: 'connector.opened' }] };
  const RESOLVES: Omit<RecordBatch, 'incident'> = { status: 'resolved', resolution: { at: iso(2), source: 'pagerduty' }, links: [] };
  test.each([
    ['a record that raises nothing', 'an open link and its entry', 'finished', OPEN_LINK],
    ['a record that raises nothing', 'a resolution', 'finished', RESOLVES],
    ['a record that resolves', 'an open link and its entry', 'waiting', OPEN_LINK],
    ['a record that resolves', 'a resolution', 'waiting', RESOLVES],
    ['the row-by-row record before', 'an open link and its entry', 'waiting', OPEN_LINK],
  ] as Array<[Holder, string, string, Omit<RecordBatch, 'incident'>]>)('behind %s still open, %s is %s', async (holder, _what, expected, rest) => {
    const tenantId = uniqueId('lock');
    const incident: Incident = { id: uniqueId('lock').replace(/[^A-Za-z0-9._-]/g, '-'), tenantId, title: 't', severity: 'warning', openedAt: iso(0) };
    const { c, pid } = await hold(holder, incident);
    try {
      let done = false;
      const recording = handled(mirror.record({ incident, ...rest }).then(() => void (done = true)), 'the record behind the lock');
      // Either it finishes while the other transaction is open, or Postgres says the other blocks it: no timing.
      const outcome = await eventually(async () => (done ? 'finished' : (await blockedBy(pid)) ? 'waiting' : undefined), { what: 'the record to finish or be blocked' });
      expect(outcome).toBe(expected);
      await c.query('COMMIT');
      await recording;
      expect((await rowsOf(tenantId, incident.id)).incident[0]!.status).toBe(rest.status === 'resolved' || holder === 'a record that resolves' ? 'resolved' : 'open');
    } finally {
      await c.query('ROLLBACK').catch(() => undefined);
      c.release();
    }
  });
});

test('a one-statement record and a statement-by-statement record of one incident and one link never wait on each other in a cycle (the lock order is the incident, the links, the entries)', async () => {
  const tenantId = uniqueId('dl');
  const incident: Incident = { id: uniqueId('dl').replace(/[^A-Za-z0-9._-]/g, '-'), tenantId, title: 't', severity: 'critical', openedAt: new Date().toISOString() };
  const at = (s: number) => new Date(Date.now() + s * 1000).toISOString();
  await mirror.record({ incident, links: [{ connectorId: 'pd', provider: 'pagerduty', status: 'open', updatedAt: at(0) }] });

  // B: what MirrorStore.record does for a resolving batch that names 'pd' twice — the statement (incident row
  // updated and locked), then the links row by row. Driven by hand to hold it between the two steps.
  const b = await pool.connect();
  try {
    await b.query(frameSql(b, tenantId));
    const { text, values } = recordStatement({ incident, status: 'resolved', resolution: { at: at(1), source: 'pagerduty' }, links: [], entries: [] });
    await b.query(text, values);
    const pid = (await b.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

    // A: a call's outcome that raises nothing, on the fast path: locks link 'pd', then waits on B at the incident row.
    const a = mirror.record({ incident, links: [{ connectorId: 'pd', provider: 'pagerduty', status: 'open', externalRef: 'x', updatedAt: at(2) }] })
      .then(() => 'ok', (e: Error) => e.message);
    await eventually(async () => Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))', [pid])).rows[0]!.n) > 0, { what: 'A blocked by B' });

    // B goes on with its link, as upsertLink does.
    const bLink = b.query(
      `INSERT INTO incident_integrations (tenant_id, incident_id, connector_id, provider, status, external_ref, external_url, last_error, updated_at)
       VALUES ($1, $2, 'pd', 'pagerduty', 'resolved', NULL, NULL, NULL, $3) ${LINK_UPSERT}`, [tenantId, incident.id, at(3)],
    ).then(() => 'ok', (e: Error) => e.message);
    const [bOutcome] = await Promise.all([bLink]);
    await b.query(bOutcome === 'ok' ? 'COMMIT' : 'ROLLBACK');
    expect({ a: await a, b: bOutcome }).toEqual({ a: 'ok', b: 'ok' });
  } finally {
    await b.query('ROLLBACK').catch(() => undefined);
    b.release();
  }
});
