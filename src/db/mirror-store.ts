import type { Pool, PoolClient } from 'pg';
import type { Incident, IncidentStatus, Link, LinkStatus, Provider, TimelineEntry } from '../shared/contract';
import type { FollowUpRecord, KeyedEntry } from '../shared/records';
import { InboundOutbox, insertOutboxRow, pruneDoneOutbox, type LeasedRow, type OutboxSignal } from './inbound-outbox';
import { inOneRoundTrip } from './one-round-trip';
import { LINK_UPSERT, entriesStatement, linksInStatement, recordStatement } from './record-statement';
import { storable, storableTime } from './storable';
import { withTenant } from './tenant-tx';

/** What the workflow writes in one batch. Idempotent: a retried batch changes nothing twice. */
export interface MirrorBatch {
  incident: Incident;
  status: IncidentStatus;
  acknowledgedAt?: string;
  resolution?: { at: string; source: string; actor?: string };
  links: Link[];
  timeline: TimelineEntry[];
}

export type { KeyedEntry };

/**
 * What one writer records at once (a provider-call activity its outcome, the workflow its decisions, the API
 * what it received). Idempotent: the incident row only ever moves forward (open → acknowledged → resolved), a
 * terminal link is never moved back, and an entry whose key exists is skipped. Strings are stored as storable()
 * makes them (a NUL character or a lone surrogate becomes U+FFFD), times as storableTime() does (the same instant,
 * held within years 0001–9999).
 */
export interface RecordBatch {
  incident: Incident;
  /** Raise the incident row to at least this status. */
  status?: IncidentStatus;
  acknowledgedAt?: string;
  resolution?: { at: string; source: string; actor?: string };
  links?: Link[];
  entries?: KeyedEntry[];
  /** Work for the follow-up runner, recorded in the same transaction when a follow-up store is configured. */
  followUps?: FollowUpRecord[];
}

/** Writes follow-ups inside the record transaction (migration 005); absent: follow-ups are not recorded. */
export interface FollowUpWriter {
  write(c: PoolClient, incident: Incident, followUps: readonly FollowUpRecord[]): Promise<void>;
}

export interface MirroredIncident {
  status: IncidentStatus;
  resolvedAt?: string;
  resolutionSource?: string;
  resolutionActor?: string;
  links: Link[];
}

interface LinkRow {
  connector_id: string;
  provider: string;
  status: string;
  external_ref: string | null;
  external_url: string | null;
  last_error: string | null;
  updated_at: Date;
}

const toLink = (r: LinkRow): Link => ({
  connectorId: r.connector_id,
  provider: r.provider as Provider,
  status: r.status as LinkStatus,
  ...(r.external_ref ? { externalRef: r.external_ref } : {}),
  ...(r.external_url ? { externalUrl: r.external_url } : {}),
  ...(r.last_error ? { error: r.last_error } : {}),
  updatedAt: r.updated_at.toISOString(),
});

/** One incident and its links as one statement's rows: a row per link (or one with no link), the incident repeated. */
const READ_SQL = `
SELECT i.status, i.resolved_at, i.resolution_source, i.resolution_actor,
       l.connector_id, l.provider, l.status AS link_status, l.external_ref, l.external_url, l.last_error, l.updated_at
  FROM (SELECT 1) one
  LEFT JOIN incidents i ON i.tenant_id = $1 AND i.incident_id = $2
  LEFT JOIN incident_integrations l ON l.tenant_id = $1 AND l.incident_id = $2
 ORDER BY l.id`;

interface ReadRow extends Omit<LinkRow, 'connector_id' | 'provider' | 'status' | 'updated_at'> {
  status: string | null;
  resolved_at: Date | null;
  resolution_source: string | null;
  resolution_actor: string | null;
  connector_id: string | null;
  provider: string | null;
  link_status: string | null;
  updated_at: Date | null;
}

/** A link found by its external reference (inbound reverse lookup). */
export interface ReverseMatch {
  incidentId: string;
  connectorId: string;
  linkStatus: LinkStatus;
  /** The mirrored incident's status; undefined when only the link row exists yet. */
  incidentStatus?: IncidentStatus;
}

