import type { Pool } from 'pg';
import type { Secret } from '../config/secret';
import type { PaceClass } from '../activities/pace-class';
import { STORE_TIMEOUT_MS, type SharedPaceStore, type TakeAnswer } from '../activities/pacing';
import { APP_ROLE, createPool } from './pool';

/**
 * The deployment's token buckets in Postgres (migrations/006_pace_buckets.sql): one statement per take, computed
 * from the database's clock, so every worker sees one bucket per connector key. The pacer (src/activities/pacing.ts)
 * bounds each call and falls back to its per-process share when the store fails or is slow.
 */

/**
 * The take. One INSERT … ON CONFLICT DO UPDATE, atomic under the row's lock:
 *   $1 key, $2 rate per minute, $3 capacity, $4 the caller's class, $5 the urgency window in ms, $6 drain.
 * `drain` (the worker's first take after pacing on its own share): the level counts at most 1, so the tokens the
 * bucket gathered while the workers paced on their shares are not spent again as a burst on top of theirs.
 * A new key starts full and grants. An existing one refills from the database clock; it grants when its level is at
 * least 1 and no more urgent class was refused within the window; a refusal records the caller's class and changes
 * nothing else. RETURNING says whether it granted and, when not, the milliseconds until a token or until the window
 * of the more urgent class passes.
 */
export const TAKE_SQL = `
WITH c AS (SELECT clock_timestamp() AS now)
INSERT INTO pace_buckets AS b (key, rate_per_min, tokens, refilled_at, granted)
SELECT $1::text, $2::float8, $3::float8 - 1, c.now, true FROM c
ON CONFLICT (key) DO UPDATE SET (rate_per_min, tokens, refilled_at, granted, refused_0, refused_1, refused_2) = (
  SELECT $2::float8,
         CASE WHEN x.ok THEN x.level - 1 ELSE b.tokens END,
         CASE WHEN x.ok THEN x.now ELSE b.refilled_at END,
         x.ok,
         CASE WHEN NOT x.ok AND $4::int = 0 THEN x.now ELSE b.refused_0 END,
         CASE WHEN NOT x.ok AND $4::int = 1 THEN x.now ELSE b.refused_1 END,
         CASE WHEN NOT x.ok AND $4::int = 2 THEN x.now ELSE b.refused_2 END
    FROM (SELECT y.now, y.level, y.level >= 1 AND NOT y.yields AS ok
            FROM (SELECT EXCLUDED.refilled_at AS now,
                         least(CASE WHEN $6::boolean THEN 1 ELSE $3::float8 END,
                               b.tokens + extract(epoch FROM EXCLUDED.refilled_at - b.refilled_at)::float8 * $2::float8 / 60) AS level,
                         ($4::int > 0 AND coalesce(b.refused_0 > EXCLUDED.refilled_at - $5::float8 * interval '1 millisecond', false))
                      OR ($4::int > 1 AND coalesce(b.refused_1 > EXCLUDED.refilled_at - $5::float8 * interval '1 millisecond', false))
                      OR ($4::int > 2 AND coalesce(b.refused_2 > EXCLUDED.refilled_at - $5::float8 * interval '1 millisecond', false)) AS yields) y) x)
RETURNING granted, extract(epoch FROM refilled_at)::float8 * 1000 AS at_ms,
  CASE WHEN granted THEN 0 ELSE greatest(
    (1 - least($3::float8, tokens + extract(epoch FROM clock_timestamp() - refilled_at)::float8 * $2::float8 / 60)) * 60000 / $2::float8,
    CASE WHEN $4::int > 0 THEN extract(epoch FROM refused_0 + $5::float8 * interval '1 millisecond' - clock_timestamp())::float8 * 1000 ELSE 0 END,
    CASE WHEN $4::int > 1 THEN extract(epoch FROM refused_1 + $5::float8 * interval '1 millisecond' - clock_timestamp())::float8 * 1000 ELSE 0 END,
    CASE WHEN $4::int > 2 THEN extract(epoch FROM refused_2 + $5::float8 * interval '1 millisecond' - clock_timestamp())::float8 * 1000 ELSE 0 END,
    1) END AS wait_ms`;

