/**
 * The heartbeat canary workflow (src/workflows/heartbeat-canary.ts) on the dev server: an attempt of its activity
 * that fails — as it does when an older worker without the canary's activity takes the task during a rolling
 * deploy — is retried within the check's deadline, so one bad attempt (or a few) does not fail the check. More
 * failures than its attempts still fail it (the check reports canary_failed).
 */
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { canaryWorkflowId } from '../../src/observability/heartbeat';
import { sharedStack, uniqueId } from '../helpers/shared';
import { workflowBundle } from './harness';

describe('heartbeat canary: a few attempts within the deadline', () => {
  // [attempts that fail first, the canary answers]
  test.each<[number, boolean]>([[0, true], [1, true], [3, true], [99, false]])('%i failing attempt(s) first → answered: %s', async (failures, answers) => {
    const address = sharedStack().temporalAddress;
    const taskQueue = uniqueId('canary-tq');
    let attempts = 0;
    const nativeConnection = await NativeConnection.connect({ address });
    const worker = await Worker.create({
      connection: nativeConnection, taskQueue, workflowBundle: await workflowBundle(),
      activities: {
        async heartbeatCanary(nonce: string) {
          attempts += 1;
          if (attempts <= failures) throw ApplicationFailure.create({ type: 'NotFoundError', message: 'Activity function heartbeatCanary is not registered on this Worker' });
          return nonce;
        },
      },
    });
    const connection = await Connection.connect({ address });
    const client = new Client({ connection });
    try {
      const nonce = uniqueId('n');
      const run = worker.runUntil(
        client.workflow.execute('heartbeatCanaryWorkflow', { taskQueue, workflowId: canaryWorkflowId(taskQueue, nonce), args: [nonce], workflowExecutionTimeout: '20 seconds' }).then(
          (r) => ({ ok: true as const, r }),
          (e: unknown) => ({ ok: false as const, e }),
        ),
      );
      const result = await run;
      if (answers) {
        expect(result).toEqual({ ok: true, r: nonce });
        expect(attempts).toBe(failures + 1);
      } else {
        expect(result.ok).toBe(false);
        expect(result.ok === false && result.e instanceof WorkflowFailedError).toBe(true);
        expect(attempts).toBeGreaterThan(1);
      }
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  });
});
