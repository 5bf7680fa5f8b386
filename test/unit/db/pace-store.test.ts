/**
 * The shared pacing store (migrations/006, src/db/pace-store.ts) on the run's real Postgres, driven by several
 * independent pacers — each with its own pool, as three workers would have — on one connector key:
 * - the grants of all of them together in any 1 s window never exceed rate/60 + capacity (by the database's clock),
 *   and every take is granted (none lost);
 * - a more urgent class waiting in one worker takes the tokens before a less urgent class waiting in another;
 * - a 429's hold reaches every worker;
 * - with the store cut mid-run (its table locked, so every statement runs into the 250 ms statement timeout; a
 *   black-holed and a refused address), takes go on at each worker's share, no take waits on the store longer
 *   than the timeout, the window bound still holds, and the workers go back to the store when it answers.
 * Rates are scaled up (1,200/min) so a few hundred takes run in seconds; the bound is the same at every rate.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Pool } from 'pg';
import type { PaceClass } from '../../../src/activities/pace-class';
import { MAX_RETRY_AFTER_MS } from '../../../src/http/classify';
import { Pacer, STORE_TIMEOUT_MS, capacityFor, paceKey, urgencyWindowMs, type SharedPaceStore, type TakeAnswer } from '../../../src/activities/pacing';
import { Secret } from '../../../src/config/secret';
import { paceKeyMaterial } from '../../../src/activities/pace-key';
import { createHash } from 'node:crypto';
import { PaceStore, createPacePool } from '../../../src/db/pace-store';
import { createPool } from '../../../src/db/pool';
import { connectorFrom } from '../../helpers/retry-table';
import { eventually, handled, sharedStack, sleep, uniqueId } from '../../helpers/shared';
import { maxInWindow } from '../../helpers/pacing-grants';

const WORKERS = 3;
/** PROBECTL_NOTIFY_PACE_KEY_SECRET: the same for every worker of the deployment. */
const KEY_SECRET = new Secret('db-test-pace-key-secret-0123456789abcdef');

interface Grant {
  worker: number;
  cls: PaceClass;
  source: 'shared' | 'local';
  at: number;
}

/** A store whose calls can be redirected (a cut). */
class ObservedStore implements SharedPaceStore {
  target: SharedPaceStore;
  constructor(readonly real: PaceStore) {
    this.target = real;
  }
  drains = 0;
  take(key: string, perMinute: number, cls: PaceClass, windowMs: number, drain?: boolean): Promise<TakeAnswer> {
    if (drain) this.drains += 1;
    return this.target.take(key, perMinute, cls, windowMs, drain);
  }
  hold(key: string, perMinute: number, ms: number): Promise<void> {
    return this.target.hold(key, perMinute, ms);
  }
  reserve(key: string, cls: PaceClass, ms: number): Promise<void> {
    return this.target.reserve(key, cls, ms);
  }
}

const pools: Pool[] = [];
let admin: Pool;
let blackhole: Server;
const held: Socket[] = [];
beforeAll(async () => {
  admin = createPool(new Secret(sharedStack().databaseUrl));
  blackhole = createServer((s) => void held.push(s)); // accepts, never answers
  await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  for (const s of held) s.destroy();
  await new Promise((r) => blackhole.close(r));
  await admin.end();
});

/**
 * A worker's pacer on its own pool. `timeoutMs`: the store timeout (pool and pacer); the tests of the shared bound
 * give it room (a loaded two-core machine can stall Postgres past 250 ms, which would rightly fall back), the cut
 * test uses the production 250 ms.
 */
async function workerPacer(i: number, grants: Grant[], extra: { circuitMs?: number; timeoutMs?: number; maxWaitMs?: number } = {}) {
  const timeoutMs = extra.timeoutMs ?? 2_000;
  const pool = createPacePool(new Secret(sharedStack().databaseUrl), timeoutMs);
  pools.push(pool);
  const real = new PaceStore(pool, timeoutMs);
  await real.warm(); // as the worker does at start
  const store = new ObservedStore(real);
  const states: string[] = [];
  const switches: Array<{ state: string; at: number }> = [];
  const waits: Array<{ ms: number; outcome: string }> = [];
  const pacer = new Pacer({
    onStoreWait: (ms, outcome) => void waits.push({ ms, outcome }),
    store, keySecret: KEY_SECRET, workers: WORKERS, maxWaitMs: extra.maxWaitMs ?? 120_000, storeCircuitMs: extra.circuitMs ?? 1_000, storeTimeoutMs: timeoutMs,
    onGrant: (g) => void grants.push({ worker: i, cls: g.cls, source: g.source, at: g.at }),
    onStoreState: (s, err) => { states.push(s); switches.push({ state: s, at: Date.now() }); if (process.env.PACE_DEBUG) console.log(i, s, (err as Error | undefined)?.message); },
  });
  return { pacer, store, states, waits, switches };
}

