/**
 * A worker start that fails after it opened something (src/worker.ts) closes what it opened before the error goes on:
 * the pacing pool keeps its connections open (src/db/pace-store.ts), and the worker's own Temporal connection, the
 * HTTP client and the per-connector reconciler's client connection would each keep an in-process caller (the demo,
 * a test) alive. Every step that can fail after them, each alone: the reconciler's connection, Worker.create with and
 * without a reconciler started before it.
 */
import { Pool } from 'pg';
import { Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { startWorker } from '../../src/worker';
import { HttpClient } from '../../src/http/client';
import type { AppConfig } from '../../src/config/load';
import { startStack, workflowBundle, type TestStack } from '../helpers/stack';
import { eventually } from '../helpers/shared';

let stack: TestStack;
beforeAll(async () => {
  // The stack's environment has PROBECTL_NOTIFY_PACE_KEY_SECRET: its worker makes the pacing pool.
  stack = await startStack({ worker: false });
  expect(stack.config.paceKeySecret).toBeDefined();
});
afterAll(async () => {
  await stack?.stop();
});
afterEach(() => {
  jest.restoreAllMocks();
});

type Fails = 'Worker.create' | 'the reconciler\'s connection';
test.each<[string, Fails, AppConfig['reconcileMode']]>([
  ['per-incident reconciliation', 'Worker.create', 'per-incident'],
  ['per-connector reconciliation (its reconciler started before)', 'Worker.create', 'per-connector'],
  ['per-connector reconciliation', 'the reconciler\'s connection', 'per-connector'],
])('%s, %s fails: the start fails with its error and everything it opened is closed', async (_name, fails, reconcileMode) => {
  const config: AppConfig = { ...stack.config, reconcileMode, reconcileIntervalMs: 3_600_000 };
  const poolEnd = jest.spyOn(Pool.prototype, 'end');
  const httpClose = jest.spyOn(HttpClient.prototype, 'close');
  const nativeClose = jest.spyOn(NativeConnection.prototype, 'close');
  const clientConnect = jest.spyOn(Connection, 'connect');
  const clientClose = jest.spyOn(Connection.prototype, 'close');
  const create = jest.spyOn(Worker, 'create');
  const refused = new Error(`${fails} refused (test)`);
  if (fails === 'Worker.create') create.mockRejectedValueOnce(refused);
  else clientConnect.mockRejectedValueOnce(refused);

  await expect(startWorker({ config, pool: stack.pool, log: stack.log, metrics: stack.metrics, env: stack.env, workflowBundle: await workflowBundle() }))
    .rejects.toBe(refused);

  expect(create).toHaveBeenCalledTimes(fails === 'Worker.create' ? 1 : 0);
  const pacing = (poolEnd.mock.contexts as Pool[]).filter((p) => (p.options as { application_name?: string }).application_name === 'probectl-notify-pacing');
  expect(pacing).toHaveLength(1);
  await eventually(() => pacing[0]!.totalCount === 0, { what: 'the pacing pool closing its connections', timeoutMs: 5_000 });
  // The stack's own pool is the caller's: never ended here.
  expect(poolEnd.mock.contexts).not.toContain(stack.pool);
  expect(httpClose).toHaveBeenCalledTimes(1);
  expect(nativeClose).toHaveBeenCalledTimes(1);
  // The reconciler's client connection: closed when it was made, and made only for per-connector reconciliation.
  const made = reconcileMode === 'per-connector' && fails === 'Worker.create' ? 1 : 0;
  expect(clientConnect).toHaveBeenCalledTimes(reconcileMode === 'per-connector' ? 1 : 0);
  expect(clientClose).toHaveBeenCalledTimes(made);
});
