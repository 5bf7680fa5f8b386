import { ApplicationFailure } from '@temporalio/common';

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
