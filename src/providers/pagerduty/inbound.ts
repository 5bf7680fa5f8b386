import { asIncidentKey } from '../inbound-keys';
import { actorText, compact, ignored, isObject, malformed, refText, type InboundRefs, type ParseResult } from '../inbound-types';

/** The header carrying PagerDuty's webhook delivery id (`X-Webhook-Id`), preferred to the body's own id for deduplication. Lower-case. */
export const DELIVERY_HEADER = 'x-webhook-id';

/**
 * A PagerDuty V3 webhook: `{"event": {"id", "event_type", "agent"?, "data": {incident}}}`.
 * incident.resolved resolves, incident.acknowledged acknowledges. The PagerDuty incident is mapped only
 * through its incident key (the Events API dedup_key, `probectl-<id>`); an incident without one (child
 * alerts, or created by hand) is ignored: we never guess.
 */
export function parsePagerDuty(body: unknown): ParseResult {
  if (!isObject(body)) return malformed('the body must be a JSON object');
  const event = body.event;
  if (!isObject(event)) return malformed('event must be an object (or send the portable contract)');
  const type = event.event_type;
  if (typeof type !== 'string') return malformed('event.event_type must be a string');
  const data = isObject(event.data) ? event.data : {};
  const key = asIncidentKey(data.incident_key) ?? asIncidentKey(data.alert_key) ?? asIncidentKey(data.dedup_key);
  const pdId = refText(data.id);
  const refs = compact({ externalRef: key, alternateRefs: pdId ? [pdId] : undefined, incidentKey: key });
  const deliveryId = refText(event.id);
  const kind = type === 'incident.resolved' ? 'resolved' : type === 'incident.acknowledged' ? 'acknowledged' : undefined;
  if (!kind) return ignoredWith(deliveryId, `PagerDuty event ${JSON.stringify(type.slice(0, 64))} is neither incident.resolved nor incident.acknowledged`, refs);
  if (!key) return ignoredWith(deliveryId, 'the PagerDuty incident has no probectl-<id> incident key', refs);
  const agent = isObject(event.agent) ? event.agent : {};
  return { ok: true, event: compact({ kind, refs, deliveryId, actor: actorText(agent.summary) }) };
}

function ignoredWith(deliveryId: string | undefined, reason: string, refs: InboundRefs): ParseResult {
  const r = ignored(reason, refs);
  if (r.ok && deliveryId) r.event.deliveryId = deliveryId;
  return r;
}