const keyed = (rate: number) => connectorFrom(`acme|pagerduty|https://events.pagerduty.com/v2/enqueue?rate_per_min=${rate}|${uniqueId('R0UT1NG').replace(/[^A-Za-z0-9]/g, 'x').padEnd(32, 'k')}`);

test('three workers, one key, 300 takes at once: every take granted, no 1 s window over rate/60 + capacity', async () => {
  const rate = 1_200;
  const c = keyed(rate);
  const grants: Grant[] = [];
  const workers = await Promise.all(Array.from({ length: WORKERS }, (_, i) => workerPacer(i, grants)));
  const results = await Promise.allSettled(workers.flatMap((w) => Array.from({ length: 100 }, () => w.pacer.take(c, { cls: 1 }))));
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(300);
  expect(grants).toHaveLength(300);
  expect(grants.every((g) => g.source === 'shared')).toBe(true);
  const bound = rate / 60 + capacityFor(rate);
  const worst = maxInWindow(grants.map((g) => g.at), 1_000);
  expect(worst).toBeLessThanOrEqual(bound);
  // The pacing statements act as the service role, like every statement of the service.
  expect((await workers[0]!.store.real.warm()).role).toBe('probectl_notify_app');
  // The row is named by the deployment's keyed hash, the same from every worker; an unkeyed hash of the URL and
  // credential (what a reader of the table could compute from a guess) names nothing.
  const key = paceKey(c, paceKeyMaterial(KEY_SECRET.reveal()));
  expect(workers.every((w) => w.pacer.keyOf(c) === key)).toBe(true);
  const row = await admin.query<{ key: string }>('SELECT key FROM pace_buckets WHERE key = $1', [key]);
  expect(row.rows).toHaveLength(1);
  expect(row.rows[0]!.key).not.toContain('R0UT1NG');
  const unkeyed = `pagerduty:${createHash('sha256').update(`${c.url.reveal()}\u0000${c.credential.reveal()}\u0000`).digest('hex').slice(0, 24)}`;
  expect((await admin.query('SELECT 1 FROM pace_buckets WHERE key = $1', [unkeyed])).rows).toHaveLength(0);
  console.log(`[pace-store] 3 workers, ${rate}/min, 300 takes: worst 1 s window ${worst} grants (bound ${bound}); span ${((Math.max(...grants.map((g) => g.at)) - Math.min(...grants.map((g) => g.at))) / 1000).toFixed(1)} s`);
});

test('across workers: critical pages waiting in one worker take the tokens before reconcile reads waiting in another', async () => {
  const rate = 600; // a token every 100 ms
  const c = keyed(rate);
  const grants: Grant[] = [];
  const [a, b] = await Promise.all([workerPacer(0, grants), workerPacer(1, grants)]);
  // Drain the bucket, then worker A queues reconcile reads; a moment later worker B queues critical pages.
  await Promise.all(Array.from({ length: capacityFor(rate) }, () => a.pacer.take(c, { cls: 3 })));
  const reads = Array.from({ length: 30 }, () => a.pacer.take(c, { cls: 3 }));
  await sleep(400);
  const criticalsFrom = grants.length;
  const pages = Array.from({ length: 10 }, () => b.pacer.take(c, { cls: 0 }));
  await Promise.all([...reads, ...pages]);
  const after = grants.slice(criticalsFrom);
  const lastCritical = after.map((g) => g.cls).lastIndexOf(0);
  const readsBeforeLastCritical = after.slice(0, lastCritical).filter((g) => g.cls === 3).length;
  // At most the read whose take was already in flight when the first critical page arrived.
  expect(readsBeforeLastCritical).toBeLessThanOrEqual(1);
  expect(after.filter((g) => g.cls === 0)).toHaveLength(10);
  expect(urgencyWindowMs(rate)).toBeGreaterThanOrEqual(2 * (60_000 / rate));
});

