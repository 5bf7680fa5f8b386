/**
 * Workflow-level tests: the real incident workflow on a real Temporal dev server, with stubbed activities whose
 * answers, delays and failures each test scripts. Every call is logged (name, input, attempt), provider calls can be
 * held open until released (and see their cancellation), and the fetched history is summarised for assertions.
 */
import { Context } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { withAttempt } from '../../src/http/failures';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { sharedWorkflowBundle } from '../helpers/shared-bundle';
import type { ConnectorRef } from '../../src/config/connectors';
import type { Incident } from '../../src/shared/contract';
import { TENANT_MEMO_KEY } from '../../src/client';
import { SEVERITY, STATUS, TENANT } from '../../src/workflows/search-attributes';
import { handled, sharedStack, uniqueId } from '../helpers/shared';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflow code under test: the run's one bundle (test/helpers/shared-bundle.ts), read once per test file. */
export const workflowBundle = () => (bundle ??= sharedWorkflowBundle());

let runtime = false;
function installRuntime(): void {
  if (runtime) return;
  runtime = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // installed by another helper in this test file
  }
}

export interface Call {
  name: string;
  input: Record<string, any>;
  attempt: number;
  at: number;
}

/** What a provider call answers; `hold`: wait until released (a cancellation ends the wait as cancelled). */
export type Script = (call: Call) => Promise<unknown> | unknown;

export interface Harness {
  client: Client;
  taskQueue: string;
  calls: Call[];
  /** Per activity name, an answer for the next calls (default: success). */
  script: Record<string, Script>;
  /** `begin`: a begin snapshot in the start input, as the API passes it (src/activities/begin.ts). */
  /** Start a run; `more` goes into the start input as it is (e.g. `checkedBegin`). */
  start(incident: Incident, carried?: unknown, begin?: unknown, more?: Record<string, unknown>): Promise<string>;
  signal(incidentId: string, name: string, arg: Record<string, unknown>): Promise<void>;
  result(incidentId: string): Promise<any>;
  state(incidentId: string): Promise<any>;
  history(incidentId: string): Promise<HistorySummary>;
  /** Hold every call of `name` for `connectorId` until released (or cancelled); `held()` counts those waiting. */
  hold(name: string, connectorId: string): { release(answer?: unknown): void; held: () => number };
  /** Release every hold (between tests). */
  releaseAll(): void;
  stop(): Promise<void>;
}

export interface HistorySummary {
  events: number;
  types: string[];
  activities: string[];
  workflowTasks: number;
  timers: number;
  markers: string[];
  /** Patch ids of the patch markers, in order. */
  patches: string[];
  /** The Build ID each completed workflow task was recorded with. */
  buildIds: string[];
  runs: number;
}

const EVENT_TYPE = (t: unknown) => String(t).replace(/^EVENT_TYPE_/, '');

