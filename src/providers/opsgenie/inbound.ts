import { asIncidentKey } from '../inbound-keys';
import { actorText, compact, ignored, isObject, malformed, refText, type ParseResult } from '../inbound-types';

/**
 * Opsgenie's outgoing webhook: `{"action": "Close" | "Acknowledge" | ..., "alert": {"alertId", "alias",
 * "username"?, ...}, "source"?: {"name", "type"}}`. Close resolves, Acknowledge acknowledges, every other
 * action is ignored. Matched by alias (`probectl-<id>`, the mirror's ref), then the alert id.
 */
export function parseOpsgenie(body: unknown): ParseResult {
  if (!isObject(body)) return malformed('the body must be a JSON object');
  const action = body.action;
  if (typeof action !== 'string') return malformed('action must be a string (or send the portable contract)');
  const alert = body.alert;
  if (!isObject(alert)) return malformed('alert must be an object');
  const alias = refText(alert.alias);
  const alertId = refText(alert.alertId);
  if (!alias && !alertId) return malformed('alert.alias or alert.alertId is required');
  const refs = compact({
    externalRef: alias ?? alertId,
    alternateRefs: alias && alertId ? [alertId] : undefined,
    incidentKey: asIncidentKey(alias),
  });
  const kind = action === 'Close' ? 'resolved' : action === 'Acknowledge' ? 'acknowledged' : undefined;
  if (!kind) return ignored(`Opsgenie action ${JSON.stringify(action.slice(0, 64))} is neither Close nor Acknowledge`, refs);
  const source = isObject(body.source) ? body.source : {};
  return {
    ok: true,
    event: compact({ kind, refs, actor: actorText(alert.username) ?? actorText(source.name) }),
  };
}
