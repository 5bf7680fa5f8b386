/**
 * The inbound route counts its deliveries in an InboundMetrics (src/api/inbound/metrics.ts); this subclass
 * also feeds every count into the Prometheus counter probectl_notify_inbound_verifications_total.
 */
import { InboundMetrics, type InboundOutcome } from '../api/inbound/metrics';
import { metrics as processMetrics, type NotifyMetrics } from './metrics';

const KNOWN = /^(pagerduty|opsgenie|servicenow|jira)$/;

export class PrometheusInboundMetrics extends InboundMetrics {
  constructor(private readonly prom: NotifyMetrics = processMetrics) {
    super();
  }

  override inc(provider: string, outcome: InboundOutcome): void {
    super.inc(provider, outcome);
    this.prom.inboundVerification.inc({ provider: KNOWN.test(provider) ? provider : 'other', outcome });
  }
}
