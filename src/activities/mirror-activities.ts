import type { AppConfig } from '../config/load';
import type { MirrorStore } from '../db/mirror-store';
import { beginResult } from './begin';
import type { BeginInput, BeginResult, MirrorBatch, RecordInput } from './contract';

export interface MirrorActivityDeps {
  config: AppConfig;
  mirror: MirrorStore;
}

export function createMirrorActivities(deps: MirrorActivityDeps) {
  return {
    /** The begin snapshot (begin.ts), when the starter did not pass it in the start input. */
    async beginIncident(input: BeginInput): Promise<BeginResult> {
      return beginResult(deps.config, deps.mirror, input.incident);
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