test.each([20, 29])('at %i/min (token interval over 2 s): a critical page deferred in one worker keeps its turn against reconcile reads waiting in another', async (rate) => {
  const c = keyed(rate);
  const grants: Grant[] = [];
  const [a, b] = await Promise.all([workerPacer(0, grants, { maxWaitMs: 2_000 }), workerPacer(1, grants, { maxWaitMs: 2_000 })]);
  await a.pacer.take(c, { cls: 1 }); // the one token
  const interval = 60_000 / rate;
  const served: Array<{ cls: PaceClass; at: number }> = [];
  // A deferred caller comes back at its promised turn plus Temporal's jitter, on the worker it ran in.
  const attempt = (p: Pacer, cls: PaceClass, jitter: number): Promise<void> =>
    p.take(c, { cls }).then(
      () => void served.push({ cls, at: Date.now() }),
      (e: { nextRetryDelay: number }) => sleep(e.nextRetryDelay + jitter).then(() => attempt(p, cls, jitter)),
    );
  const critical = attempt(a.pacer, 0, 150);
  await sleep(interval - 1_500); // reads in worker B arrive 1.5 s before the next token, and keep coming back
  const reads = [attempt(b.pacer, 3, 0), sleep(700).then(() => attempt(b.pacer, 3, 50))];
  await Promise.all([critical, ...reads]);
  expect(served.map((x) => x.cls)).toEqual([0, 3, 3]);
});

test('a 429 held in one worker holds the key in every worker', async () => {
  const rate = 6_000;
  const c = keyed(rate);
  const grants: Grant[] = [];
  const [a, b] = await Promise.all([workerPacer(0, grants), workerPacer(1, grants)]);
  await a.pacer.take(c, {});
  const heldAt = Date.now();
  await a.pacer.hold(c, 1_500);
  await b.pacer.take(c, {});
  const g = grants.at(-1)!;
  expect(g.worker).toBe(1);
  expect(g.source).toBe('shared');
  expect(g.at).toBeGreaterThanOrEqual(heldAt + 1_400);
});

describe('the stored state is bounded', () => {
  const store = () => new PaceStore(pools[0] ?? createPoolFor(sharedStack().databaseUrl));
  const materialKey = (rate: number) => paceKey(keyed(rate), paceKeyMaterial(KEY_SECRET.reveal()));

  test.each([
    ['a Retry-After hold an hour ahead', 3_600_000],
    ['a hold ten years ahead', 10 * 365 * 86_400_000],
  ])('%s (written directly): every class waits at most the cap, and the row is healed to it', async (_what, aheadMs) => {
    for (const rate of [1, 100, 6_000]) {
      const key = materialKey(rate);
      await store().take(key, rate, 1, 500);
      await store().hold(key, rate, 1_000);
      await admin.query(`UPDATE pace_buckets SET held_until = clock_timestamp() + $2::float8 * interval '1 millisecond' WHERE key = $1`, [key, aheadMs]);
      for (const cls of [0, 1, 2, 3] as PaceClass[]) {
        const t = await store().take(key, rate, cls, 500);
        expect(t.granted).toBe(false);
        expect(t.waitMs).toBeLessThanOrEqual(MAX_RETRY_AFTER_MS + 2_000);
        expect(t.waitMs).toBeLessThan(2 ** 31 - 1);
      }
      const row = await admin.query<{ ahead: number }>(`SELECT extract(epoch FROM held_until - clock_timestamp()) * 1000 AS ahead FROM pace_buckets WHERE key = $1`, [key]);
      expect(Number(row.rows[0]!.ahead)).toBeLessThanOrEqual(MAX_RETRY_AFTER_MS);
    }
  });

  test.each([1_000, 3_600_000, 30 * 86_400_000])('a refill anchor %i ms in the future (the database clock stepped back): the bucket refills from now, not from the future', async (aheadMs) => {
    for (const rate of [60, 600, 6_000]) {
      const key = materialKey(rate);
      await store().take(key, rate, 1, 500);
      await admin.query(`UPDATE pace_buckets SET refilled_at = clock_timestamp() + $2::float8 * interval '1 millisecond', tokens = 0 WHERE key = $1`, [key, aheadMs]);
      const first = await store().take(key, rate, 0, 500);
      // Without the step the next token is one interval away; with it, no longer than that either.
      if (!first.granted) expect(first.waitMs).toBeLessThanOrEqual(Math.ceil(60_000 / rate) + 5);
      await sleep(Math.ceil(60_000 / rate) + 20);
      const t = await store().take(key, rate, 0, 500);
      expect(t.granted || t.waitMs <= Math.ceil(60_000 / rate) + 5).toBe(true);
      const row = await admin.query<{ ahead: number }>(`SELECT extract(epoch FROM refilled_at - clock_timestamp()) * 1000 AS ahead FROM pace_buckets WHERE key = $1`, [key]);
      expect(Number(row.rows[0]!.ahead)).toBeLessThanOrEqual(0);
    }
  });

  test('a promised turn is never stored more than the cap ahead', async () => {
    const key = materialKey(100);
    await store().take(key, 100, 1, 500);
    await store().reserve(key, 0, 10 * MAX_RETRY_AFTER_MS);
    const row = await admin.query<{ ahead: number }>(`SELECT extract(epoch FROM refused_0 - clock_timestamp()) * 1000 AS ahead FROM pace_buckets WHERE key = $1`, [key]);
    expect(Number(row.rows[0]!.ahead)).toBeLessThanOrEqual(MAX_RETRY_AFTER_MS);
    const t = await store().take(key, 100, 3, 500);
    expect(t.waitMs).toBeLessThanOrEqual(MAX_RETRY_AFTER_MS + 2_000);
  });
});

