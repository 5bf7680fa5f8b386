import type { AppConfig } from '../config/load';
import { toRef } from '../config/connectors';
import type { MirrorStore } from '../db/mirror-store';
import type { BeginInput, BeginResult, MirrorBatch, RecordInput } from './contract';

export interface MirrorActivityDeps {
  config: AppConfig;
  mirror: MirrorStore;
}

export function createMirrorActivities(deps: MirrorActivityDeps) {
  return {
    /**
     * Snapshot the tenant's connectors (identities only) and read what the mirror already knows. A mirror
     * that cannot be read does not delay the page: the incident opens relying on provider-side keys.
     */
    async beginIncident(input: BeginInput): Promise<BeginResult> {
      const connectors = deps.config.connectors.forTenant(input.incident.tenantId).map(toRef);
      const settings = {
        pagerReResolveDelayMs: deps.config.pagerReResolveDelayMs,
        // Per-connector mode: the worker's connector reconciler reads back for every incident, so a new incident's
        // own loop is off (0 ends it at once). Runs already open keep the interval they carry.
        reconcileIntervalMs: deps.config.reconcileMode === 'per-connector' ? 0 : deps.config.reconcileIntervalMs,
        // An attempt interrupted by a hand-over stops within the heartbeat timeout (10 s) plus one request.
        reissueGuardMs: 10_000 + deps.config.httpTimeoutMs + 5_000,
      };
      try {
        const record = await deps.mirror.read(input.incident.tenantId, input.incident.id);
        return { connectors, mirror: { available: true, ...(record ? { record } : {}) }, settings };
      } catch {
        return { connectors, mirror: { available: false }, settings };
      }
    },

    /** Retried by Temporal until it lands; idempotent. (The legacy workflow's write.) */
    async writeMirror(batch: MirrorBatch): Promise<void> {
      await deps.mirror.write(batch);
    },

    /**
     * What the state-machine workflow owes Postgres and no provider call carried: its own decisions' entries,
     * links and incident row, and follow-ups. Idempotent (keyed). `followUpsRecorded: false` tells the workflow
     * to carry the follow-ups out itself.
     */
    async recordIncident(input: RecordInput): Promise<{ followUpsRecorded: boolean }> {
      const { payload } = input;
      return deps.mirror.record({
        incident: input.incident,
        ...(payload.incident ?? { status: 'open' as const }),
        links: payload.links,
        entries: payload.entries,
        followUps: payload.followUps,
      });
    },
  };
}