export async function startHarness(opts: {
  connectors: ConnectorRef[];
  settings?: { pagerReResolveDelayMs?: number; reconcileIntervalMs?: number; reissueGuardMs?: number };
  mirror?: { available: boolean; record?: unknown };
  temporalAddress?: string;
  /** Another build of the workflow code (e.g. one that takes an older path), on a task queue of the caller's choice. */
  workflowBundle?: WorkflowBundleWithSourceMap;
  taskQueue?: string;
  /** The worker's Build ID (default: the SDK's, which carries no begin digest). */
  buildId?: string;
  /** 0: no workflow cache, so every task replays the run from its start (as after an eviction or a worker restart). */
  maxCachedWorkflows?: number;
}): Promise<Harness> {
  installRuntime();
  const address = opts.temporalAddress ?? sharedStack().temporalAddress;
  const taskQueue = opts.taskQueue ?? uniqueId('wf-tq');
  const calls: Call[] = [];
  const script: Record<string, Script> = {};
  const holds = new Map<string, { waiters: Array<(a: unknown) => void> }>();
  const settings = { pagerReResolveDelayMs: 300, reconcileIntervalMs: 0, reissueGuardMs: 500, ...opts.settings };

  const record = async (name: string, input: any, fallback: () => unknown) => {
    const ctx = Context.current();
    const call: Call = { name, input, attempt: ctx.info.attempt, at: Date.now() };
    calls.push(call);
    const hold = holds.get(`${name}/${input?.connectorId ?? ''}`);
    if (hold) {
      // Heartbeat while held so a cancellation reaches us; a cancelled call ends as cancelled.
      const beat = setInterval(() => ctx.heartbeat(), 100);
      let waiter: ((a: unknown) => void) | undefined;
      try {
        // A cancellation rejects ctx.cancelled with a CancelledFailure: the call ends as cancelled.
        const answer = await Promise.race([new Promise((r) => hold.waiters.push((waiter = r))), ctx.cancelled]);
        if (answer !== undefined) return answer;
      } finally {
        clearInterval(beat);
        hold.waiters = hold.waiters.filter((w) => w !== waiter);
      }
    }
    const s = script[name];
    return s ? s(call) : fallback();
  };

  const activities = {
    beginIncident: async (input: any) => record('beginIncident', input, () => ({ connectors: opts.connectors, settings, mirror: opts.mirror ?? { available: true } })),
    openConnector: async (input: any) => record('openConnector', input, () => ({ externalRef: `${input.connectorId}-ref`, recorded: true, followUpsRecorded: true })),
    acknowledgeConnector: async (input: any) => record('acknowledgeConnector', input, () => ({ recorded: true, followUpsRecorded: true })),
    resolveConnector: async (input: any) => record('resolveConnector', input, () => ({ recorded: true, followUpsRecorded: true, found: true })),
    checkConnector: async (input: any) => record('checkConnector', input, () => 'open'),
    recordIncident: async (input: any) => record('recordIncident', input, () => ({ followUpsRecorded: true })),
    writeMirror: async (input: any) => record('writeMirror', input, () => undefined),
    reportToProbectl: async (input: any) => record('reportToProbectl', input, () => ({ delivered: true })),
  };

  const nativeConnection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection: nativeConnection, taskQueue, workflowBundle: opts.workflowBundle ?? (await workflowBundle()), activities,
    shutdownGraceTime: '1 second',
    ...(opts.buildId !== undefined ? { buildId: opts.buildId } : {}),
    ...(opts.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: opts.maxCachedWorkflows } : {}),
  });
  const running = handled(worker.run(), 'the harness worker');
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const handle = (id: string) => client.workflow.getHandle(`probectl-${id}`);

  return {
    client, taskQueue, calls, script,
    async start(incident, carried, begin, more) {
      const h = await client.workflow.start('incidentWorkflow', {
        workflowId: `probectl-${incident.id}`, taskQueue, args: [{ incident, ...(carried ? { carried } : {}), ...(begin !== undefined ? { begin } : {}), ...more }],
        memo: { [TENANT_MEMO_KEY]: incident.tenantId },
        typedSearchAttributes: [{ key: TENANT, value: incident.tenantId }, { key: STATUS, value: 'open' }, { key: SEVERITY, value: incident.severity }],
      });
      return h.firstExecutionRunId;
    },
    signal: (id, name, arg) => handle(id).signal(name, arg),
    result: (id) => handle(id).result(),
    state: (id) => handle(id).query('state'),
    async history(id) {
      const runs: string[] = [];
      for await (const w of client.workflow.list({ query: `WorkflowId = 'probectl-${id}'` })) runs.push(w.runId);
      const h = await handle(id).fetchHistory();
      const events = h.events ?? [];
      const types = events.map((e) => EVENT_TYPE(temporal.api.enums.v1.EventType[e.eventType as number] ?? e.eventType));
      return {
        events: events.length,
        types,
        activities: events.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter((n): n is string => !!n),
        workflowTasks: types.filter((t) => t === 'WORKFLOW_TASK_COMPLETED').length,
        timers: types.filter((t) => t === 'TIMER_STARTED').length,
        markers: events.map((e) => e.markerRecordedEventAttributes?.markerName).filter((n): n is string => !!n),
        patches: events.map((e) => e.markerRecordedEventAttributes).filter((m) => m?.markerName === 'core_patch')
          .map((m) => (JSON.parse(Buffer.from(m!.details!['patch-data']!.payloads![0]!.data!).toString('utf8')) as { id: string }).id),
        buildIds: events.map((e) => e.workflowTaskCompletedEventAttributes?.workerVersion?.buildId).filter((b): b is string => !!b),
        runs: runs.length,
      };
    },
    releaseAll() {
      for (const [key, h] of holds) {
        holds.delete(key);
        for (const w of h.waiters.splice(0)) w(undefined);
      }
    },
    hold(name, connectorId) {
      const key = `${name}/${connectorId}`;
      const h = { waiters: [] as Array<(a: unknown) => void> };
      holds.set(key, h);
      return {
        release(answer?: unknown) {
          holds.delete(key);
          for (const w of h.waiters.splice(0)) w(answer ?? undefined);
        },
        held: () => h.waiters.length,
      };
    },
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
      await nativeConnection.close();
    },
  };
}

/** Three connectors of three kinds (Slack only from error up) and the settings the begin-snapshot tests give a run. */
export const THREE_CONNECTORS: ConnectorRef[] = [
  { id: 'pagerduty', provider: 'pagerduty' },
  { id: 'slack', provider: 'slack', minSeverity: 'error' },
  { id: 'jira', provider: 'jira' },
];
export const SNAPSHOT_SETTINGS = { pagerReResolveDelayMs: 300, reconcileIntervalMs: 0, reissueGuardMs: 500 };

export const incidentOf = (tenantId = 'acme', over: Partial<Incident> = {}): Incident => ({
  id: uniqueId('wf'), tenantId, title: 'Packet loss', severity: 'critical', openedAt: new Date().toISOString(), ...over,
});

/** A provider's refusal of an open as the activity throws it: naming its attempt (src/http/failures.ts withAttempt). */
export const refused = (message: string, attempt = 1, type = 'ProviderRejected') => withAttempt(ApplicationFailure.create({ type, message, nonRetryable: true }), attempt) as ApplicationFailure;
