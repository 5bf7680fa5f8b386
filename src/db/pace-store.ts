import type { Pool, PoolConfig, QueryResultRow } from 'pg';
import type { Secret } from '../config/secret';
import type { PaceClass } from '../activities/pace-class';
import { STORE_TIMEOUT_MS, type SharedPaceStore, type TakeAnswer } from '../activities/pacing';
import { MAX_RETRY_AFTER_MS } from '../http/classify';
import { createPool } from './pool';
import { inOneRoundTrip } from './one-round-trip';

/**
 * The deployment's token buckets in Postgres (migrations/006_pace_buckets.sql): one statement per take, computed
 * from the database's clock, so every worker sees one bucket per connector key. The pacer (src/activities/pacing.ts)
 * bounds each call and falls back to its per-process share when the store fails or is slow.
 */

/** Longest any stored time may lie ahead of the database clock (a hold, a promised turn): MAX_RETRY_AFTER_MS. */
const CAP = `${MAX_RETRY_AFTER_MS}::float8 * interval '1 millisecond'`;
/** `col`, or now + CAP when it lies further ahead (NULL stays NULL). */
const capped = (col: string, now: string) => `CASE WHEN ${col} > ${now} + ${CAP} THEN ${now} + ${CAP} ELSE ${col} END`;

/**
 * The take. One INSERT … ON CONFLICT DO UPDATE, atomic under the row's lock:
 *   $1 key, $2 rate per minute, $3 capacity, $4 the caller's class, $5 the urgency window in ms, $6 drain.
 * `drain` (the worker's first take after pacing on its own share): the level counts at most 1, so the tokens the
 * bucket gathered while the workers paced on their shares are not spent again as a burst on top of theirs.
 * The clock of an existing key is read in the update, after the row's lock is held — not in the INSERT's SELECT, which
 * runs before it waits for the lock: a take that waited behind another would otherwise grant at a time before that
 * one's grant, moving the refill anchor back and refilling the same milliseconds twice (a token or more per wait at
 * high rates; test/unit/db/pace-store.test.ts, "a take that waited for the row's lock").
 * A new key starts full and grants. An existing one refills from the database clock — never from the future: a
 * refill anchor ahead of the clock (the clock stepped back) counts as now and is written back so — and while a
 * provider's hold (`held_until`, at most MAX_RETRY_AFTER_MS ahead; a later one is cut to that and written back) has
 * not passed, the level is below 1; after it the level is at most 1 plus what refilled since. It grants when the
 * level is at least 1 and no more urgent class was refused (or promised a turn) within the window; a refusal
 * records the caller's class. RETURNING says whether it granted and, when not, the milliseconds until a token, the
 * hold's end or the end of the window of the more urgent class, whichever is last (every one of them capped).
 */
export const TAKE_SQL = `
WITH c AS (SELECT clock_timestamp() AS now)
INSERT INTO pace_buckets AS b (key, rate_per_min, tokens, refilled_at, granted)
SELECT $1::text, $2::float8, $3::float8 - 1, c.now, true FROM c
ON CONFLICT (key) DO UPDATE SET (rate_per_min, tokens, refilled_at, granted, held_until, refused_0, refused_1, refused_2) = (
  SELECT $2::float8,
         CASE WHEN x.ok THEN x.level - 1 ELSE b.tokens END,
         CASE WHEN x.ok THEN x.now ELSE least(b.refilled_at, x.now) END,
         x.ok,
         CASE WHEN x.held > x.now THEN x.held END,
         CASE WHEN NOT x.ok AND $4::int = 0 THEN greatest(x.r0, x.now) ELSE x.r0 END,
         CASE WHEN NOT x.ok AND $4::int = 1 THEN greatest(x.r1, x.now) ELSE x.r1 END,
         CASE WHEN NOT x.ok AND $4::int = 2 THEN greatest(x.r2, x.now) ELSE x.r2 END
    FROM (SELECT y.*, y.level >= 1 AND NOT y.yields AS ok
            FROM (SELECT z.*,
                         least(CASE WHEN $6::boolean THEN 1 ELSE $3::float8 END,
                               b.tokens + greatest(0, extract(epoch FROM z.now - b.refilled_at)::float8) * $2::float8 / 60,
                               CASE WHEN z.held IS NULL THEN 'Infinity'::float8
                                    ELSE 1 + extract(epoch FROM z.now - z.held)::float8 * $2::float8 / 60 END) AS level,
                         ($4::int > 0 AND coalesce(z.r0 > z.now - $5::float8 * interval '1 millisecond', false))
                      OR ($4::int > 1 AND coalesce(z.r1 > z.now - $5::float8 * interval '1 millisecond', false))
                      OR ($4::int > 2 AND coalesce(z.r2 > z.now - $5::float8 * interval '1 millisecond', false)) AS yields
                    FROM (SELECT w.now,
                                 ${capped('b.held_until', 'w.now')} AS held,
                                 ${capped('b.refused_0', 'w.now')} AS r0,
                                 ${capped('b.refused_1', 'w.now')} AS r1,
                                 ${capped('b.refused_2', 'w.now')} AS r2
                            FROM (SELECT clock_timestamp() AS now) w) z) y) x)
RETURNING granted, extract(epoch FROM refilled_at)::float8 * 1000 AS at_ms,
  CASE WHEN granted THEN 0 ELSE least(greatest(
    (1 - least($3::float8, tokens + greatest(0, extract(epoch FROM clock_timestamp() - refilled_at)::float8) * $2::float8 / 60)) * 60000 / $2::float8,
    coalesce(extract(epoch FROM held_until - clock_timestamp())::float8 * 1000, 0),
    CASE WHEN $4::int > 0 THEN extract(epoch FROM refused_0 + $5::float8 * interval '1 millisecond' - clock_timestamp())::float8 * 1000 ELSE 0 END,
    CASE WHEN $4::int > 1 THEN extract(epoch FROM refused_1 + $5::float8 * interval '1 millisecond' - clock_timestamp())::float8 * 1000 ELSE 0 END,
    CASE WHEN $4::int > 2 THEN extract(epoch FROM refused_2 + $5::float8 * interval '1 millisecond' - clock_timestamp())::float8 * 1000 ELSE 0 END,
    1), ${MAX_RETRY_AFTER_MS} + $5::float8) END AS wait_ms`;

