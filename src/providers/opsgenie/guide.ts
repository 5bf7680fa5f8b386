import { SECRET_PLACEHOLDER } from '../guide-text';

/** What an administrator configures on opsgenie's side for one inbound entry (`inbound guide`). Pure text; never a secret. */
export function guide(url: string): string {
  return `Opsgenie / JSM → probectl-notify (outgoing Webhook integration)

  Settings → Integrations → Add integration → Webhook
    Webhook URL:            ${url}
    Add Alert Description / Details: unchecked (not needed)
    Custom headers:         X-Probectl-Token = ${SECRET_PLACEHOLDER}
                            Content-Type = application/json
    Alert actions to send:  Acknowledge, Close  (others are answered "ignored")
    Alert filter:           alias starts with probectl-
  Opsgenie does not sign webhooks: the token header is the credential, so keep the URL on HTTPS.
  Alerts are matched by their alias probectl-<id>.`;
}

/** Whether opsgenie's own sender can sign with a timestamp (require_timestamp). */
export const canTimestamp = false;
