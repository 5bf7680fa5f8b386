/**
 * A send that arrives at a double more than once for one incident is either a retried attempt of the one activity
 * that makes it (an HTTP call that got no answer within the timeout is re-sent with the same dedup key: at-least-once,
 * docs/providers.md) or a defect (two activities, two runs, an echo). This tells the two apart from the workflow id's
 * executions and history: exactly one run of the id, in it exactly one activity of the type (of the connector, when
 * given), completed, with at least as many attempts as the double counted sends.
 *
 * A local first attempt (src/workflows/v2/local-first.ts) is the same open: its marker (matched to the connector by the
 * summary's label) counts its attempts, and the ordinary activity it fell back to adds its own. Only a failed local
 * attempt falls back, before its ordinary activity is scheduled, and a pacer's refusal sent nothing: so one local
 * attempt that failed (its attempts counted unless the pacer refused it) and one later ordinary activity are one open;
 * a local success beside an ordinary activity, or two of either, are not. A first workflow task run again makes its
 * local attempts again under attempt 1 (at-least-once by design, src/workflows/v2/calls.ts): each try of a workflow
 * task before the marker that did not complete (the attempt of the task scheduled after them, less one) explains one
 * more send (a worker too slow under load, or one that lost the task). An upper bound: a try the pacer refused sent
 * nothing, and a sticky task that timed out before any worker took it ran nothing.
 *
 * How tight that is depends on the test. Attempts count every retry, a pacing deferral's too (an attempt that sent
 * nothing), so where calls are deferred — the pacing bursts, where most incidents wait at least once — the attempt
 * bound is nearly always met and the check is mostly "one run, one activity, completed". Where nothing defers (the
 * providers fault matrix) it is exact. Requests the double refused (a 503, a 429) are sends here too: each was an
 * attempt.
 */
import type { Client } from '@temporalio/client';
import type { RecordedRequest } from '../../dev/doubles/server';
import { connectorLabel } from '../../src/workflows/ui';
import { eventually } from './shared';

/** The dedup key of each PagerDuty event the double recorded (the workflow id: `probectl-<incidentId>`). */
export const dedupKeys = (events: readonly RecordedRequest[]): string[] => events.map((r) => String((r.json as { dedup_key?: unknown }).dedup_key));

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
  /** Only that connector's activity: required when the tenant has several connectors. */
  connectorId?: string;
  /**
   * The connector's label in activity summaries ("PagerDuty: trigger …"), which is how a local attempt's marker is
   * matched to it; default the label of a connector whose id is its provider's.
   */
  label?: string;
  /** One deadline for all keys together (they are checked side by side); default 60 s. */
  timeoutMs?: number;
}

/** A summary payload's text, or ''. */
function summaryOf(e: { userMetadata?: { summary?: { data?: Uint8Array | null } | null } | null }): string {
  const data = e.userMetadata?.summary?.data;
  if (!data) return '';
  try {
    const v = JSON.parse(Buffer.from(data).toString('utf8')) as unknown;
    return typeof v === 'string' ? v : '';
  } catch {
    return '';
  }
}

/** The attempt a local activity's marker recorded, when it is one of `activityType`. */
function localAttemptOf(marker: { markerName?: string | null; details?: Record<string, { payloads?: Array<{ data?: Uint8Array | null }> | null }> | null }, activityType: string): number | undefined {
  // (the marker's attempt: the local attempts it made, the last one's outcome recorded)
  if (marker.markerName !== 'core_local_activity') return undefined;
  const data = marker.details?.data?.payloads?.[0]?.data;
  if (!data) return undefined;
  const v = JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: unknown; attempt?: unknown };
  return v.activity_type === activityType ? Number(v.attempt ?? 0) : undefined;
}

/** A pacer's refusal (src/activities/pacing.ts): its first detail says `paced: true`; nothing was sent. */
function pacedRefusal(failure: { applicationFailureInfo?: { details?: { payloads?: Array<{ data?: Uint8Array | null }> | null } | null } | null } | null | undefined): boolean {
  const data = failure?.applicationFailureInfo?.details?.payloads?.[0]?.data;
  if (!data) return false;
  try {
    return (JSON.parse(Buffer.from(data).toString('utf8')) as { paced?: unknown }).paced === true;
  } catch {
    return false;
  }
}

type Verdict = { final: true; ok: boolean; seen: string } | { final: false; seen: string };

/**
 * For each workflow id sent more than once, waits (while its activity is still running) and returns what its
 * executions and history do not explain: empty when every extra send is a retried attempt.
 */
