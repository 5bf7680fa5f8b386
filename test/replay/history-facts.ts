/**
 * What a recorded history (test/histories/*.json, proto3 JSON as historyToJSON writes it) says happened:
 * activities with their inputs, attempts and outcomes, local activities, signals, patches, and where the
 * server suggested continue-as-new. Used by test/replay/replay.test.ts to check that each recording really
 * took its path.
 */
import { readFileSync } from 'node:fs';

interface Payloads { payloads?: Array<{ data?: string }> }
interface JsonEvent {
  eventId: string;
  eventType: string;
  activityTaskScheduledEventAttributes?: { activityType: { name: string }; input?: Payloads };
  activityTaskStartedEventAttributes?: { scheduledEventId: string; attempt?: number };
  activityTaskCompletedEventAttributes?: { scheduledEventId: string; result?: Payloads };
  activityTaskFailedEventAttributes?: { scheduledEventId: string; failure?: { message?: string } };
  activityTaskTimedOutEventAttributes?: { scheduledEventId: string };
  activityTaskCanceledEventAttributes?: { scheduledEventId: string };
  activityTaskCancelRequestedEventAttributes?: { scheduledEventId: string };
  workflowExecutionSignaledEventAttributes?: { signalName: string; input?: Payloads };
  workflowTaskStartedEventAttributes?: { suggestContinueAsNew?: boolean };
  markerRecordedEventAttributes?: { markerName: string; details?: Record<string, Payloads> };
  workflowExecutionCompletedEventAttributes?: { result?: Payloads };
}

export interface ActivityFact {
  type: string;
  /** The decoded first argument. */
  input: Record<string, unknown>;
  /** `connectorId` of the input, for connector activities. */
  connectorId?: string;
  scheduledAt: number;
  /** The attempt that closed it (1 = no retry). */
  attempt?: number;
  outcome: 'completed' | 'failed' | 'timed-out' | 'canceled' | 'open';
  closedAt?: number;
  cancelRequestedAt?: number;
  failure?: string;
  result?: unknown;
}

export interface HistoryFacts {
  /** Event types without the EVENT_TYPE_ prefix, in order. */
  types: string[];
  activities: ActivityFact[];
  /** Activity types of the local activities (markers), in order. */
  localActivities: string[];
  signals: Array<{ name: string; input: Record<string, unknown>; at: number }>;
  /** Patch ids of the patch markers. */
  patches: string[];
  /** The first workflow task started with the continue-as-new suggestion, if any. */
  suggestedAt?: number;
  /** The decoded workflow result, when the run completed. */
  result?: Record<string, unknown>;
  last: string;
}

function decode(p: Payloads | undefined): unknown {
  const data = p?.payloads?.[0]?.data;
  return data === undefined ? undefined : JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
}

export function historyFacts(file: string): HistoryFacts {
  const { events } = JSON.parse(readFileSync(file, 'utf8')) as { events: JsonEvent[] };
  const byScheduled = new Map<string, ActivityFact>();
  const facts: HistoryFacts = { types: [], activities: [], localActivities: [], signals: [], patches: [], last: '' };
  const close = (id: string | undefined, at: number, outcome: ActivityFact['outcome'], extra: Partial<ActivityFact> = {}) => {
    const a = id ? byScheduled.get(id) : undefined;
    if (a) Object.assign(a, { outcome, closedAt: at, ...extra });
  };
  for (const e of events) {
    const at = Number(e.eventId);
    facts.types.push(e.eventType.replace(/^EVENT_TYPE_/, ''));
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const input = (decode(scheduled.input) ?? {}) as Record<string, unknown>;
      const fact: ActivityFact = {
        type: scheduled.activityType.name, input, scheduledAt: at, outcome: 'open',
        ...(typeof input.connectorId === 'string' ? { connectorId: input.connectorId } : {}),
      };
      byScheduled.set(e.eventId, fact);
      facts.activities.push(fact);
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const a = byScheduled.get(started.scheduledEventId);
      if (a) a.attempt = started.attempt ?? 1;
    }
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed) close(completed.scheduledEventId, at, 'completed', { result: decode(completed.result) });
    const failed = e.activityTaskFailedEventAttributes;
    if (failed) close(failed.scheduledEventId, at, 'failed', { failure: failed.failure?.message ?? '' });
    close(e.activityTaskTimedOutEventAttributes?.scheduledEventId, at, 'timed-out');
    close(e.activityTaskCanceledEventAttributes?.scheduledEventId, at, 'canceled');
    const cancel = e.activityTaskCancelRequestedEventAttributes;
    if (cancel) {
      const a = byScheduled.get(cancel.scheduledEventId);
      if (a) a.cancelRequestedAt = at;
    }
    const signal = e.workflowExecutionSignaledEventAttributes;
    if (signal) facts.signals.push({ name: signal.signalName, input: (decode(signal.input) ?? {}) as Record<string, unknown>, at });
    if (e.workflowTaskStartedEventAttributes?.suggestContinueAsNew && facts.suggestedAt === undefined) facts.suggestedAt = at;
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName === 'core_patch') facts.patches.push((decode(marker.details?.['patch-data']) as { id: string }).id);
    if (marker?.markerName === 'core_local_activity') facts.localActivities.push((decode(marker.details?.data) as { activity_type: string }).activity_type);
    const done = e.workflowExecutionCompletedEventAttributes;
    if (done) facts.result = decode(done.result) as Record<string, unknown>;
  }
  facts.last = facts.types.at(-1) ?? '';
  return facts;
}

/** The activities of one type (and connector), in the order they were scheduled. */
export function activitiesOf(facts: HistoryFacts, type: string, connectorId?: string): ActivityFact[] {
  return facts.activities.filter((a) => a.type === type && (connectorId === undefined || a.connectorId === connectorId));
}
