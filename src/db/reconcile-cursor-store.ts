/**
 * Cursors and leases of per-connector reconciliation (migrations/007). Every statement runs under the connector's
 * tenant (row-level security), so one tenant's reconciler pass can never read or move another tenant's cursor.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { withTenant } from './tenant-tx';

export interface CursorLease {
  tenantId: string;
  connectorId: string;
  /** Changes up to here were processed; the next listing starts here (minus the overlap). */
  cursor: string;
  /** Where the last pass, cut by its page bound, stopped (the lister's position); the next listing continues there. */
  resume?: string;
  leaseToken: string;
}

export class ReconcileCursorStore {
  constructor(private readonly pool: Pool, private readonly taskQueue: string) {}

  /**
   * Take this connector's pass for `leaseMs` when nobody holds it (a first pass creates the row with the cursor
   * `initial`). Undefined: another worker holds it (it reconciles this interval).
   */
  async lease(tenantId: string, connectorId: string, leaseMs: number, initial: string): Promise<CursorLease | undefined> {
    const token = randomUUID();
    return withTenant(this.pool, tenantId, async (c) => {
      await c.query(
        `INSERT INTO reconcile_cursors (task_queue, tenant_id, connector_id, cursor) VALUES ($1, $2, $3, $4)
         ON CONFLICT (task_queue, tenant_id, connector_id) DO NOTHING`,
        [this.taskQueue, tenantId, connectorId, initial],
      );
      const r = await c.query<{ cursor: Date; resume: string | null }>(
        `UPDATE reconcile_cursors
            SET lease_until = now() + make_interval(secs => $4::double precision / 1000), lease_token = $5, updated_at = now()
          WHERE task_queue = $1 AND tenant_id = $2 AND connector_id = $3 AND (lease_until IS NULL OR lease_until <= now())
          RETURNING cursor, resume`,
        [this.taskQueue, tenantId, connectorId, leaseMs, token],
      );
      const row = r.rows[0];
      return row ? { tenantId, connectorId, cursor: row.cursor.toISOString(), ...(row.resume ? { resume: row.resume } : {}), leaseToken: token } : undefined;
    });
  }

  /**
   * Move the cursor forward (never back) and set the resume position (undefined clears it) as the lease holder;
   * false when the lease passed to another worker. The lease itself is kept until its time, so no other worker
   * runs a second pass within the interval.
   */
  async advance(lease: CursorLease, cursor: string, resume?: string): Promise<boolean> {
    return withTenant(this.pool, lease.tenantId, async (c) => {
      const r = await c.query(
        `UPDATE reconcile_cursors SET cursor = greatest(cursor, $5::timestamptz), resume = $6, passes = passes + 1, updated_at = now()
          WHERE task_queue = $1 AND tenant_id = $2 AND connector_id = $3 AND lease_token = $4`,
        [this.taskQueue, lease.tenantId, lease.connectorId, lease.leaseToken, cursor, resume ?? null],
      );
      return (r.rowCount ?? 0) > 0;
    });
  }

  /** The row as a tenant sees it (tests, diagnostics). */
  async read(tenantId: string, connectorId: string): Promise<{ cursor: string; resume?: string; passes: number; leaseUntil?: string } | undefined> {
    return withTenant(this.pool, tenantId, async (c) => {
      const r = await c.query<{ cursor: Date; resume: string | null; passes: string; lease_until: Date | null }>(
        'SELECT cursor, resume, passes::text AS passes, lease_until FROM reconcile_cursors WHERE task_queue = $1 AND tenant_id = $2 AND connector_id = $3',
        [this.taskQueue, tenantId, connectorId],
      );
      const row = r.rows[0];
      return row ? { cursor: row.cursor.toISOString(), ...(row.resume ? { resume: row.resume } : {}), passes: Number(row.passes), ...(row.lease_until ? { leaseUntil: row.lease_until.toISOString() } : {}) } : undefined;
    });
  }
}
