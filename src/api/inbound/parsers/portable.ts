import { asIncidentKey } from '../../../providers/inbound-keys';
import { actorText, compact, isObject, malformed, refText, type ParseResult } from '../../../providers/inbound-types';

/** Does the body use the portable contract (it has `external_ref`)? */
export function isPortable(body: unknown): boolean {
  return isObject(body) && 'external_ref' in body;
}

/**
 * The portable contract every paging and ticketing provider may send:
 * `{"external_ref": "probectl-<incident-id>" | "<provider ref>", "status": "resolved" | "acknowledged",
 *   "actor"?: "...", "delivery_id"?: "..."}`. Anything else in `status` is a malformed delivery (400): the
 * contract is ours, and a sender that maps a state wrongly should hear about it.
 */
export function parsePortable(body: unknown): ParseResult {
  if (!isObject(body)) return malformed('the body must be a JSON object');
  const ref = refText(body.external_ref);
  if (!ref) return malformed('external_ref must be a non-empty string of at most 255 characters, without NUL');
  const status = body.status;
  if (status !== 'resolved' && status !== 'acknowledged') return malformed('status must be "resolved" or "acknowledged"');
  if (body.delivery_id !== undefined && !refText(body.delivery_id)) return malformed('delivery_id must be a non-empty string of at most 255 characters, without NUL');
  return {
    ok: true,
    event: compact({
      kind: status,
      refs: compact({ externalRef: ref, incidentKey: asIncidentKey(ref) }),
      deliveryId: refText(body.delivery_id),
      actor: actorText(body.actor),
    }),
  };
}
