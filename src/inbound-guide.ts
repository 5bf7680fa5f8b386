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
  /** The entry accepts only the timestamped signature (`require_timestamp`). */
  requireTimestamp?: boolean;
}

export function inboundUrl(baseUrl: string, provider: InboundProvider, id: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/ingest/itsm/${encodeURIComponent(provider)}/${encodeURIComponent(id)}`;
}

function serviceNow(url: string): string {
  return `ServiceNow → probectl-notify (timestamped signature: a captured delivery is refused after 300 s)

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

2. Script (store the secret in a system property, e.g. x_probectl.inbound_secret, marked private):

(function executeRule(current, previous /*null when async*/) {
    try {
        var secret = gs.getProperty('x_probectl.inbound_secret'); // ${SECRET_PLACEHOLDER}
        var body = JSON.stringify({
            sys_id: current.getUniqueValue(),
            state: current.getValue('state'),
            correlation_id: current.getValue('correlation_id'),
            number: current.getValue('number'),
            actor: gs.getUserName()
        });
        // X-Probectl-Signature: sha256=<base64 HMAC-SHA256(secret, "v1:" + timestamp + ":" + body)>
        var ts = String(Math.floor(new GlideDateTime().getNumericValue() / 1000));
        var mac = new GlideCertificateEncryption().generateMac(GlideStringUtil.base64Encode(secret), 'HmacSHA256', 'v1:' + ts + ':' + body);
        var r = new sn_ws.RESTMessageV2();
        r.setEndpoint('${url}');
        r.setHttpMethod('post');
        r.setRequestHeader('Content-Type', 'application/json');
        r.setRequestHeader('X-Probectl-Timestamp', ts);
        r.setRequestHeader('X-Probectl-Signature', 'sha256=' + mac);
        r.setRequestBody(body);
        r.setHttpTimeout(10000);
        var res = r.execute();
        var status = res.getStatusCode();
        if (status >= 300) gs.warn('probectl-notify inbound answered ' + status);
    } catch (ex) {
        gs.error('probectl-notify inbound failed: ' + ex.message);
    }
})(current, previous);

The body sent must be exactly the string that was signed (setRequestBody(body)). The instance clock must be
within 300 s of probectl-notify's (NTP).
Answers: 202 accepted, 200 duplicate or ignored (both fine), 401 check the secret and the clock, 5xx retry later.
Without signing (weaker: a captured delivery can be replayed): setRequestHeader('X-Probectl-Token', secret)
instead of the two signature headers; not accepted by an entry with require_timestamp.`;
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

/** What each provider's own sender can do about replays (docs/inbound.md, "What a captured delivery is worth"). */
const CAN_TIMESTAMP: Record<InboundProvider, boolean> = { servicenow: true, jira: false, pagerduty: false, opsgenie: false };

/** The instructions for one entry, as plain text. */
export function inboundGuide(input: GuideInput): string {
  const url = inboundUrl(input.baseUrl, input.provider, input.id);
  const body =
    input.provider === 'servicenow' ? serviceNow(url)
    : input.provider === 'jira' ? jira(url)
    : input.provider === 'pagerduty' ? pagerDuty(url)
    : opsgenie(url);
  const portable = `Any ${input.provider} automation or script may also send the portable contract, signed with a timestamp
(replays are refused after 300 s):
  BODY='{"external_ref":"probectl-<incident-id>","status":"resolved"}'
  TS=$(date +%s)
  SIG=$(printf 'v1:%s:%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac '${SECRET_PLACEHOLDER}' -hex | sed 's/^.* //')
  curl -sS -X POST '${url}' -H 'Content-Type: application/json' \\
    -H "X-Probectl-Timestamp: $TS" -H "X-Probectl-Signature: sha256=$SIG" --data "$BODY"
  ("status" may also be "acknowledged"; \`probectl-notify sign --entry ${input.id} --timestamp now --file body.json\` prints the headers.)`;
  const strict = input.requireTimestamp
    ? CAN_TIMESTAMP[input.provider]
      ? `This entry requires the timestamped signature (require_timestamp): tokens and body-only signatures are refused.`
      : `This entry requires the timestamped signature (require_timestamp), which ${input.provider}'s own webhooks cannot send:
only a script or automation that signs as shown below is accepted. Remove require_timestamp to use the setup above.`
    : CAN_TIMESTAMP[input.provider]
      ? `Set "require_timestamp": true on this entry (JSON form of PROBECTL_NOTIFY_INBOUND) once the sender signs with a timestamp.`
      : `${input.provider}'s own webhooks cannot sign with a timestamp, so a captured delivery can be replayed; see docs/inbound.md for what that allows.`;
  return `${body}\n\n${strict}\n\n${portable}\n`;
}