/**
 * A provider's Retry-After ($3 ms from now, at most MAX_RETRY_AFTER_MS): no token of the key before it, and at most
 * one right after it, on any worker. An earlier hold never shortens a later one.
 */
export const HOLD_SQL = `
WITH c AS (SELECT clock_timestamp() + least(greatest($3::float8, 0), ${MAX_RETRY_AFTER_MS}) * interval '1 millisecond' AS until)
INSERT INTO pace_buckets AS b (key, rate_per_min, tokens, refilled_at, granted, held_until)
SELECT $1::text, $2::float8, greatest(1, floor($2::float8 / 60)), clock_timestamp(), false, c.until FROM c
ON CONFLICT (key) DO UPDATE SET held_until = EXCLUDED.held_until
WHERE b.held_until IS NULL OR b.held_until < EXCLUDED.held_until`;

/**
 * A promised turn ($2 class, $3 ms from now): refused_$2 moves to the turn (never back), so every less urgent class
 * of the key is refused, on every worker, until the turn has passed by the urgency window. At most 10 minutes ahead.
 */
export const RESERVE_SQL = `
UPDATE pace_buckets SET
  refused_0 = CASE WHEN $2::int = 0 THEN greatest(refused_0, c.turn) ELSE refused_0 END,
  refused_1 = CASE WHEN $2::int = 1 THEN greatest(refused_1, c.turn) ELSE refused_1 END,
  refused_2 = CASE WHEN $2::int = 2 THEN greatest(refused_2, c.turn) ELSE refused_2 END
FROM (SELECT clock_timestamp() + least(greatest($3::float8, 0), ${MAX_RETRY_AFTER_MS}) * interval '1 millisecond' AS turn) c
WHERE key = $1::text AND $2::int BETWEEN 0 AND 2`;

/** Connections of a worker's pacing pool (createPacePool), all kept open. */
export const PACE_POOL_SIZE = 4;

/** The longest wait a take may answer: the cap plus the longest urgency window. */
export const MAX_WAIT_ANSWER_MS = MAX_RETRY_AFTER_MS + 2_000;

export class PaceStore implements SharedPaceStore {
  constructor(private readonly pool: Pool, private readonly timeoutMs = STORE_TIMEOUT_MS) {}

