/**
 * IncidentClient.openIncident against every state an incident id can be in on a real dev server, for the same tenant
 * and for another one: no run, running, completed, terminated, timed out (the last two stand for every run that
 * ended without completing, which ALLOW_DUPLICATE_FAILED_ONLY lets start again). What must hold in every cell:
 * the answer, which run is current afterwards, and that another tenant never starts a run on the id. A new id
 * costs one Temporal call (the start); the run is described only when the start is refused. And two openers
 * racing on one id, of one tenant or of two, start exactly one run.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { IncidentClient, TENANT_MEMO_KEY, TenantConflictError, type OpenOutcome } from '../../src/client';
import type { Incident } from '../../src/shared/contract';
import { SEVERITY, STATUS, TENANT } from '../../src/workflows/search-attributes';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentOf, startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ connectors: [{ id: 'pagerduty', provider: 'pagerduty' }] });
});
afterAll(async () => {
  h.releaseAll();
  await h.stop();
});

/** A queue no worker polls: runs there stay running (or time out) without executing a task. */
const idleQueue = uniqueId('idle-tq');

async function startIdle(client: Client, incident: Incident, timeout?: number): Promise<string> {
  const handle = await client.workflow.start('incidentWorkflow', {
    workflowId: `probectl-${incident.id}`, taskQueue: idleQueue, args: [{ incident }],
    memo: { [TENANT_MEMO_KEY]: incident.tenantId },
    typedSearchAttributes: [{ key: TENANT, value: incident.tenantId }, { key: STATUS, value: 'open' }, { key: SEVERITY, value: incident.severity }],
    ...(timeout ? { workflowExecutionTimeout: timeout } : {}),
  });
  return handle.firstExecutionRunId;
}

type Prior = 'none' | 'running' | 'completed' | 'terminated' | 'timed out';

/** Put `incident`'s id into `prior` (owned by `incident.tenantId`); the run id, if a run exists. */
async function arrange(prior: Prior, incident: Incident): Promise<string | undefined> {
  const handle = () => h.client.workflow.getHandle(`probectl-${incident.id}`);
  switch (prior) {
    case 'none':
      return undefined;
    case 'running':
      return startIdle(h.client, incident);
    case 'completed': {
      const runId = await h.start(incident);
      await h.signal(incident.id, 'resolve', { tenantId: incident.tenantId, source: 'probectl', at: new Date().toISOString() });
      await h.result(incident.id);
      return runId;
    }
    case 'terminated': {
      const runId = await startIdle(h.client, incident);
      await handle().terminate('test: the run is lost');
      return runId;
    }
    case 'timed out': {
      const runId = await startIdle(h.client, incident, 1000);
      await eventually(async () => (await handle().describe()).status.name === 'TIMED_OUT', { what: 'the run timed out' });
      return runId;
    }
  }
}

const STATUS_OF: Record<Exclude<Prior, 'none'>, string> = {
  running: 'RUNNING', completed: 'COMPLETED', terminated: 'TERMINATED', 'timed out': 'TIMED_OUT',
};

type Expected = OpenOutcome['outcome'] | 'conflict';
const TABLE: Array<[Prior, 'same' | 'other', Expected]> = [
  ['none', 'same', 'started'],
  ['running', 'same', 'running'],
  ['running', 'other', 'conflict'],
  ['completed', 'same', 'closed'],
  ['completed', 'other', 'conflict'],
  ['terminated', 'same', 'started'],
  ['terminated', 'other', 'conflict'],
  ['timed out', 'same', 'started'],
  ['timed out', 'other', 'conflict'],
];

/** The client under test, counting the Temporal calls it makes. */
function countingClient(): { incidents: IncidentClient; calls: string[]; restore: () => void } {
  const calls: string[] = [];
  const svc = h.client.workflowService as unknown as Record<string, (...a: unknown[]) => unknown>;
  const originals: Record<string, (...a: unknown[]) => unknown> = {};
  for (const name of ['startWorkflowExecution', 'describeWorkflowExecution']) {
    const original = svc[name]!;
    originals[name] = original;
    svc[name] = function (this: unknown, ...a: unknown[]) {
      calls.push(name);
      return original.apply(this, a);
    };
  }
  return {
    incidents: new IncidentClient({ client: h.client, taskQueue: h.taskQueue }),
    calls,
    restore: () => Object.assign(svc, originals),
  };
}

