/**
 * The callback to probectl (design.md): resolutions and acknowledgements that did not come from probectl
 * are posted, signed, to PROBECTL_NOTIFY_CALLBACK_URL. The workflow retries the activity until it lands
 * (no attempt limit, interval capped at a minute), so every failure here is retryable. Without a callback
 * configured the activity does nothing.
 *
 * Signed in the timestamped form by default (X-Probectl-Timestamp, and X-Probectl-Signature over
 * `v1:<timestamp>:<body>`; docs/inbound.md says how probectl verifies it); each attempt is signed afresh.
 * PROBECTL_NOTIFY_CALLBACK_SIGNATURE=body keeps the body-only form for a verifier that knows only that.
 */
import { Context } from '@temporalio/activity';
import type { ApplicationFailure } from '@temporalio/common';
import type { AppConfig } from '../config/load';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, probectlSignature, unixTimestamp } from '../security/signature';
import type { CallbackEvent } from './contract';
import type { HttpClient } from '../http/client';
import { TransportError } from '../http/client';
import { MAX_UNAVAILABLE_RETRY_AFTER_MS, parseRetryAfter } from '../http/classify';
import { FailureType, retryable } from '../http/failures';
import { excerpt } from '../http/scrub';
import type { HttpRequest } from '../http/types';

export const CALLBACK_SIGNATURE_HEADER = SIGNATURE_HEADER;
/** Callback excerpts of probectl's answer are kept shorter than a provider's. */
const CALLBACK_EXCERPT = 200;

export interface CallbackActivityDeps {
  config: Pick<AppConfig, 'callback'>;
  http: HttpClient;
}

/**
 * The signed request for one event. Pure: the body is exactly the bytes that were signed. With a timestamp
 * the timestamped form (X-Probectl-Timestamp, HMAC over `v1:<timestamp>:<body>`), without one the body form.
 */
export function buildCallbackRequest(url: string, secret: string, event: CallbackEvent, timestamp?: string): HttpRequest {
  const body = JSON.stringify(event);
  return {
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      [SIGNATURE_HEADER]: probectlSignature(secret, body, timestamp),
      ...(timestamp !== undefined ? { [TIMESTAMP_HEADER]: timestamp } : {}),
      'x-probectl-event-id': event.eventId,
    },
    body,
  };
}

/** The retryable failure for a non-2xx answer from probectl: its body scrubbed whole, then cut. Pure. */
export function callbackFailure(status: number, text: string, retryAfter: string | undefined, secrets: readonly string[]): ApplicationFailure {
  const body = excerpt(text, secrets, CALLBACK_EXCERPT);
  const message = `probectl callback: HTTP ${status}${body ? `: ${body}` : ''}`;
  // probectl is the system of record: whatever it answers, we keep trying until it takes the event. A Retry-After is
  // honoured on every answer (a 503's as much as a 429's), an outage's capped as classify caps a provider's.
  const wait = parseRetryAfter(retryAfter);
  if (status === 429) return retryable(FailureType.RateLimited, message, wait);
  return retryable(FailureType.ProviderUnavailable, message, wait === undefined ? undefined : Math.min(wait, MAX_UNAVAILABLE_RETRY_AFTER_MS));
}

export function createCallbackActivities(deps: CallbackActivityDeps) {
  return {
    async reportToProbectl(event: CallbackEvent): Promise<{ delivered: boolean }> {
      const callback = deps.config.callback;
      if (!callback) return { delivered: false };
      const secrets = [callback.url.reveal(), callback.secret.reveal()];
      const timestamp = callback.signature === 'body' ? undefined : unixTimestamp();
      const req = buildCallbackRequest(callback.url.reveal(), callback.secret.reveal(), event, timestamp);
      let status: number;
      let text: string;
      let retryAfter: string | undefined;
      try {
        const signal = Context.current().cancellationSignal;
        const res = await deps.http.send(req, secrets, signal, { provider: 'probectl', connectorId: 'probectl', tenantId: event.tenantId });
        ({ status, text } = res);
        retryAfter = res.headers['retry-after'];
      } catch (err) {
        if (err instanceof TransportError) {
          if (err.code === 'ECANCELLED') throw err;
          throw retryable(FailureType.Transport, `probectl callback: ${err.message}`);
        }
        throw err;
      }
      if (status >= 200 && status < 300) return { delivered: true };
      throw callbackFailure(status, text, retryAfter, secrets);
    },
  };
}
