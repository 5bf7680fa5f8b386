import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createActivities } from './activities';
import { HttpClient, proxyFromEnv } from './http/client';
import { connectorFor } from './providers/registry';
import { ConfigError } from './config/errors';
import { clientConnectionOptions, connectionOptions } from './config/temporal';
import type { AppConfig } from './config/load';
import { FollowUpStore } from './db/follow-up-store';
import { MirrorStore } from './db/mirror-store';
import { OutcomeRecorder } from './activities/recorder';
import { Pacer, type PacerOptions } from './activities/pacing';
import { PaceStore, createPacePool } from './db/pace-store';
import type { NotifyMetrics } from './observability/metrics';
import { FollowUpRunner } from './followups/runner';
import { IncidentClient } from './client';
import { signalAccepted } from './api/inbound/signal';
import { ReconcileCursorStore } from './db/reconcile-cursor-store';
import { ConnectorReconciler, type PassReport } from './reconcile/connector-reconciler';
import { beginConfigDigest } from './activities/begin';
import { workerBuildId } from './runtime/build-id';
import { bundleWorkflows, prebuiltBundle } from './runtime/workflow-bundle';
import { workflowStackTraces } from './runtime/stack-traces';
import type { Logger } from './observability/logger';
import { RunTraceParents, activityTracingInterceptors } from './observability/tracing';

