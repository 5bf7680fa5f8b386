/**
 * What an incident's workflow begins with (BeginResult): the tenant's connectors at open (identities only), the
 * settings it runs under, and what the mirror already holds for the incident. Read by the workflow's `beginIncident`
 * local activity, or — PROBECTL_NOTIFY_BEGIN_IN_START=auto, the default — by the API when it starts the run, passed in
 * the start input with the digest of the configuration it was read under (`beginInStart`), so the first workflow task
 * needs no local activity when its worker has the same digest (src/workflows/v2/checked-begin.ts). All use this.
 */
import { createHash } from 'node:crypto';
import type { AppConfig } from '../config/load';
import { toRef } from '../config/connectors';
import type { MirrorStore } from '../db/mirror-store';
import type { Incident } from '../shared/contract';
import { ADOPTED_LINKS_ACKNOWLEDGED_V1, FIRST_RUN_CHECKED_V1, RESOLVED_LEFT_OPEN_V1 } from '../workflows/patches';
import { LOCAL_FIRST_OPEN_MS } from '../workflows/v2/local-first-setting';
import type { BeginResult } from './contract';

/** The connectors and settings part for one tenant: from this process's configuration. */
function tenantSnapshot(config: AppConfig, tenantId: string): Omit<BeginResult, 'mirror'> {
  const connectors = config.connectors.forTenant(tenantId).map(toRef);
  const settings = {
    pagerReResolveDelayMs: config.pagerReResolveDelayMs,
    // Per-connector mode: the worker's connector reconciler reads back for every incident, so a new incident's
    // own loop is off (0 ends it at once). Runs already open keep the interval they carry.
    reconcileIntervalMs: config.reconcileMode === 'per-connector' ? 0 : config.reconcileIntervalMs,
    // An attempt interrupted by a hand-over stops within the heartbeat timeout (10 s) plus one request.
    reissueGuardMs: 10_000 + config.httpTimeoutMs + 5_000,
    // Only when on: a configuration with it off keeps the digest of the release before it.
    ...(config.localFirstOpens ? { localFirstOpenMs: LOCAL_FIRST_OPEN_MS } : {}),
  };
  return { connectors, settings };
}

/** The connectors and settings part: from this process's configuration. */
export function beginSnapshot(config: AppConfig, incident: Incident): Omit<BeginResult, 'mirror'> {
  return tenantSnapshot(config, incident.tenantId);
}

const digests = new WeakMap<AppConfig, string>();

/** What the digest starts with: the patch a first run that takes the snapshot asks (src/workflows/patches.ts). */
export const BEGIN_DIGEST_TAG = `begin-config:${FIRST_RUN_CHECKED_V1}+${ADOPTED_LINKS_ACKNOWLEDGED_V1}+${RESOLVED_LEFT_OPEN_V1}`;

/**
 * The digest of everything `beginSnapshot` reads from a configuration: every configured tenant's part, computed by
 * the same function (connectors in their order, with the capabilities this build gives their providers; settings),
 * so two configurations with one digest give every incident the same connectors and settings. A tenant no connector
 * names gets no connector under either. Nothing secret is in it (connector identities and timings only). 64 bits of
 * SHA-256: the point is to notice a configuration or build that differs, not to resist a forger, and a configuration
 * is written by the operator. Computed once per configuration.
 */
export function beginConfigDigest(config: AppConfig): string {
  const known = digests.get(config);
  if (known !== undefined) return known;
  const tenants = [...new Set(config.connectors.all.map((c) => c.tenantId))].sort();
  // Every configured tenant's whole part, and the part of a tenant no connector names (the settings it runs under).
  // The patch a run that takes the snapshot asks is part of it: a worker of a release whose first runs ask other
  // patches carries another digest (release before first-run-checked-v1: 'begin-config-v1'), so the API's gate
  // (src/runtime/begin-gate.ts) passes no snapshot while one polls, and no run it could not replay is begun.
  const parts = [BEGIN_DIGEST_TAG, tenantSnapshot(config, ''), tenants.map((t) => [t, tenantSnapshot(config, t)])];
  const digest = createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
  digests.set(config, digest);
  return digest;
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

/** A begin snapshot as the API passes it in a start input (IncidentWorkflowInput.checkedBegin). */
export interface CheckedBegin {
  /** `beginConfigDigest` of the configuration the snapshot was read under. */
  configDigest: string;
  begin: BeginResult;
}

/**
 * The API's snapshot for a start input. Rejects when the mirror cannot be read within `readTimeoutMs`: the caller
 * then passes none (a failed read is not passed on as "unavailable": the run's own read may well succeed).
 */
export async function beginInStart(config: AppConfig, mirror: Pick<MirrorStore, 'read'>, incident: Incident, readTimeoutMs: number): Promise<CheckedBegin> {
  const snapshot = beginSnapshot(config, incident);
  const record = await mirror.read(incident.tenantId, incident.id, readTimeoutMs);
  return { configDigest: beginConfigDigest(config), begin: { ...snapshot, mirror: { available: true, ...(record ? { record } : {}) } } };
}
