/**
 * What an incident's workflow begins with (BeginResult): the tenant's connectors at open (identities only), the
 * settings it runs under, and what the mirror already holds for the incident. Read by the workflow's `beginIncident`
 * local activity, or — PROBECTL_NOTIFY_BEGIN_IN_START=on — by the API when it starts the run, passed in the start
 * input so the first workflow task needs no local activity (`beginInStart`). Both use this.
 */
import type { AppConfig } from '../config/load';
import { toRef } from '../config/connectors';
import type { MirrorStore } from '../db/mirror-store';
import type { Incident } from '../shared/contract';
import type { BeginResult } from './contract';

/** The connectors and settings part: from this process's configuration. */
export function beginSnapshot(config: AppConfig, incident: Incident): Omit<BeginResult, 'mirror'> {
  const connectors = config.connectors.forTenant(incident.tenantId).map(toRef);
  const settings = {
    pagerReResolveDelayMs: config.pagerReResolveDelayMs,
    // Per-connector mode: the worker's connector reconciler reads back for every incident, so a new incident's
    // own loop is off (0 ends it at once). Runs already open keep the interval they carry.
    reconcileIntervalMs: config.reconcileMode === 'per-connector' ? 0 : config.reconcileIntervalMs,
    // An attempt interrupted by a hand-over stops within the heartbeat timeout (10 s) plus one request.
    reissueGuardMs: 10_000 + config.httpTimeoutMs + 5_000,
  };
  return { connectors, settings };
}

/** The local activity's answer: a mirror that cannot be read does not delay the page (provider-side keys then). */
export async function beginResult(config: AppConfig, mirror: Pick<MirrorStore, 'read'>, incident: Incident): Promise<BeginResult> {
  const snapshot = beginSnapshot(config, incident);
  try {
    const record = await mirror.read(incident.tenantId, incident.id);
    return { ...snapshot, mirror: { available: true, ...(record ? { record } : {}) } };
  } catch {
    return { ...snapshot, mirror: { available: false } };
  }
}

/**
 * The API's snapshot for a start input, or undefined to leave it to the run: when the tenant has no connector here
 * (a configuration the API may not share with the workers), or when the mirror cannot be read within `readTimeoutMs`
 * (a failed read is not passed on as "unavailable": the run's own read may well succeed).
 */
export async function beginInStart(config: AppConfig, mirror: Pick<MirrorStore, 'read'>, incident: Incident, readTimeoutMs: number): Promise<BeginResult | undefined> {
  const snapshot = beginSnapshot(config, incident);
  if (snapshot.connectors.length === 0) return undefined;
  const record = await mirror.read(incident.tenantId, incident.id, readTimeoutMs);
  return { ...snapshot, mirror: { available: true, ...(record ? { record } : {}) } };
}
