/**
 * What an incident's workflow begins with (BeginResult): the tenant's connectors at open (identities only), the
 * settings it runs under, and what the mirror already holds for the incident. Computed by the API when it starts the
 * workflow (passed in the start input: the opens are scheduled in the first workflow task without a local activity)
 * or, when the starter did not pass it, by the workflow's `beginIncident` local activity. Both use this.
 */
import type { AppConfig } from '../config/load';
import { toRef } from '../config/connectors';
import type { MirrorStore } from '../db/mirror-store';
import type { Incident } from '../shared/contract';
import type { BeginResult } from './contract';

export async function beginResult(config: AppConfig, mirror: Pick<MirrorStore, 'read'>, incident: Incident): Promise<BeginResult> {
  const connectors = config.connectors.forTenant(incident.tenantId).map(toRef);
  const settings = {
    pagerReResolveDelayMs: config.pagerReResolveDelayMs,
    // Per-connector mode: the worker's connector reconciler reads back for every incident, so a new incident's
    // own loop is off (0 ends it at once). Runs already open keep the interval they carry.
    reconcileIntervalMs: config.reconcileMode === 'per-connector' ? 0 : config.reconcileIntervalMs,
    // An attempt interrupted by a hand-over stops within the heartbeat timeout (10 s) plus one request.
    reissueGuardMs: 10_000 + config.httpTimeoutMs + 5_000,
  };
  // A mirror that cannot be read does not delay the page: the incident opens relying on provider-side keys.
  try {
    const record = await mirror.read(incident.tenantId, incident.id);
    return { connectors, mirror: { available: true, ...(record ? { record } : {}) }, settings };
  } catch {
    return { connectors, mirror: { available: false }, settings };
  }
}
