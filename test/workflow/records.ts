/**
 * Stubbed provider calls that record into the run's real Postgres exactly as the connector activities do
 * (src/activities/connector-activities.ts, recordOutcome: what the workflow owed, minus the call's own link, plus
 * its outcome, in one MirrorStore.record transaction), and the real record activity (recordIncident). With these
 * a workflow test can check what the mirror ends up holding, not only what the workflow decided.
 */
import type { Pool } from 'pg';
import { createMirrorActivities } from '../../src/activities/mirror-activities';
import type { RecordSpec } from '../../src/activities/contract';
import type { AppConfig } from '../../src/config/load';
import { Secret } from '../../src/config/secret';
import { MirrorStore } from '../../src/db/mirror-store';
import { createPool } from '../../src/db/pool';
import type { Incident, Link, TimelineKind } from '../../src/shared/contract';
import { outcomeKey } from '../../src/shared/records';
import { sharedStack } from '../helpers/shared';

export interface RealMirror {
  pool: Pool;
  mirror: MirrorStore;
  /** The record activity itself (what the workflow's own writes run). */
  recordIncident: ReturnType<typeof createMirrorActivities>['recordIncident'];
  /** Record a provider call's outcome as the activity does (a failed write answers `recorded: false`). */
  recordCall(input: { incident: Incident; connectorId: string; record?: RecordSpec }, provider: Link['provider'], status: 'open' | 'acknowledged' | 'resolved', kind: TimelineKind, patch?: Partial<Link>): Promise<{ recorded: boolean; followUpsRecorded: boolean }>;
  close(): Promise<void>;
}

export function realMirror(): RealMirror {
  const pool = createPool(new Secret(sharedStack().databaseUrl));
  const mirror = new MirrorStore(pool);
  const { recordIncident } = createMirrorActivities({ config: {} as AppConfig, mirror });
  return {
    pool, mirror, recordIncident,
    async recordCall(input, provider, status, kind, patch = {}) {
      const spec = input.record;
      if (!spec) return { recorded: false, followUpsRecorded: false };
      const owed = spec.owed;
      const link: Link = { connectorId: input.connectorId, provider, status, ...patch, updatedAt: new Date().toISOString() };
      // As the OutcomeRecorder: a failed write is reported (`recorded: false`), never thrown.
      const written = await mirror.record({
        incident: input.incident,
        ...(owed?.incident ? { ...owed.incident } : { status: status === 'acknowledged' ? 'acknowledged' : status === 'resolved' ? 'resolved' : 'open' }),
        links: [...(owed?.links ?? []).filter((l) => l.connectorId !== input.connectorId), link],
        entries: [...(owed?.entries ?? []), { key: outcomeKey(spec.chain, spec.actionId), at: new Date().toISOString(), kind, connectorId: input.connectorId }],
        followUps: [...(owed?.followUps ?? [])],
      }).catch(() => undefined);
      return written ? { recorded: true, followUpsRecorded: written.followUpsRecorded } : { recorded: false, followUpsRecorded: false };
    },
    close: () => pool.end(),
  };
}

/** The workflow's result, or a rejection naming what it waited for when it does not complete within `ms`. */
export async function resultWithin<T>(result: Promise<T>, ms: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      result,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${typeof what === 'string' ? what : what()}: the workflow did not complete within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
