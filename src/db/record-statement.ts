/**
 * One writer's record (MirrorStore.record) as ONE statement: the incident row, the links and the keyed timeline
 * entries, each a data-modifying CTE over `unnest` of parameter arrays — one round trip inside the tenant transaction
 * where a statement per row took one each. Pure: builds the text and the values; src/db/mirror-store.ts sends it.
 *
 * - The incident row is created when missing. Only a batch that raises it (acknowledged or resolved, or an
 *   acknowledgement or resolution time) updates an existing row — `ON CONFLICT DO UPDATE`, which locks it until the
 *   transaction ends; every other batch (a call's outcome on an open incident, the most common) uses
 *   `ON CONFLICT DO NOTHING`, which changes nothing an existing row holds and takes no lock, so the calls of one
 *   incident that record at once do not queue on its row. (`updated_at` of the incident is no longer touched by
 *   those batches; nothing reads it.)
 * - Links: one upsert per connector; a terminal link is never moved back, an older write never overwrites a newer
 *   one (LINK_UPSERT). Postgres refuses one INSERT that would update the same row twice, so a batch naming a
 *   connector twice is written by the caller row by row, in order (`linksInStatement` false).
 * - Entries: a repeated key is a no-op; rows are inserted in the batch's order (the timeline reads by time, then id).
 * - Lock order: the incident row, then the links, then the entries — as every other writer of the mirror takes them
 *   (the statement-by-statement path, MirrorStore.write), so two records of one incident never wait on each other in
 *   a cycle. Postgres runs data-modifying CTEs the main query does not read at the end, last one first; the main
 *   query reads each CTE, in this order, so they run in it. A record that raises nothing still waits for an
 *   acknowledgement or resolution of the incident in progress (its conflict check waits on the row's updater), but
 *   before it has taken any link.
 * Arrays travel as text arrays (the driver encodes the strings as UTF-8, as it does single parameters), each value
 * cast in the statement. Times go as storableTime() makes them (src/db/storable.ts), so none can fail the cast.
 */
import type { Incident, Link } from '../shared/contract';
import type { KeyedEntry } from '../shared/records';
import { storableTime } from './storable';

/** What happens to an existing link row on a new write (the same rule for the statement and the row-by-row path). */
export const LINK_UPSERT = `ON CONFLICT (tenant_id, incident_id, connector_id) DO UPDATE SET
       status = EXCLUDED.status,
       external_ref = COALESCE(EXCLUDED.external_ref, incident_integrations.external_ref),
       external_url = COALESCE(EXCLUDED.external_url, incident_integrations.external_url),
       last_error = EXCLUDED.last_error,
       updated_at = EXCLUDED.updated_at
     WHERE (incident_integrations.status NOT IN ('resolved', 'orphaned') OR EXCLUDED.status IN ('resolved', 'orphaned'))
       AND (EXCLUDED.updated_at >= incident_integrations.updated_at OR EXCLUDED.status IN ('resolved', 'orphaned'))`;

const INCIDENT_RAISE = `DO UPDATE SET
           status = CASE
             WHEN incidents.status = 'resolved' OR EXCLUDED.status = 'resolved' THEN 'resolved'
             WHEN incidents.status = 'acknowledged' OR EXCLUDED.status = 'acknowledged' THEN 'acknowledged'
             ELSE 'open' END,
           acknowledged_at = COALESCE(incidents.acknowledged_at, EXCLUDED.acknowledged_at),
           resolved_at = COALESCE(incidents.resolved_at, EXCLUDED.resolved_at),
           resolution_source = COALESCE(incidents.resolution_source, EXCLUDED.resolution_source),
           resolution_actor = COALESCE(incidents.resolution_actor, EXCLUDED.resolution_actor),
           updated_at = now()`;

