/**
 * The floor worker, a child process of the bench like the service's worker and started with the same node
 * arguments and environment: the service's configuration loader gives it the same Temporal connection, HTTP
 * timeout, workflow cache and log level; the Worker gets the same options as src/worker.ts except the task
 * queue and the workflows (the floor's, prebuilt by bench/run.sh into floor-workflow-bundle.js beside this file).
 *
 *   node bench/floor/worker.js
 */
import { join } from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { HttpClient } from '../../src/http/client';
import { loadConfig } from '../../src/config/load';
import { connectionOptions } from '../../src/config/temporal';
import { createLogger } from '../../src/observability/logger';
import { installSdkRuntime } from '../../src/observability/sdk-runtime';
import { floorActivities } from './activities';
import { FLOOR_TASK_QUEUE } from './contract';

export const FLOOR_BUNDLE = 'floor-workflow-bundle.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = createLogger(config.logLevel);
  installSdkRuntime(log, {});
  const connection = await NativeConnection.connect(connectionOptions(config.temporal));
  const http = new HttpClient({ timeoutMs: config.httpTimeoutMs });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: FLOOR_TASK_QUEUE,
    workflowBundle: { codePath: join(__dirname, FLOOR_BUNDLE) },
    activities: floorActivities(config.connectors, http),
    shutdownGraceTime: '20 seconds',
    maxCachedWorkflows: config.maxCachedWorkflows,
  });
  const stop = () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await worker.run();
  await http.close();
  await connection.close();
  process.exit(0);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`floor worker: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
