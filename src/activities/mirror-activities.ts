import type { AppConfig } from '../config/load';
import { toRef } from '../config/connectors';
import type { MirrorStore } from '../db/mirror-store';
import type { BeginInput, BeginResult, MirrorBatch } from './contract';

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
      const settings = { pagerReResolveDelayMs: deps.config.pagerReResolveDelayMs, reconcileIntervalMs: deps.config.reconcileIntervalMs };
      try {
        const record = await deps.mirror.read(input.incident.tenantId, input.incident.id);
        return { connectors, mirror: { available: true, ...(record ? { record } : {}) }, settings };
      } catch {
        return { connectors, mirror: { available: false }, settings };
      }
    },

    /** Retried by Temporal until it lands; idempotent. */
    async writeMirror(batch: MirrorBatch): Promise<void> {
      await deps.mirror.write(batch);
    },
  };
}
