import { Pool, type PoolConfig } from 'pg';
import type { Secret } from '../config/secret';

/** The role every tenant transaction switches to (created by migrations/001_mirror.sql). */
export const APP_ROLE = 'probectl_notify_app';

/**
 * A pool with short timeouts: a Postgres outage must surface quickly (inbound lookups answer 503, mirror
 * writes are retried by Temporal) instead of hanging a request or an activity.
 *
 * It keeps one connection open when idle (`min: 1`, unless `extra` says more; the others close after 30 s), with TCP
 * keepalives so a NAT or firewall on the way does not drop it silently. Incidents are sparse: without it, the first
 * call after a quiet half minute paid a new connection — TCP, startup and authentication, 12.5–18 ms on the bench
 * machine with trust auth, more with SCRAM or TLS (docs/benchmarks.md, "The first page after a quiet spell"; the
 * pacer's pool keeps all of its connections, src/db/pace-store.ts). A connection the server closed meanwhile is
 * dropped from the pool on its 'error' event and the next checkout opens a new one.
 */
export function createPool(databaseUrl: Secret, extra: Partial<PoolConfig> = {}): Pool {
  const pool = new Pool({
    connectionString: databaseUrl.reveal(),
    max: 10,
    min: 1,
    connectionTimeoutMillis: 3_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 30_000,
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
