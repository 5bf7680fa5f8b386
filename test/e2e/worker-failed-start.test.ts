/**
 * A worker start that fails after the pacing pool was made (src/worker.ts) closes what it opened before the error goes
 * on: the pacing pool keeps its connections open (src/db/pace-store.ts), so left behind it would keep an in-process
 * caller (the demo, a test) alive. Every step that can fail after it: the workflow bundle, Worker.create.
 */
import { Pool } from 'pg';
import { startWorker } from '../../src/worker';
import { startStack, type TestStack } from '../helpers/stack';
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

test.each([
  ['a workflow bundle that does not parse', { code: 'this is not javascript (' }],
  ['a workflow bundle that is not a bundle', { code: 'module.exports = 42;' }],
])('%s: the start fails and the pacing pool it made is ended', async (_name, workflowBundle) => {
  const end = jest.spyOn(Pool.prototype, 'end');
  try {
    await expect(startWorker({ config: stack.config, pool: stack.pool, log: stack.log, metrics: stack.metrics, env: stack.env, workflowBundle })).rejects.toThrow();
    const pacing = (end.mock.contexts as Pool[]).filter((p) => (p.options as { application_name?: string }).application_name === 'probectl-notify-pacing');
    expect(pacing).toHaveLength(1);
    await eventually(() => pacing[0]!.totalCount === 0, { what: 'the pacing pool closing its connections', timeoutMs: 5_000 });
  } finally {
    end.mockRestore();
  }
});
