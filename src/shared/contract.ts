/**
 * The language-neutral workflow contract (docs/workflow-contract.md). Plain JSON shapes only: these cross
 * Temporal's default JSON payload converter and are read by probectl's Go client.
 */
import type { ShippedProvider } from '../providers/registry';

export const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * The provider names: 'pagerduty' | 'opsgenie' | 'slack' | 'teams' | 'servicenow' | 'jira', as listed by the
 * provider registry (src/providers/registry.ts; the names and their order are part of this contract).
 */
export type Provider = ShippedProvider;

export interface Incident {
  id: string;
  tenantId: string;
  title: string;
  severity: Severity;
  summary?: string;
  source?: string;
  url?: string;
  /** ISO 8601 */
  openedAt: string;
  labels?: Record<string, string>;
}

export interface IncidentWorkflowInput {
  incident: Incident;
  /** Carried state when the workflow continues-as-new; never set by callers. */
  carried?: unknown;
  /**
   * What the first run begins with (the tenant's connectors, settings, the mirror's record), unchecked: set by the
   * service's API of earlier releases (with PROBECTL_NOTIFY_BEGIN_IN_START=on) so the first workflow task needs no
   * local activity; the current API passes `checkedBegin` instead, other callers omit both (the run then reads it
   * itself). A value of the wrong shape is ignored the same way.
   */
  begin?: unknown;
  /**
   * The same snapshot with the digest of the configuration it was read under, `{ configDigest, begin }`: what the
   * service's own API passes (PROBECTL_NOTIFY_BEGIN_IN_START, default auto; only while every worker polling the task
   * queue carries its digest, src/runtime/begin-gate.ts). The run takes it only when the worker running its first
   * task has the same digest in its Build ID (src/workflows/v2/checked-begin.ts); otherwise, or when it is of the
   * wrong shape, the run reads the snapshot itself.
   */
  checkedBegin?: unknown;
  /**
   * `true` when a run of the id existed before this start (it ended without completing, or retention deleted it after a
   * refused start): set by the service's client (src/client/index.ts) on every start that follows a refusal. That run
   * may have sent opens it never recorded, so a refused open of this run still gets its resolve (patch
   * `earlier-runs-resolve-v1`, docs/workflow-contract.md "Links"). Anything but `true` is the same as absent.
   */
  again?: boolean;
}

/** `source` of a signal: a connector id of the incident's tenant, `api`, or `probectl`. */
export type SignalSource = string;

export interface CorrelateSignal {
  tenantId: string;
  signalId: string;
  summary?: string;
  at: string;
  /** Set by the HTTP API when it has already recorded the entry in Postgres; other clients leave it out. */
  recorded?: boolean;
}

export interface AcknowledgeSignal {
  tenantId: string;
  source: SignalSource;
  actor?: string;
  at: string;
}

export interface ResolveSignal {
  tenantId: string;
  source: SignalSource;
  actor?: string;
  reason?: string;
  at: string;
}

/** Re-open one connector whose link is `failed`; anything else is recorded as `signal.rejected`. */
export interface RedriveSignal {
  tenantId: string;
  connectorId: string;
  actor?: string;
  at: string;
}

export type IncidentStatus = 'open' | 'acknowledged' | 'resolved';

export type LinkStatus =
  | 'pending' // open attempt under way
  | 'open' // the provider holds an open alert / post / ticket
  | 'acknowledged'
  | 'resolved'
  | 'failed' // the provider refused permanently, or retries ran out
  | 'skipped' // filtered out (min_severity)
  | 'orphaned'; // the connector was removed from the configuration

export interface Link {
  connectorId: string;
  provider: Provider;
  status: LinkStatus;
  /** Provider-side reference: dedup key, alias, sys_id, issue key, channel/ts. Never a secret. */
  externalRef?: string;
  externalUrl?: string;
  /** Why the last operation failed; scrubbed of secrets. */
  error?: string;
  updatedAt: string;
}

export type TimelineKind =
  | 'opened'
  | 'connector.opened'
  | 'connector.adopted'
  | 'connector.failed'
  | 'connector.skipped'
  | 'connector.resolved'
  | 'connector.acknowledged'
  | 'connector.orphaned'
  | 'connector.redriven'
  | 'correlated'
  | 'acknowledged'
  | 'resolved'
  | 'origin.skipped'
  | 'signal.rejected'
  | 'mirror.unavailable'
  | 'already.resolved';

export interface TimelineEntry {
  seq: number;
  at: string;
  kind: TimelineKind;
  connectorId?: string;
  source?: string;
  actor?: string;
  detail?: string;
}

export interface IncidentStateView {
  incident: Incident;
  status: IncidentStatus;
  links: Link[];
  timeline: TimelineEntry[];
}

export interface IncidentResolution {
  resolvedAt: string;
  source: SignalSource;
  actor?: string;
  reason?: string;
  links: Link[];
}
