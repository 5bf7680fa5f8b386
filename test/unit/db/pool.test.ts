/**
 * The service's Postgres pools (src/db/pool.ts, src/db/pace-store.ts) keep one connection through a quiet spell, so
 * the first open after one does not pay a new connection on the API's read or the pacer's take; a kept connection the
 * server ended meanwhile is replaced on the next checkout, not handed out dead. On the run's real Postgres.
 */
import type { Pool } from 'pg';
import { Secret } from '../../../src/config/secret';
import { createPool } from '../../../src/db/pool';
import { createPacePool } from '../../../src/db/pace-store';
import { sharedStack } from '../../helpers/shared';

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
const url = () => new Secret(sharedStack().databaseUrl);
const pools: Pool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
});

const backend = async (pool: Pool) => (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

/** Three connections at once, then a quiet spell three idle timeouts long: what is left, and whether it is reused. */
async function quietSpell(pool: Pool, idleMs: number): Promise<{ before: number[]; left: number; after: number }> {
  const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
  const before = await Promise.all(clients.map(async (c) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid));
  for (const c of clients) c.release();
  await settle(3 * idleMs);
  const left = pool.totalCount;
  return { before, left, after: await backend(pool) };
}

test.each([
  ['the process pool (API, worker, follow-ups)', (idle: number) => createPool(url(), { idleTimeoutMillis: idle })],
  ['the pacer\'s pool', (idle: number) => createPacePool(url(), undefined, { idleTimeoutMillis: idle })],
])('%s keeps one connection through a quiet spell and closes the others', async (_name, make) => {
  const pool = make(150);
  pools.push(pool);
  const { before, left, after } = await quietSpell(pool, 150);
  expect(new Set(before).size).toBe(3);
  expect(left).toBe(1);
  expect(before).toContain(after);
  // TCP keepalives on every connection of it (a NAT or firewall on the way would otherwise drop the kept one).
  expect(pool.options).toMatchObject({ min: 1, keepAlive: true });
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
