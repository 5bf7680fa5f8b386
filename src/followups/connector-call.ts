/**
 * A provider call made by the follow-up runner exactly as the connector activities make it: the connector looked
 * up in the worker's directory by (tenant, connector id) — removed means ConnectorRemoved, permanent — its rate
 * token taken from the worker's pacer in its priority class (a wait over 2 s is a RateLimited failure carrying the delay), the request
 * sent through the worker's HTTP client with the runner's abort signal.
 */
import { CancelledFailure } from '@temporalio/common';
import type { ConnectorConfig } from '../config/connectors';
import { TransportError } from '../http/client';
import { FailureType, permanent, retryable } from '../http/failures';
import { connectorFor } from '../providers/registry';
import type { CallContext, Connector } from '../providers/types';
import { paceClass } from '../activities/pace-class';
import { holdOnRateLimit } from '../activities/pacing';
import type { Incident } from '../shared/contract';
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

/**
 * Take the connector's rate token in the call's priority class (a follow-up is a resolve: a pager's second resolve
 * of a critical incident is class 0, a ticket's close class 1), then call; a 429's delay holds the key's bucket;
 * transport errors become the activities' failures.
 */
export async function paced<T>(deps: FollowUpDeps, call: ConnectorCall, incident: Incident, fn: () => Promise<T>): Promise<T> {
  const signal = call.ctx.signal!;
  if (signal.aborted) throw new CancelledFailure('the follow-up runner stopped');
  await deps.pacer.take(call.config, { cls: paceClass(call.config.provider, 'resolve', incident.severity), signal }).catch((err: unknown) => {
    throw signal.aborted ? new CancelledFailure('the follow-up runner stopped') : err;
  });
  try {
    return await holdOnRateLimit(deps.pacer, call.config, fn);
  } catch (err) {
    if (err instanceof TransportError) {
      if (err.code === 'ECANCELLED') throw new CancelledFailure('the request was aborted');
      throw retryable(FailureType.Transport, err.message);
    }
    throw err;
  }
}
