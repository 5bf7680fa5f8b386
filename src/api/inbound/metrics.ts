/**
 * In-memory counters of inbound deliveries, by provider and outcome, ready to be exposed on /metrics
 * (prom-client wiring comes later). Outcomes are a closed set, so the label cardinality stays bounded.
 */
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

export interface InboundCount {
  provider: string;
  outcome: InboundOutcome;
  count: number;
}

export class InboundMetrics {
  readonly #counts = new Map<string, number>();

  inc(provider: string, outcome: InboundOutcome): void {
    // The path's provider is caller-controlled: anything unknown is counted as "other".
    const p = /^(pagerduty|opsgenie|servicenow|jira)$/.test(provider) ? provider : 'other';
    const key = `${p}\u0000${outcome}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  get(provider: string, outcome: InboundOutcome): number {
    return this.#counts.get(`${provider}\u0000${outcome}`) ?? 0;
  }

  snapshot(): InboundCount[] {
    return [...this.#counts].map(([key, count]) => {
      const [provider, outcome] = key.split('\u0000') as [string, InboundOutcome];
      return { provider, outcome, count };
    });
  }
}
