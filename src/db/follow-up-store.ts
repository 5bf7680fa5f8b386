/**
 * The follow-up store (migrations/005_follow_ups.sql): follow-ups recorded with the outcome or decision that owes
 * them, and the queries of the worker's follow-up runner (src/followups/runner.ts). Every row is read and changed
 * under its tenant's row-level security; the only tenant-less reads are the two SECURITY DEFINER functions (due
 * rows as (tenant, id), and the backlog counts).
 *
 * Rows belong to one task queue (the worker's): a runner lists only its queue's rows.
 */
import type { Pool, PoolClient } from 'pg';
import type { Incident } from '../shared/contract';
import type { CallbackEventRecord, FollowUpRecord, ResolutionRef } from '../shared/records';
import type { FollowUpWriter } from './mirror-store';
import { storable, storableTime } from './storable';
import { claimUnderTenant, dueOverTenants, withServiceRole, withTenant } from './tenant-tx';

export type FollowUpKind = FollowUpRecord['kind'];
export const FOLLOW_UP_KINDS: readonly FollowUpKind[] = ['re-resolve', 'ticket-close', 'callback'];

/**
 * How a row ended. ok: carried out; not_found: a lookup-and-close found no ticket (the next pass follows, or the
 * last one said so); failed: refused for good; orphaned: its connector is no longer configured; expired: retried
 * until its retry window ended; skipped: nothing to do (no callback URL configured).
 */
export type FollowUpOutcome = 'ok' | 'not_found' | 'failed' | 'orphaned' | 'expired' | 'skipped';

/** Done rows are kept this long (the inbound retention, docs/inbound.md), then pruned by the runner. */
export const FOLLOW_UP_RETENTION_DAYS = 30;
/** last_error is cut to this many characters (the column allows 1000). */
const MAX_ERROR = 500;

/** A row held under a lease by the runner trying it now. */
export interface LeasedFollowUp {
  id: string;
  tenantId: string;
  incidentId: string;
  key: string;
  incident: Incident;
  followUp: FollowUpRecord;
  /** When it became due (for a rescheduled row: when it was first due; the retry window counts from here). */
  firstDueAt: string;
  /** Tries so far, this one included. */
  attempts: number;
  leaseToken: string;
}

interface Row {
  id: string;
  tenant_id: string;
  incident_id: string;
  key: string;
  incident: Incident;
  payload: FollowUpRecord;
  attempts: number;
  lease_token: string;
}

const COLUMNS = 'id::text AS id, tenant_id, incident_id, key, incident, payload, attempts, lease_token';

const toLeased = (r: Row): LeasedFollowUp => ({
  id: r.id,
  tenantId: r.tenant_id,
  incidentId: r.incident_id,
  key: r.key,
  incident: r.incident,
  followUp: r.payload,
  firstDueAt: r.payload.dueAt,
  attempts: r.attempts,
  leaseToken: r.lease_token,
});

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const opt = <K extends string>(k: K, v: unknown): Partial<Record<K, string>> => (str(v) !== undefined ? ({ [k]: str(v) } as Record<K, string>) : {});

function resolutionOf(r: ResolutionRef): ResolutionRef {
  return { source: String(r.source), ...opt('actor', r.actor), ...opt('reason', r.reason) };
}

function eventOf(e: CallbackEventRecord): CallbackEventRecord {
  return {
    type: e.type, eventId: String(e.eventId), incidentId: String(e.incidentId), tenantId: String(e.tenantId), source: String(e.source),
    ...opt('actor', e.actor), at: String(e.at),
    ...(Array.isArray(e.links)
      ? {
          links: e.links.map((l) => ({
            connectorId: String(l.connectorId), provider: String(l.provider), status: String(l.status), ...opt('externalRef', l.externalRef), ...opt('externalUrl', l.externalUrl),
          })),
        }
      : {}),
  };
}

/**
 * The payload as stored: the record's known fields and nothing else, so whatever else an object carried (it
 * never should: no credential, no webhook URL) cannot reach the row. Pure.
 */
