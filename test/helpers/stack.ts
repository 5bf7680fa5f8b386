import { Writable } from 'node:stream';
import type { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { sharedWorkflowBundle } from './shared-bundle';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import type { InboundDispatcher, InboundMetrics, TemporalHealth, DispatcherOptions } from '../../src/api/inbound';
import type { IncidentClient } from '../../src/client';
import { loadConfig, type AppConfig } from '../../src/config/load';
import type { MirrorStore } from '../../src/db/mirror-store';
import { createLogger, type Logger } from '../../src/observability/logger';
import type { NotifyMetrics } from '../../src/observability/metrics';
import { eagerStartOn, processParts } from '../../src/runtime/processes';
import { buildApi, type EagerStart } from '../../src/runtime/api';
import { connectionOptions } from '../../src/config/temporal';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { startWorker, type StartWorkerOptions, type WorkerHandle } from '../../src/worker';
import { eventually, sharedStack, uniqueId } from './shared';

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

/** The workflow bundle: the run's one (test/helpers/shared-bundle.ts), read once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= sharedWorkflowBundle();
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
  /** The stack's one Prometheus registry, as a process has one: the app's /metrics, the inbound counters and the worker's activities. */
  metrics: NotifyMetrics;
  log: Logger;
  /** Every log line the worker and API wrote. */
  logLines: string[];
  worker?: WorkerHandle;
  /** Whether the API gives new runs the begin snapshot (absent with PROBECTL_NOTIFY_BEGIN_IN_START=off). */
  beginGate?: import('../../src/runtime/begin-gate').BeginGate;
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
  /**
   * Run the inbound outbox dispatcher (default: as the API process does, unless the stack has its own Temporal server);
   * or its options.
   */
  dispatcher?: boolean | Partial<Omit<DispatcherOptions, 'outbox' | 'incidents' | 'health' | 'log' | 'metrics'>>;
  /** The inbound route's health hint (default: a fresh one, shared with the dispatcher). */
  health?: TemporalHealth;
  /** Deadline of the inbound route's inline Temporal try. */
  inlineDeadlineMs?: number;
  /** The registry for the stack's API and worker (default: a fresh one per stack). */
  metrics?: NotifyMetrics;
  /** Told of every pacing grant of the stack's worker. */
  onPaceGrant?: StartWorkerOptions['onPaceGrant'];
  /**
   * Eager starts, as `main.ts all` runs them: 'worker' — the API starts new runs on the stack's worker's connection while
   * that worker runs (src/runtime/processes.ts eagerStartOn); or any other EagerStart (a test's own connection).
   */
  eagerStart?: 'worker' | EagerStart;
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
  // The process's shared parts as main builds them (src/runtime/processes.ts), with a registry of the stack's own.
  const { pool, metrics } = processParts(config, log, { databaseUrl: config.databaseUrl!, defaultMetrics: false, ...(opts.metrics ? { metrics: opts.metrics } : {}) });
  // The API role's own composition root (src/runtime/api.ts), as `main.ts api` builds it; the readiness checks
  // leave out "a worker polls" (a stack may run without one).
  // With eager starts on the worker: one connection for the worker and the API's starts, made first (the API is built
  // before the worker here); the stack closes it after both.
  const eagerConnection = opts.eagerStart === 'worker' ? await NativeConnection.connect(connectionOptions(config.temporal)) : undefined;
  let running: WorkerHandle | undefined;
  const eager: EagerStart | undefined = eagerConnection
    ? eagerStartOn(eagerConnection, () => running?.worker)
    : opts.eagerStart === 'worker' ? undefined : opts.eagerStart;
  const api = await buildApi({
    config, pool, log, metrics,
    ...(eager ? { eagerStart: eager } : {}),
    checks: (client) => ({
      postgres: async () => void (await pool.query('SELECT 1')),
      temporal: async () => void (await client.workflowService.getSystemInfo({})),
    }),
    // The dispatcher scans its database's outbox for every tenant; a stack on its own Temporal server but the shared
    // database would signal other suites' incidents there, find none, and close their queued deliveries: off unless
    // asked for.
    dispatcher: opts.dispatcher ?? !(opts.temporalAddress !== undefined && config.databaseUrl?.reveal() === shared.databaseUrl),
    ...(opts.health ? { health: opts.health } : {}),
    // The in-process API on the run's shared server gives an inbound delivery's inline signal 3 s, not the shipped
    // 300 ms, unless the test sets one (inlineDeadlineMs or PROBECTL_NOTIFY_INBOUND_INLINE_DEADLINE): the e2e tests that
    // assert an inline answer ({ outcome: 'accepted' } without `queued`) share two cores with another suite
    // (scripts/test.sh), and a missed deadline there says nothing about the code. API processes spawned from stack.env
    // keep the shipped default; the queued path is tested with it on servers of the tests' own (the fault matrix's
    // outage plans, the outbox tests).
    ...(opts.inlineDeadlineMs !== undefined
      ? { inlineDeadlineMs: opts.inlineDeadlineMs }
      : opts.temporalAddress === undefined && opts.env?.PROBECTL_NOTIFY_INBOUND_INLINE_DEADLINE === undefined ? { inlineDeadlineMs: 3000 } : {}),
  });
  const { app, client, incidents, mirror, health, inboundMetrics, dispatcher, beginGate } = api;
  await app.ready();
  api.start();

  const stack: TestStack = {
    config, pool, client, incidents, mirror, app, inboundMetrics, metrics, log, logLines, env, health,
    ...(dispatcher ? { dispatcher } : {}),
    ...(beginGate ? { beginGate } : {}),
    async startWorker() {
      stack.worker = await startWorker({
        config, pool, log, metrics, env, workflowBundle: await workflowBundle(), ...(opts.onPaceGrant ? { onPaceGrant: opts.onPaceGrant } : {}),
        ...(eagerConnection ? { connection: eagerConnection } : {}),
      });
      running = stack.worker;
      return stack.worker;
    },
    async stop() {
      await stack.worker?.shutdown();
      await api.close();
      await eagerConnection?.close();
      await pool.end();
    },
  };
  if (opts.worker !== false) {
    await stack.startWorker();
    // Every stack with its worker starts as a deployment settles: the API passes the begin snapshot once Temporal
    // lists the worker (src/runtime/begin-gate.ts), so no test's runs take one path or the other by timing.
    if (beginGate) await eventually(() => beginGate.refresh(), { what: 'the API passing the begin snapshot (Temporal listing the worker)', timeoutMs: 30_000 });
  }
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

/**
 * An incident opened a day ago whose earlier, long-deleted run left it in the mirror as resolved from PagerDuty by
 * erin an hour ago (a start after Temporal's retention); no workflow with its id exists.
 */
export async function pastResolvedIncident(stack: Pick<TestStack, 'mirror'>, tenantId: string) {
  const inc = incidentFor(tenantId, { openedAt: new Date(Date.now() - 86_400_000).toISOString() });
  const resolvedAt = new Date(Date.now() - 3_600_000).toISOString();
  await stack.mirror.write({
    incident: inc, status: 'resolved', resolution: { at: resolvedAt, source: 'pagerduty', actor: 'erin' },
    links: [{ connectorId: 'pagerduty', provider: 'pagerduty', status: 'resolved', externalRef: `probectl-${inc.id}`, updatedAt: resolvedAt }],
    timeline: [],
  });
  return inc;
}
