import { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import { buildApp } from '../api/app';
import { TokenAuthenticator } from '../api/auth';
import { InboundDispatcher, TemporalHealth } from '../api/inbound';
import { IncidentClient } from '../client';
import type { AppConfig } from '../config/load';
import { connectionOptions } from '../config/temporal';
import { MirrorStore } from '../db/mirror-store';
import type { Logger } from '../observability/logger';
import { InboundMetrics } from '../api/inbound';
import { metrics } from '../observability/metrics';
import { startMetricsServer } from '../observability/metrics-server';
import { openIncidentsFromVisibility } from '../observability/open-incidents';
import { installSdkRuntime } from '../observability/sdk-runtime';
import { clientTracingInterceptors } from '../observability/tracing';
import { HeartbeatScheduler } from '../observability/heartbeat';
import type { HeartbeatSettings } from '../config/heartbeat';
import { HttpClient, proxyFromEnv } from '../activities/http/client';
import { startWorker, type WorkerHandle } from '../worker';
import { readinessChecks } from './readiness';
import { checkSearchAttributes } from './search-attributes';

/**
 * The API's Temporal channel reconnects at most 2 s apart after losing the server (gRPC's default grows to
 * 2 minutes), so inline signals and the outbox dispatcher find Temporal soon after it is back.
 */
const API_CHANNEL_ARGS = { 'grpc.initial_reconnect_backoff_ms': 250, 'grpc.max_reconnect_backoff_ms': 2_000 };

export interface Running {
  stop(): Promise<void>;
}

export async function runApi(config: AppConfig, pool: Pool, log: Logger): Promise<Running & { port: number }> {
  const connection = await Connection.connect({ ...connectionOptions(config.temporal), channelArgs: API_CHANNEL_ARGS });
  // While tracing is on, start/signal/query spans, and the trace context in the start and signal headers.
  const interceptors = clientTracingInterceptors();
  const client = new Client({ connection, namespace: config.temporal.namespace, ...(interceptors ? { interceptors } : {}) });
  const incidents = new IncidentClient({ client, taskQueue: config.temporal.taskQueue });
  const mirror = new MirrorStore(pool);
  // What the inbound route and the outbox dispatcher last learned about reaching Temporal.
  const health = new TemporalHealth();
  let accepting = true;
  const app = buildApp({
    log,
    auth: new TokenAuthenticator(config.apiTokens),
    incidents,
    mirror,
    checks: readinessChecks(client, pool, config.temporal.namespace, config.temporal.taskQueue),
    isAccepting: () => accepting,
    inbound: { entries: config.inbound, connectors: config.connectors, metrics: new InboundMetrics(metrics.inboundVerification), health, inlineDeadlineMs: config.inboundInlineDeadlineMs },
    metrics,
  });
  metrics.setOpenIncidentsSource(openIncidentsFromVisibility(client, config.temporal.taskQueue));
  metrics.setOutboxBacklogSource(() => mirror.outbox.backlog());
  // Signals accepted inbound deliveries Temporal did not take in time (every API replica runs one).
  const dispatcher = new InboundDispatcher({ outbox: mirror.outbox, incidents, health, log, metrics });
  await app.listen({ host: config.api.host, port: config.api.port });
  dispatcher.start();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.api.port;
  log.info({ host: config.api.host, port }, 'API listening');
  return {
    port,
    async stop() {
      // /readyz goes unready first and stays so for the drain delay (load balancers stop sending), then the
      // server stops taking requests and finishes those in flight.
      accepting = false;
      log.info({ delayMs: config.shutdownDelayMs }, 'unready; draining');
      await new Promise((r) => setTimeout(r, config.shutdownDelayMs));
      await app.close();
      await dispatcher.stop();
      await connection.close();
    },
  };
}

export async function runWorker(config: AppConfig, pool: Pool, log: Logger): Promise<Running & { handle: WorkerHandle }> {
  const runtime = installSdkRuntime(log, { metricsAddress: config.sdkMetricsAddress });
  if (runtime === 'installed' && config.sdkMetricsAddress !== undefined) log.info({ address: config.sdkMetricsAddress }, 'Temporal SDK metrics listening');
  // Fail at start, naming the command to run, rather than on the first upsert of every incident.
  const probe = await Connection.connect(connectionOptions(config.temporal));
  try {
    await checkSearchAttributes(probe, config.temporal.namespace);
  } finally {
    await probe.close();
  }
  const handle = await startWorker({ config, pool, log });
  const heartbeat = config.heartbeat ? await startHeartbeat(config, config.heartbeat, log) : undefined;
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
async function startHeartbeat(config: AppConfig, settings: HeartbeatSettings, log: Logger): Promise<Running> {
  // Reconnects as soon as the API's channel does: the pings resume soon after Temporal is back.
  const connection = await Connection.connect({ ...connectionOptions(config.temporal), channelArgs: API_CHANNEL_ARGS });
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
