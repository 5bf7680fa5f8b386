/**
 * The Temporal floor: start → six ordinary activities, one per provider, each making the same HTTP calls as the
 * service's open (bench/floor/activities.ts) → done. No local activity, no mirror write, no search attribute, no
 * marker, no timer, no signal handling: what any Temporal design with one activity per provider call cannot go below.
 * With `local` (`--floor-activities=local`), the six calls are local activities of the first workflow task instead,
 * with the same options: the local-activity lever measured on the floor alone. Only types are imported from the
 * activities.
 */
import type { Duration } from '@temporalio/common';
import { proxyActivities, proxyLocalActivities, type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';
import type { FloorActivities } from './activities';
import { FLOOR_PROVIDERS, type FloorInput } from './contract';

/** The service's open options (src/workflows/activity-options.ts) less the heartbeat timeout and cancellation type. */
const options = (scheduleToCloseTimeout: Duration, maximumInterval: Duration): ActivityOptions & LocalActivityOptions => ({
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval, nonRetryableErrorTypes: ['ProviderRejected', 'AuthRejected', 'ConnectorRemoved', 'InvalidInput'] },
});
const page = proxyActivities<FloorActivities>(options('30 minutes', '1 minute'));
const ticket = proxyActivities<FloorActivities>(options('12 hours', '5 minutes'));
const localPage = proxyLocalActivities<FloorActivities>(options('30 minutes', '1 minute'));
const localTicket = proxyLocalActivities<FloorActivities>(options('12 hours', '5 minutes'));

export async function benchFloorIncident(input: FloorInput): Promise<void> {
  const [p, t] = input.local ? [localPage, localTicket] : [page, ticket];
  await Promise.all(
    FLOOR_PROVIDERS.map((provider) => (provider === 'servicenow' || provider === 'jira' ? t : p).floorOpen({ incident: input.incident, provider })),
  );
}
