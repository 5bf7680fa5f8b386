import { Context } from '@temporalio/activity';
import type { ConnectorDirectory } from '../config/connectors';
import type { HttpClient } from './http/client';
import { TransportError } from './http/client';
import { FailureType, permanent, retryable } from './http/failures';
import { PACER, type Pacer } from './pacing';
import { scrub } from './http/scrub';
import { connectorFor } from './providers/registry';
import { secretsOf, type CallContext, type Connector, type RemoteState } from './providers/types';
import type { AcknowledgeCall, ConnectorCall, OpenOutcome, ResolveCall } from './contract';

export interface ConnectorActivityDeps {
  connectors: ConnectorDirectory;
  http: HttpClient;
  /** Outbound pacing per connector key; the process-wide pacer by default. */
  pacer?: Pacer;
}

const HEARTBEAT_EVERY_MS = 1_000;

/**
 * Run `fn` while heartbeating, so a killed worker is noticed within the heartbeat timeout and a
 * cancellation (a resolve overtaking an open) reaches the request as an abort.
 */
async function withHeartbeat<T>(fn: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  ctx.heartbeat();
  const timer = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/** Transport errors are retryable; their message is already scrubbed. */
function rethrow(err: unknown): never {
  if (err instanceof TransportError) {
    if (err.code === 'ECANCELLED') throw err; // the activity is being cancelled; Temporal reports that
    throw retryable(FailureType.Transport, err.message);
  }
  throw err;
}

export function createConnectorActivities(deps: ConnectorActivityDeps) {
  const pacer = deps.pacer ?? PACER;

  /** Wait for the connector's rate token (heartbeating; a cancellation ends the wait), then call. */
  function paced<T>(ctx: CallContext, fn: () => Promise<T>): Promise<T> {
    return withHeartbeat(async () => {
      await pacer.take(ctx.connector, (ms) => Context.current().sleep(ms));
      return fn();
    });
  }

  function resolveCall(call: ConnectorCall): { connector: Connector; ctx: CallContext } {
    const config = deps.connectors.find(call.incident.tenantId, call.connectorId);
    if (!config) {
      throw permanent(FailureType.ConnectorRemoved, `connector ${call.connectorId} is no longer configured for this tenant`);
    }
    const connector = connectorFor(config.provider);
    if (!connector) throw permanent(FailureType.ProviderRejected, `no connector implementation for ${config.provider}`);
    const info = Context.current().info;
    const signal = Context.current().cancellationSignal;
    return { connector, ctx: { connector: config, http: deps.http, signal, attempt: info.attempt } };
  }

  return {
    async openConnector(call: ConnectorCall): Promise<OpenOutcome> {
      const { connector, ctx } = resolveCall(call);
      const out = await paced(ctx, () => connector.open(ctx, call.incident)).catch(rethrow);
      // References come from the provider's answer and go to history, the mirror and the API: a provider that
      // echoes a credential into one must not carry it there.
      const secrets = secretsOf(ctx.connector);
      return { ...out, externalRef: scrub(out.externalRef, secrets), ...(out.externalUrl ? { externalUrl: scrub(out.externalUrl, secrets) } : {}) };
    },

    async acknowledgeConnector(call: AcknowledgeCall): Promise<void> {
      const { connector, ctx } = resolveCall(call);
      if (!connector.acknowledge) return;
      const ack = connector.acknowledge.bind(connector);
      await paced(ctx, () => ack(ctx, call.incident, { ...(call.externalRef ? { externalRef: call.externalRef } : {}) }, call.actor)).catch(rethrow);
    },

    async resolveConnector(call: ResolveCall): Promise<void> {
      const { connector, ctx } = resolveCall(call);
      await paced(ctx, () =>
        connector.resolve(ctx, call.incident, { ...(call.externalRef ? { externalRef: call.externalRef } : {}) }, call.resolution),
      ).catch(rethrow);
    },

    /** Reconciliation: read what the connector opened; `unsupported` where the provider or credential cannot read. */
    async checkConnector(call: ConnectorCall): Promise<RemoteState | 'unsupported'> {
      const { connector, ctx } = resolveCall(call);
      if (!connector.status) return 'unsupported';
      const status = connector.status.bind(connector);
      return paced(ctx, () => status(ctx, call.incident, { ...(call.externalRef ? { externalRef: call.externalRef } : {}) })).catch(rethrow);
    },
  };
}
