import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { isTenantId } from '../shared/ids';
import { APP_ROLE } from './pool';

/** Every statement of a service transaction is cancelled after this long unless the caller says otherwise. */
const DEFAULT_TIMEOUT_MS = 5_000;

export interface FrameOptions {
  /**
   * COMMIT without waiting for the WAL flush (`synchronous_commit = off` for this transaction only). Only for state
   * whose loss in a Postgres server crash is harmless: the pacing store's buckets (src/db/pace-store.ts). Never for a
   * record the workflow is told is written.
   */
  asyncCommit?: boolean;
}

/**
 * The opening of every service transaction as one simple-protocol string — one round trip where three separate
 * statements took three: BEGIN, the service role, the tenant (checked by isTenantId, then quoted by the driver) and the
 * statement timeout (5 s unless the caller says; a finite number of ms), all transaction-local. A failure in any part
 * fails the string and the transaction is rolled back.
 */
export function frameSql(client: Pick<PoolClient, 'escapeLiteral'>, tenantId: string | undefined, timeoutMs = DEFAULT_TIMEOUT_MS, opts: FrameOptions = {}): string {
  if (!Number.isFinite(timeoutMs)) throw new Error('invalid statement timeout');
  const settings = [`set_config('statement_timeout', '${Math.max(1, Math.floor(timeoutMs))}', true)`];
  if (opts.asyncCommit) settings.push(`set_config('synchronous_commit', 'off', true)`);
  if (tenantId !== undefined) {
    if (!isTenantId(tenantId)) throw new Error('invalid tenant id');
    settings.unshift(`set_config('probectl.tenant_id', ${client.escapeLiteral(tenantId)}, true)`);
  }
  return `BEGIN; SET LOCAL ROLE ${APP_ROLE}; SELECT ${settings.join(', ')}`;
}

/**
 * One transaction as the non-superuser service role (row-level security applies), with the tenant set when
 * given. A connection lost mid-transaction is released as broken rather than returned to the pool.
 */
async function asServiceRole<T>(pool: Pool, tenantId: string | undefined, fn: (client: PoolClient) => Promise<T>, timeoutMs?: number): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  // A connection lost mid-transaction emits 'error' on the client; without a listener Node would exit.
  const onError = () => {
    broken = true;
  };
  client.on('error', onError);
  try {
    await client.query(frameSql(client, tenantId, timeoutMs));
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true;
    }
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

/**
 * Run `fn` in a transaction as the non-superuser service role with the tenant set, so row-level security
 * confines every read and write to that tenant. This is the only way the service touches the mirror.
 */
export async function withTenant<T>(pool: Pool, tenantId: string, fn: (client: PoolClient) => Promise<T>, opts: { timeoutMs?: number } = {}): Promise<T> {
  if (!isTenantId(tenantId)) throw new Error('invalid tenant id');
  return asServiceRole(pool, tenantId, fn, opts.timeoutMs);
}

/**
 * A transaction as the service role with no tenant set: row-level security shows no row of any table. Only
 * for the SECURITY DEFINER functions that return tenant-less facts (migrations/003 and 005: due rows, see
 * dueOverTenants, and backlogs); every row is then read or changed through withTenant.
 */
export async function withServiceRole<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return asServiceRole(pool, undefined, fn);
}

/**
 * The due rows of a leased table over every tenant, as (tenant, id) only: `sql` selects `tenant_id` and
 * `id::text AS id` from the table's SECURITY DEFINER due function, run by withServiceRole (no tenant set). Each row
 * is then claimed under its tenant (claimUnderTenant).
 */
export async function dueOverTenants(pool: Pool, sql: string, params: unknown[]): Promise<Array<{ tenantId: string; id: string }>> {
  return withServiceRole(pool, async (c) => {
    const r = await c.query<{ tenant_id: string; id: string }>(sql, params);
    return r.rows.map((x) => ({ tenantId: x.tenant_id, id: x.id }));
  });
}

/**
 * Lease those of `ids` that are still due, under the tenant's row-level security (withTenant): `sql` is the table's
 * own UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …, run with `params(token)`, where `token` is
 * a fresh lease token; the rows it returns come back through `toLeased`. No ids: nothing is leased and no
 * transaction is opened.
 */
export async function claimUnderTenant<R extends QueryResultRow, T>(
  pool: Pool, tenantId: string, ids: readonly string[], sql: string, params: (token: string) => unknown[], toLeased: (row: R) => T,
): Promise<T[]> {
  if (ids.length === 0) return [];
  const token = randomUUID();
  return withTenant(pool, tenantId, async (c) => {
    const r = await c.query<R>(sql, params(token));
    return r.rows.map(toLeased);
  });
}
