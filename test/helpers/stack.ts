import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { buildApp } from '../../src/api/app';
import { InboundDispatcher, InboundMetrics, TemporalHealth, type DispatcherOptions } from '../../src/api/inbound';
import { TokenAuthenticator } from '../../src/api/auth';
import { IncidentClient } from '../../src/client';
import { loadConfig, type AppConfig } from '../../src/config/load';
import { MirrorStore } from '../../src/db/mirror-store';
import { createPool } from '../../src/db/pool';
import { createLogger, type Logger } from '../../src/observability/logger';

import { metrics as processMetrics, type NotifyMetrics } from '../../src/observability/metrics';
import { openIncidentsFromVisibility } from '../../src/observability/open-incidents';
import { PagerDutyDouble } from '../../src/sandbox/doubles/pagerduty';
import { startWorker, type WorkerHandle } from '../../src/worker';
import { sharedStack, uniqueId } from './shared';

let runtimeInstalled = false;
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The SDK's own log goes to a capture too, so secret checks see what the worker would print. */
export const sdkLogLines: string[] = [];

function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => {
      sdkLogLines.push(`${entry.level} ${entry.message} ${JSON.stringify(entry.meta ?? {})}`);
    }),
  });
}

/** The workflow bundle, built once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: new DefaultLogger('WARN') });
  return bundle;
}

export interface TestStack {
  config: AppConfig;
  pool: Pool;
  client: Client;
  incidents: IncidentClient;
  mirror: MirrorStore;
  app: FastifyInstance;
  /** Counters of the inbound route (PROBECTL_NOTIFY_INBOUND in env configures its entries). */
  inboundMetrics: InboundMetrics;
  /** The Prometheus registry the app's /metrics uses (the process-wide one, which the worker's activities use, unless the stack was given its own). */
  metrics: NotifyMetrics;
  log: Logger;
  /** Every log line the worker and API wrote. */
  logLines: string[];
  worker?: WorkerHandle;
  /** The inbound outbox dispatcher, as the API process runs it (absent with `dispatcher: false`). */
  dispatcher?: InboundDispatcher;
  /** What the inbound route and the dispatcher last learned about reaching Temporal. */
  health: TemporalHealth;
  env: Record<string, string>;
  startWorker(): Promise<WorkerHandle>;
  stop(): Promise<void>;
}

/**
 * A worker (in this process) and the HTTP app (for inject) on the shared dev server and test database,
 * with its own task queue so test files do not steal each other's tasks.
 */
export async function startStack(opts: {
  env?: Record<string, string>;
  worker?: boolean;
  /** Another Temporal dev server than the run's shared one (a test that starts its own, e.g. with other dynamic config). */
  temporalAddress?: string;
  /** Run the inbound outbox dispatcher (default true, as the API process does); or its options. */
  dispatcher?: boolean | Partial<Omit<DispatcherOptions, 'outbox' | 'incidents' | 'health' | 'log'>>;
  /** The inbound route's health hint (default: a fresh one, shared with the dispatcher). */
  health?: TemporalHealth;
  /** Deadline of the inbound route's inline Temporal try. */
  inlineDeadlineMs?: number;
  /** A registry of the stack's own for /metrics and the inbound counters (default: the process-wide one). */
  metrics?: NotifyMetrics;
} = {}): Promise<TestStack> {
  installRuntime();
  const shared = sharedStack();
  const env: Record<string, string> = {
    TEMPORAL_ADDRESS: opts.temporalAddress ?? shared.temporalAddress,
    DATABASE_URL: shared.databaseUrl,
    PROBECTL_NOTIFY_TASK_QUEUE: uniqueId('tq'),
    PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '1s',
    PROBECTL_NOTIFY_HTTP_TIMEOUT: '5s',
    LOG_LEVEL: 'info',
    PROBECTL_NOTIFY_PACE_KEY_SECRET: 'test-pace-key-secret-0123456789abcdef',
    ...opts.env,
  };
  const config = loadConfig(env);
  const logLines: string[] = [];
  const log = createLogger(
    config.logLevel,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(chunk.toString());
        cb();
      },
    }),
  );
  const pool = createPool(config.databaseUrl!);
  // The API's reconnect settings (src/runtime/processes.ts), so a restarted dev server is found as soon.
  const connection = await Connection.connect({ address: config.temporal.address, channelArgs: { 'grpc.initial_reconnect_backoff_ms': 250, 'grpc.max_reconnect_backoff_ms': 2_000 } });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const incidents = new IncidentClient({ client, taskQueue: config.temporal.taskQueue });
  const mirror = new MirrorStore(pool);
  const metrics = opts.metrics ?? processMetrics;
  const inboundMetrics: InboundMetrics = new InboundMetrics(metrics.inboundVerification);
  metrics.setOpenIncidentsSource(openIncidentsFromVisibility(client, config.temporal.taskQueue));
  metrics.setOutboxBacklogSource(() => mirror.outbox.backlog());
  const health = opts.health ?? new TemporalHealth();
  const app = buildApp({
    log,
    auth: new TokenAuthenticator(config.apiTokens),
    incidents,
    mirror,
    checks: { postgres: () => mirror.ping(), temporal: async () => void (await client.workflowService.getSystemInfo({})) },
    isAccepting: () => true,
    inbound: {
      entries: config.inbound, connectors: config.connectors, metrics: inboundMetrics, health,
      ...(opts.inlineDeadlineMs !== undefined ? { inlineDeadlineMs: opts.inlineDeadlineMs } : {}),
    },
    metrics,
  });
  await app.ready();
  const dispatcher = opts.dispatcher === false
    ? undefined
    : new InboundDispatcher({ outbox: mirror.outbox, incidents, health, log, metrics, ...(typeof opts.dispatcher === 'object' ? opts.dispatcher : {}) });
  dispatcher?.start();

  const stack: TestStack = {
    config, pool, client, incidents, mirror, app, inboundMetrics, metrics, log, logLines, env, health,
    ...(dispatcher ? { dispatcher } : {}),
    async startWorker() {
      stack.worker = await startWorker({ config, pool, log, env, workflowBundle: await workflowBundle() });
      return stack.worker;
    },
    async stop() {
      await stack.worker?.shutdown();
      await app.close();
      await dispatcher?.stop();
      await connection.close();
      await pool.end();
    },
  };
  if (opts.worker !== false) await stack.startWorker();
  return stack;
}

/** A minimal valid incident for `tenantId`. */
export function incidentFor(tenantId: string, overrides: Partial<import('../../src/shared/contract').Incident> = {}) {
  return {
    id: uniqueId('inc'),
    tenantId,
    title: 'Packet loss on edge-router-3 uplink',
    severity: 'critical' as const,
    summary: '14% loss towards AS64500 for 5 minutes',
    source: 'probectl',
    openedAt: new Date().toISOString(),
    ...overrides,
  };
}

/** A PagerDuty double and a stack whose one tenant has that connector and one API token (the smallest lifecycle). */
export async function startPagerDutyStack(tenant: string, routingKey: string, token: string): Promise<{ pd: PagerDutyDouble; stack: TestStack }> {
  const pd = await new PagerDutyDouble().start();
  const stack = await startStack({
    env: {
      PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${routingKey}`,
      PROBECTL_NOTIFY_API_TOKENS: `${tenant}:${token}`,
    },
  });
  return { pd, stack };
}
