import { SECRET_PLACEHOLDER } from '../guide-text';

/** What an administrator configures on jira's side for one inbound entry (`inbound guide`). Pure text; never a secret. */
export function guide(url: string): string {
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

/** Whether jira's own sender can sign with a timestamp (require_timestamp). */
export const canTimestamp = false;
