/**
 * The callback to probectl (design.md): resolutions and acknowledgements that did not come from probectl
 * are posted, signed, to PROBECTL_NOTIFY_CALLBACK_URL. The workflow retries the activity until it lands
 * (no attempt limit, interval capped at a minute), so every failure here is retryable. Without a callback
 * configured the activity does nothing.
 */
import { Context } from '@temporalio/activity';
import { createHmac } from 'node:crypto';
import type { AppConfig } from '../config/load';
import type { CallbackEvent } from './contract';
import type { HttpClient } from './http/client';
import { TransportError } from './http/client';
import { parseRetryAfter } from './http/classify';
import { FailureType, retryable } from './http/failures';
import { excerpt } from './http/scrub';
import type { HttpRequest } from './http/types';

export const CALLBACK_SIGNATURE_HEADER = 'x-probectl-signature';

export interface CallbackActivityDeps {
  config: Pick<AppConfig, 'callback'>;
  http: HttpClient;
}

/** `sha256=<hex HMAC-SHA256(secret, body)>`. Pure. */
export function callbackSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** The signed request for one event. Pure: the body is exactly the bytes that were signed. */
export function buildCallbackRequest(url: string, secret: string, event: CallbackEvent): HttpRequest {
  const body = JSON.stringify(event);
  return {
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      [CALLBACK_SIGNATURE_HEADER]: callbackSignature(secret, body),
      'x-probectl-event-id': event.eventId,
    },
    body,
  };
}

export function createCallbackActivities(deps: CallbackActivityDeps) {
  return {
    async reportToProbectl(event: CallbackEvent): Promise<{ delivered: boolean }> {
      const callback = deps.config.callback;
      if (!callback) return { delivered: false };
      const secrets = [callback.url.reveal(), callback.secret.reveal()];
      const req = buildCallbackRequest(callback.url.reveal(), callback.secret.reveal(), event);
      let status: number;
      let text: string;
      let retryAfter: string | undefined;
      try {
        const signal = Context.current().cancellationSignal;
        const res = await deps.http.send(req, secrets, signal);
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
      // probectl is the system of record: whatever it answers, we keep trying until it takes the event.
      const body = excerpt(text, secrets, 200);
      const message = `probectl callback: HTTP ${status}${body ? `: ${body}` : ''}`;
      if (status === 429) throw retryable(FailureType.RateLimited, message, parseRetryAfter(retryAfter));
      throw retryable(FailureType.ProviderUnavailable, message);
    },
  };
}