export function storedFollowUp(f: FollowUpRecord): FollowUpRecord {
  const base = { key: String(f.key), dueAt: new Date(f.dueAt).toISOString() };
  switch (f.kind) {
    case 're-resolve':
      return { ...base, kind: f.kind, connectorId: String(f.connectorId), ...opt('externalRef', f.externalRef), resolution: resolutionOf(f.resolution) };
    case 'ticket-close':
      return { ...base, kind: f.kind, connectorId: String(f.connectorId), resolution: resolutionOf(f.resolution), pass: Number(f.pass) };
    case 'callback':
      return { ...base, kind: f.kind, event: eventOf(f.event) };
  }
}

/** An incident's optional text as it was sent: an empty string stays one (a connector call reads it as the workflow did). */
const given = <K extends string>(k: K, v: unknown): Partial<Record<K, string>> => (typeof v === 'string' ? ({ [k]: v } as Record<K, string>) : {});

/** The incident as stored beside its follow-ups (what a connector call needs): its known fields only, as sent. Pure. */
export function storedIncident(i: Incident): Incident {
  const labels = i.labels && typeof i.labels === 'object' ? Object.fromEntries(Object.entries(i.labels).map(([k, v]) => [k, String(v)])) : undefined;
  return {
    id: i.id, tenantId: i.tenantId, title: String(i.title), severity: i.severity, openedAt: String(i.openedAt),
    ...given('summary', i.summary), ...given('source', i.source), ...given('url', i.url), ...(labels ? { labels } : {}),
  };
}

/** One callback row of an incident, as the callback handler weighs it (FollowUpStore.callbacks). */
export interface CallbackState {
  /** `incident.resolved` or `incident.acknowledged`. */
  type: string;
  /** Done and taken by probectl. */
  delivered: boolean;
  /** Not done yet (due, leased or backing off). */
  owed: boolean;
}

export class FollowUpStore implements FollowUpWriter {
  constructor(
    private readonly pool: Pool,
    /** The task queue whose rows this store writes and lists. */
    readonly taskQueue: string,
  ) {}

  /**
   * FollowUpWriter: insert inside the caller's record transaction (tenant set). A key that exists is left as it
   * is, so a retried record, or the same follow-up carried by two writers, is one row.
   */
  async write(c: PoolClient, incident: Incident, followUps: readonly FollowUpRecord[]): Promise<void> {
    const stored = storedIncident(incident);
    for (const f of followUps) {
      const payload = storedFollowUp(f);
      await c.query(
        `INSERT INTO follow_ups (tenant_id, incident_id, task_queue, key, kind, incident, payload, due_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (tenant_id, incident_id, key) DO NOTHING`,
        [incident.tenantId, incident.id, this.taskQueue, payload.key, payload.kind, JSON.stringify(stored), JSON.stringify(payload), storableTime(payload.dueAt)],
      );
    }
  }

  /** Due, unleased, undone rows of this queue over every tenant, oldest first, as (tenant, id) only. */
  async due(limit: number): Promise<Array<{ tenantId: string; id: string }>> {
    return dueOverTenants(this.pool, 'SELECT tenant_id, id::text AS id FROM probectl_follow_ups_due($1, $2)', [this.taskQueue, limit]);
  }

  /**
   * Lease those of `ids` that are still due and unleased (SKIP LOCKED: a row another runner is claiming right now
   * is left to it; one it claimed a moment ago is leased, so no longer due). Each claim counts as an attempt.
   */
  async claim(tenantId: string, ids: readonly string[], leaseMs: number): Promise<LeasedFollowUp[]> {
    return claimUnderTenant(
      this.pool, tenantId, ids,
      `UPDATE follow_ups
          SET lease_until = now() + make_interval(secs => $4::double precision / 1000), lease_token = $5, attempts = attempts + 1, updated_at = now()
        WHERE id IN (
          SELECT id FROM follow_ups
           WHERE tenant_id = $1 AND task_queue = $2 AND id = ANY($3::bigint[]) AND done_at IS NULL AND due_at <= now()
             AND (lease_until IS NULL OR lease_until <= now())
           ORDER BY due_at, id
           FOR UPDATE SKIP LOCKED)
        RETURNING ${COLUMNS}`,
      (token) => [tenantId, this.taskQueue, ids, leaseMs, token],
      toLeased,
    );
  }