test.each([
  ['-c role=postgres', 'a role'],
  ['-c statement_timeout=0', 'no statement timeout'],
  ['-c role=postgres -c statement_timeout=60000', 'both'],
  ['-c synchronous_commit=remote_apply', 'a commit that waits for a standby'],
])('DATABASE_URL with options=%s (%s): the pacing statements still run as the service role with the pacer\'s statement timeout, committed without waiting for the WAL flush', async (options) => {
  const url = new URL(sharedStack().databaseUrl);
  url.searchParams.set('options', options);
  const pool = createPacePool(new Secret(url.toString()));
  pools.push(pool);
  const store = new PaceStore(pool);
  expect(await store.warm()).toEqual({ role: 'probectl_notify_app', statementTimeout: `${STORE_TIMEOUT_MS}ms`, synchronousCommit: 'off' });
  // The timeout is enforced: a take behind a lock fails by it (and the client is discarded, not reused broken).
  const key = paceKey(keyed(100), paceKeyMaterial(KEY_SECRET.reveal()));
  await store.take(key, 100, 1, 500);
  const lock = await admin.connect();
  try {
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE pace_buckets IN ACCESS EXCLUSIVE MODE');
    await expect(store.take(key, 100, 1, 500)).rejects.toThrow(/statement timeout|canceling statement/);
  } finally {
    await lock.query('ROLLBACK');
    lock.release();
  }
  expect((await store.take(key, 100, 0, 500)).waitMs).toBeGreaterThanOrEqual(0);
});

/**
 * A take that waits for the row's lock (another worker's take holds it) must decide by the clock after the wait: its
 * grant comes after the one it waited behind, and the refill anchor never moves back (a take whose clock was read
 * before the wait would write an earlier anchor and refill the waited milliseconds a second time). The family: short
 * and long waits at low, middle and high rates, and a wait on a bucket that was empty or full.
 */
