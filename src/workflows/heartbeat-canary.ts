/**
 * The dead man's switch's canary workflow (src/observability/heartbeat.ts): one trivial activity, then done.
 * A separate workflow type: it shares nothing with incidentWorkflow (no state, no search attributes, no
 * signals), so adding it changes nothing that the recorded incident histories replay.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { CanaryActivities } from '../activities/canary-activities';

const { heartbeatCanary } = proxyActivities<CanaryActivities>({
  startToCloseTimeout: '10 seconds',
  // A few quick attempts: during a rolling deploy an older worker without the canary's activity may take the task
  // and fail it; a retry soon lands on a worker that has it. The check's deadline (the workflow execution timeout
  // the scheduler sets) still bounds the whole: a canary that cannot finish in time is a failed check.
  retry: { maximumAttempts: 5, initialInterval: '250 milliseconds', backoffCoefficient: 2, maximumInterval: '2 seconds' },
});

export async function heartbeatCanaryWorkflow(nonce: string): Promise<string> {
  return heartbeatCanary(nonce);
}
