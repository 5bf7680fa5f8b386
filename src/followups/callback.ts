/**
 * The signed callback to probectl (docs/inbound.md, "probectl is told"), sent by the runner as the activity
 * reportToProbectl sends it: the same request (buildCallbackRequest, signed afresh per attempt), the same
 * classification (callbackFailure: every answer but a 2xx is retried, a 429's Retry-After honoured). Retried until
 * probectl takes it, at most 5 minutes apart; after 7 days it is given up (counted as a permanent failure, logged
 * as an error). Without a callback URL configured there is nothing to send.
 */
import { buildCallbackRequest, callbackFailure } from '../activities/callback-activities';
import { TransportError } from '../activities/http/client';
import { FailureType, retryable } from '../activities/http/failures';
import { CancelledFailure } from '@temporalio/common';
import { unixTimestamp } from '../security/signature';
import type { FollowUpHandler } from './types';

export const CALLBACK_RETRY_WINDOW_MS = 7 * 24 * 60 * 60_000;
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
    const secrets = [cb.url.reveal(), cb.secret.reveal()];
    const timestamp = cb.signature === 'body' ? undefined : unixTimestamp();
    const req = buildCallbackRequest(cb.url.reveal(), cb.secret.reveal(), f.event, timestamp);
    let res;
    try {
      res = await deps.http.send(req, secrets, signal);
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