test.each([
  [60, 300, 'one token left'],
  [600, 150, 'one token left'],
  [600, 1_000, 'one token left'],
  [6_000, 400, 'one token left'],
  [6_000, 400, 'full'],
])('at %i/min, a take that waited %i ms for the row\'s lock (bucket: %s) grants after the take it waited behind and never moves the refill anchor back', async (rate, waitMs, bucket) => {
  const pool = createPacePool(new Secret(sharedStack().databaseUrl), 10_000);
  pools.push(pool);
  const store = new PaceStore(pool, 10_000);
  const key = paceKey(keyed(rate), paceKeyMaterial(KEY_SECRET.reveal()));
  expect((await store.take(key, rate, 1, 500)).granted).toBe(true); // the row exists
  const holder = await admin.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM pace_buckets WHERE key = $1 FOR UPDATE', [key]);
    const blocked = handled(store.take(key, rate, 1, 500), 'the take behind the row lock');
    // Waiting on the row's lock for sure (not by timing), then for `waitMs` more.
    await eventually(async () => Number((await admin.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO pace_buckets%' AND strpos(query, $1) > 0", [key],
    )).rows[0]!.n) >= 1, { what: 'the take waiting for the row lock' });
    await sleep(waitMs);
    // The take it waited behind: granted now, leaving the bucket as named.
    const tokens = bucket === 'full' ? capacityFor(rate) : 1;
    const before = await holder.query<{ at: number }>(
      'UPDATE pace_buckets SET tokens = $2, refilled_at = clock_timestamp(), held_until = NULL WHERE key = $1 RETURNING extract(epoch FROM refilled_at)::float8 * 1000 AS at',
      [key, tokens],
    );
    await holder.query('COMMIT');
    const answer = await blocked;
    const anchor = await admin.query<{ at: number; tokens: number }>('SELECT extract(epoch FROM refilled_at)::float8 * 1000 AS at, tokens FROM pace_buckets WHERE key = $1', [key]);
    expect(answer.granted).toBe(true);
    expect(answer.at!).toBeGreaterThanOrEqual(Number(before.rows[0]!.at));
    expect(Number(anchor.rows[0]!.at)).toBeGreaterThanOrEqual(Number(before.rows[0]!.at));
    // What is left is what the bucket held, less the token, plus at most the refill since the earlier grant.
    const since = ((Number(anchor.rows[0]!.at) - Number(before.rows[0]!.at)) * rate) / 60_000;
    expect(Number(anchor.rows[0]!.tokens)).toBeLessThanOrEqual(Math.min(capacityFor(rate), tokens + since) - 1 + (rate / 60_000) * 0.001); // epoch ms as float8: within 1 µs of refill
  } finally {
    await holder.query('ROLLBACK').catch(() => undefined);
    holder.release();
  }
});

test('a worker back from its share drains the bucket: what it gathered meanwhile is not a second burst', async () => {
  const rate = 1_200; // capacity 20
  const c = keyed(rate);
  const store = new PaceStore(pools[0] ?? createPoolFor(sharedStack().databaseUrl));
  const key = paceKey(c, paceKeyMaterial(KEY_SECRET.reveal()));
  expect((await store.take(key, rate, 1, 500)).granted).toBe(true); // a new bucket starts full
  await sleep(1_200); // full again
  expect((await store.take(key, rate, 1, 500, true)).granted).toBe(true); // drained: at most this one token
  // The bucket holds less than one token right after (read from the row, not raced against the refill).
  const row = await admin.query<{ tokens: number }>('SELECT tokens FROM pace_buckets WHERE key = $1', [key]);
  expect(Number(row.rows[0]!.tokens)).toBeLessThan(1);
  await sleep(1_200);
  let burst = 0;
  while ((await store.take(key, rate, 1, 500)).granted) burst += 1; // without drain: the full capacity
  expect(burst).toBeGreaterThanOrEqual(capacityFor(rate));
});

