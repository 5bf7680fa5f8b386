/**
 * IncidentClient.openIncident's decisions against a scripted Temporal client, for every branch the dev server cannot
 * easily produce (test/workflow/open-outcomes.test.ts runs the common states on a real one): every status a describe
 * can report × the caller's tenant, the owner's or none (no memo) × what a second start meets. The rules: a start
 * never reaches the server with ALLOW_DUPLICATE_FAILED_ONLY unless the describe showed the caller's own run ended
 * without completing; an open run (running or paused) is answered "running"; another tenant's is a conflict; a run
 * refused and then not found is never answered as if known.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type WorkflowExecutionStatusName } from '@temporalio/client';
import { IncidentClient, OpenUndecidedError, TenantConflictError } from '../../src/client';
import type { Incident } from '../../src/shared/contract';
import { backingServiceDown } from '../../src/api/errors';

const incident: Incident = { id: 'inc-1', tenantId: 'tenant-a', title: 't', severity: 'warning', openedAt: '2026-12-01T00:00:00.000Z' };

type Described = 'not found' | { status: WorkflowExecutionStatusName; tenantId?: string };

function scripted(starts: Array<'refuse' | 'ok'>, describes: Described[]) {
  const started: Array<{ policy: string; snapshot: boolean; again: boolean }> = [];
  let described = 0;
  const client = {
    workflow: {
      start: async (_type: string, o: { workflowId: string; workflowIdReusePolicy: string; args: Array<{ checkedBegin?: unknown; again?: unknown }> }) => {
        started.push({ policy: o.workflowIdReusePolicy, snapshot: o.args[0]!.checkedBegin !== undefined, again: o.args[0]!.again === true });
        const next = starts.shift();
        if (next === undefined) throw new Error('unexpected start');
        if (next === 'refuse') throw new WorkflowExecutionAlreadyStartedError('already started', o.workflowId, 'incidentWorkflow');
        return { firstExecutionRunId: `new-run-${started.length}` };
      },
      getHandle: (workflowId: string) => ({
        describe: async () => {
          described += 1;
          const d = describes.shift();
          if (d === undefined) throw new Error('unexpected describe');
          if (d === 'not found') throw new WorkflowNotFoundError('not found', workflowId, undefined);
          return { runId: 'old-run', status: { name: d.status }, memo: d.tenantId !== undefined ? { tenantId: d.tenantId } : {} };
        },
      }),
    },
  } as unknown as Client;
  const incidents = new IncidentClient({ client, taskQueue: 'q', checkedBegin: async () => ({ configDigest: '0000000000000000', begin: {} }) });
  return { incidents, started, described: () => described };
}

const answer = (p: Promise<unknown>) => p.then((o) => o as { outcome: string; runId?: string; status?: string }, (err: unknown) => {
  if (err instanceof TenantConflictError) return { outcome: 'conflict' };
  if (err instanceof OpenUndecidedError) return { outcome: 'undecided' };
  throw err;
});

const STATUSES: WorkflowExecutionStatusName[] = ['RUNNING', 'PAUSED', 'COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT', 'CONTINUED_AS_NEW', 'UNSPECIFIED', 'UNKNOWN'];
const ENDED_WITHOUT_COMPLETING = new Set(['FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT']);
const OPEN = new Set(['RUNNING', 'PAUSED']);

test('a new id: one start, with the snapshot, under REJECT_DUPLICATE, and no describe', async () => {
  const { incidents, started, described } = scripted(['ok'], []);
  expect(await answer(incidents.openIncident(incident))).toMatchObject({ outcome: 'started', runId: 'new-run-1' });
  expect(started).toEqual([{ policy: 'REJECT_DUPLICATE', snapshot: true, again: false }]);
  expect(described()).toBe(0);
});

describe('refused: every status × whose run it is', () => {
  const cells: Array<[WorkflowExecutionStatusName, 'owner' | 'other' | 'no memo']> = [];
  for (const status of STATUSES) for (const who of ['owner', 'other', 'no memo'] as const) cells.push([status, who]);

  test.each(cells)('%s, %s', async (status, who) => {
    const tenantId = who === 'owner' ? incident.tenantId : who === 'other' ? 'tenant-b' : undefined;
    const restart = who === 'owner' && ENDED_WITHOUT_COMPLETING.has(status);
    const { incidents, started } = scripted(restart ? ['refuse', 'ok'] : ['refuse'], [{ status, ...(tenantId !== undefined ? { tenantId } : {}) }]);
    const out = await answer(incidents.openIncident(incident));
    if (who !== 'owner') expect(out).toEqual({ outcome: 'conflict' });
    else if (restart) expect(out).toMatchObject({ outcome: 'started', runId: 'new-run-2' });
    else if (OPEN.has(status)) expect(out).toMatchObject({ outcome: 'running', runId: 'old-run' });
    else if (status === 'COMPLETED') expect(out).toMatchObject({ outcome: 'closed', status });
    // A status the client cannot decide on (UNSPECIFIED, UNKNOWN, a chain's CONTINUED_AS_NEW) is never answered as
    // closed or running: the API answers 503, retry.
    else expect(out).toEqual({ outcome: 'undecided' });
    // The only start under ALLOW_DUPLICATE_FAILED_ONLY follows the caller's own run that ended without completing,
    // and it carries no snapshot (the new run reads the mirror itself) and `again` (that run may have sent opens it
    // never recorded: no open of the new run is its link's first).
    expect(started).toEqual(restart
      ? [{ policy: 'REJECT_DUPLICATE', snapshot: true, again: false }, { policy: 'ALLOW_DUPLICATE_FAILED_ONLY', snapshot: false, again: true }]
      : [{ policy: 'REJECT_DUPLICATE', snapshot: true, again: false }]);
  });
});

describe('the second start refused too: the run a racing caller started decides the answer', () => {
  test.each<[string, Described, string]>([
    ['the owner\'s new run', { status: 'RUNNING', tenantId: 'tenant-a' }, 'running'],
    ['another tenant\'s run', { status: 'RUNNING', tenantId: 'tenant-b' }, 'conflict'],
    ['a completed run', { status: 'COMPLETED', tenantId: 'tenant-a' }, 'closed'],
  ])('after the owner\'s ended run: %s', async (_what, then, expected) => {
    for (const ended of ENDED_WITHOUT_COMPLETING) {
      const { incidents, started } = scripted(['refuse', 'refuse'], [{ status: ended as WorkflowExecutionStatusName, tenantId: 'tenant-a' }, then]);
      expect({ ended, outcome: (await answer(incidents.openIncident(incident))).outcome }).toEqual({ ended, outcome: expected });
      expect(started.map((s) => s.policy)).toEqual(['REJECT_DUPLICATE', 'ALLOW_DUPLICATE_FAILED_ONLY']);
    }
  });

  test('refused, then not found (retention deleted it): started again only under REJECT_DUPLICATE, saying a run existed', async () => {
    const { incidents, started } = scripted(['refuse', 'ok'], ['not found']);
    expect((await answer(incidents.openIncident(incident))).outcome).toBe('started');
    expect(started).toEqual([{ policy: 'REJECT_DUPLICATE', snapshot: true, again: false }, { policy: 'REJECT_DUPLICATE', snapshot: true, again: true }]);
  });

  test('refused, not found, refused, and another tenant\'s run found: a conflict', async () => {
    const { incidents } = scripted(['refuse', 'refuse'], ['not found', { status: 'FAILED', tenantId: 'tenant-b' }]);
    expect((await answer(incidents.openIncident(incident))).outcome).toBe('conflict');
  });

  test('refused twice and never found: an error the API answers 503, not an answer', async () => {
    const { incidents } = scripted(['refuse', 'refuse'], ['not found', 'not found']);
    const err = await incidents.openIncident(incident).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenUndecidedError);
    expect((err as Error).message).toMatch(/refused to start probectl-inc-1 but does not find its run/);
    expect(backingServiceDown(err)).toBe(true);
  });

  test('the owner\'s ended run started again is refused, and then not found: an error, not an answer', async () => {
    const { incidents, started } = scripted(['refuse', 'refuse'], [{ status: 'FAILED', tenantId: 'tenant-a' }, 'not found']);
    await expect(incidents.openIncident(incident)).rejects.toBeInstanceOf(OpenUndecidedError);
    expect(started.map((s) => s.policy)).toEqual(['REJECT_DUPLICATE', 'ALLOW_DUPLICATE_FAILED_ONLY']);
  });

  test('refused, not found, refused again: the owner\'s run a racing caller started is answered running', async () => {
    const { incidents, started } = scripted(['refuse', 'refuse'], ['not found', { status: 'RUNNING', tenantId: 'tenant-a' }]);
    expect(await answer(incidents.openIncident(incident))).toMatchObject({ outcome: 'running', runId: 'old-run' });
    // The id was believed free: the second start carries the snapshot, and any run refuses it.
    expect(started).toEqual([{ policy: 'REJECT_DUPLICATE', snapshot: true, again: false }, { policy: 'REJECT_DUPLICATE', snapshot: true, again: true }]);
  });
});

test('a start that fails otherwise is not taken for a refusal', async () => {
  const client = { workflow: { start: async () => Promise.reject(new Error('unavailable')), getHandle: () => ({ describe: async () => Promise.reject(new Error('no describe expected')) }) } } as unknown as Client;
  await expect(new IncidentClient({ client, taskQueue: 'q' }).openIncident(incident)).rejects.toThrow('unavailable');
});
