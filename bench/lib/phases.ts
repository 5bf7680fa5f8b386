/**
 * Where the milliseconds of one open go, from three clocks on the same machine: the workflow history's event
 * times (Temporal server), the worker's request stamps (bench/lib/probe.ts) and the doubles' arrival stamps.
 *
 * Per incident: sent → start accepted (WorkflowExecutionStarted) → first workflow task started → the task that
 * schedules the opens completed. Per open activity (one per provider): scheduled (that task's completion) →
 * started (ActivityTaskStarted) → the activity's first request to its provider sent (headers written to the
 * socket) → the double received it → its answer back at the worker → the activity completed
 * (ActivityTaskCompleted; after the first answer: any further request of the open, e.g. Jira's create after
 * its search, and for ours the outcome record in Postgres).
 */
import { temporal } from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import { PROVIDERS, type BenchProvider, type Fleet } from './fleet';
import type { ProbeRecord } from './probe';
import { summarize, type Summary } from './stats';

export const PHASES = [
  'sent → start accepted',
  'start accepted → first workflow task started',
  'first workflow task started → opens scheduled (task completed)',
  'opens scheduled → activity started',
  'activity started → request sent',
  'request sent → double received it',
  'double received → answer at worker',
  'answer at worker → activity completed',
] as const;
/**
 * An open whose first attempt ran as a local activity in the first workflow task (local first opens, the service's
 * default): no activity events, so its phases run from that task's start to the request, and from the answer to the
 * completion of the task that recorded the attempts (which waits for the task's slowest attempt).
 */
export const LOCAL_PHASES = [
  'local: first workflow task started → request sent',
  'local: of which request created → request sent',
  'local: request sent → double received it',
  'local: double received → answer at worker',
  'local: answer at worker → first task completed',
] as const;
export const TOTALS = ['sent → activity completed (all six)', 'sent → first page reached'] as const;
export type Phase = (typeof PHASES)[number] | (typeof LOCAL_PHASES)[number] | (typeof TOTALS)[number];

export interface PhaseInput {
  client: Client;
  fleet: Fleet;
  workflowId: (incidentId: string) => string;
  /** The open activity's type (`openConnector`, `floorOpen`). */
  activityType: string;
  started: Array<{ id: string; t0: number }>;
  probe: ProbeRecord[];
}

export interface PhaseFigures {
  incidents: number;
  activities: number;
  /** Samples that could not be placed (an event or a stamp missing), by phase. */
  missing: Record<string, number>;
  /** Incidents whose history holds a local activity before the opens (ours: read the begin snapshot on the worker). */
  begunLocally: number;
  phases: Record<string, Summary | null>;
  /** The same activity phases for PagerDuty alone (the first page). */
  firstPage: Record<string, Summary | null>;
  /** Opens whose first attempt was local (LOCAL_PHASES), and the incidents whose first page was one. */
  localOpens: number;
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const ms = (e: HistoryEvent | undefined) => (e?.eventTime ? Number(e.eventTime.seconds ?? 0) * 1000 + Number(e.eventTime.nanos ?? 0) / 1e6 : undefined);
const T = temporal.api.enums.v1.EventType;

function providerOfInput(e: HistoryEvent): string | undefined {
  const data = e.activityTaskScheduledEventAttributes?.input?.payloads?.[0]?.data;
  if (!data) return undefined;
  try {
    const call = JSON.parse(Buffer.from(data).toString('utf8')) as { connectorId?: string; provider?: string };
    // The service's connector id is the provider's name when a tenant has one connector of it (the bench's case).
    return call.provider ?? call.connectorId;
  } catch {
    return undefined;
  }
}

/** The activity type of a local activity's marker (`core_local_activity`), from its `data` detail. */
function localActivityType(e: HistoryEvent): string | undefined {
  const m = e.markerRecordedEventAttributes;
  const data = m?.markerName === 'core_local_activity' ? m.details?.data?.payloads?.[0]?.data : undefined;
  if (!data) return undefined;
  try {
    return (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string }).activity_type;
  } catch {
    return undefined;
  }
}