export interface WorkerHandle {
  worker: Worker;
  /** The worker's Temporal connection: a client on it may ask the server for an eager start (src/runtime/api.ts). */
  connection: NativeConnection;
  /** Resolves when the worker has stopped (after shutdown() or a fatal error). */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

export interface StartWorkerOptions {
  config: AppConfig;
  pool: Pool;
  log: Logger;
  /** The process's registry: pacing, follow-up and reconciliation metrics count into it. */
  metrics: NotifyMetrics;
  /** Pre-built workflow bundle (tests build it once); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  connection?: NativeConnection;
  /** Where HTTPS_PROXY / HTTP_PROXY / NO_PROXY are read from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Every per-connector reconciliation pass of this worker (tests). */
  onReconcilePass?: (report: PassReport) => void;
  /** How far before its cursor a reconciliation listing starts (default OVERLAP_MS; tests shorten it). */
  reconcileOverlapMs?: number;
  /** Every pacing grant of this worker, by the deciding clock (tests check the bucket's bound on them). */
  onPaceGrant?: PacerOptions['onGrant'];
}

/** Every configured provider must have a connector, or the worker refuses to start. */
export function checkImplemented(config: AppConfig): void {
  const missing = config.connectors.all.filter((c) => !connectorFor(c.provider));
  if (missing.length > 0) {
    throw new ConfigError(
      'PROBECTL_NOTIFY_CONNECTORS',
      missing.map((c) => `entry #${c.position} (tenant ${JSON.stringify(c.tenantId)}, ${c.provider}): this provider has no connector implementation yet`),
    );
  }
}

export async function startWorker(opts: StartWorkerOptions): Promise<WorkerHandle> {
  const { config, log, metrics } = opts;
  checkImplemented(config);
  const proxy = proxyFromEnv(opts.env ?? process.env);
  const http = new HttpClient({ timeoutMs: config.httpTimeoutMs, ...(proxy ? { proxy } : {}) });
  const ownConnection = !opts.connection;
  const connection = opts.connection ?? (await NativeConnection.connect(connectionOptions(config.temporal)));
  // Follow-ups are recorded with the outcome that owes them and carried out by this worker's runner.
  const followUps = new FollowUpStore(opts.pool, config.temporal.taskQueue);
  const mirror = new MirrorStore(opts.pool, followUps);
  const recorder = new OutcomeRecorder(mirror, {
    onError: (err, kind) => {
      metrics.outcomeRecordFailure(kind);
      // A refusal's message can quote the refused value (a tenant's text or date): only its SQLSTATE and the names
      // Postgres gives are logged. An outage's first line names the host or the errno, as before.
      const e = err as { code?: unknown; message?: unknown; table?: unknown; column?: unknown; constraint?: unknown };
      if (kind === 'refused') {
        log.warn({ err: { code: e.code, table: e.table, column: e.column, constraint: e.constraint } }, 'recording a call outcome was refused by Postgres (a data error); the workflow records it later');
      } else {
        log.warn({ err: { message: String(e.message ?? '').split('\n')[0]?.slice(0, 200) } }, 'recording a call outcome failed; the workflow records it later');
      }
    },
  });
  // Pacing: one bucket per connector key for the whole deployment in Postgres (its own small pool with short
  // timeouts); while that store fails, this process paces on its own share (rate ÷ PROBECTL_NOTIFY_PACE_WORKERS).
  // The store needs PROBECTL_NOTIFY_PACE_KEY_SECRET (the bucket names are keyed by it, src/activities/pace-key.ts);
  // without it every worker paces on its own share, and says so once at start.
  const shared = config.paceKeySecret !== undefined;
  const pacePool = shared && config.databaseUrl ? createPacePool(config.databaseUrl) : undefined;
  const paceStore = shared ? new PaceStore(pacePool ?? opts.pool) : undefined;
  // Its own pool's connections kept open and refilled after one is lost; a pool shared with the caller (tests) is
  // warmed once.
  let stopWarming: (() => void) | undefined;
  if (pacePool) stopWarming = paceStore!.keepWarm();
  else paceStore?.warm().catch(() => undefined);
  // A start that fails from here on closes what it opened before the error goes on: the pacing pool keeps its
  // connections open (src/db/pace-store.ts) and would keep an in-process caller (the demo, the tests) alive.
  const opened: Array<() => Promise<unknown>> = [() => http.close(), ...(pacePool ? [async () => { stopWarming?.(); await pacePool.end(); }] : []), ...(ownConnection ? [() => connection.close()] : [])];
  const orClose = async <T>(step: () => Promise<T>): Promise<T> => {
    try {
      return await step();
    } catch (err) {
      for (const close of opened.reverse()) await close().catch(() => undefined);
      throw err;
    }
  };
  if (!shared) {
    log.warn({ workers: config.paceWorkers }, 'PROBECTL_NOTIFY_PACE_KEY_SECRET is unset: no shared pacing store; this worker paces each key on its own share (rate / PROBECTL_NOTIFY_PACE_WORKERS)');
  }
  const pacer = new Pacer({
    ...(paceStore ? { store: paceStore, keySecret: config.paceKeySecret! } : {}),
    workers: config.paceWorkers,
    record: (provider, waited, cls) => metrics.pacing(provider, waited, cls),
    onFallbackTake: (provider) => metrics.pacingFallbackTake(provider),
    // At LOG_LEVEL=debug every grant is logged (the bucket's keyed name, never a URL or credential): what a
    // pacing question is answered from, and what the cluster suite checks the bound on.
    ...(opts.onPaceGrant || log.isLevelEnabled('debug') ? {
      onGrant: (g) => {
        if (log.isLevelEnabled('debug')) log.debug({ pace: { key: g.key, provider: g.provider, source: g.source, cls: g.cls, at: g.at } }, 'pacing grant');
        opts.onPaceGrant?.(g);
      },
    } : {}),
    onStoreState: (state, err) => {
      metrics.pacingStore(state);
      if (state === 'fallback') {
        log.warn({ err: { message: (err as Error | undefined)?.message?.split('\n')[0]?.slice(0, 200) }, workers: config.paceWorkers }, 'the shared pacing store failed; pacing on this worker\'s share of each key (rate / PROBECTL_NOTIFY_PACE_WORKERS)');
      } else {
        log.info('the shared pacing store answers again; pacing per key for the whole deployment');
      }
    },
  });
  const activities = createActivities({ config, connectors: config.connectors, http, mirror, recorder, pacer, metrics });
  // The build's bundle (dist/workflow-bundle.js) when running compiled; otherwise bundled here at start.
  const workflowBundle = await orClose(async () => opts.workflowBundle ?? prebuiltBundle(__dirname) ?? (await bundleWorkflows()));
  // While tracing is on: a span per activity attempt, in the trace of the incident's open. Activity side only —
  // workflow interceptors would change how recorded histories replay (src/observability/tracing.ts).
  const activityInterceptors = activityTracingInterceptors(new RunTraceParents(connection.workflowService, config.temporal.namespace));
  // With the digest of this worker's begin configuration: a first run takes the snapshot the API passed only when
  // it was read under the same configuration (src/workflows/v2/checked-begin.ts).
  const buildId = workerBuildId(workflowBundle, beginConfigDigest(config));
  // Before the Worker: a start that fails after Worker.create could not close its connection (the Worker holds it).
  const reconciler = config.reconcileMode === 'per-connector' && config.reconcileIntervalMs > 0
    ? await orClose(() => startConnectorReconciler(opts, { http, pacer, mirror }))
    : undefined;
  if (reconciler) opened.push(() => reconciler.stop());
  const worker = await orClose(() => Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle,
    buildId,
    activities,
    ...(activityInterceptors ? { interceptors: { activity: activityInterceptors } } : {}),
    // A killed worker's activities are retried elsewhere after their heartbeat timeout; on SIGTERM the
    // worker stops polling and lets running activities finish within this grace period.
    shutdownGraceTime: '20 seconds',
    // Bounds worker memory whatever the number of open incidents; an evicted incident is replayed from its
    // (short, continued-as-new) history on its next signal.
    maxCachedWorkflows: config.maxCachedWorkflows,
  }));
  log.info({
    taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace, connectors: config.connectors.all.length, buildId,
    workflowCode: 'codePath' in workflowBundle ? workflowBundle.codePath : opts.workflowBundle ? 'prebuilt (in memory)' : 'bundled at start',
    // PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES, as the workflow threads apply it (src/runtime/workflow-thread-preload.ts).
    workflowStackTraces: workflowStackTraces(config.workflowStackTraces),
  }, 'worker started');
  const runner = new FollowUpRunner({
    store: followUps,
    mirror,
    deps: {
      connectors: config.connectors, http, pacer, pagerReResolveDelayMs: config.pagerReResolveDelayMs,
      ...(config.callback ? { callback: config.callback } : {}),
      links: async (tenantId, incidentId) => (await mirror.read(tenantId, incidentId))?.links,
      callbacks: (tenantId, incidentId) => followUps.callbacks(tenantId, incidentId),
    },
    log,
    metrics,
  });
  runner.start();
  const done = worker.run().finally(async () => {
    await reconciler?.stop();
    await runner.stop();
    await http.close();
    stopWarming?.();
    await pacePool?.end();
    if (ownConnection) await connection.close();
  });
  return {
    worker,
    connection,
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await Promise.all([reconciler?.stop(), runner.stop(), done]);
    },
  };
}

