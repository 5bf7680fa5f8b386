/**
 * The signed callback to probectl (docs/inbound.md, "probectl is told"), sent by the runner as the activity
 * reportToProbectl sends it: the same request (buildCallbackRequest, signed afresh per attempt), the same
 * classification (callbackFailure: every answer but a 2xx is retried, a 429's Retry-After honoured). Retried until
 * probectl takes it, at most 5 minutes apart; after 7 days it is given up (counted as a permanent failure, logged
 * as an error). Without a callback URL configured there is nothing to send.
 */
import { buildCallbackRequest, callbackFailure } from '../activities/callback-activities';
import { TransportError } from '../http/client';
import { FailureType, retryable } from '../http/failures';
import { CancelledFailure } from '@temporalio/common';
import { unixTimestamp } from '../security/signature';
import type { FollowUpHandler } from './types';

export const CALLBACK_RETRY_WINDOW_MS = 7 * 24 * 60 * 60_000;
/**
 * A resolution is decided with its fan-out and reported once the links have settled (no link pending, open or
 * acknowledged besides the origin's), with the links as the mirror holds them then — waiting at most this long.
 */
export const SETTLE_WAIT_MS = 5 * 60_000;
const SETTLE_POLL_MS = 2_000;
const UNSETTLED = new Set(['pending', 'open', 'acknowledged']);
export const CALLBACK_MAX_BACKOFF_MS = 5 * 60_000;

export const callback: FollowUpHandler = {
  action: 'callback',
  provider: () => 'probectl',
  retryWindowMs: CALLBACK_RETRY_WINDOW_MS,
  maxBackoffMs: CALLBACK_MAX_BACKOFF_MS,

  async run(row, deps, signal) {
    const f = row.followUp;
    if (f.kind !== 'callback') throw new Error('not a callback');
    const cb = deps.callback;
    if (!cb) return { outcome: 'skipped', sent: false };
    let event = f.event;
    // probectl's order: an acknowledgement never reaches it after the resolution. The resolution waits (as for its
    // links, at most SETTLE_WAIT_MS after it was first due) while an acknowledgement of the incident is still owed
    // (backing off after a failure, say); an acknowledgement whose resolution was delivered first is not sent at all
    // (the resolution says more, and probectl would take the later event for the incident's state).
    const others = deps.callbacks ? await deps.callbacks(row.tenantId, row.incidentId) : [];
    if (event.type === 'incident.acknowledged' && others.some((o) => o.type === 'incident.resolved' && o.delivered)) {
      return { outcome: 'skipped', sent: false };
    }
    if (event.type === 'incident.resolved' && others.some((o) => o.type === 'incident.acknowledged' && o.owed) && Date.now() < Date.parse(row.firstDueAt) + SETTLE_WAIT_MS) {
      return { outcome: 'ok', sent: false, deferMs: SETTLE_POLL_MS };
    }
    if (event.type === 'incident.resolved' && deps.links) {
      const links = await deps.links(row.tenantId, row.incidentId);
      const unsettled = links?.some((l) => UNSETTLED.has(l.status) && l.connectorId !== event.source);
      if (unsettled && Date.now() < Date.parse(row.firstDueAt) + SETTLE_WAIT_MS) return { outcome: 'ok', sent: false, deferMs: SETTLE_POLL_MS };
      if (links) {
        event = { ...event, links: links.map(({ connectorId, provider, status, externalRef, externalUrl }) => ({ connectorId, provider, status, ...(externalRef ? { externalRef } : {}), ...(externalUrl ? { externalUrl } : {}) })) };
      }
    }
    const secrets = [cb.url.reveal(), cb.secret.reveal()];
    const timestamp = cb.signature === 'body' ? undefined : unixTimestamp();
    const req = buildCallbackRequest(cb.url.reveal(), cb.secret.reveal(), event, timestamp);
    let res;
    try {
      res = await deps.http.send(req, secrets, signal, { provider: 'probectl', connectorId: 'probectl', tenantId: row.tenantId });
    } catch (err) {
      if (err instanceof TransportError) {
        if (err.code === 'ECANCELLED') throw new CancelledFailure('the request was aborted');
        throw retryable(FailureType.Transport, `probectl callback: ${err.message}`);
      }
      throw err;
    }
    if (res.status >= 200 && res.status < 300) return { outcome: 'ok', sent: true };
    throw callbackFailure(res.status, res.text, res.headers['retry-after'], secrets);
  },

  failed(_row, failure) {
    return { outcome: failure.expired ? 'expired' : 'failed', sent: false };
  },
};
