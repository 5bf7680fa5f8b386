import { incidentKeyFromLabels } from '../inbound-keys';
import { actorText, compact, ignored, isObject, malformed, refText, type ParseResult } from '../inbound-types';

/** The header carrying Jira's webhook delivery id (`X-Atlassian-Webhook-Identifier`), preferred to the body's own id for deduplication. Lower-case. */
export const DELIVERY_HEADER = 'x-atlassian-webhook-identifier';

/**
 * A Jira issue webhook (`jira:issue_updated`). Resolved when the issue's status category is `done` and
 * the delivery is a status transition: a `changelog` item on `status`, or no changelog at all (an
 * Automation rule's body). Any other edit, comment or event is ignored. Matched by issue key (the mirror's
 * ref), then the issue id, then a `probectl-<id>` label.
 */
export function parseJira(body: unknown): ParseResult {
  if (!isObject(body)) return malformed('the body must be a JSON object');
  const event = body.webhookEvent;
  if (typeof event !== 'string') return malformed('webhookEvent must be a string (or send the portable contract)');
  const issue = body.issue;
  if (!isObject(issue)) return malformed('issue must be an object');
  const key = refText(issue.key);
  const id = refText(issue.id);
  if (!key && !id) return malformed('issue.key or issue.id is required');
  const fields = isObject(issue.fields) ? issue.fields : {};
  const refs = compact({
    externalRef: key ?? id,
    alternateRefs: key && id ? [id] : undefined,
    incidentKey: incidentKeyFromLabels(fields.labels),
  });
  if (event !== 'jira:issue_updated') return ignored(`Jira event ${JSON.stringify(event.slice(0, 64))} is not an issue update`, refs);
  const status = isObject(fields.status) ? fields.status : undefined;
  const category = status && isObject(status.statusCategory) ? status.statusCategory.key : undefined;
  if (category !== 'done') return ignored('the Jira issue is not in a done status', refs);
  const changelog = body.changelog;
  if (changelog !== undefined && changelog !== null) {
    const items = isObject(changelog) && Array.isArray(changelog.items) ? changelog.items : [];
    if (!items.some((i) => isObject(i) && i.field === 'status')) return ignored('an edit that is not a transition to done', refs);
  }
  const user = isObject(body.user) ? body.user : {};
  return {
    ok: true,
    event: compact({
      kind: 'resolved' as const,
      refs,
      actor: actorText(user.displayName) ?? actorText(user.name) ?? actorText(user.accountId),
    }),
  };
}
