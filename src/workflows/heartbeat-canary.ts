/**
 * The dead man's switch's canary workflow (src/observability/heartbeat.ts): one trivial activity, then done.
 * A separate workflow type: it shares nothing with incidentWorkflow (no state, no search attributes, no
 * signals), so adding it changes nothing that the recorded incident histories replay.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { CanaryActivities } from '../activities/canary-activities';

const { heartbeatCanary } = proxyActivities<CanaryActivities>({
  startToCloseTimeout: '10 seconds',
  // A failed canary is reported by the check's deadline, not retried into the next interval.
  retry: { maximumAttempts: 1 },
});

export async function heartbeatCanaryWorkflow(nonce: string): Promise<string> {
  return heartbeatCanary(nonce);
}
