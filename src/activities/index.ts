import { createCallbackActivities, type CallbackActivityDeps } from './callback-activities';
import { createCanaryActivities } from './canary-activities';
import { createConnectorActivities, type ConnectorActivityDeps } from './connector-activities';
import { createMirrorActivities, type MirrorActivityDeps } from './mirror-activities';
import { instrument } from '../observability/instrument';
import type { NotifyMetrics } from '../observability/metrics';

export type ActivityDeps = ConnectorActivityDeps & MirrorActivityDeps & CallbackActivityDeps & {
  /** Delivery metrics: the worker process's registry. */
  metrics: NotifyMetrics;
};

/** Every activity the worker registers, built once at the composition root (src/worker.ts). */
export function createActivities(deps: ActivityDeps) {
  return instrument(
    { ...createConnectorActivities(deps), ...createMirrorActivities(deps), ...createCallbackActivities(deps), ...createCanaryActivities() },
    {
      metrics: deps.metrics,
      providerOf: (call) =>
        call.incident?.tenantId && call.connectorId ? deps.connectors.find(call.incident.tenantId, call.connectorId)?.provider : undefined,
    },
  );
}

export type Activities = ReturnType<typeof createActivities>;
