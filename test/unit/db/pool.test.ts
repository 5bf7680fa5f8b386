/**
 * The service's Postgres pools (src/db/pool.ts, src/db/pace-store.ts) keep one connection through a quiet spell, so
 * the first open after one does not pay a new connection on the API's read or the pacer's take; a kept connection the
 * server ended meanwhile is replaced on the next checkout, not handed out dead. On the run's real Postgres.
 */
import type { Pool } from 'pg';
import { Secret } from '../../../src/config/secret';
import { createPool } from '../../../src/db/pool';
import { PACE_POOL_SIZE, PaceStore, createPacePool } from '../../../src/db/pace-store';
import { sharedStack } from '../../helpers/shared';

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
const url = () => new Secret(sharedStack().databaseUrl);
const pools: Pool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
});

const backend = async (pool: Pool) => (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

/** `busy` connections at once, then a quiet spell three idle timeouts long: what is left, and whether it is reused. */
async function quietSpell(pool: Pool, idleMs: number, busy: number): Promise<{ before: number[]; left: number; after: number }> {
  const clients = await Promise.all(Array.from({ length: busy }, () => pool.connect()));
  const before = await Promise.all(clients.map(async (c) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid));
  for (const c of clients) c.release();
  await settle(3 * idleMs);
  const left = pool.totalCount;
  return { before, left, after: await backend(pool) };
}

test.each([
  ['the process pool (API, worker, follow-ups)', 5, 1, (idle: number) => createPool(url(), { idleTimeoutMillis: idle })],
  // An open takes a token per connector at once: every connection of the pacer's pool is kept.
  ['the pacer\'s pool', PACE_POOL_SIZE, PACE_POOL_SIZE, (idle: number) => createPacePool(url(), undefined, { idleTimeoutMillis: idle })],
])('%s, %s connections busy at once, keeps %s through a quiet spell and closes the others', async (_name, busy, kept, make) => {
  const pool = make(150);
  pools.push(pool);
  const { before, left, after } = await quietSpell(pool, 150, busy);
  expect(new Set(before).size).toBe(busy);
  expect(left).toBe(kept);
  expect(before).toContain(after);
  // TCP keepalives on every connection of it (a NAT or firewall on the way would otherwise drop the kept one).
  expect(pool.options).toMatchObject({ min: kept, keepAlive: true });
});

test('a kept connection the server ended is replaced on the next checkout', async () => {
  const pool = createPool(url(), { idleTimeoutMillis: 150 });
  pools.push(pool);
  const kept = await backend(pool);
  await settle(450);
  expect(pool.totalCount).toBe(1);
  const admin = createPool(url(), { max: 1 });
  pools.push(admin);
  await admin.query('SELECT pg_terminate_backend($1)', [kept]);
  // The pool hears the connection end ('error' on the idle client) and drops it; the next query opens another.
  const by = Date.now() + 5_000;
  while (pool.totalCount > 0 && Date.now() < by) await settle(20);
  expect(pool.totalCount).toBe(0);
  const next = await backend(pool);
  expect(next).not.toBe(kept);
});

test('the pacer\'s store opens every connection of its pool at start (an open takes a token per connector at once)', async () => {
  const pool = createPacePool(url());
  pools.push(pool);
  const info = await new PaceStore(pool).warm();
  expect(info.role).toBe('probectl_notify_app');
  expect(pool.totalCount).toBe(PACE_POOL_SIZE);
  expect(pool.idleCount).toBe(PACE_POOL_SIZE);
});
