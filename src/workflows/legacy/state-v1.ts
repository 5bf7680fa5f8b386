/**
 * The incident's workflow state and its pure transitions. Plain JSON (records and arrays, no Map or Set)
 * because it is carried across continue-as-new; bounded so it stays far below the 2 MiB payload limit.
 * No I/O and no Temporal imports: unit-testable as plain functions.
 */
import type { ConnectorRef } from '../../config/connectors';
import type {
  Incident, IncidentResolution, IncidentStateView, IncidentStatus, Link, LinkStatus, TimelineEntry, TimelineKind,
} from '../../shared/contract';
import type { MirrorBatch } from '../../db/mirror-store';

export const MAX_TIMELINE_IN_STATE = 100;
export const MAX_SEEN_SIGNAL_IDS = 256;
/** A mirror batch carries at most this many timeline entries; the rest waits for the next batch. */
export const MAX_TIMELINE_PER_BATCH = 200;
/**
 * Continue-as-new carries at most this many timeline entries not yet in the mirror; above it, the switch
 * waits for a mirror write first. Keeps the carried state (one payload, 2 MiB limit) small.
 */
export const MAX_CARRIED_PENDING = 2_000;

export interface Settings {
  pagerReResolveDelayMs: number;
  /** 0 or absent (runs started before reconciliation existed): never. */
  reconcileIntervalMs?: number;
}

export interface IncidentState {
  incident: Incident;
  status: IncidentStatus;
  begun: boolean;
  connectors: ConnectorRef[];
  links: Record<string, Link>;
  /** The most recent entries; the whole timeline is in the Postgres mirror. */
  timeline: TimelineEntry[];
  nextSeq: number;
  correlationCount: number;
  seenSignalIds: string[];
  acknowledgement?: { source: string; actor?: string; at: string };
  resolution?: { source: string; actor?: string; reason?: string; at: string };
  settings: Settings;
  /** Not yet written to the mirror. */
  pending: { timeline: TimelineEntry[]; linkIds: string[]; incident: boolean };
  /** Which run of the incident this is (1 + continue-as-new count); absent in states carried before it existed. */
  run?: number;
}

export function initialState(incident: Incident): IncidentState {
  return {
    incident,
    status: 'open',
    begun: false,
    connectors: [],
    links: {},
    timeline: [],
    nextSeq: 1,
    correlationCount: 0,
    seenSignalIds: [],
    settings: { pagerReResolveDelayMs: 60_000 },
    pending: { timeline: [], linkIds: [], incident: true },
  };
}

export function record(
  s: IncidentState,
  at: string,
  kind: TimelineKind,
  fields: Omit<TimelineEntry, 'seq' | 'at' | 'kind'> = {},
): TimelineEntry {
  const entry: TimelineEntry = { seq: s.nextSeq++, at, kind, ...fields };
  s.timeline.push(entry);
  if (s.timeline.length > MAX_TIMELINE_IN_STATE) s.timeline.splice(0, s.timeline.length - MAX_TIMELINE_IN_STATE);
  s.pending.timeline.push(entry);
  return entry;
}

export function setLink(s: IncidentState, ref: ConnectorRef, at: string, status: LinkStatus, patch: Partial<Link> = {}): Link {
  const prev = s.links[ref.id];
  const link: Link = { ...(prev ?? { connectorId: ref.id, provider: ref.provider }), ...patch, status, updatedAt: at };
  if (status !== 'failed' && patch.error === undefined) delete link.error;
  s.links[ref.id] = link;
  if (!s.pending.linkIds.includes(ref.id)) s.pending.linkIds.push(ref.id);
  return link;
}

export function markIncidentDirty(s: IncidentState): void {
  s.pending.incident = true;
}

export function hasMirrorWork(s: IncidentState): boolean {
  return s.pending.incident || s.pending.linkIds.length > 0 || s.pending.timeline.length > 0;
}

/** Take the next batch for the mirror; the state keeps nothing of it (the activity retries until it lands). */
export function takeMirrorBatch(s: IncidentState): MirrorBatch {
  const timeline = s.pending.timeline.splice(0, MAX_TIMELINE_PER_BATCH);
  const links = s.pending.linkIds.map((id) => s.links[id]).filter((l): l is Link => l !== undefined);
  s.pending.linkIds = [];
  s.pending.incident = false;
  return {
    incident: s.incident,
    status: s.status,
    ...(s.acknowledgement ? { acknowledgedAt: s.acknowledgement.at } : {}),
    ...(s.resolution
      ? { resolution: { at: s.resolution.at, source: s.resolution.source, ...(s.resolution.actor ? { actor: s.resolution.actor } : {}) } }
      : {}),
    links,
    timeline,
  };
}

/** Remember a signal id; false when it was seen before (a duplicate). */
export function rememberSignal(s: IncidentState, id: string): boolean {
  if (s.seenSignalIds.includes(id)) return false;
  s.seenSignalIds.push(id);
  if (s.seenSignalIds.length > MAX_SEEN_SIGNAL_IDS) s.seenSignalIds.shift();
  return true;
}

export function view(s: IncidentState): IncidentStateView & { correlationCount: number } {
  return {
    incident: s.incident,
    status: s.status,
    links: Object.values(s.links),
    timeline: s.timeline,
    correlationCount: s.correlationCount,
  };
}

export function resolutionResult(s: IncidentState): IncidentResolution {
  const r = s.resolution!;
  return {
    resolvedAt: r.at,
    source: r.source,
    ...(r.actor ? { actor: r.actor } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
    links: Object.values(s.links),
  };
}
