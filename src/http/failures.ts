import { ApplicationFailure } from '@temporalio/common';
import { scrub } from './scrub';

/**
 * The failure types an activity can end with. Temporal's retry policy retries everything except the
 * non-retryable ones listed in NON_RETRYABLE (used by the workflow's retry policies).
 */
export const FailureType = {
  RateLimited: 'RateLimited',
  ProviderUnavailable: 'ProviderUnavailable',
  Transport: 'TransportError',
  MalformedResponse: 'MalformedResponse',
  ProviderRejected: 'ProviderRejected',
  AuthRejected: 'AuthRejected',
  ConnectorRemoved: 'ConnectorRemoved',
  InvalidInput: 'InvalidInput',
} as const;

export const NON_RETRYABLE: string[] = [
  FailureType.ProviderRejected,
  FailureType.AuthRejected,
  FailureType.ConnectorRemoved,
  FailureType.InvalidInput,
];

/**
 * Failure types by which a provider refused a call for good: it answered 400/401/403 (or any other non-retryable
 * status, src/http/classify.ts), or reported an accepted Opsgenie request failed. On an open's first attempt that
 * means nothing was made (docs/workflow-contract.md, "Links"). Retries that ran out are not refusals.
 */
export const REFUSALS: readonly string[] = [FailureType.ProviderRejected, FailureType.AuthRejected];

/**
 * A refusal of an open carries the attempt it came on (a detail `{ attempt }`): only a refusal on the first attempt
 * says that nothing was made, since an earlier attempt cut short may have landed. Anything else is returned as is.
 */
export function withAttempt(err: unknown, attempt: number): unknown {
  if (!(err instanceof ApplicationFailure) || !REFUSALS.includes(err.type ?? '')) return err;
  return ApplicationFailure.create({
    type: err.type ?? undefined, message: err.message, nonRetryable: err.nonRetryable === true, details: [...(err.details ?? []), { attempt }], ...(err.cause ? { cause: err.cause } : {}),
  });
}

export function permanent(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

/**
 * A failure Temporal retries. `nextRetryDelayMs` is also carried as the first detail (`{ nextRetryDelayMs }`): a
 * workflow gets a local activity's failure back with its details but without its next retry delay (the SDK's
 * converter drops it), and an open's local first attempt needs it (src/workflows/v2/local-first.ts).
 */
export function retryable(type: string, message: string, nextRetryDelayMs?: number): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: false,
    ...(nextRetryDelayMs !== undefined ? { nextRetryDelay: nextRetryDelayMs, details: [{ nextRetryDelayMs }] } : {}),
  });
}

/** How deep a failure's causes are scrubbed (a provider's error chain is one or two long). */
const MAX_CAUSE_DEPTH = 5;

/**
 * The activity boundary's last pass: what an activity throws goes to history (message, stack trace, causes), the
 * timeline, `/v1` and the SDK's own log, so every message and stack in the chain is scrubbed of the connector's
 * secrets — also text a provider's answer put into a message outside classify's excerpt (an id or a key the
 * provider echoed a credential into). Changed in place: the failure's type, details and retry hints stay as they are.
 */
export function scrubbedFailure(err: unknown, secrets: readonly string[], depth = 0): unknown {
  if (!(err instanceof Error) || depth > MAX_CAUSE_DEPTH) return err;
  const message = scrub(err.message, secrets);
  if (message !== err.message) err.message = message;
  if (typeof err.stack === 'string') {
    const stack = scrub(err.stack, secrets);
    if (stack !== err.stack) err.stack = stack;
  }
  if (err.cause !== undefined) scrubbedFailure(err.cause, secrets, depth + 1);
  return err;
}
