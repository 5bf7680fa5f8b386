import { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import { buildApp } from '../api/app';
import { TokenAuthenticator } from '../api/auth';
import { IncidentClient } from '../client';
import type { AppConfig } from '../config/load';
import { MirrorStore } from '../db/mirror-store';
import type { Logger } from '../observability/logger';
import { startWorker, type WorkerHandle } from '../worker';
import { readinessChecks } from './readiness';

export interface Running {
  stop(): Promise<void>;
}

export async function runApi(config: AppConfig, pool: Pool, log: Logger): Promise<Running & { port: number }> {
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  let accepting = true;
  const app = buildApp({
    log,
    auth: new TokenAuthenticator(config.apiTokens),
    incidents: new IncidentClient({ client, taskQueue: config.temporal.taskQueue }),
    mirror: new MirrorStore(pool),
    checks: readinessChecks(client, pool, config.temporal.namespace, config.temporal.taskQueue),
    isAccepting: () => accepting,
  });
  await app.listen({ host: config.api.host, port: config.api.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.api.port;
  log.info({ host: config.api.host, port }, 'API listening');
  return {
    port,
    async stop() {
      // /readyz goes unready first, then the server stops taking requests and finishes those in flight.
      accepting = false;
      await app.close();
      await connection.close();
    },
  };
}

export async function runWorker(config: AppConfig, pool: Pool, log: Logger): Promise<Running & { handle: WorkerHandle }> {
  const handle = await startWorker({ config, pool, log });
  return { handle, stop: () => handle.shutdown() };
}