const statementText = (raise: boolean) => `
WITH incident AS (
  INSERT INTO incidents (tenant_id, incident_id, title, severity, status, opened_at, acknowledged_at, resolved_at, resolution_source, resolution_actor)
  VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7::timestamptz, $8::timestamptz, $9, $10)
  ON CONFLICT (tenant_id, incident_id) ${raise ? INCIDENT_RAISE : 'DO NOTHING'}
  RETURNING 1
), links AS (
  INSERT INTO incident_integrations (tenant_id, incident_id, connector_id, provider, status, external_ref, external_url, last_error, updated_at)
  SELECT $1, $2, l.connector_id, l.provider, l.status, l.external_ref, l.external_url, l.last_error, l.updated_at::timestamptz
    FROM unnest($11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[]) WITH ORDINALITY
         AS l(connector_id, provider, status, external_ref, external_url, last_error, updated_at, n)
   ORDER BY l.n
  ${LINK_UPSERT}
  RETURNING 1
), entries AS (
  INSERT INTO incident_timeline (tenant_id, incident_id, entry_key, at, kind, connector_id, source, actor, detail)
  SELECT $1, $2, e.entry_key, e.at::timestamptz, e.kind, e.connector_id, e.source, e.actor, e.detail
    FROM unnest($18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::text[], $24::text[]) WITH ORDINALITY
         AS e(entry_key, at, kind, connector_id, source, actor, detail, n)
   ORDER BY e.n
  ON CONFLICT DO NOTHING
  RETURNING 1
)
SELECT (SELECT count(*) FROM incident) AS incident, (SELECT count(*) FROM links) AS links, (SELECT count(*) FROM entries) AS entries`;

/**
 * Keyed timeline entries alone, in order; a repeated key is a no-op ($1 tenant, $2 incident, $3–$9 the columns as
 * text arrays, as in the record statement).
 */
const ENTRIES_TEXT = `
INSERT INTO incident_timeline (tenant_id, incident_id, entry_key, at, kind, connector_id, source, actor, detail)
SELECT $1, $2, e.entry_key, e.at::timestamptz, e.kind, e.connector_id, e.source, e.actor, e.detail
  FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) WITH ORDINALITY
       AS e(entry_key, at, kind, connector_id, source, actor, detail, n)
 ORDER BY e.n
ON CONFLICT DO NOTHING`;

/** Both texts, built once. */
const TEXT = { raise: statementText(true), keep: statementText(false) };

export interface RecordRows {
  incident: Incident;
  status?: string;
  acknowledgedAt?: string;
  resolution?: { at: string; source: string; actor?: string };
  links: readonly Link[];
  entries: readonly KeyedEntry[];
}

/** True when no connector appears twice among the links (else the caller writes them row by row). */
export function linksInStatement(links: readonly Link[]): boolean {
  return new Set(links.map((l) => l.connectorId)).size === links.length;
}

/** Whether the batch raises the incident row (and so must update, and lock, an existing one). */
export function raisesIncident(b: Pick<RecordRows, 'status' | 'acknowledgedAt' | 'resolution'>): boolean {
  return (b.status !== undefined && b.status !== 'open') || b.acknowledgedAt !== undefined || b.resolution !== undefined;
}

const col = <T>(xs: readonly T[], f: (x: T) => string | undefined | null): Array<string | null> => xs.map((x) => f(x) ?? null);

const entryColumns = (entries: readonly KeyedEntry[]) => [
  col(entries, (e) => e.key), col(entries, (e) => storableTime(e.at)), col(entries, (e) => e.kind), col(entries, (e) => e.connectorId),
  col(entries, (e) => e.source), col(entries, (e) => e.actor), col(entries, (e) => e.detail),
];

/** Keyed entries alone (the API's records, and the statement-by-statement path after its links). */
export function entriesStatement(tenantId: string, incidentId: string, entries: readonly KeyedEntry[]): { text: string; values: unknown[] } {
  return { text: ENTRIES_TEXT, values: [tenantId, incidentId, ...entryColumns(entries)] };
}

/** The statement and its 24 values for `rows` (links only when linksInStatement; else pass none and write them apart). */
export function recordStatement(rows: RecordRows): { text: string; values: unknown[] } {
  const { incident, links, entries } = rows;
  return {
    text: raisesIncident(rows) ? TEXT.raise : TEXT.keep,
    values: [
      incident.tenantId, incident.id, incident.title, incident.severity, rows.status ?? 'open', storableTime(incident.openedAt),
      storableTime(rows.acknowledgedAt) ?? null, storableTime(rows.resolution?.at) ?? null, rows.resolution?.source ?? null, rows.resolution?.actor ?? null,
      col(links, (l) => l.connectorId), col(links, (l) => l.provider), col(links, (l) => l.status), col(links, (l) => l.externalRef),
      col(links, (l) => l.externalUrl), col(links, (l) => l.error), col(links, (l) => storableTime(l.updatedAt)),
      ...entryColumns(entries),
    ],
  };
}
