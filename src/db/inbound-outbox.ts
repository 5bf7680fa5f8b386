/**
 * The inbound outbox (migrations/003_inbound_outbox.sql): accepted deliveries and whether Temporal has
 * taken their signal yet. Every row is read and changed under its tenant's row-level security; the only
 * tenant-less reads are the two SECURITY DEFINER functions (due rows as (tenant, id), and the backlog).
 *
 * `next_attempt_at` is both the back-off and the lease: whoever tries a row first moves it past the time the
 * try may take and stamps a lease token; release and done are conditional, so a late owner changes nothing
 * another owner has since decided.
 */
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { storable } from './storable';
import { claimUnderTenant, dueOverTenants, withServiceRole, withTenant } from './tenant-tx';

export type OutboxKind = 'resolved' | 'acknowledged';
/** signalled; closed: the workflow is closed or gone (a duplicate); not_owner: the fallback's owner check failed. */
export type OutboxOutcome = 'signalled' | 'closed' | 'not_owner';

/** What an accepted delivery asks of its incident's workflow. */
export interface OutboxSignal {
  incidentId: string;
  kind: OutboxKind;
  /** The signal's source: the origin connector id, or `inbound:<entry-id>`. */
  source: string;
  actor?: string;
  reason?: string;
  entryId: string;
  provider: string;
}

/** A row held under a lease by whoever is trying it now. */
export interface LeasedRow extends OutboxSignal {
  id: string;
  tenantId: string;
  /** When the delivery was accepted (the signal's `at`). */
  receivedAt: string;
  /** Tries so far, this one included. */
  attempts: number;
  leaseToken: string;
}

export interface OutboxBacklog {
  pending: number;
  oldestSeconds: number;
}

interface Row {
  id: string;
  tenant_id: string;
  incident_id: string;
  kind: OutboxKind;
  source: string;
  actor: string | null;
  reason: string | null;
  entry_id: string;
  provider: string;
  received_at: Date;
  attempts: number;
  lease_token: string;
}

const COLUMNS = 'id::text AS id, tenant_id, incident_id, kind, source, actor, reason, entry_id, provider, received_at, attempts, lease_token';

const toLeased = (r: Row): LeasedRow => ({
  id: r.id,
  tenantId: r.tenant_id,
  incidentId: r.incident_id,
  kind: r.kind,
  source: r.source,
  ...(r.actor ? { actor: r.actor } : {}),
  ...(r.reason ? { reason: r.reason } : {}),
  entryId: r.entry_id,
  provider: r.provider,
  receivedAt: r.received_at.toISOString(),
  attempts: r.attempts,
  leaseToken: r.lease_token,
});

/**
 * Insert an accepted delivery inside the caller's tenant transaction (the one that claimed its delivery id).
 * With `leaseMs` the row is leased to the caller, who tries it right after COMMIT; without, it is due at once
 * (the dispatcher's).
 */
export async function insertOutboxRow(c: PoolClient, tenantId: string, s: OutboxSignal, leaseMs: number | undefined): Promise<LeasedRow> {
  // check_owner (migrations/003) is written true on every row: every row's owner is checked (signal.ts), and a
  // dispatcher of an earlier release, which checks only rows so marked, checks these too during a rolling deploy.
  const token = randomUUID();
  const r = await c.query<Row>(
    `INSERT INTO inbound_outbox (tenant_id, incident_id, kind, source, actor, reason, entry_id, provider, check_owner, attempts, next_attempt_at, lease_token)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, $9, now() + make_interval(secs => $10::double precision / 1000), $11)
     RETURNING ${COLUMNS}`,
    [tenantId, s.incidentId, s.kind, s.source, s.actor ?? null, s.reason ?? null, s.entryId, s.provider,
      leaseMs === undefined ? 0 : 1, leaseMs ?? 0, leaseMs === undefined ? null : token],
  );
  return toLeased({ ...r.rows[0]!, lease_token: leaseMs === undefined ? '' : token });
}

/** Delete the tenant's done rows older than `days` (bounded batch), inside the caller's tenant transaction. */
export async function pruneDoneOutbox(c: PoolClient, tenantId: string, days: number, limit: number): Promise<number> {
  const r = await c.query(
    `DELETE FROM inbound_outbox WHERE id IN (
       SELECT id FROM inbound_outbox WHERE tenant_id = $1 AND done_at IS NOT NULL AND done_at < now() - make_interval(days => $2) LIMIT $3)`,
    [tenantId, days, limit],
  );
  return r.rowCount ?? 0;
}

export class InboundOutbox {
  constructor(private readonly pool: Pool) {}

  /** Due rows of every tenant, oldest first, as (tenant, id) only. */
  async due(limit: number): Promise<Array<{ tenantId: string; id: string }>> {
    return dueOverTenants(this.pool, 'SELECT tenant_id, id::text AS id FROM probectl_inbound_outbox_due($1)', [limit]);
  }

  /**
   * Lease those of `ids` that are still due (SKIP LOCKED: a row another replica is claiming right now is left
   * to it; one it claimed a moment ago is no longer due). Each claim counts as an attempt.
   */
  async claim(tenantId: string, ids: readonly string[], leaseMs: number): Promise<LeasedRow[]> {
    return claimUnderTenant(
      this.pool, tenantId, ids,
      `UPDATE inbound_outbox
          SET next_attempt_at = now() + make_interval(secs => $3::double precision / 1000), lease_token = $4, attempts = attempts + 1
        WHERE id IN (
          SELECT id FROM inbound_outbox
           WHERE tenant_id = $1 AND id = ANY($2::bigint[]) AND done_at IS NULL AND next_attempt_at <= now()
           FOR UPDATE SKIP LOCKED)
        RETURNING ${COLUMNS}`,
      (token) => [tenantId, ids, leaseMs, token],
      toLeased,
    );
  }

  /** Temporal took it (or it turned out closed / not the tenant's): the row is done, whoever holds it now. */
  async markDone(row: Pick<LeasedRow, 'tenantId' | 'id'>, outcome: OutboxOutcome): Promise<void> {
    await withTenant(this.pool, row.tenantId, (c) =>
      c.query(
        `UPDATE inbound_outbox SET done_at = now(), outcome = $3, lease_token = NULL, last_error = NULL
          WHERE tenant_id = $1 AND id = $2 AND done_at IS NULL`,
        [row.tenantId, row.id, outcome],
      ),
    );
  }

  /** Give a leased row back, due again after `delayMs`; nothing happens if the lease has passed to another. */
  async release(row: Pick<LeasedRow, 'tenantId' | 'id' | 'leaseToken'>, delayMs: number, error: string): Promise<void> {
    await withTenant(this.pool, row.tenantId, (c) =>
      c.query(
        `UPDATE inbound_outbox
            SET next_attempt_at = now() + make_interval(secs => $4::double precision / 1000), lease_token = NULL, last_error = $5
          WHERE tenant_id = $1 AND id = $2 AND lease_token = $3 AND done_at IS NULL`,
        [row.tenantId, row.id, row.leaseToken, Math.max(0, delayMs), storable(error.slice(0, 200))],
      ),
    );
  }

  /** Pending rows over all tenants and the age of the oldest (for the backlog gauge). */
  async backlog(): Promise<OutboxBacklog> {
    return withServiceRole(this.pool, async (c) => {
      const r = await c.query<{ pending: string; oldest_seconds: number }>('SELECT pending::text AS pending, oldest_seconds FROM probectl_inbound_outbox_backlog()');
      return { pending: Number(r.rows[0]?.pending ?? 0), oldestSeconds: Number(r.rows[0]?.oldest_seconds ?? 0) };
    });
  }
}
