/**
 * Activity inputs and outputs. They are recorded in workflow history, so they carry identities and
 * external references only, never a credential or a webhook URL: the activity looks the connector up
 * by (tenant, connector id) in the worker's own configuration.
 */
import type { ConnectorRef } from '../config/connectors';
import type { MirrorBatch, MirroredIncident } from '../db/mirror-store';
import type { Incident } from '../shared/contract';
import type { CallbackEventRecord, RecordPayload } from '../shared/records';
import type { OpenOutcome, ResolutionInfo } from '../providers/types';

export type { ConnectorRef, MirrorBatch, MirroredIncident, OpenOutcome, ResolutionInfo };

export interface BeginInput {
  incident: Incident;
}

export interface BeginResult {
  /** The tenant's connectors at open: the snapshot this incident fans out to. */
  connectors: ConnectorRef[];
  /** What the mirror already holds for this incident; `available: false` when it could not be read. */
  mirror: { available: boolean; record?: MirroredIncident };
  /** `localFirstOpenMs`: PROBECTL_NOTIFY_LOCAL_FIRST_OPENS=on (absent when off, so the digest of an off configuration is unchanged). */
  settings: { pagerReResolveDelayMs: number; reconcileIntervalMs: number; reissueGuardMs?: number; localFirstOpenMs?: number };
}

/**
 * Since the state-machine-v1 workflow a provider call records its own outcome in Postgres (its link and its
 * timeline entry, under keys of the run chain), together with what the workflow owed Postgres when it
 * scheduled the call. Absent on calls of the legacy workflow, which writes the mirror itself.
 */
export interface RecordSpec {
  /** The run chain's first run id: the prefix of the keys this call writes. */
  chain: string;
  /** The workflow's id of this call (`open:jira:3`): the key of its outcome entry. */
  actionId: string;
  owed?: RecordPayload;
}

export interface ConnectorCall {
  incident: Incident;
  connectorId: string;
  externalRef?: string;
  record?: RecordSpec;
  /**
   * A create scheduled again after a continue-as-new interrupted it: not before this time (ISO), so the
   * interrupted attempt has certainly stopped and its ticket is found by the lookup instead of created twice.
   */
  notBefore?: string;
}

export interface ResolveCall extends ConnectorCall {
  resolution: ResolutionInfo;
  /** A pager's second, delayed resolve, recorded as a follow-up for the runner (key, delay). */
  reResolve?: { key: string; afterMs: number };
  /** A ticket that is not found yet gets a second lookup-and-close, recorded as a follow-up (key, delay). */
  secondPass?: { key: string; afterMs: number };
}

export interface AcknowledgeCall extends ConnectorCall {
  actor?: string;
}

/** What a call that records reports: whether its outcome (and what it carried) is in Postgres. */
export interface Recorded {
  recorded?: boolean;
  /** The follow-ups it carried (or decided) are recorded for the runner too. */
  followUpsRecorded?: boolean;
}

export interface ResolveOutcome extends Recorded {
  /** False when a ticket looked up by its incident key does not exist (yet). */
  found?: boolean;
}

/** The record activity's input: what no provider call carried. */
export interface RecordInput {
  incident: Incident;
  payload: RecordPayload;
}

/**
 * What probectl is told when a resolution or acknowledgement did not come from it (design.md, the callback
 * to probectl). `eventId` is stable across retries, so probectl can drop a repeated delivery.
 */
export type CallbackEvent = CallbackEventRecord;
