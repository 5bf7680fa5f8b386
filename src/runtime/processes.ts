import { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import { beginConfigDigest } from '../activities/begin';
import type { AppConfig } from '../config/load';
import type { Secret } from '../config/secret';
import { clientConnectionOptions } from '../config/temporal';
import type { Logger } from '../observability/logger';
import { NotifyMetrics } from '../observability/metrics';
import { createPool } from '../db/pool';
import { startMetricsServer } from '../observability/metrics-server';
import { installSdkRuntime } from '../observability/sdk-runtime';
import { HeartbeatScheduler } from '../observability/heartbeat';
import type { HeartbeatSettings } from '../config/heartbeat';
import { HttpClient, proxyFromEnv } from '../http/client';
import { startWorker, type WorkerHandle } from '../worker';
import { API_CHANNEL_ARGS, buildApi, type EagerStart } from './api';
import { checkSearchAttributes } from './search-attributes';

export interface Running {
  stop(): Promise<void>;
}

/** What every role of one process shares: built once by main (or the demo), handed to each role. */
export interface ProcessParts {
  config: AppConfig;
  pool: Pool;
  log: Logger;
  /** The process's one Prometheus registry (the API's /metrics, the worker's metrics port, the activities). */
  metrics: NotifyMetrics;
}

/**
 * Build what every role of one process shares: its one Postgres pool and its one Prometheus registry. `main`, the
 * demo and the tests' stack all build them here (the stack with a registry of its own, without Node's default
 * process metrics).
 */
export function processParts(config: AppConfig, log: Logger, opts: { databaseUrl: Secret; defaultMetrics?: boolean; metrics?: NotifyMetrics }): ProcessParts {
  return {
    config,
    pool: createPool(opts.databaseUrl),
    log,
    metrics: opts.metrics ?? new NotifyMetrics({ defaultMetrics: opts.defaultMetrics ?? true }),
  };
}

/**
 * Eager starts on a worker of this process: its connection, used only while the worker (`worker()`, none yet when it
 * has not started) runs (src/runtime/api.ts).
 */
export function eagerStartOn(connection: WorkerHandle['connection'], worker: () => Pick<WorkerHandle['worker'], 'getState'> | undefined): EagerStart {
  return { connection, active: () => worker()?.getState() === 'RUNNING' };
}

/** What the API of a process is given: eager starts on the worker beside it, unless PROBECTL_NOTIFY_EAGER_START=off or none runs. */
export function eagerStartFor(config: Pick<AppConfig, 'eagerStart'>, worker: Pick<WorkerHandle, 'connection' | 'worker'> | undefined): EagerStart | undefined {
  return worker && config.eagerStart ? eagerStartOn(worker.connection, () => worker.worker) : undefined;
}

export async function runApi({ config, pool, log, metrics }: ProcessParts, eager?: EagerStart): Promise<Running & { port: number }> {
  let accepting = true;
  const api = await buildApi({ config, pool, log, metrics, isAccepting: () => accepting, ...(eager ? { eagerStart: eager } : {}) });
  await api.app.listen({ host: config.api.host, port: config.api.port });
  api.start();
  const address = api.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.api.port;
  // The digest a worker must carry in its Build ID for a run to take the begin snapshot this API passes.
  log.info({ host: config.api.host, port, beginDigest: config.beginInStart ? beginConfigDigest(config) : 'off' }, 'API listening');
  return {
    port,
    async stop() {
      // /readyz goes unready first and stays so for the drain delay (load balancers stop sending), then the
      // server stops taking requests and finishes those in flight.
      accepting = false;
      log.info({ delayMs: config.shutdownDelayMs }, 'unready; draining');
      await new Promise((r) => setTimeout(r, config.shutdownDelayMs));
      await api.close();
    },
  };
}

export async function runWorker({ config, pool, log, metrics }: ProcessParts): Promise<Running & { handle: WorkerHandle }> {
  const runtime = installSdkRuntime(log, { metricsAddress: config.sdkMetricsAddress });
  if (runtime === 'installed' && config.sdkMetricsAddress !== undefined) log.info({ address: config.sdkMetricsAddress }, 'Temporal SDK metrics listening');
  // Fail at start, naming the command to run, rather than on the first upsert of every incident.
  const probe = await Connection.connect(clientConnectionOptions(config.temporal));
  try {
    await checkSearchAttributes(probe, config.temporal.namespace);
  } finally {
    await probe.close();
  }
  const handle = await startWorker({ config, pool, log, metrics });
  const heartbeat = config.heartbeat ? await startHeartbeat(config, config.heartbeat, log, metrics) : undefined;
  const metricsServer = config.metrics.port !== undefined ? await startMetricsServer(metrics, config.metrics.host, config.metrics.port) : undefined;
  if (metricsServer) log.info({ host: config.metrics.host, port: metricsServer.port }, 'worker metrics listening');
  return {
    handle,
    async stop() {
      // No check starts (and no ping follows one in flight) once the worker is stopping.
      await heartbeat?.stop();
      await handle.shutdown();
      await metricsServer?.close();
    },
  };
}

/** The dead man's switch of a worker process: its own Temporal connection and HTTP client, closed at stop. */
async function startHeartbeat(config: AppConfig, settings: HeartbeatSettings, log: Logger, metrics: NotifyMetrics): Promise<Running> {
  // Reconnects as soon as the API's channel does: the pings resume soon after Temporal is back.
  const connection = await Connection.connect(clientConnectionOptions(config.temporal, API_CHANNEL_ARGS));
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const proxy = proxyFromEnv(process.env);
  const http = new HttpClient({ timeoutMs: 10_000, ...(proxy ? { proxy } : {}) });
  const scheduler = new HeartbeatScheduler({ settings, client, taskQueue: config.temporal.taskQueue, http, log, metrics });
  scheduler.start();
  return {
    async stop() {
      await scheduler.stop();
      await http.close();
      await connection.close();
    },
  };
}
