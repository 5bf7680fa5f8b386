/**
 * IncidentClient's eager path (src/client/index.ts tryStart), against scripted clients: which connection a start goes
 * through and what the open answers, for every answer the eager start can get (started eagerly, started without the
 * eager task, refused as a duplicate, failed) × whether the worker still runs when the answer comes. The rules: a start
 * asks for an eager start only through the worker's client while it runs; a failure is retried on the API's own
 * connection only when the worker stopped meanwhile (its connection closes as it stops), never when it still runs (the
 * server's answer stands) and never for a duplicate (the run exists: the open is answered from it, once).
 * test/e2e/eager-start.test.ts runs the same on the real dev server.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { IncidentClient } from '../../src/client';
import type { Incident } from '../../src/shared/contract';

const incident: Incident = { id: 'inc-e', tenantId: 'tenant-a', title: 't', severity: 'critical', openedAt: '2026-12-02T00:00:00.000Z' };

type Answer = 'eager' | 'not eager' | 'duplicate' | 'fails';

function fakeClient(name: string, answer: Answer, log: string[], onStart?: () => void): Client {
  return {
    workflow: {
      start: async (_type: string, o: { workflowId: string; requestEagerStart?: boolean }) => {
        log.push(`${name}${o.requestEagerStart ? ' eager' : ''}`);
        onStart?.();
        if (answer === 'fails') throw new Error('Client already closed');
        if (answer === 'duplicate') throw new WorkflowExecutionAlreadyStartedError('already started', o.workflowId, 'incidentWorkflow');
        return { firstExecutionRunId: `${name}-run`, eagerlyStarted: answer === 'eager' };
      },
      getHandle: () => ({
        describe: async () => {
          log.push(`${name} describe`);
          return { runId: 'existing-run', status: { name: 'RUNNING' }, memo: { tenantId: incident.tenantId } };
        },
      }),
    },
  } as unknown as Client;
}

const ANSWERS: Answer[] = ['eager', 'not eager', 'duplicate', 'fails'];

describe.each(ANSWERS)('the eager start answers %s', (answer) => {
  test.each([true, false])('the worker still runs when the answer comes: %p', async (stillRuns) => {
    const log: string[] = [];
    let running = true;
    const worker = fakeClient('worker', answer, log, () => {
      running = stillRuns;
    });
    const api = fakeClient('api', 'not eager', log);
    const incidents = new IncidentClient({ client: api, taskQueue: 'q', eagerStarter: () => (running ? worker : undefined) });
    const out = await incidents.openIncident(incident).catch((err: unknown) => ({ error: (err as Error).message }));
    const expected: Record<Answer, { out: object; log: string[] }> = {
      eager: { out: { outcome: 'started', workflowId: 'probectl-inc-e', runId: 'worker-run', eagerlyStarted: true }, log: ['worker eager'] },
      'not eager': { out: { outcome: 'started', workflowId: 'probectl-inc-e', runId: 'worker-run', eagerlyStarted: false }, log: ['worker eager'] },
      // The run exists: answered from it after a describe through the API's connection, never started again.
      duplicate: { out: { outcome: 'running', workflowId: 'probectl-inc-e', runId: 'existing-run' }, log: ['worker eager', 'api describe'] },
      fails: stillRuns
        ? { out: { error: 'Client already closed' }, log: ['worker eager'] }
        : { out: { outcome: 'started', workflowId: 'probectl-inc-e', runId: 'api-run', eagerlyStarted: false }, log: ['worker eager', 'api'] },
    };
    expect({ out, log }).toEqual(expected[answer]);
  });
});

test('no worker running (or none in the process): the start goes through the API\'s connection, without asking for an eager start', async () => {
  for (const eagerStarter of [undefined, () => undefined]) {
    const log: string[] = [];
    const incidents = new IncidentClient({ client: fakeClient('api', 'not eager', log), taskQueue: 'q', ...(eagerStarter ? { eagerStarter } : {}) });
    expect(await incidents.openIncident(incident)).toEqual({ outcome: 'started', workflowId: 'probectl-inc-e', runId: 'api-run', eagerlyStarted: false });
    expect(log).toEqual(['api']);
  }
});
