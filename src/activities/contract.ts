/**
 * Activity inputs and outputs. They are recorded in workflow history, so they carry identities and
 * external references only, never a credential or a webhook URL: the activity looks the connector up
 * by (tenant, connector id) in the worker's own configuration.
 */
import type { ConnectorRef } from '../config/connectors';
import type { MirrorBatch, MirroredIncident } from '../db/mirror-store';
import type { Incident } from '../shared/contract';
import type { OpenOutcome, ResolutionInfo } from './providers/types';

export type { ConnectorRef, MirrorBatch, MirroredIncident, OpenOutcome, ResolutionInfo };

export interface BeginInput {
  incident: Incident;
}

export interface BeginResult {
  /** The tenant's connectors at open: the snapshot this incident fans out to. */
  connectors: ConnectorRef[];
  /** What the mirror already holds for this incident; `available: false` when it could not be read. */
  mirror: { available: boolean; record?: MirroredIncident };
  settings: { pagerReResolveDelayMs: number; reconcileIntervalMs: number };
}

export interface ConnectorCall {
  incident: Incident;
  connectorId: string;
  externalRef?: string;
}

export interface ResolveCall extends ConnectorCall {
  resolution: ResolutionInfo;
}

export interface AcknowledgeCall extends ConnectorCall {
  actor?: string;
}

/**
 * What probectl is told when a resolution or acknowledgement did not come from it (design.md, the callback
 * to probectl). `eventId` is stable across retries, so probectl can drop a repeated delivery.
 */
export interface CallbackEvent {
  type: 'incident.resolved' | 'incident.acknowledged';
  eventId: string;
  incidentId: string;
  tenantId: string;
  source: string;
  actor?: string;
  at: string;
  links?: Array<{ connectorId: string; provider: string; status: string; externalRef?: string; externalUrl?: string }>;
}
