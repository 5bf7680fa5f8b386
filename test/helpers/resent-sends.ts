/**
 * A send that arrives at a double more than once for one incident is either a retried attempt of the one activity
 * that makes it (an HTTP call that got no answer within the timeout is re-sent with the same dedup key: at-least-once,
 * docs/providers.md) or a defect (two activities, two runs, an echo). This tells the two apart from the incident's
 * history: the workflow scheduled exactly one activity of the type, it completed, and it took at least as many
 * attempts as the double counted sends. Attempts that sent nothing (a pacer wait handed back to Temporal) only make the
 * bound looser, never wrong.
 */
import type { Client } from '@temporalio/client';
import { eventually } from './shared';

/** Counts of each key in `sent`, keys sent more than once only. */
export function sentMoreThanOnce(sent: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const k of sent) counts.set(k, (counts.get(k) ?? 0) + 1);
  return new Map([...counts].filter(([, n]) => n > 1));
}

/** The connector id in an activity's first argument (ConnectorCall), or undefined. */
function connectorOf(input: { payloads?: Array<{ data?: Uint8Array | null }> | null } | null | undefined): string | undefined {
  const data = input?.payloads?.[0]?.data;
  if (!data) return undefined;
  try {
    const v = JSON.parse(Buffer.from(data).toString('utf8')) as { connectorId?: unknown };
    return typeof v.connectorId === 'string' ? v.connectorId : undefined;
  } catch {
    return undefined;
  }
}

export interface ResendOptions {
  /** The activity that makes the send; default `openConnector`. */
  activityType?: string;
  /** Only that connector's activity (a tenant with several connectors); default: any. */
  connectorId?: string;
  timeoutMs?: number;
}

/**
 * For each workflow id sent more than once, waits for its one `activityType` activity (of `connectorId`) to complete
 * and returns what its history does not explain (empty when every extra send is a retried attempt).
 */
export async function unexplainedResends(client: Client, sentWorkflowIds: readonly string[], opts: ResendOptions = {}): Promise<string[]> {
  const { activityType = 'openConnector', connectorId, timeoutMs = 60_000 } = opts;
  const what = connectorId === undefined ? activityType : `${activityType}(${connectorId})`;
  const problems: string[] = [];
  for (const [workflowId, sends] of sentMoreThanOnce(sentWorkflowIds)) {
    let seen = '';
    try {
      await eventually(async () => {
        const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
        const scheduled = events
          .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType)
          .filter((e) => connectorId === undefined || connectorOf(e.activityTaskScheduledEventAttributes?.input) === connectorId)
          .map((e) => Number(e.eventId));
        const started = events.filter((e) => scheduled.includes(Number(e.activityTaskStartedEventAttributes?.scheduledEventId ?? -1)));
        const completed = events.some((e) => scheduled.includes(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? -1)));
        const attempts = started.map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0);
        seen = `${scheduled.length} ${what} scheduled, attempts ${attempts.join('/') || 'none yet'}, ${completed ? 'completed' : 'not completed'}`;
        return scheduled.length === 1 && completed && (attempts[0] ?? 0) >= sends;
      }, { timeoutMs, intervalMs: 500, what: `${workflowId}: ${sends} sends explained by retried attempts` });
    } catch {
      problems.push(`${workflowId}: ${sends} sends, history: ${seen}`);
    }
  }
  return problems;
}
