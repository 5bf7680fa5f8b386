/** What every follow-up kind needs from the worker, and what one run of a follow-up comes to. */
import type { Pacer } from '../activities/pacing';
import type { HttpClient } from '../http/client';
import type { AppConfig } from '../config/load';
import type { ConnectorDirectory } from '../config/connectors';
import type { CallbackState, FollowUpOutcome, LeasedFollowUp } from '../db/follow-up-store';
import type { RecordBatch } from '../db/mirror-store';
import type { DeliveryAction } from '../observability/metrics';
import type { Link } from '../shared/contract';

/** The worker's own connector directory, HTTP client and pacer, exactly as the activities use them. */
export interface FollowUpDeps {
  connectors: ConnectorDirectory;
  http: HttpClient;
  pacer: Pacer;
  callback?: AppConfig['callback'];
  /** The delay between a ticket's lookup-and-close passes (the workflow's: max(this, 1 s)). */
  pagerReResolveDelayMs: number;
  /** The incident's links as the mirror holds them now (the callback reports them once they have settled). */
  links?: (tenantId: string, incidentId: string) => Promise<Link[] | undefined>;
  /** The incident's callbacks to probectl, every run's (the callback keeps their order: no acknowledgement after the resolution). */
  callbacks?: (tenantId: string, incidentId: string) => Promise<CallbackState[]>;
}

/** A run that did not throw, or a failure that ends the row: how the row ends and what the mirror records. */
export interface Finished {
  outcome: FollowUpOutcome;
  /** Entries, links and next follow-ups, recorded with MirrorStore.record (keyed: a repeat is a no-op). */
  record?: Omit<RecordBatch, 'incident'>;
  /** Something was sent (a delivery attempt to count); false when there was nothing to do. */
  sent: boolean;
  /** Not yet: due again after this long (nothing was attempted; the row stays open). */
  deferMs?: number;
}

/** Why a row ends without success. `expired`: retryable failures until its retry window ended. */
export interface Failure {
  reason: string;
  type: string;
  expired: boolean;
}

/** One kind of follow-up: how it runs, how its failure is recorded, how long it is retried. */
export interface FollowUpHandler {
  /** The delivery action it counts as (probectl_notify_deliveries_total{action}). */
  action: DeliveryAction;
  /** The provider label of its attempts. */
  provider(row: LeasedFollowUp, deps: FollowUpDeps): string;
  /** Carry it out; throws the call's failure (classified by the runner). */
  run(row: LeasedFollowUp, deps: FollowUpDeps, signal: AbortSignal): Promise<Finished>;
  /** The end of a row that failed for good (or ran out of its retry window). */
  failed(row: LeasedFollowUp, failure: Failure, at: string): Finished;
  /** Retryable failures are retried until this long after the row was first due. */
  retryWindowMs: number;
  /** Cap of the exponential back-off between attempts. */
  maxBackoffMs: number;
}
