/**
 * The floor's one activity: a connector's open, exactly as the service's `openConnector` makes its HTTP calls
 * (the connector's pure request builders through the one HttpClient), without the pacer, the heartbeat, the
 * scrubbing and the outcome record in Postgres.
 */
import { Context } from '@temporalio/activity';
import type { HttpClient } from '../../src/http/client';
import { connectorFor } from '../../src/providers/registry';
import type { ConnectorDirectory } from '../../src/config/connectors';
import type { Incident } from '../../src/shared/contract';
import type { FloorOpenCall } from './contract';

export function floorActivities(connectors: ConnectorDirectory, http: HttpClient) {
  return {
    async floorOpen(call: FloorOpenCall): Promise<{ ok: true }> {
      const config = connectors.forTenant(call.incident.tenantId).find((c) => c.provider === call.provider);
      if (!config) throw new Error(`no ${call.provider} connector for tenant ${call.incident.tenantId}`);
      const ctx = Context.current();
      await connectorFor(call.provider)!.open({ connector: config, http, attempt: ctx.info.attempt, signal: ctx.cancellationSignal }, call.incident as Incident);
      return { ok: true };
    },
  };
}

export type FloorActivities = ReturnType<typeof floorActivities>;
