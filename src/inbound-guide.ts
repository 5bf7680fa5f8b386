/**
 * What an administrator must configure on the provider's side for one PROBECTL_NOTIFY_INBOUND entry
 * (docs/inbound.md). Pure: it returns text and never sees a secret; the secret is always written as the
 * placeholder `<your secret>`. A CLI prints it (wired elsewhere).
 */
import type { InboundProvider } from './config/inbound';

export const SECRET_PLACEHOLDER = '<your secret>';

export interface GuideInput {
  /** The entry id (`{id}` in the URL). */
  id: string;
  provider: InboundProvider;
  /** Public base URL of the API as the provider reaches it, e.g. https://notify.example.com */
  baseUrl: string;
}

export function inboundUrl(baseUrl: string, provider: InboundProvider, id: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/ingest/itsm/${encodeURIComponent(provider)}/${encodeURIComponent(id)}`;
}

function serviceNow(url: string): string {
  return `ServiceNow → probectl-notify (entry uses X-Probectl-Token)

1. System Definition → Business Rules → New
   Name:      probectl-notify resolve sync
   Table:     Incident [incident]
   Advanced:  checked
   When:      async (after), Update
   Condition: State changes to Resolved (6) OR State changes to Closed (7)
              AND Correlation ID starts with probectl-
   (or as a condition script:)
     (current.state.changesTo(6) || current.state.changesTo(7)) && current.correlation_id.toString().indexOf('probectl-') == 0
   Note: async rules have no "previous"; keep the changesTo() checks in the condition builder.

2. Script (store the secret in a system property, e.g. x_probectl.inbound_token, marked private):

(function executeRule(current, previous /*null when async*/) {
    try {
        var r = new sn_ws.RESTMessageV2();
        r.setEndpoint('${url}');
        r.setHttpMethod('post');
        r.setRequestHeader('Content-Type', 'application/json');
        r.setRequestHeader('X-Probectl-Token', gs.getProperty('x_probectl.inbound_token')); // ${SECRET_PLACEHOLDER}
        r.setRequestBody(JSON.stringify({
            sys_id: current.getUniqueValue(),
            state: current.getValue('state'),
            correlation_id: current.getValue('correlation_id'),
            number: current.getValue('number'),
            actor: gs.getUserName()
        }));
        r.setHttpTimeout(10000);
        var res = r.execute();
        var status = res.getStatusCode();
        if (status >= 300) gs.warn('probectl-notify inbound answered ' + status);
    } catch (ex) {
        gs.error('probectl-notify inbound failed: ' + ex.message);
    }
})(current, previous);

Answers: 202 accepted, 200 duplicate or ignored (both fine), 401 check the token, 5xx retry later.
Alternative without a token header: sign the body and send
  X-Probectl-Signature: sha256=<base64 HMAC-SHA256(${SECRET_PLACEHOLDER}, body)> (hex works too).`;
}

function jira(url: string): string {
  return `Jira → probectl-notify

Jira Cloud (admin webhook, signed):
  Settings → System → WebHooks → Create a WebHook
    Name:    probectl-notify
    Status:  Enabled
    URL:     ${url}
    Secret:  ${SECRET_PLACEHOLDER}   (Jira signs every delivery: X-Hub-Signature: sha256=<hex>)
    Events:  Issue → updated   (JQL filter: labels = probectl)
    Exclude body: unchecked
  Deliveries carry X-Atlassian-Webhook-Identifier; retries of one delivery are answered "duplicate".
  Only a transition to a status in the "done" category resolves; other edits are answered "ignored".

Jira Data Center / Server (plain webhooks can neither sign nor add headers, so use Automation):
  Project settings → Automation → Create rule
    Trigger:   Issue transitioned (to: your Done statuses)
    Condition: JQL  labels = probectl
    Action:    Send web request
      Web request URL:  ${url}
      HTTP method:      POST
      Headers:          Content-Type: application/json
                        X-Probectl-Token: ${SECRET_PLACEHOLDER}   (mark the header as hidden)
      Web request body: Custom data
        {"external_ref": "{{issue.key}}", "status": "resolved", "actor": "{{initiator.displayName}}"}
      Wait for response: optional (202 accepted, 200 duplicate/ignored)`;
}

function pagerDuty(url: string): string {
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

function opsgenie(url: string): string {
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

/** The instructions for one entry, as plain text. */
export function inboundGuide(input: GuideInput): string {
  const url = inboundUrl(input.baseUrl, input.provider, input.id);
  const body =
    input.provider === 'servicenow' ? serviceNow(url)
    : input.provider === 'jira' ? jira(url)
    : input.provider === 'pagerduty' ? pagerDuty(url)
    : opsgenie(url);
  const portable = `Any ${input.provider} automation may also send the portable contract:
  POST ${url}
  Content-Type: application/json
  X-Probectl-Token: ${SECRET_PLACEHOLDER}
  {"external_ref": "probectl-<incident-id>", "status": "resolved" | "acknowledged"}`;
  return `${body}\n\n${portable}\n`;
}