  /**
   * One statement in its own transaction, as the service role with the pacer's statement timeout — both set inside
   * the transaction, so neither an `options=` in DATABASE_URL nor a pooler (PgBouncer refuses startup options) can
   * change them — sent as one simple-protocol string, one round trip (src/db/one-round-trip.ts: the parameters are
   * inlined as checked literals; a client whose string failed or timed out is discarded).
   *
   * Committed without waiting for the WAL flush (`synchronous_commit = off`, this transaction only): a take sits on
   * every provider call's path, a page's first included, and the flush was about a millisecond of each at p50 on the
   * bench machine (docs/benchmarks.md). What it risks: a Postgres server crash (not a lost connection, which
   * never loses a committed take) may forget the last takes, holds and promised turns, at most about three
   * `wal_writer_delay`s (600 ms by default; a failover to an asynchronous standby, its replication lag); the buckets
   * then grant those tokens again once — the same kind of overshoot as any switch between the store and the shares
   * (docs/providers.md, "Rate pacing") — and a lost hold lets one call reach the provider inside its Retry-After, whose
   * 429 holds the key again. A bucket is pacing state, never a record.
   */
  #run<R extends QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    return inOneRoundTrip<R>(this.pool, undefined, sql, params, this.timeoutMs, { asyncCommit: true });
  }

  async take(key: string, perMinute: number, cls: PaceClass, urgencyWindowMs: number, drain = false): Promise<TakeAnswer> {
    const capacity = Math.max(1, Math.floor(perMinute / 60));
    const rows = await this.#run<{ granted: boolean; wait_ms: number; at_ms: number }>(TAKE_SQL, [key, perMinute, capacity, cls, urgencyWindowMs, drain]);
    const row = rows[0];
    if (!row) throw new Error('the pacing store returned no row');
    // Never a wait past the cap (the SQL caps it too), never a timer past setTimeout's 2^31-1 ms.
    const wait = Math.min(MAX_WAIT_ANSWER_MS, Math.max(1, Math.ceil(Number(row.wait_ms))));
    return row.granted ? { granted: true, waitMs: 0, at: Number(row.at_ms) } : { granted: false, waitMs: Number.isFinite(wait) ? wait : MAX_WAIT_ANSWER_MS };
  }

  /**
   * Open the pool's connections ahead of the first open's takes (best effort; the worker does not wait on it): an
   * open takes a token per connector at once, and a take that finds no idle connection waits for a new one. Answers the session the
   * statements run in: the role, the statement timeout and the commit mode (for the worker's start log and the tests).
   */
  async warm(connections = PACE_POOL_SIZE): Promise<{ role: string; statementTimeout: string; synchronousCommit: string }> {
    const look = () => this.#run<{ role: string; timeout: string; sync: string }>(`SELECT current_user AS role, current_setting('statement_timeout') AS timeout, current_setting('synchronous_commit') AS sync FROM (SELECT 1 FROM pace_buckets LIMIT 0) t RIGHT JOIN (SELECT 1) one ON true`, []);
    // At once, so each look holds a connection of its own: the pool opens that many (and keeps them, createPacePool).
    const [rows] = await Promise.all(Array.from({ length: Math.max(1, connections) }, look));
    return { role: rows![0]!.role, statementTimeout: rows![0]!.timeout, synchronousCommit: rows![0]!.sync };
  }

  /**
   * Keep the pool's connections open (a page after a quiet spell takes a token per connector at once): warm now, and
   * again `delayMs` after a connection is lost (pg-pool's `min` keeps connections but never opens one again: after a
   * Postgres restart or a dropped connection, the next open's takes would each wait for a new one). A warm that
   * fails (Postgres down, or a statement refused) is tried again after `retryMs`, doubling up to `maxRetryMs`, until
   * one succeeds; the connections such a warm loses do not start another. Timers are unref'd; the returned function
   * stops it (before the pool is ended). Best effort: a take never waits for it.
   */
  keepWarm(opts: { delayMs?: number; retryMs?: number; maxRetryMs?: number; onWarm?: (ok: boolean) => void } = {}): () => void {
    const delayMs = opts.delayMs ?? 1_000;
    const retryMs = opts.retryMs ?? 5_000;
    const maxRetryMs = opts.maxRetryMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    let warming = false;
    let failures = 0;
    let stopped = false;
    const later = (ms: number) => {
      if (stopped || this.pool.ending || timer) return;
      timer = setTimeout(run, ms);
      timer.unref();
    };
    function settle(ok: boolean) {
      warming = false;
      failures = ok ? 0 : failures + 1;
      opts.onWarm?.(ok);
      if (!ok) later(Math.min(maxRetryMs, retryMs * 2 ** (failures - 1)));
    }
    const run = () => {
      timer = undefined;
      if (stopped || this.pool.ending || warming) return;
      warming = true;
      this.warm().then(() => settle(true), () => settle(false));
    };
    // A lost connection while a warm runs is that warm's to replace (or its retry's); while a retry waits, `later`
    // keeps that retry's time.
    const lost = () => {
      if (!warming) later(delayMs);
    };
    this.pool.on('remove', lost);
    run();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      this.pool.off('remove', lost);
    };
  }

  async hold(key: string, perMinute: number, ms: number): Promise<void> {
    await this.#run(HOLD_SQL, [key, perMinute, ms]);
  }

  async reserve(key: string, cls: PaceClass, ms: number): Promise<void> {
    await this.#run(RESERVE_SQL, [key, cls, ms]);
  }
}

/**
 * The pacer's own small pool, separate from the mirror's so a busy mirror never delays a token. The role and the
 * statement timeout (the pacer's 250 ms) are set per transaction by PaceStore (SET LOCAL), not as startup options;
 * query_timeout bounds the client's wait, and the pacer stops waiting at its own 250 ms. A connection whose statement
 * failed or timed out is discarded, so after a slow store the next take may open a new connection (which the pacer
 * bounds too: it falls back to its share meanwhile). All four stay open when idle (the process pool keeps one), so a
 * page after a quiet spell does not wait for a new connection. `extra` is for the tests.
 */
export function createPacePool(databaseUrl: Secret, timeoutMs = STORE_TIMEOUT_MS, extra: Partial<PoolConfig> = {}): Pool {
  return createPool(databaseUrl, {
    max: PACE_POOL_SIZE,
    connectionTimeoutMillis: 5_000,
    // Every connection kept through a quiet spell: an open takes a token per connector at once, and each take that
    // found no idle connection waited for a new one (about 30 ms more on the first page after 40 s of quiet with one
    // kept, 70 ms with none, in the bench's sparse runs; docs/benchmarks.md).
    min: PACE_POOL_SIZE,
    query_timeout: 4 * timeoutMs,
    application_name: 'probectl-notify-pacing',
    ...extra,
  });
}
