/**
 * The service's Postgres pools (src/db/pool.ts, src/db/pace-store.ts) keep one connection through a quiet spell, so
 * the first open after one does not pay a new connection on the API's read or the pacer's take; a kept connection the
 * server ended meanwhile is replaced on the next checkout, not handed out dead; the pacer's are opened again after
 * they are lost or Postgres was down at start. On the run's real Postgres.
 */
import type { Pool } from 'pg';
import { Secret } from '../../../src/config/secret';
import { createPool } from '../../../src/db/pool';
import { PACE_POOL_SIZE, PaceStore, createPacePool } from '../../../src/db/pace-store';
import { eventually, sharedStack } from '../../helpers/shared';
import { CuttableProxy } from '../../helpers/tcp-proxy';

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

describe('the pacer\'s store keeps its pool warm (PaceStore.keepWarm)', () => {
  let admin: Pool;
  beforeAll(() => {
    admin = createPool(url(), { max: 1 });
    pools.push(admin);
  });
  const backends = async (name: string) => (await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [name])).rows.map((r) => r.pid).sort();
  const stopping: Array<() => void> = [];
  afterEach(() => {
    for (const stop of stopping.splice(0)) stop();
  });

  // Every way its connections go: all ended by the server (a Postgres restart), one ended, one discarded after a
  // failed statement; and the control: pg-pool's `min` alone never opens them again.
  test.each([
    ['all four ended by the server', true, 4],
    ['one ended by the server', true, 1],
    ['all four ended, without keepWarm (pg-pool\'s min alone)', false, 4],
  ] as const)('%s: opened again %p', async (_name, keep, ended) => {
    const name = `pace-keep-warm-${keep}-${ended}`;
    const pool = createPacePool(url(), undefined, { application_name: name });
    pools.push(pool);
    const store = new PaceStore(pool);
    if (keep) stopping.push(store.keepWarm({ delayMs: 20 }));
    else await store.warm();
    await eventually(() => pool.totalCount === PACE_POOL_SIZE && pool.idleCount === PACE_POOL_SIZE, { what: 'the pool warm', timeoutMs: 5_000 });
    const before = await backends(name);
    expect(before).toHaveLength(PACE_POOL_SIZE);
    await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [before.slice(0, ended)]);
    await eventually(async () => (await backends(name)).filter((p) => before.includes(p)).length === PACE_POOL_SIZE - ended, { what: 'the server ending them', timeoutMs: 5_000 });
    if (keep) {
      await eventually(async () => (await backends(name)).length === PACE_POOL_SIZE && pool.idleCount === PACE_POOL_SIZE, { what: 'the pool opening them again', timeoutMs: 5_000 });
      const after = await backends(name);
      expect(after.filter((p) => !before.includes(p))).toHaveLength(ended);
    } else {
      await settle(500);
      expect(pool.totalCount).toBe(PACE_POOL_SIZE - ended);
    }
  });

  test('a connection discarded after a failed statement is opened again', async () => {
    const name = 'pace-keep-warm-discarded';
    const pool = createPacePool(url(), undefined, { application_name: name });
    pools.push(pool);
    const store = new PaceStore(pool);
    stopping.push(store.keepWarm({ delayMs: 20 }));
    await eventually(() => pool.idleCount === PACE_POOL_SIZE, { what: 'the pool warm', timeoutMs: 5_000 });
    const client = await pool.connect();
    client.release(new Error('a failed statement (test)'));
    expect(pool.totalCount).toBe(PACE_POOL_SIZE - 1);
    await eventually(() => pool.idleCount === PACE_POOL_SIZE, { what: 'the pool opening it again', timeoutMs: 5_000 });
  });

  test('Postgres down at start: the warm is tried again, each wait twice the last up to the cap, until Postgres answers', async () => {
    const db = new URL(sharedStack().databaseUrl);
    const proxy = await CuttableProxy.forAddress(`${db.hostname}:${db.port || 5432}`).start();
    try {
      proxy.cut();
      db.host = proxy.address;
      const pool = createPacePool(new Secret(db.toString()), undefined, { application_name: 'pace-keep-warm-down' });
      pools.push(pool);
      const outcomes: Array<[boolean, number]> = [];
      stopping.push(new PaceStore(pool).keepWarm({ retryMs: 40, maxRetryMs: 160, onWarm: (ok) => outcomes.push([ok, Date.now()]) }));
      await eventually(() => outcomes.length >= 5, { what: 'five failed warms', timeoutMs: 10_000 });
      expect(outcomes.every(([ok]) => !ok)).toBe(true);
      expect(pool.totalCount).toBe(0);
      // The waits between failures: at least 40, 80, 160, 160 ms (never sooner; a slow machine only adds).
      const gaps = outcomes.slice(1, 5).map(([, at], i) => at - outcomes[i]![1]);
      [40, 80, 160, 160].forEach((least, i) => expect(gaps[i]).toBeGreaterThanOrEqual(least - 2));
      proxy.restore();
      await eventually(() => outcomes.at(-1)![0] && pool.idleCount === PACE_POOL_SIZE, { what: 'the pool warm once Postgres answers', timeoutMs: 5_000 });
    } finally {
      await proxy.stop();
    }
  });

  test('a warm whose statement is refused (its table out of reach) backs off: the connections it loses start no warm of their own', async () => {
    // The connections work, the statement fails on each ("relation does not exist"), and each failed connection is
    // discarded (a 'remove' each, after the warm has failed): the next warm waits for the back-off, not the 20 ms a
    // lost connection waits, and opens four connections, no more.
    const pool = createPacePool(url(), undefined, { application_name: 'pace-keep-warm-refused', options: '-c search_path=pg_catalog' });
    pools.push(pool);
    const outcomes: Array<[boolean, number]> = [];
    let opened = 0;
    pool.on('connect', () => { opened += 1; });
    stopping.push(new PaceStore(pool).keepWarm({ delayMs: 20, retryMs: 200, maxRetryMs: 400, onWarm: (ok) => outcomes.push([ok, Date.now()]) }));
    await eventually(() => outcomes.length >= 3, { what: 'three failed warms', timeoutMs: 10_000 });
    expect(outcomes.every(([ok]) => !ok)).toBe(true);
    const gaps = outcomes.slice(1, 3).map(([, at], i) => at - outcomes[i]![1]);
    [200, 400].forEach((least, i) => expect(gaps[i]).toBeGreaterThanOrEqual(least - 2));
    // Four connections a warm, no more.
    expect(opened).toBeLessThanOrEqual(PACE_POOL_SIZE * outcomes.length);
  });

  test('stopped, or the pool ended: nothing is opened again', async () => {
    const name = 'pace-keep-warm-stopped';
    const pool = createPacePool(url(), undefined, { application_name: name });
    pools.push(pool);
    const stop = new PaceStore(pool).keepWarm({ delayMs: 20 });
    await eventually(() => pool.idleCount === PACE_POOL_SIZE, { what: 'the pool warm', timeoutMs: 5_000 });
    stop();
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [name]);
    await eventually(() => pool.totalCount === 0, { what: 'the pool hearing them end', timeoutMs: 5_000 });
    await settle(300);
    expect(pool.totalCount).toBe(0);
    expect(await backends(name)).toEqual([]);

    const ended = createPacePool(url(), undefined, { application_name: `${name}-ended` });
    const stopEnded = new PaceStore(ended).keepWarm({ delayMs: 20 });
    stopping.push(stopEnded);
    await eventually(() => ended.idleCount === PACE_POOL_SIZE, { what: 'the second pool warm', timeoutMs: 5_000 });
    // Ending the pool removes its connections: no warm starts behind it (it would throw on an ended pool).
    await ended.end();
    await settle(300);
    expect(await backends(`${name}-ended`)).toEqual([]);
  });
});
