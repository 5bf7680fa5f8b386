import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { NotReady, type ReadinessCheck } from '../api/routes/health';

/** How recently a worker must have polled the task queue to count as present. */
const POLLER_FRESH_MS = 90_000;

export function readinessChecks(client: Client, pool: Pool, namespace: string, taskQueue: string): Record<string, ReadinessCheck> {
  return {
    temporal: async () => {
      await client.workflowService.getSystemInfo({});
    },
    postgres: async () => {
      await pool.query('SELECT 1');
    },
    worker: async () => {
      const res = await client.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue },
        taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
      });
      const fresh = (res.pollers ?? []).some((p) => {
        const t = p.lastAccessTime;
        const ms = t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;
        return Date.now() - ms < POLLER_FRESH_MS;
      });
      if (!fresh) throw new NotReady(`no worker is polling task queue ${taskQueue}`);
    },
  };
}
