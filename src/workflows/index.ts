/** The workflow bundle's entry: workflow functions only. */
export { incidentWorkflow } from './incident';
// The dead man's switch's canary (PROBECTL_NOTIFY_HEARTBEAT_URL): its own type, independent of incidentWorkflow.
export { heartbeatCanaryWorkflow } from './heartbeat-canary';
