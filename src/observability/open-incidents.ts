/**
 * The open-incidents gauge's source: a count in Temporal visibility, by the ProbectlStatus search attribute,
 * of running incident workflows on this deployment's task queue.
 *
 * Why not Postgres: the mirror is under forced row-level security, so a tenant-less `SELECT status,
 * count(*)` sees no rows, and bypassing RLS would need a privileged role or a SECURITY DEFINER function just
 * for a metric. Why not a counter in the worker: each process sees only the incidents it happened to start,
 * and a restart forgets them. Visibility is shared by every process, so every API replica reports the same
 * number (aggregate with max, not sum). It lags by visibility's delay (about a second).
 */
import type { Client } from '@temporalio/client';
import type { OpenIncidentCounts } from './metrics';

const COUNT_DEADLINE_MS = 2_000;

export function openIncidentsFromVisibility(client: Client, taskQueue: string): () => Promise<OpenIncidentCounts> {
  const base = `WorkflowType = 'incidentWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue.replace(/'/g, "\\'")}'`;
  // A deadline, so a scrape during a Temporal outage still answers (with the other series, the outbox
  // backlog among them) instead of waiting on the client's retries or a server that never answers.
  return async () =>
    client.withDeadline(Date.now() + COUNT_DEADLINE_MS, async () => {
      const [open, acknowledged] = await Promise.all([
        client.workflow.count(`${base} AND ProbectlStatus = 'open'`),
        client.workflow.count(`${base} AND ProbectlStatus = 'acknowledged'`),
      ]);
      return { open: open.count, acknowledged: acknowledged.count };
    });
}
