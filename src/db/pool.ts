import { Pool, type PoolConfig } from 'pg';
import type { Secret } from '../config/secret';

/** The role every tenant transaction switches to (created by migrations/001_mirror.sql). */
export const APP_ROLE = 'probectl_notify_app';

/**
 * A pool with short timeouts: a Postgres outage must surface quickly (inbound lookups answer 503, mirror
 * writes are retried by Temporal) instead of hanging a request or an activity.
 */
export function createPool(databaseUrl: Secret, extra: Partial<PoolConfig> = {}): Pool {
  const pool = new Pool({
    connectionString: databaseUrl.reveal(),
    max: 10,
    connectionTimeoutMillis: 3_000,
    idleTimeoutMillis: 30_000,
    query_timeout: 10_000,
    application_name: 'probectl-notify',
    // Strings go as UTF-8 whatever the role's or database's default: inline literals (src/db/one-round-trip.ts) are
    // quoted for UTF-8.
    client_encoding: 'UTF8',
    ...extra,
  });
  // An idle client that loses its connection emits 'error' on the pool; without a listener it would crash
  // the process. The next checkout reconnects.
  pool.on('error', () => undefined);
  return pool;
}
