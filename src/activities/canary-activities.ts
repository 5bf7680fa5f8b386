/**
 * The dead man's switch's canary (src/observability/heartbeat.ts): an activity that does nothing but answer,
 * so a finished canary proves a worker polled the task queue for the workflow task and the activity task. It
 * never calls a provider, never touches Postgres, and creates nothing for any tenant.
 */
export function createCanaryActivities() {
  return {
    async heartbeatCanary(nonce: string): Promise<string> {
      return nonce;
    },
  };
}

export type CanaryActivities = ReturnType<typeof createCanaryActivities>;