/** First probe record per (incident, provider): the open's first request. */
function firstRequests(fleet: Fleet, probe: ProbeRecord[]): Map<string, ProbeRecord> {
  const out = new Map<string, ProbeRecord>();
  for (const r of [...probe].sort((a, b) => a.created - b.created)) {
    const provider = fleet.providerAt(r.origin);
    const id = provider && fleet.incidentIn(`${decodeURIComponent(r.path)} ${r.body}`);
    if (!provider || !id) continue;
    const key = `${id}|${provider}`;
    if (!out.has(key)) out.set(key, r);
  }
  return out;
}

async function mapLimit<T, R>(xs: readonly T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(xs.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, xs.length) }, async () => {
    while (next < xs.length) {
      const i = next++;
      out[i] = await fn(xs[i]!);
    }
  }));
  return out;
}

export async function phaseBreakdown(input: PhaseInput): Promise<PhaseFigures> {
  const samples = new Map<string, number[]>();
  const pdSamples = new Map<string, number[]>();
  const missing: Record<string, number> = {};
  const add = (phase: Phase, v: number | undefined, provider?: string) => {
    if (v === undefined || !Number.isFinite(v)) {
      missing[phase] = (missing[phase] ?? 0) + 1;
      return;
    }
    samples.set(phase, [...(samples.get(phase) ?? []), v]);
    if (provider === 'pagerduty') pdSamples.set(phase, [...(pdSamples.get(phase) ?? []), v]);
  };
  const first = firstRequests(input.fleet, input.probe);
  let activities = 0;
  let begunLocally = 0;
  let localOpens = 0;
  const histories = await mapLimit(input.started, 8, async (s) => {
    try {
      return { s, events: (await input.client.workflow.getHandle(input.workflowId(s.id)).fetchHistory()).events ?? [] };
    } catch {
      return { s, events: [] as HistoryEvent[] };
    }
  });
  for (const { s, events } of histories) {
    const byId = new Map(events.map((e) => [Number(e.eventId), e]));
    const startedAt = ms(events.find((e) => e.eventType === T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED));
    const firstTask = ms(events.find((e) => e.eventType === T.EVENT_TYPE_WORKFLOW_TASK_STARTED));
    const opens = events.filter((e) => e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && e.activityTaskScheduledEventAttributes?.activityType?.name === input.activityType);
    const scheduledBy = opens[0] ? byId.get(Number(opens[0].activityTaskScheduledEventAttributes?.workflowTaskCompletedEventId)) : undefined;
    const firstOpenAt = opens[0] ? Number(opens[0].eventId) : Infinity;
    // A local activity other than an open's first attempt before the opens: ours reading its begin snapshot itself.
    if (events.some((e) => Number(e.eventId) < firstOpenAt && e.markerRecordedEventAttributes?.markerName === 'core_local_activity' && localActivityType(e) !== input.activityType)) begunLocally += 1;
    add('sent → start accepted', startedAt === undefined ? undefined : startedAt - s.t0);
    add('start accepted → first workflow task started', firstTask === undefined || startedAt === undefined ? undefined : firstTask - startedAt);
    // Only where an ordinary open was scheduled (all of them local: none).
    if (opens.length > 0) add('first workflow task started → opens scheduled (task completed)', firstTask === undefined || !scheduledBy ? undefined : ms(scheduledBy)! - firstTask);
    /** When each provider's open completed: its ordinary activity's completion, or its local attempt's task's. */
    const doneAt = new Map<string, number | undefined>();
    const d = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : b - a);
    for (const sch of opens) {
      activities += 1;
      const provider = providerOfInput(sch);
      const schedId = Number(sch.eventId);
      const scheduledAt = ms(byId.get(Number(sch.activityTaskScheduledEventAttributes?.workflowTaskCompletedEventId)));
      const startedEv = events.find((e) => e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_STARTED && Number(e.activityTaskStartedEventAttributes?.scheduledEventId) === schedId);
      const completedEv = events.find((e) => e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED && Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === schedId);
      const actStarted = ms(startedEv);
      const actCompleted = ms(completedEv);
      const req = provider ? first.get(`${s.id}|${provider}`) : undefined;
      if (provider) doneAt.set(provider, actCompleted);
      // A first request sent before the ordinary activity started was a local first attempt's (placed below).
      if (req?.sent !== undefined && actStarted !== undefined && req.sent < actStarted) continue;
      const atDouble = provider ? input.fleet.arrivals.get(s.id)?.first[provider as BenchProvider] : undefined;
      add('opens scheduled → activity started', d(scheduledAt, actStarted), provider);
      add('activity started → request sent', d(actStarted, req?.sent), provider);
      add('request sent → double received it', d(req?.sent, atDouble), provider);
      add('double received → answer at worker', d(atDouble, req?.answered), provider);
      add('answer at worker → activity completed', d(req?.answered, actCompleted), provider);
    }
    // Opens whose first attempt ran locally in the first task (the local activities of type `activityType`): every
    // provider with no ordinary open, and those whose first request went out before their ordinary open started.
    const localMarkers = events.filter((e) => localActivityType(e) === input.activityType);
    const localTask = localMarkers[0] ? byId.get(Number(localMarkers[0].markerRecordedEventAttributes?.workflowTaskCompletedEventId)) : undefined;
    if (localTask) {
      const localDone = ms(localTask);
      for (const provider of PROVIDERS) {
        const req = first.get(`${s.id}|${provider}`);
        const ordinaryOpen = opens.find((o) => providerOfInput(o) === provider);
        const ordinaryStarted = ordinaryOpen ? ms(events.find((e) => e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_STARTED && Number(e.activityTaskStartedEventAttributes?.scheduledEventId) === Number(ordinaryOpen.eventId))) : undefined;
        if (ordinaryOpen && !(req?.sent !== undefined && ordinaryStarted !== undefined && req.sent < ordinaryStarted)) continue;
        localOpens += 1;
        if (!ordinaryOpen) doneAt.set(provider, localDone);
        const atDouble = input.fleet.arrivals.get(s.id)?.first[provider];
        add('local: first workflow task started → request sent', d(firstTask, req?.sent), provider);
        // The part inside the HTTP client: from the connector's call to the headers on the socket (a pooled connection or a new one).
        add('local: of which request created → request sent', d(req?.created, req?.sent), provider);
        add('local: request sent → double received it', d(req?.sent, atDouble), provider);
        add('local: double received → answer at worker', d(atDouble, req?.answered), provider);
        add('local: answer at worker → first task completed', d(req?.answered, localDone), provider);
      }
    }
    const done = PROVIDERS.map((p) => doneAt.get(p));
    const lastCompleted = done.every((t) => t !== undefined) ? Math.max(...(done as number[])) : undefined;
    add('sent → activity completed (all six)', lastCompleted === undefined ? undefined : lastCompleted - s.t0);
    add('sent → first page reached', input.fleet.latency(s.id, 'open', s.t0, 'pagerduty'));
  }
  const order: Phase[] = [...PHASES, ...(localOpens > 0 ? LOCAL_PHASES : []), ...TOTALS];
  return {
    incidents: input.started.length,
    activities,
    localOpens,
    begunLocally,
    missing,
    phases: Object.fromEntries(order.map((p) => [p, summarize(samples.get(p) ?? [])])),
    firstPage: Object.fromEntries([...PHASES.slice(3), ...(localOpens > 0 ? LOCAL_PHASES : [])].map((p) => [p, summarize(pdSamples.get(p) ?? [])])),
  };
}