describe('opening an incident id in every state, as its tenant and as another', () => {
  test.each(TABLE)('%s, %s tenant: %s', async (prior, who, expected) => {
    const owner = incidentOf(uniqueId('owner'));
    const before = await arrange(prior, owner);
    const caller: Incident = who === 'same' ? owner : { ...owner, tenantId: uniqueId('other') };
    const { incidents, calls, restore } = countingClient();
    let answer: OpenOutcome | 'conflict';
    try {
      answer = await incidents.openIncident(caller).catch((err: unknown) => {
        if (err instanceof TenantConflictError) return 'conflict' as const;
        throw err;
      });
    } finally {
      restore();
    }
    expect(answer === 'conflict' ? 'conflict' : answer.outcome).toBe(expected);

    const now = await h.client.workflow.getHandle(`probectl-${owner.id}`).describe();
    if (expected === 'started') {
      expect(answer).toMatchObject({ runId: now.runId });
      expect(now.runId).not.toBe(before);
      expect(now.status.name).toBe('RUNNING');
      expect(now.memo?.[TENANT_MEMO_KEY]).toBe(caller.tenantId);
    } else {
      // Nothing started: the run there before is still the current one, as it was, and still the owner's.
      expect(now.runId).toBe(before);
      expect(now.status.name).toBe(STATUS_OF[prior as Exclude<Prior, 'none'>]);
      expect(now.memo?.[TENANT_MEMO_KEY]).toBe(owner.tenantId);
      if (expected === 'running') expect(answer).toMatchObject({ runId: before });
    }
    // A new id is one call, the start; the run is described only after a refused start.
    if (prior === 'none') expect(calls).toEqual(['startWorkflowExecution']);
    else expect(calls.slice(0, 2)).toEqual(['startWorkflowExecution', 'describeWorkflowExecution']);
  });
});

describe('two openers racing on one new id', () => {
  test.each([['one tenant', false], ['two tenants', true]])('%s: exactly one run is started', async (_what, twoTenants) => {
    for (let i = 0; i < 5; i += 1) {
      const a = incidentOf(uniqueId('race'));
      const b: Incident = twoTenants ? { ...a, tenantId: uniqueId('race-b') } : a;
      const incidents = new IncidentClient({ client: h.client, taskQueue: h.taskQueue });
      const settle = (p: Promise<OpenOutcome>) => p.then((o) => o, (err: unknown) => {
        if (err instanceof TenantConflictError) return 'conflict' as const;
        throw err;
      });
      const answers = await Promise.all([settle(incidents.openIncident(a)), settle(incidents.openIncident(b))]);
      expect(answers.map((x) => (x === 'conflict' ? x : x.outcome)).sort()).toEqual(twoTenants ? ['conflict', 'started'] : ['running', 'started']);
      // The run answered "started" is the current one, the "running" answer names it too, and it is the winner's.
      const winner = answers.find((x): x is Extract<OpenOutcome, { runId: string }> => x !== 'conflict' && x.outcome === 'started')!;
      const current = await h.client.workflow.getHandle(`probectl-${a.id}`).describe();
      expect(current.runId).toBe(winner.runId);
      for (const x of answers) if (x !== 'conflict' && x.outcome === 'running') expect(x.runId).toBe(winner.runId);
      expect(current.memo?.[TENANT_MEMO_KEY]).toBe(answers[0] === winner ? a.tenantId : b.tenantId);
      let runs = 0;
      // Visibility may lag the start; the run count can only be checked once it shows the one run.
      await eventually(async () => {
        runs = 0;
        for await (const _ of h.client.workflow.list({ query: `WorkflowId = 'probectl-${a.id}'` })) runs += 1;
        return runs >= 1;
      }, { what: 'the run in visibility' });
      expect(runs).toBe(1);
    }
  });
});

test('a refusal is what the server answers when a run of the id exists (the client relies on it)', async () => {
  const inc = incidentOf(uniqueId('refusal'));
  await arrange('terminated', inc);
  await expect(h.client.workflow.start('incidentWorkflow', {
    workflowId: `probectl-${inc.id}`, taskQueue: idleQueue, args: [{ incident: inc }], workflowIdReusePolicy: 'REJECT_DUPLICATE',
  })).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
});