test('the store cut mid-run (locked table, black hole, refused port): takes go on at each worker\'s share, none waits on the store beyond its timeout, the bound holds, and the store is used again after', async () => {
  const rate = 1_200;
  const c = keyed(rate);
  const grants: Grant[] = [];
  const timeoutMs = STORE_TIMEOUT_MS;
  const blackholeAddr = blackhole.address() as { port: number };
  const dead = [
    undefined, // worker 0 stays on the real database: the table lock cuts it
    new PaceStore(createPoolFor(`postgres://x:y@127.0.0.1:${blackholeAddr.port}/none`)), // answers nothing
    new PaceStore(createPoolFor('postgres://x:y@127.0.0.1:1/none')), // refuses
  ];
  const workers = await Promise.all(Array.from({ length: WORKERS }, (_, i) => workerPacer(i, grants, { timeoutMs })));
  const lag = lagMonitor();
  const takes = workers.flatMap((w) => Array.from({ length: 110 }, () => handled(w.pacer.take(c, { cls: 1 }), 'a take')));
  // Mid-run: lock the table (every statement waits, then hits the 250 ms statement timeout) and redirect two workers.
  await sleep(3_000);
  const lock = await admin.connect();
  await lock.query('BEGIN');
  await lock.query('LOCK TABLE pace_buckets IN ACCESS EXCLUSIVE MODE');
  const cutAt = Date.now();
  workers.forEach((w, i) => void (dead[i] && (w.store.target = dead[i]!)));
  await sleep(4_000);
  await lock.query('ROLLBACK');
  lock.release();
  workers.forEach((w) => void (w.store.target = w.store.real));
  const restoredAt = Date.now();
  const results = await Promise.allSettled(takes);
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(330);
  const during = grants.filter((g) => g.at >= cutAt && g.at < restoredAt);
  expect(during.length).toBeGreaterThan(0);
  for (let i = 0; i < WORKERS; i += 1) {
    expect(during.some((g) => g.worker === i && g.source === 'local')).toBe(true);
    expect(workers[i]!.states[0]).toBe('fallback');
    expect(workers[i]!.states).toContain('shared');
  }
  expect(grants.filter((g) => g.at >= restoredAt + 1_500).every((g) => g.source === 'shared')).toBe(true);
  // No take waited on the store beyond its timeout (plus timer slack).
  const waits = workers.flatMap((w) => w.waits);
  expect(waits.some((w) => w.outcome === 'failed')).toBe(true);
  const slowest = Math.max(...waits.map((w) => w.ms));
  // The pacer's own timer bounds the wait; on a loaded machine the event loop may run that timer late by its lag.
  expect(slowest).toBeLessThanOrEqual(timeoutMs + lag.max + 50);
  lag.stop();
  // Back on the store, each worker's first shared take drained the bucket (no second burst after the cut).
  for (const w of workers) expect(w.store.drains).toBeGreaterThanOrEqual(1);
  // Outside the switches the bound is the store's: rate/60 + capacity in any 1 s window. While the workers switch
  // (each at its own moment, within one circuit period) some pace on their share while others already use the
  // store: a 1 s window overlapping a switch may see up to one more second's worth (docs/providers.md).
  const bound = rate / 60 + capacityFor(rate);
  // The spans while the workers switch: from the first to the last switch to the fallback, and from the first to the
  // last switch back (however many times a worker flapped), each widened by a second.
  const all = workers.flatMap((w) => w.switches);
  const spanOf = (state: string) => {
    const t = all.filter((x) => x.state === state).map((x) => x.at);
    return [Math.min(...t) - 1_000, Math.max(...t) + 1_000] as const;
  };
  const spans = [spanOf('fallback'), spanOf('shared')] as const;
  const steady = grants.map((g) => g.at).filter((t) => !spans.some(([a, b]) => t >= a && t <= b));
  const steadyWorst = maxInWindowWithin(steady, 1_000, spans);
  expect(steadyWorst).toBeLessThanOrEqual(bound);
  const worst = maxInWindow(grants.map((g) => g.at), 1_000);
  expect(worst).toBeLessThanOrEqual(2 * (rate / 60) + capacityFor(rate));
  const localShareWorst = Math.max(...[0, 1, 2].map((i) => maxInWindow(during.filter((g) => g.worker === i && g.source === 'local').map((g) => g.at), 1_000)));
  expect(localShareWorst).toBeLessThanOrEqual(rate / WORKERS / 60 + capacityFor(rate / WORKERS));
  console.log(`[pace-store] cut for ${((restoredAt - cutAt) / 1000).toFixed(1)} s: ${during.length} grants during the cut (${during.filter((g) => g.source === 'local').length} local), worst 1 s window ${steadyWorst} away from the switches (bound ${bound}), ${worst} overlapping a switch (bound ${2 * (rate / 60) + capacityFor(rate)}), worst per-worker 1 s window on the fallback ${localShareWorst}, longest wait on the store ${slowest} ms (${waits.filter((w) => w.outcome === 'failed').length} failed store calls of ${waits.length})`);
});

/** The most grants in any window of `ms` that overlaps none of `spans`. */
function maxInWindowWithin(times: number[], ms: number, spans: ReadonlyArray<readonly [number, number]>): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0; i < t.length; i += 1) {
    const start = t[i]!;
    if (spans.some(([a, b]) => start <= b && start + ms >= a)) continue;
    let n = 0;
    for (let j = i; j < t.length && t[j]! < start + ms; j += 1) n += 1;
    best = Math.max(best, n);
  }
  return best;
}

function createPoolFor(url: string): Pool {
  const p = createPacePool(new Secret(url));
  pools.push(p);
  return p;
}

/** The event loop's worst lag while it runs (how late a timer may fire on a loaded machine). */
function lagMonitor(): { max: number; stop(): void } {
  const state = { max: 0, stop: () => clearInterval(timer) };
  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    state.max = Math.max(state.max, now - last - 10);
    last = now;
  }, 10);
  return state;
}
