/**
 * Counters of inbound deliveries, by provider and outcome: the Prometheus counter
 * `probectl_notify_inbound_verifications_total` itself (prom-client), no second store. Outcomes are a closed set
 * and an unknown provider is counted as "other", so the label cardinality stays bounded.
 */
import type { Counter } from 'prom-client';
import { hasInbound } from '../../providers/registry';

export type InboundOutcome =
  | 'accepted_resolved'
  | 'accepted_acknowledged'
  /** Accepted and recorded; Temporal did not take the signal in time, the outbox dispatcher sends it. */
  | 'queued_resolved'
  | 'queued_acknowledged'
  | 'duplicate'
  | 'ignored_event'
  | 'ignored_unknown_ref'
  | 'ignored_no_connector'
  | 'ignored_ambiguous'
  | 'refused_401'
  | 'refused_400'
  | 'refused_413'
  | 'refused_415'
  | 'failed_503'
  | 'failed_500';

export class InboundMetrics {
  constructor(private readonly counter: Counter<'provider' | 'outcome'>) {}

  inc(provider: string, outcome: InboundOutcome): void {
    // The path's provider is caller-controlled: anything unknown is counted as "other".
    this.counter.inc({ provider: hasInbound(provider) ? provider : 'other', outcome });
  }

  /** The count for one provider and outcome, as /metrics shows it. */
  async get(provider: string, outcome: InboundOutcome): Promise<number> {
    const { values } = await this.counter.get();
    return values.find((v) => v.labels.provider === provider && v.labels.outcome === outcome)?.value ?? 0;
  }
}
