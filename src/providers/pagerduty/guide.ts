import { SECRET_PLACEHOLDER } from '../guide-text';

/** What an administrator configures on pagerduty's side for one inbound entry (`inbound guide`). Pure text; never a secret. */
export function guide(url: string): string {
  return `PagerDuty → probectl-notify (V3 webhook subscription)

  Integrations → Generic Webhooks (v3) → New Webhook, or REST:
    POST https://api.pagerduty.com/webhook_subscriptions
    {
      "webhook_subscription": {
        "type": "webhook_subscription",
        "delivery_method": { "type": "http_delivery_method", "url": "${url}" },
        "events": ["incident.acknowledged", "incident.resolved"],
        "filter": { "type": "service_reference", "id": "<the service probectl pages>" },
        "description": "probectl-notify status sync"
      }
    }
  PagerDuty returns the signing secret once: that value is the entry's secret (${SECRET_PLACEHOLDER}).
  Deliveries are verified by X-PagerDuty-Signature (v1=<hex>, several during rotation) and de-duplicated
  by X-Webhook-Id. Instead of the signature you may add a custom header X-Probectl-Token: ${SECRET_PLACEHOLDER}.
  Incidents are matched by their incident key probectl-<id> (the Events API dedup_key); others are ignored.`;
}

/** Whether pagerduty's own sender can sign with a timestamp (require_timestamp). */
export const canTimestamp = false;
