/**
 * A run of the legacy workflow that continues-as-new after this version is deployed hands over its v1 state;
 * the next run (on the state machine) converts it here. The legacy code switched only with nothing in flight
 * (opens, redrives, callbacks and mirror writes settled), so what it carries is links, decisions and timeline
 * entries not yet written — those keep their legacy numbering inside this chain's keys.
 */
import type { IncidentState as LegacyState } from '../legacy/state-v1';
import { DEFAULT_REISSUE_GUARD_MS, initialState, type IncidentState } from './state';
// initialState keeps the incident with its openedAt normalized (see normalizedIncident).
import { enqueue } from './records';

export function isLegacyState(v: unknown): v is LegacyState {
  return typeof v === 'object' && v !== null && (v as { v?: unknown }).v === undefined && 'incident' in v && 'pending' in v;
}

export function fromLegacy(old: LegacyState, chain: string): IncidentState {
  const s = initialState(old.incident, chain);
  s.run = (old.run ?? 1) + 1;
  s.status = old.status;
  s.begun = old.begun;
  s.connectors = old.connectors;
  s.links = old.links;
  if (old.acknowledgement) s.acknowledgement = old.acknowledgement;
  if (old.resolution) s.resolution = old.resolution;
  s.correlation = { count: old.correlationCount, seen: [...old.seenSignalIds] };
  s.recent = [...old.timeline];
  s.nextSeq = old.nextSeq;
  s.settings = {
    pagerReResolveDelayMs: old.settings.pagerReResolveDelayMs,
    reconcileIntervalMs: old.settings.reconcileIntervalMs ?? 0,
    reissueGuardMs: DEFAULT_REISSUE_GUARD_MS,
  };
  for (const e of old.pending.timeline) {
    const { seq, ...rest } = e;
    const entry = { key: `${chain}:v1-${seq}`, ...rest };
    enqueue(s.outbox, `entry:${entry.key}`, { entry });
  }
  for (const id of old.pending.linkIds) {
    const link = old.links[id];
    if (link) enqueue(s.outbox, `link:${id}`, { link });
  }
  if (old.pending.incident) {
    enqueue(s.outbox, 'incident', {
      incident: {
        status: old.status,
        ...(old.acknowledgement ? { acknowledgedAt: old.acknowledgement.at } : {}),
        ...(old.resolution ? { resolution: { at: old.resolution.at, source: old.resolution.source, ...(old.resolution.actor ? { actor: old.resolution.actor } : {}) } } : {}),
      },
    });
  }
  return s;
}
