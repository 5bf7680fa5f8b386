import { createConnectorActivities, type ConnectorActivityDeps } from './connector-activities';
import { createMirrorActivities, type MirrorActivityDeps } from './mirror-activities';

export type ActivityDeps = ConnectorActivityDeps & MirrorActivityDeps;

/** Every activity the worker registers, built once at the composition root (src/worker.ts). */
export function createActivities(deps: ActivityDeps) {
  return { ...createConnectorActivities(deps), ...createMirrorActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