/**
 * A provider's Retry-After ($3 ms from now): the level is at most 1 at that time and below 1 before it, so the
 * next token of the key, on any worker, is at the provider's time. An earlier hold never shortens a later one.
 */
export const HOLD_SQL = `
WITH c AS (SELECT clock_timestamp() + $3::float8 * interval '1 millisecond' AS until)
INSERT INTO pace_buckets AS b (key, rate_per_min, tokens, refilled_at, granted)
SELECT $1::text, $2::float8, 1, c.until, false FROM c
ON CONFLICT (key) DO UPDATE SET
  tokens = least(1, least(greatest(1, floor($2::float8 / 60)), b.tokens + extract(epoch FROM EXCLUDED.refilled_at - b.refilled_at)::float8 * $2::float8 / 60)),
  refilled_at = EXCLUDED.refilled_at
WHERE b.refilled_at < EXCLUDED.refilled_at`;

/**
 * A promised turn ($2 class, $3 ms from now): refused_$2 moves to the turn (never back), so every less urgent class
 * of the key is refused, on every worker, until the turn has passed by the urgency window. At most 10 minutes ahead.
 */
export const RESERVE_SQL = `
UPDATE pace_buckets SET
  refused_0 = CASE WHEN $2::int = 0 THEN greatest(refused_0, c.turn) ELSE refused_0 END,
  refused_1 = CASE WHEN $2::int = 1 THEN greatest(refused_1, c.turn) ELSE refused_1 END,
  refused_2 = CASE WHEN $2::int = 2 THEN greatest(refused_2, c.turn) ELSE refused_2 END
FROM (SELECT clock_timestamp() + least(greatest($3::float8, 0), 600000) * interval '1 millisecond' AS turn) c
WHERE key = $1::text AND $2::int BETWEEN 0 AND 2`;

export class PaceStore implements SharedPaceStore {
  constructor(private readonly pool: Pool) {}

  async take(key: string, perMinute: number, cls: PaceClass, urgencyWindowMs: number, drain = false): Promise<TakeAnswer> {
    const capacity = Math.max(1, Math.floor(perMinute / 60));
    const res = await this.pool.query<{ granted: boolean; wait_ms: number; at_ms: number }>(TAKE_SQL, [key, perMinute, capacity, cls, urgencyWindowMs, drain]);
    const row = res.rows[0];
    if (!row) throw new Error('the pacing store returned no row');
    return row.granted ? { granted: true, waitMs: 0, at: Number(row.at_ms) } : { granted: false, waitMs: Math.max(1, Math.ceil(Number(row.wait_ms))) };
  }

  /** Open the pool's connection ahead of the first take (best effort; the worker does not wait on it). */
  async warm(): Promise<void> {
    await this.pool.query('SELECT 1 FROM pace_buckets LIMIT 0');
  }

  async hold(key: string, perMinute: number, ms: number): Promise<void> {
    await this.pool.query(HOLD_SQL, [key, perMinute, ms]);
  }

  async reserve(key: string, cls: PaceClass, ms: number): Promise<void> {
    await this.pool.query(RESERVE_SQL, [key, cls, ms]);
  }
}

/**
 * The pacer's own small pool, separate from the mirror's so a busy mirror never delays a token. The statement
 * timeout is the pacer's (250 ms): a slow store must not hold a page, the pacer falls back to its per-process
 * share. Connecting may take longer (a cold or loaded server): the pacer stops waiting at its own timeout while
 * the connection completes for the next take, and one connection is kept open (min 1) so a storm after a quiet
 * hour does not start by falling back. Its connections act as the service role, like every statement of the service.
 */
export function createPacePool(databaseUrl: Secret, timeoutMs = STORE_TIMEOUT_MS): Pool {
  return createPool(databaseUrl, {
    max: 4,
    min: 1,
    connectionTimeoutMillis: 5_000,
    query_timeout: 4 * timeoutMs,
    statement_timeout: timeoutMs,
    application_name: 'probectl-notify-pacing',
    options: `-c role=${APP_ROLE}`,
  });
}
