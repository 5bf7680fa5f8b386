import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { buildApp } from '../../src/api/app';
import { TokenAuthenticator } from '../../src/api/auth';
import { IncidentClient } from '../../src/client';
import { loadConfig, type AppConfig } from '../../src/config/load';
import { MirrorStore } from '../../src/db/mirror-store';
import { createPool } from '../../src/db/pool';
import { createLogger, type Logger } from '../../src/observability/logger';
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
  log: Logger;
  /** Every log line the worker and API wrote. */
  logLines: string[];
  worker?: WorkerHandle;
  env: Record<string, string>;
  startWorker(): Promise<WorkerHandle>;
  stop(): Promise<void>;
}

/**
 * A worker (in this process) and the HTTP app (for inject) on the shared dev server and test database,
 * with its own task queue so test files do not steal each other's tasks.
 */
export async function startStack(opts: { env?: Record<string, string>; worker?: boolean } = {}): Promise<TestStack> {
  installRuntime();
  const shared = sharedStack();
  const env: Record<string, string> = {
    TEMPORAL_ADDRESS: shared.temporalAddress,
    DATABASE_URL: shared.databaseUrl,
    PROBECTL_NOTIFY_TASK_QUEUE: uniqueId('tq'),
    PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '1s',
    PROBECTL_NOTIFY_HTTP_TIMEOUT: '5s',
    LOG_LEVEL: 'info',
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
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const incidents = new IncidentClient({ client, taskQueue: config.temporal.taskQueue });
  const mirror = new MirrorStore(pool);
  const app = buildApp({
    log,
    auth: new TokenAuthenticator(config.apiTokens),
    incidents,
    mirror,
    checks: { postgres: () => mirror.ping(), temporal: async () => void (await client.workflowService.getSystemInfo({})) },
    isAccepting: () => true,
  });
  await app.ready();

  const stack: TestStack = {
    config, pool, client, incidents, mirror, app, log, logLines, env,
    async startWorker() {
      stack.worker = await startWorker({ config, pool, log, workflowBundle: await workflowBundle() });
      return stack.worker;
    },
    async stop() {
      await stack.worker?.shutdown();
      await app.close();
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