/** Inbound lookups inside the transaction that claimed the delivery id (same connection, same tenant). */
export interface InboundLookup {
  findByExternalRef(provider: Provider, refs: readonly string[]): Promise<ReverseMatch[]>;
  incidentStatus(incidentId: string): Promise<IncidentStatus | undefined>;
  /**
   * Record the accepted delivery in the outbox, in this transaction: it commits with the delivery id or not
   * at all. With `leaseMs` the row is leased to the caller (it signals right after COMMIT); without, it is
   * the dispatcher's at once.
   */
  enqueue(signal: OutboxSignal, leaseMs: number | undefined): Promise<LeasedRow>;
}

export type DeliveryOutcome<T> = { duplicate: true } | { duplicate: false; value: T };

/** Tenant-scoped access to the mirror. Every method runs under row-level security for one tenant. */
export class MirrorStore {
  /** Accepted inbound deliveries and their signals (migrations/003). */
  readonly outbox: InboundOutbox;

  constructor(
    private readonly pool: Pool,
    private readonly followUps?: FollowUpWriter,
  ) {
    this.outbox = new InboundOutbox(pool);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  /**
   * The incident and its links in one statement (links in the order they were first written). `timeoutMs`: the
   * statement is cancelled after that long (the API's read at open; the caller stops waiting then).
   */
  async read(tenantId: string, incidentId: string, timeoutMs?: number): Promise<MirroredIncident | undefined> {
    // One round trip (frame, SELECT, COMMIT as one string): the API's read at open is on the start's path.
    const rows = await inOneRoundTrip<ReadRow>(this.pool, tenantId, READ_SQL, [tenantId, incidentId], timeoutMs);
    const first = rows[0];
    const links = rows.filter((r) => r.connector_id !== null).map((r) => toLink({ ...r, connector_id: r.connector_id!, provider: r.provider!, status: r.link_status!, updated_at: r.updated_at! }));
    if (!first || (first.status === null && links.length === 0)) return undefined;
    return {
      status: (first.status ?? 'open') as IncidentStatus,
      ...(first.resolved_at ? { resolvedAt: first.resolved_at.toISOString() } : {}),
      ...(first.resolution_source ? { resolutionSource: first.resolution_source } : {}),
      ...(first.resolution_actor ? { resolutionActor: first.resolution_actor } : {}),
      links,
    };
  }

  async write(written: MirrorBatch): Promise<void> {
    const batch = storable(written);
    const { incident } = batch;
    await withTenant(this.pool, incident.tenantId, async (c) => {
      await c.query(
        `INSERT INTO incidents (tenant_id, incident_id, title, severity, status, opened_at, acknowledged_at, resolved_at, resolution_source, resolution_actor)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (tenant_id, incident_id) DO UPDATE SET
           status = CASE WHEN incidents.status = 'resolved' THEN incidents.status ELSE EXCLUDED.status END,
           acknowledged_at = COALESCE(incidents.acknowledged_at, EXCLUDED.acknowledged_at),
           resolved_at = COALESCE(incidents.resolved_at, EXCLUDED.resolved_at),
           resolution_source = COALESCE(incidents.resolution_source, EXCLUDED.resolution_source),
           resolution_actor = COALESCE(incidents.resolution_actor, EXCLUDED.resolution_actor),
           updated_at = now()`,
        [
          incident.tenantId, incident.id, incident.title, incident.severity, batch.status, storableTime(incident.openedAt),
          storableTime(batch.acknowledgedAt) ?? null, storableTime(batch.resolution?.at) ?? null, batch.resolution?.source ?? null, batch.resolution?.actor ?? null,
        ],
      );
      for (const l of batch.links) await upsertLink(c, incident, l);
      for (const t of batch.timeline) {
        await c.query(
          `INSERT INTO incident_timeline (tenant_id, incident_id, seq, at, kind, connector_id, source, actor, detail)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
          [incident.tenantId, incident.id, t.seq, storableTime(t.at), t.kind, t.connectorId ?? null, t.source ?? null, t.actor ?? null, t.detail ?? null],
        );
      }
    });
  }

  /**
   * Record one writer's batch (see RecordBatch): the incident row (created if missing, its status only raised),
   * the links (a terminal one never moved back) and keyed timeline entries, in one tenant transaction.
   */
  async record(recorded: RecordBatch): Promise<{ followUpsRecorded: boolean }> {
    const batch = storable(recorded);
    const { incident } = batch;
    const links = batch.links ?? [];
    const followUps = batch.followUps ?? [];
    const writer = followUps.length > 0 ? this.followUps : undefined;
    // The incident, the links and the entries in one statement (src/db/record-statement.ts), sent with its
    // transaction as one string — one round trip (src/db/one-round-trip.ts). Follow-ups add their own statements
    // after it; a batch that names a connector twice is written in the same lock order, statement by statement: the
    // incident, its links row by row, its entries.
    const together = linksInStatement(links);
    const entries = batch.entries ?? [];
    const { text, values } = recordStatement({ ...batch, links: together ? links : [], entries: together ? entries : [] });
    if (together && !writer) {
      await inOneRoundTrip(this.pool, incident.tenantId, text, values);
      return { followUpsRecorded: followUps.length === 0 };
    }
    await withTenant(this.pool, incident.tenantId, async (c) => {
      await c.query(text, values);
      if (!together) {
        for (const l of links) await upsertLink(c, incident, l);
        if (entries.length > 0) {
          const e = entriesStatement(incident.tenantId, incident.id, entries);
          await c.query(e.text, e.values);
        }
      }
      if (writer) await writer.write(c, incident, followUps);
    });
    return { followUpsRecorded: followUps.length === 0 || writer !== undefined };
  }

  /** Keyed timeline entries alone (what the API records as it receives it); a repeated key is a no-op. */
  async recordEntries(tenantId: string, incidentId: string, recorded: readonly KeyedEntry[]): Promise<void> {
    const { text, values } = entriesStatement(tenantId, incidentId, storable(recorded));
    await withTenant(this.pool, tenantId, async (c) => void (await c.query(text, values)));
  }

  /**
   * External reference(s) → links and their incidents, under the tenant's row-level security (another
   * tenant's identical reference is invisible). Uses the incident_integrations_reverse index.
   */
  async findByExternalRef(tenantId: string, provider: Provider, refs: readonly string[]): Promise<ReverseMatch[]> {
    return withTenant(this.pool, tenantId, (c) => reverseLookup(c, tenantId).findByExternalRef(provider, refs));
  }

  /**
   * Run an inbound delivery once. With a delivery id, its row is inserted first in the same transaction
   * that `fn` runs in: a concurrent duplicate waits on the unique key until this one committed (then it is
   * a duplicate) or rolled back (then it runs). `fn` failing rolls the row back, so the provider's retry is
   * processed again. Without a delivery id `fn` just runs in a tenant transaction. `fn` touches Postgres
   * only (no Temporal call while the transaction is open): it decides, and enqueues what must be signalled.
   */
  async inboundDelivery<T>(
    tenantId: string,
    delivery: { provider: Provider; deliveryId: string; entryId: string } | undefined,
    fn: (lookup: InboundLookup) => Promise<T>,
  ): Promise<DeliveryOutcome<T>> {
    return withTenant(this.pool, tenantId, async (c) => {
      if (delivery) {
        const claimed = await c.query(
          `INSERT INTO inbound_deliveries (tenant_id, provider, delivery_id, entry_id) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING`,
          [tenantId, delivery.provider, delivery.deliveryId, delivery.entryId],
        );
        if (claimed.rowCount === 0) return { duplicate: true as const };
      }
      return { duplicate: false as const, value: await fn(reverseLookup(c, tenantId)) };
    });
  }

  /**
   * Delete the tenant's delivery ids and done outbox rows older than `days` (bounded batches); returns how
   * many went. Pending outbox rows are never deleted.
   */
  async pruneDeliveries(tenantId: string, days: number, limit = 5_000): Promise<number> {
    return withTenant(this.pool, tenantId, async (c) => {
      const r = await c.query(
        `DELETE FROM inbound_deliveries WHERE ctid IN (
           SELECT ctid FROM inbound_deliveries WHERE tenant_id = $1 AND received_at < now() - make_interval(days => $2) LIMIT $3)`,
        [tenantId, days, limit],
      );
      return (r.rowCount ?? 0) + (await pruneDoneOutbox(c, tenantId, days, limit));
    });
  }

  /**
   * The whole timeline in the order things happened: by time, then by the order they were written (entries of
   * the legacy workflow, keyed by seq, and keyed entries of later runs interleave correctly). `seq` is the
   * position in that order, numbered from 1.
   */
  async timeline(tenantId: string, incidentId: string): Promise<TimelineEntry[]> {
    return withTenant(this.pool, tenantId, async (c) => {
      const rows = await c.query<{ seq: string; at: Date; kind: string; connector_id: string | null; source: string | null; actor: string | null; detail: string | null }>(
        `SELECT row_number() OVER (ORDER BY at, id) AS seq, at, kind, connector_id, source, actor, detail
           FROM incident_timeline WHERE tenant_id = $1 AND incident_id = $2 ORDER BY at, id`,
        [tenantId, incidentId],
      );
      return rows.rows.map((r) => ({
        seq: Number(r.seq),
        at: r.at.toISOString(),
        kind: r.kind as TimelineEntry['kind'],
        ...(r.connector_id ? { connectorId: r.connector_id } : {}),
        ...(r.source ? { source: r.source } : {}),
        ...(r.actor ? { actor: r.actor } : {}),
        ...(r.detail ? { detail: r.detail } : {}),
      }));
    });
  }
}

/**
 * A terminal link (resolved, orphaned) is never moved back by a late or repeated write, and an older state never
 * overwrites a newer one (by `updated_at`: a slow call that carried a link snapshot the workflow owed must not
 * undo what the link's own, later call recorded). Clocks of workers and the server are assumed NTP-close.
 */
async function upsertLink(c: PoolClient, incident: Incident, l: Link): Promise<void> {
  await c.query(
    `INSERT INTO incident_integrations (tenant_id, incident_id, connector_id, provider, status, external_ref, external_url, last_error, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ${LINK_UPSERT}`,
    [incident.tenantId, incident.id, l.connectorId, l.provider, l.status, l.externalRef ?? null, l.externalUrl ?? null, l.error ?? null, storableTime(l.updatedAt)],
  );
}

function reverseLookup(c: PoolClient, tenantId: string): InboundLookup {
  return {
    async findByExternalRef(provider, refs) {
      const wanted = [...new Set(refs.filter((r) => r.length > 0 && r.length <= 255))];
      if (wanted.length === 0) return [];
      const rows = await c.query<{ incident_id: string; connector_id: string; status: string; incident_status: string | null }>(
        `SELECT l.incident_id, l.connector_id, l.status, i.status AS incident_status
           FROM incident_integrations l
           LEFT JOIN incidents i ON i.tenant_id = l.tenant_id AND i.incident_id = l.incident_id
          WHERE l.tenant_id = $1 AND l.provider = $2 AND l.external_ref = ANY($3::text[])
          ORDER BY l.id
          LIMIT 20`,
        [tenantId, provider, wanted],
      );
      return rows.rows.map((r) => ({
        incidentId: r.incident_id,
        connectorId: r.connector_id,
        linkStatus: r.status as LinkStatus,
        ...(r.incident_status ? { incidentStatus: r.incident_status as IncidentStatus } : {}),
      }));
    },
    async incidentStatus(incidentId) {
      const r = await c.query<{ status: string }>('SELECT status FROM incidents WHERE tenant_id = $1 AND incident_id = $2', [tenantId, incidentId]);
      return r.rows[0]?.status as IncidentStatus | undefined;
    },
    enqueue(signal, leaseMs) {
      return insertOutboxRow(c, tenantId, storable(signal), leaseMs);
    },
  };
}
