/**
 * The embedded database (PGlite over its socket server) runs the real migrations, and row-level security
 * holds on it exactly as on Postgres: the service switches to probectl_notify_app, and one tenant can
 * neither read nor write another's rows. The product's other tests use the real local Postgres.
 *
 * PGlite loads its WASM through dynamic import(), which jest's module sandbox does not allow, so the
 * database runs in a child process from the compiled build (as it does under `npm start`); the test talks
 * to it over the socket with `pg`, like the service.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import type { Pool } from 'pg';
import { migrate } from '../../src/db/migrate';
import { MirrorStore } from '../../src/db/mirror-store';
import { createPool } from '../../src/db/pool';
import { withTenant } from '../../src/db/tenant-tx';
import { Secret } from '../../src/config/secret';
import { ensureBuild } from '../helpers/worker-process';

/** `startEmbeddedDb()` (in memory) in a child process; resolves with its URL once it listens. */
function startEmbeddedDbProcess(): Promise<{ child: ChildProcess; url: string }> {
  const module = join(dirname(ensureBuild()), 'runtime', 'embedded-db.js');
  const script = `require(${JSON.stringify(module)}).startEmbeddedDb().then((db) => {
    process.stdout.write(JSON.stringify({ url: db.url.reveal() }) + '\\n');
    process.on('SIGTERM', () => db.stop().then(() => process.exit(0)));
  }, (err) => { console.error(err); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, url: (JSON.parse(line) as { url: string }).url });
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`the embedded database exited with ${code}: ${out}`)));
  });
}

describe('embedded database (PGlite)', () => {
  let child: ChildProcess | undefined;
  let pool: Pool;

  beforeAll(async () => {
    const db = await startEmbeddedDbProcess();
    child = db.child;
    expect(db.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    pool = createPool(new Secret(db.url));
  });
  afterAll(async () => {
    await pool?.end();
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });

  test('the migrations apply, and again is a no-op', async () => {
    expect(await migrate(pool)).toEqual(expect.arrayContaining(['001_mirror.sql']));
    expect(await migrate(pool)).toEqual([]);
  });

  test('row-level security holds: the service role, no cross-tenant read or write', async () => {
    const mirror = new MirrorStore(pool);
    const incident = { id: 'inc-1', tenantId: 'acme', title: 'Loss', severity: 'critical' as const, openedAt: new Date().toISOString() };
    await mirror.write({
      incident, status: 'open',
      links: [{ connectorId: 'pagerduty', provider: 'pagerduty', status: 'open', externalRef: 'probectl-inc-1', updatedAt: new Date().toISOString() }],
      timeline: [{ seq: 1, at: new Date().toISOString(), kind: 'opened' }],
    });
    expect((await mirror.read('acme', 'inc-1'))?.links).toHaveLength(1);
    expect(await mirror.read('globex', 'inc-1')).toBeUndefined();
    expect(await mirror.findByExternalRef('globex', 'pagerduty', ['probectl-inc-1'])).toEqual([]);

    const who = await withTenant(pool, 'acme', async (c) => (await c.query('SELECT current_user AS u, session_user AS s')).rows[0]);
    expect(who).toEqual({ u: 'probectl_notify_app', s: 'postgres' });
    // The role is transaction-local: the connection is back to its login role afterwards.
    expect((await pool.query('SELECT current_user AS u')).rows[0].u).toBe('postgres');

    await expect(
      withTenant(pool, 'globex', (c) =>
        c.query("INSERT INTO incidents (tenant_id, incident_id, title, severity, status, opened_at) VALUES ('acme', 'inc-2', 't', 'critical', 'open', now())"),
      ),
    ).rejects.toThrow(/row-level security/);
    const updated = await withTenant(pool, 'globex', (c) => c.query("UPDATE incidents SET status = 'resolved' WHERE incident_id = 'inc-1'"));
    expect(updated.rowCount).toBe(0);
    await expect(withTenant(pool, 'acme', (c) => c.query("UPDATE incident_timeline SET kind = 'x'"))).rejects.toThrow();
    expect((await mirror.read('acme', 'inc-1'))?.status).toBe('open');
  });

  test('concurrent tenant transactions stay isolated (one session behind the socket)', async () => {
    const mirror = new MirrorStore(pool);
    await Promise.all(
      ['t1', 't2', 't3', 't4'].map(async (tenantId, i) => {
        const incident = { id: `c-${i}`, tenantId, title: 'x', severity: 'info' as const, openedAt: new Date().toISOString() };
        await mirror.write({ incident, status: 'open', links: [], timeline: [{ seq: 1, at: new Date().toISOString(), kind: 'opened' }] });
      }),
    );
    for (const [i, tenantId] of ['t1', 't2', 't3', 't4'].entries()) {
      expect(await mirror.timeline(tenantId, `c-${i}`)).toHaveLength(1);
      expect(await mirror.timeline(tenantId, `c-${(i + 1) % 4}`)).toHaveLength(0);
    }
  });
});
