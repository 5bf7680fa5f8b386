/**
 * A provider call made by the follow-up runner exactly as the connector activities make it: the connector looked
 * up in the worker's directory by (tenant, connector id) — removed means ConnectorRemoved, permanent — its rate
 * token taken from the worker's pacer (a wait over 2 s is a RateLimited failure carrying the delay), the request
 * sent through the worker's HTTP client with the runner's abort signal.
 */
import { CancelledFailure } from '@temporalio/common';
import type { ConnectorConfig } from '../config/connectors';
import { TransportError } from '../activities/http/client';
import { FailureType, permanent, retryable } from '../activities/http/failures';
import { connectorFor } from '../activities/providers/registry';
import type { CallContext, Connector } from '../activities/providers/types';
import type { FollowUpDeps } from './types';

export interface ConnectorCall {
  connector: Connector;
  config: ConnectorConfig;
  ctx: CallContext;
}

export function connectorCall(deps: FollowUpDeps, tenantId: string, connectorId: string, signal: AbortSignal, attempt: number): ConnectorCall {
  const config = deps.connectors.find(tenantId, connectorId);
  if (!config) throw permanent(FailureType.ConnectorRemoved, `connector ${connectorId} is no longer configured for this tenant`);
  const connector = connectorFor(config.provider);
  if (!connector) throw permanent(FailureType.ProviderRejected, `no connector implementation for ${config.provider}`);
  return { connector, config, ctx: { connector: config, http: deps.http, signal, attempt } };
}

/** Wait `ms` unless `signal` aborts first (then a CancelledFailure). */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(new CancelledFailure('the follow-up runner stopped'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      reject(new CancelledFailure('the follow-up runner stopped'));
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Take the connector's rate token, then call; transport errors become the activities' failures. */
export async function paced<T>(deps: FollowUpDeps, call: ConnectorCall, fn: () => Promise<T>): Promise<T> {
  const signal = call.ctx.signal!;
  await deps.pacer.take(call.config, (ms) => sleepUnlessAborted(ms, signal));
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TransportError) {
      if (err.code === 'ECANCELLED') throw new CancelledFailure('the request was aborted');
      throw retryable(FailureType.Transport, err.message);
    }
    throw err;
  }
}
