import { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { buildApp } from '../api/app';
import { TokenAuthenticator } from '../api/auth';
import { InboundDispatcher, InboundMetrics, TemporalHealth, type DispatcherOptions } from '../api/inbound';
import type { ReadinessCheck } from '../api/routes/health';
import { IncidentClient } from '../client';
import type { AppConfig } from '../config/load';
import { clientConnectionOptions } from '../config/temporal';
import { MirrorStore } from '../db/mirror-store';
import { beginConfigDigest, beginInStart } from '../activities/begin';
import type { Incident } from '../shared/contract';
import { within } from '../shared/within';
import type { Logger } from '../observability/logger';
import type { NotifyMetrics } from '../observability/metrics';
import { openIncidentsFromVisibility } from '../observability/open-incidents';
import { clientTracingInterceptors } from '../observability/tracing';
import { BeginGate } from './begin-gate';
import { readinessChecks } from './readiness';

/** How long opening an incident waits for the mirror's record before leaving the read to the workflow. */
export const BEGIN_READ_MS = 500;

/** Every connection of the pool in use and callers queued for one (not a hand-over between two callers). */
function poolExhausted(pool: Pool): boolean {
  const max = (pool as Pool & { options?: { max?: number } }).options?.max ?? 10;
  return pool.waitingCount > 0 && pool.idleCount === 0 && pool.totalCount >= max;
}

/**
 * The API's Temporal channel reconnects at most 2 s apart after losing the server (gRPC's default grows to
 * 2 minutes), so inline signals and the outbox dispatcher find Temporal soon after it is back.
 */
export const API_CHANNEL_ARGS = { 'grpc.initial_reconnect_backoff_ms': 250, 'grpc.max_reconnect_backoff_ms': 2_000 };

export interface ApiOptions {
  config: AppConfig;
  pool: Pool;
  log: Logger;
  /** The process's registry: /metrics serves it and the inbound route counts into it. */
  metrics: NotifyMetrics;
  /** Whether /readyz answers ready (the process turns it off when it starts to drain). Default: always. */
  isAccepting?: () => boolean;
  /** Readiness checks, given the role's client (default: Temporal, Postgres and a worker polling the task queue). */
  checks?: (client: Client) => Record<string, ReadinessCheck>;
  /** Run the inbound outbox dispatcher (default true); or its options. */
  dispatcher?: boolean | Partial<Omit<DispatcherOptions, 'outbox' | 'incidents' | 'health' | 'log' | 'metrics'>>;
  /** What the inbound route and the dispatcher last learned about reaching Temporal (default: a fresh one). */
  health?: TemporalHealth;
  /** Deadline of the inbound route's inline Temporal try (default: the configured one). */
  inlineDeadlineMs?: number;
  /** A worker of this process to start new runs on eagerly (`all` with PROBECTL_NOTIFY_EAGER_START=auto). */
  eagerStart?: EagerStart;
}

/**
 * A worker polling the task queue in this process: new runs are started through a client on its connection asking
 * for an eager start, so the server hands their first workflow task back in the start's answer, to that worker,
 * skipping matching (the task queue and a poll). The SDK asks for it only while that worker has a free workflow-task
 * slot (else the start goes through matching), and the server only with `system.enableEagerWorkflowStart` (on by
 * default). `active`: the worker still runs — once it is stopping or stopped, starts go through the API's own
 * connection, as in the `api` role.
 */
export interface EagerStart {
  connection: NativeConnection;
  active: () => boolean;
}

/** Everything long-lived an API process holds, built in one place (nothing listens or runs yet). */
export interface ApiParts {
  app: FastifyInstance;
  connection: Connection;
  client: Client;
  incidents: IncidentClient;
  mirror: MirrorStore;
  health: TemporalHealth;
  inboundMetrics: InboundMetrics;
  /** The outbox dispatcher (absent with `dispatcher: false`); started by `start()`. */
  dispatcher?: InboundDispatcher;
  /** Whether new runs are given the begin snapshot now (absent with PROBECTL_NOTIFY_BEGIN_IN_START=off). */
  beginGate?: BeginGate;
  /** Start the dispatcher (the caller listens or injects). */
  start(): void;
  /** Close the app, stop the dispatcher, close the Temporal connection (the pool is the caller's). */
  close(): Promise<void>;
}

/** The API role's composition root: the Temporal client, the mirror, the app and its outbox dispatcher. */
export async function buildApi(opts: ApiOptions): Promise<ApiParts> {
  const { config, pool, log, metrics } = opts;
  const connection = await Connection.connect(clientConnectionOptions(config.temporal, API_CHANNEL_ARGS));
  // While tracing is on: start/signal/query spans, and the trace context in the start and signal headers.
  const interceptors = clientTracingInterceptors();
  const client = new Client({ connection, namespace: config.temporal.namespace, ...(interceptors ? { interceptors } : {}) });
  const mirror = new MirrorStore(pool);
  // PROBECTL_NOTIFY_BEGIN_IN_START (auto by default): a new run's begin snapshot goes in its start input with the
  // digest of this process's configuration, taken by a worker whose configuration has the same (src/activities/begin.ts),
  // and only while every worker polling the task queue carries that digest (./begin-gate.ts: none of an earlier
  // release, which could not continue such a run). Not while every pool connection is taken and callers wait (inbound
  // and readiness share the pool), and a gate or mirror slower than BEGIN_READ_MS is not waited for (the mirror's
  // statement is cancelled then): the run reads the snapshot itself.
  const gate = config.beginInStart
    ? new BeginGate({
      service: client.workflowService, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, digest: beginConfigDigest(config), log,
      withDeadline: (deadline, fn) => client.withDeadline(deadline, fn),
    })
    : undefined;
  // The gate's look (cached; a fresh one after a quiet spell), then the read with what is left of the budget.
  const readBegin = async (incident: Incident) => {
    const started = Date.now();
    if (!(await gate?.open())) return undefined;
    return beginInStart(config, mirror, incident, Math.max(BEGIN_READ_MS - (Date.now() - started), 1));
  };
  const begin = (incident: Incident) => (poolExhausted(pool)
    ? Promise.resolve(undefined)
    : within(readBegin(incident), BEGIN_READ_MS, () => new Error('begin read timed out')));
  const eager = opts.eagerStart;
  const eagerClient = eager
    ? new Client({ connection: eager.connection, namespace: config.temporal.namespace, ...(interceptors ? { interceptors } : {}) })
    : undefined;
  const incidents = new IncidentClient({
    client, taskQueue: config.temporal.taskQueue, ...(config.beginInStart ? { checkedBegin: begin } : {}),
    ...(eager && eagerClient ? { eagerStarter: () => (eager.active() ? eagerClient : undefined) } : {}),
    onStarted: (eagerly) => metrics.incidentStarts.inc({ path: eagerly ? 'eager' : 'task_queue' }),
  });
  const health = opts.health ?? new TemporalHealth();
  const inboundMetrics = new InboundMetrics(metrics.inboundVerification);
  const app = buildApp({
    log,
    auth: new TokenAuthenticator(config.apiTokens),
    incidents,
    mirror,
    checks: opts.checks ? opts.checks(client) : readinessChecks(client, pool, config.temporal.namespace, config.temporal.taskQueue),
    isAccepting: opts.isAccepting ?? (() => true),
    inbound: { entries: config.inbound, connectors: config.connectors, metrics: inboundMetrics, health, inlineDeadlineMs: opts.inlineDeadlineMs ?? config.inboundInlineDeadlineMs },
    metrics,
  });
  metrics.setOpenIncidentsSource(openIncidentsFromVisibility(client, config.temporal.taskQueue));
  metrics.setOutboxBacklogSource(() => mirror.outbox.backlog());
  // Signals accepted inbound deliveries Temporal did not take in time (every API replica runs one).
  const dispatcher = opts.dispatcher === false
    ? undefined
    : new InboundDispatcher({ outbox: mirror.outbox, incidents, health, log, metrics, ...(typeof opts.dispatcher === 'object' ? opts.dispatcher : {}) });
  return {
    app, connection, client, incidents, mirror, health, inboundMetrics,
    ...(dispatcher ? { dispatcher } : {}),
    ...(gate ? { beginGate: gate } : {}),
    start: () => {
      dispatcher?.start();
      // Learn (and log) at once whether new runs are given the snapshot, rather than on the first open, and keep the
      // answer fresh so no open waits for the look (./begin-gate.ts).
      gate?.start();
    },
    async close() {
      gate?.stop();
      await app.close();
      await dispatcher?.stop();
      await connection.close();
    },
  };
}