export async function unexplainedResends(client: Client, sentWorkflowIds: readonly string[], opts: ResendOptions = {}): Promise<string[]> {
  const { activityType = 'openConnector', connectorId, timeoutMs = 60_000 } = opts;
  const label = opts.label ?? (connectorId === undefined ? undefined : connectorLabel({ id: connectorId, provider: connectorId as never }));
  const what = connectorId === undefined ? activityType : `${activityType}(${connectorId})`;

  async function verdict(workflowId: string, sends: number): Promise<Verdict> {
    const listed = new Set<string>();
    for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) listed.add(w.runId);
    const runs = [...listed];
    const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const scheduled = events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType)
      .filter((e) => connectorId === undefined || connectorOf(e.activityTaskScheduledEventAttributes?.input) === connectorId)
      .map((e) => Number(e.eventId));
    const attempts = events.filter((e) => scheduled.includes(Number(e.activityTaskStartedEventAttributes?.scheduledEventId ?? -1))).map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0);
    const locals = events.flatMap((e) => {
      const marker = e.markerRecordedEventAttributes;
      const attempt = marker ? localAttemptOf(marker, activityType) : undefined;
      if (attempt === undefined || (label !== undefined && !summaryOf(e).startsWith(`${label}: `))) return [];
      const failure = marker!.failure;
      return [{ attempt, ok: !failure, paced: pacedRefusal(failure), eventId: Number(e.eventId) }];
    });
    // Workflow tasks tried again before the local attempt's marker (a task timed out or failed: the worker holding it
    // was too slow or lost it): each try ran the task's local first attempts again (one attempt each: they never retry
    // locally), and an earlier try's send may have landed — the next try's pacer then refuses for the token it used.
    // The server writes only the first failure of a sequence as an event; the task scheduled after the sequence carries
    // its attempt (N: N − 1 tries before it), so the tries are read from the scheduled tasks' attempts.
    const marker = locals[0]?.eventId ?? 0;
    const retriedTasks = events.filter((e) => Number(e.eventId) < marker)
      .reduce((n, e) => n + Math.max(0, Number(e.workflowTaskScheduledEventAttributes?.attempt ?? 1) - 1), 0);
    // A local attempt that fell back: failed, before the ordinary activity (when there is one).
    const fellBack = locals.length === 1 && !locals[0]!.ok && (scheduled.length === 0 || locals[0]!.eventId < scheduled[0]!);
    const completed = events.some((e) => scheduled.includes(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? -1))) || (scheduled.length === 0 && locals.length === 1 && locals[0]!.ok);
    const local = locals.length ? `, local attempts ${locals.map((l) => `${l.attempt}${l.ok ? '' : l.paced ? ' (paced)' : ' (failed)'}`).join('/')}${retriedTasks ? ` after ${retriedTasks} workflow task(s) tried again` : ''}` : '';
    const seen = `${runs.length} run(s), ${scheduled.length} ${what} scheduled, attempts ${attempts.join('/') || 'none yet'}${local}, ${completed ? 'completed' : 'not completed'}`;
    // Settled either way: another run or another activity is never explained, and a completed one will not change.
    if (runs.length > 1 || scheduled.length > 1 || locals.length > 1 || (locals.length === 1 && scheduled.length === 1 && !fellBack)) return { final: true, ok: false, seen };
    // No run listed yet is visibility lagging behind the history (it is written asynchronously): wait for it.
    // A pacer's refusal sent nothing: its attempt is not a send. A task tried again may have sent once per earlier try.
    const localSends = locals[0] === undefined ? 0 : retriedTasks + (locals[0].paced ? 0 : locals[0].attempt);
    if (completed && runs.length === 1) return { final: true, ok: (attempts[0] ?? 0) + localSends >= sends, seen };
    return { final: false, seen };
  }

  const deadline = Date.now() + timeoutMs;
  const checks = [...sentMoreThanOnce(sentWorkflowIds)].map(async ([workflowId, sends]) => {
    let last: Verdict | undefined;
    let error = '';
    try {
      last = await eventually(async () => {
        try {
          const v = await verdict(workflowId, sends);
          last = v;
          return v.final ? v : undefined;
        } catch (err) {
          error = err instanceof Error ? err.message : String(err);
          throw err;
        }
      }, { timeoutMs: Math.max(0, deadline - Date.now()), intervalMs: 500, what: `${workflowId}'s ${what} to complete` });
    } catch {
      // The deadline passed with the activity still running (or the history unreadable): reported below.
    }
    if (last?.final && last.ok) return undefined;
    return `${workflowId}: ${sends} sends, ${last ? last.seen : 'no history read'}${last && !last.final ? ' (deadline passed)' : ''}${error ? `, last error: ${error}` : ''}`;
  });
  return (await Promise.all(checks)).filter((p): p is string => p !== undefined);
}
