import { asIncidentKey } from '../inbound-keys';
import { actorText, compact, ignored, isObject, malformed, refText, type ParseResult } from '../inbound-types';

/** incident.state values that end the incident on our side: 6 Resolved, 7 Closed. */
const RESOLVED_STATES = new Set(['6', '7']);

/**
 * A ServiceNow Business Rule's payload: `{"sys_id", "state", "correlation_id"?, "number"?, "actor"?,
 * "delivery_id"?}`. GlideRecord values are strings, so `state` may be "6" or 6. States other than 6/7
 * (8 Canceled included) are ignored: a cancelled ticket does not mean the network incident is over.
 */
export function parseServiceNow(body: unknown): ParseResult {
  if (!isObject(body)) return malformed('the body must be a JSON object');
  const sysId = refText(body.sys_id);
  if (!sysId) return malformed('sys_id must be a non-empty string');
  const rawState = body.state;
  if (typeof rawState !== 'string' && typeof rawState !== 'number') return malformed('state must be a string or a number');
  const state = String(rawState).trim();
  const number = refText(body.number);
  const refs = compact({
    externalRef: sysId,
    alternateRefs: number ? [number] : undefined,
    incidentKey: asIncidentKey(body.correlation_id),
  });
  if (!RESOLVED_STATES.has(state)) return ignored(`ServiceNow state ${JSON.stringify(state.slice(0, 16))} is not resolved (6) or closed (7)`, refs);
  return {
    ok: true,
    event: compact({
      kind: 'resolved' as const,
      refs,
      deliveryId: refText(body.delivery_id),
      actor: actorText(body.actor) ?? actorText(body.sys_updated_by) ?? actorText(body.resolved_by),
    }),
  };
}