/** How long one reconciliation signal (owner check and signal) may take before the pass stops and retries later. */
const RECONCILE_SIGNAL_DEADLINE_MS = 5_000;

/**
 * Per-connector reconciliation (src/reconcile/): its own Temporal client connection for the owner checks and
 * signals, the worker's HTTP client and pacer for the reads, the mirror for "open here".
 */
async function startConnectorReconciler(
  opts: StartWorkerOptions,
  deps: { http: HttpClient; pacer: Pacer; mirror: MirrorStore },
): Promise<{ stop(): Promise<void> }> {
  const { config, log, metrics } = opts;
  const connection = await Connection.connect(clientConnectionOptions(config.temporal));
  const incidents = new IncidentClient({ client: new Client({ connection, namespace: config.temporal.namespace }), taskQueue: config.temporal.taskQueue });
  const reconciler = new ConnectorReconciler({
    connectors: config.connectors,
    http: deps.http,
    pacer: deps.pacer,
    store: new ReconcileCursorStore(opts.pool, config.temporal.taskQueue),
    mirror: deps.mirror,
    signal: (row) => signalAccepted(incidents, row, RECONCILE_SIGNAL_DEADLINE_MS),
    intervalMs: config.reconcileIntervalMs,
    log,
    ...(opts.reconcileOverlapMs !== undefined ? { overlapMs: opts.reconcileOverlapMs } : {}),
    onPass: (report) => {
      metrics.reconcilePass(report.provider, report.outcome, report.reads);
      opts.onReconcilePass?.(report);
    },
  });
  reconciler.start();
  log.info({ connectors: reconciler.connectors().length, intervalMs: config.reconcileIntervalMs }, 'per-connector reconciliation started');
  return {
    async stop() {
      await reconciler.stop();
      await connection.close();
    },
  };
}
