/**
 * A provider call made by the follow-up runner exactly as the connector activities make it: the connector looked
 * up in the worker's directory by (tenant, connector id) — removed means ConnectorRemoved, permanent — its rate
 * token taken from the worker's pacer in its priority class (a wait over 2 s is a RateLimited failure carrying the delay), the request
 * sent through the worker's HTTP client with the runner's abort signal. Also what the handlers of those follow-ups
 * share (resolveHandlerBase).
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
import type { FollowUpRecord } from '../shared/records';
import type { FollowUpDeps, FollowUpHandler } from './types';

/** Retried as long as the activity's resolve is (its schedule-to-close window), at most 5 minutes apart. */
const RESOLVE_RETRY_WINDOW_MS = 24 * 60 * 60_000;
const RESOLVE_MAX_BACKOFF_MS = 5 * 60_000;

/** The follow-ups carried out at a connector: a pager's second resolve, a ticket's lookup-and-close. */
type ConnectorFollowUpKind = Extract<FollowUpRecord, { connectorId: string }>['kind'];

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

/**
 * What the handlers of the connector follow-ups share: each counts as a resolve, is labelled with the provider of
 * its row's connector in the worker's directory ('other' once the connector is removed, or for a row of another
 * kind), and is retried as the activity's resolve is.
 */
export function resolveHandlerBase(kind: ConnectorFollowUpKind): Pick<FollowUpHandler, 'action' | 'provider' | 'retryWindowMs' | 'maxBackoffMs'> {
  return {
    action: 'resolve',
    provider: (row, deps) => {
      const f = row.followUp;
      return f.kind !== 'callback' && f.kind === kind ? deps.connectors.find(row.tenantId, f.connectorId)?.provider ?? 'other' : 'other';
    },
    retryWindowMs: RESOLVE_RETRY_WINDOW_MS,
    maxBackoffMs: RESOLVE_MAX_BACKOFF_MS,
  };
}
