/**
 * IncidentClient's eager path (src/client/index.ts tryStart) and the process's choice of it (src/runtime/processes.ts
 * eagerStartFor), against scripted clients: which connection a start goes through, what the open answers and what
 * it counts, for every answer the eager start can get (started eagerly, started without the eager task, refused as a
 * duplicate, failed) × whether the worker still runs when the answer comes. The rules: a start asks for an eager
 * start only through the worker's client, and only while that worker runs; its answer stands — a duplicate is
 * answered from the run that exists, a failure is the open's failure (a NativeConnection's call in flight is not
 * cut by the worker stopping, so nothing is started again elsewhere). test/e2e/eager-start.test.ts runs the same on
 * the real dev server.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { IncidentClient } from '../../src/client';
import { eagerStartFor } from '../../src/runtime/processes';
import type { WorkerHandle } from '../../src/worker';
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
    const counted: boolean[] = [];
    const incidents = new IncidentClient({ client: api, taskQueue: 'q', eagerStarter: () => (running ? worker : undefined), onStarted: (e) => counted.push(e) });
    const out = await incidents.openIncident(incident).catch((err: unknown) => ({ error: (err as Error).message }));
    const expected: Record<Answer, { out: object; log: string[] }> = {
      eager: { out: { outcome: 'started', workflowId: 'probectl-inc-e', runId: 'worker-run', eagerlyStarted: true }, log: ['worker eager'] },
      'not eager': { out: { outcome: 'started', workflowId: 'probectl-inc-e', runId: 'worker-run', eagerlyStarted: false }, log: ['worker eager'] },
      // The run exists: answered from it after a describe through the API's connection, never started again.
      duplicate: { out: { outcome: 'running', workflowId: 'probectl-inc-e', runId: 'existing-run' }, log: ['worker eager', 'api describe'] },
      fails: { out: { error: 'Client already closed' }, log: ['worker eager'] },
    };
    expect({ out, log, counted }).toEqual({ ...expected[answer], counted: answer === 'eager' ? [true] : answer === 'not eager' ? [false] : [] });
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

describe('eagerStartFor: the API of a process starts eagerly only beside a running worker, unless the setting is off', () => {
  const connection = { marker: 'the worker connection' } as unknown as WorkerHandle['connection'];
  const workerIn = (state: string) => ({ connection, worker: { getState: () => state } as unknown as WorkerHandle['worker'] });
  test.each<[string, boolean, string | undefined, boolean | undefined]>([
    // setting on, a worker in the process (the all role), by its state → whether a start would go eagerly now
    ['all, auto, running', true, 'RUNNING', true],
    ['all, auto, draining', true, 'DRAINING', false],
    ['all, auto, stopping', true, 'STOPPING', false],
    ['all, auto, stopped', true, 'STOPPED', false],
    ['all, auto, failed', true, 'FAILED', false],
    ['all, auto, initialized', true, 'INITIALIZED', false],
    ['all, off, running', false, 'RUNNING', undefined],
    ['api role, auto (no worker)', true, undefined, undefined],
    ['api role, off (no worker)', false, undefined, undefined],
  ])('%s', (_name, eagerStart, state, activeNow) => {
    const eager = eagerStartFor({ eagerStart }, state === undefined ? undefined : workerIn(state));
    expect(eager === undefined ? undefined : eager.active()).toBe(activeNow);
    if (eager) expect(eager.connection).toBe(connection);
  });
});