  /**
   * The row is done, whoever holds its lease now (a runner whose lease ran out and that still finished did the
   * work too; every kind is idempotent). A done row is never changed again.
   */
  async complete(row: Pick<LeasedFollowUp, 'tenantId' | 'id'>, outcome: FollowUpOutcome, error?: string): Promise<boolean> {
    const r = await withTenant(this.pool, row.tenantId, (c) =>
      c.query(
        `UPDATE follow_ups SET done_at = now(), outcome = $3, lease_until = NULL, lease_token = NULL, last_error = $4, updated_at = now()
          WHERE tenant_id = $1 AND id = $2 AND done_at IS NULL`,
        [row.tenantId, row.id, outcome, error === undefined ? null : storable(error.slice(0, MAX_ERROR))],
      ),
    );
    return (r.rowCount ?? 0) > 0;
  }

  /**
   * Give a leased row back, due again after `delayMs` (0: at once), with the (scrubbed) reason. Nothing happens
   * when the lease has passed to another runner since, or the row is done.
   */
  async reschedule(row: Pick<LeasedFollowUp, 'tenantId' | 'id' | 'leaseToken'>, delayMs: number, error: string): Promise<boolean> {
    const r = await withTenant(this.pool, row.tenantId, (c) =>
      c.query(
        `UPDATE follow_ups
            SET due_at = now() + make_interval(secs => $4::double precision / 1000), lease_until = NULL, lease_token = NULL, last_error = $5, updated_at = now()
          WHERE tenant_id = $1 AND id = $2 AND lease_token = $3 AND done_at IS NULL`,
        [row.tenantId, row.id, row.leaseToken, Math.max(0, delayMs), storable(error.slice(0, MAX_ERROR))],
      ),
    );
    return (r.rowCount ?? 0) > 0;
  }

  /**
   * The incident's callbacks to probectl, every run's: the event type, and whether it was delivered (done, `ok`) or is
   * still owed (not done). The callback handler keeps probectl's order with it: no acknowledgement after the resolution.
   */
  async callbacks(tenantId: string, incidentId: string): Promise<CallbackState[]> {
    return withTenant(this.pool, tenantId, async (c) => {
      const r = await c.query<{ type: string | null; done: boolean; outcome: string | null }>(
        `SELECT payload->'event'->>'type' AS type, done_at IS NOT NULL AS done, outcome
           FROM follow_ups WHERE tenant_id = $1 AND incident_id = $2 AND kind = 'callback'`,
        [tenantId, incidentId],
      );
      return r.rows.map((row) => ({ type: row.type ?? '', delivered: row.done && row.outcome === 'ok', owed: !row.done }));
    });
  }

  /** Delete the tenant's done rows older than `days` (bounded batch); returns how many went. Undone rows stay. */
  async prune(tenantId: string, days = FOLLOW_UP_RETENTION_DAYS, limit = 5_000): Promise<number> {
    return withTenant(this.pool, tenantId, async (c) => {
      const r = await c.query(
        `DELETE FROM follow_ups WHERE id IN (
           SELECT id FROM follow_ups WHERE tenant_id = $1 AND done_at IS NOT NULL AND done_at < now() - make_interval(days => $2) LIMIT $3)`,
        [tenantId, days, limit],
      );
      return r.rowCount ?? 0;
    });
  }

  /**
   * Rows of this queue that became due and are not done yet (being tried or backing off included), by kind, over
   * every tenant (the backlog gauge).
   */
  async backlog(): Promise<Record<FollowUpKind, number>> {
    return withServiceRole(this.pool, async (c) => {
      const r = await c.query<{ kind: FollowUpKind; due: string }>('SELECT kind, due::text AS due FROM probectl_follow_ups_backlog($1)', [this.taskQueue]);
      const out = Object.fromEntries(FOLLOW_UP_KINDS.map((k) => [k, 0])) as Record<FollowUpKind, number>;
      for (const x of r.rows) if (x.kind in out) out[x.kind] = Number(x.due);
      return out;
    });
  }
}
