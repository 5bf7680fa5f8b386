/**
 * The checked begin snapshot (patch `first-run-checked-v1`, before it `begin-checked-v1`; src/workflows/incident.ts,
 * src/workflows/v2/checked-begin.ts): a run takes the snapshot
 * in its start input only when the digest passed with it is the one in the Build ID of the worker running its first
 * task. The family: the first task run by a worker with the same digest, another digest, or none (an older release);
 * the run then continued by each of those (a deploy or a configuration change between two tasks), which must replay
 * the first task as it was decided — and a copy of the code that ignores the Build ID must fail to.
 */
import { join } from 'node:path';
import { workerBuildId } from '../../src/runtime/build-id';
import { bundleModified } from '../helpers/workflow-bundle';
import { eventually, uniqueId } from '../helpers/shared';
import { resultWithin } from './records';
import { SNAPSHOT_SETTINGS as SETTINGS, THREE_CONNECTORS as THREE, incidentOf, startHarness, type Harness } from './harness';

jest.setTimeout(120_000);

const begin = { connectors: THREE, settings: SETTINGS, mirror: { available: true } };
const D = 'aaaaaaaaaaaaaaaa';
const OTHER = 'bbbbbbbbbbbbbbbb';
/** Build IDs of the three kinds of worker: this digest, another, none (the SDK's default form, as an older release has). */
const WORKERS = {
  same: workerBuildId({ code: 'the code' }, D),
  other: workerBuildId({ code: 'the code' }, OTHER),
  none: '@temporalio/worker@1.24.0+0000000000000000000000000000000000000000000000000000000000000000',
} as const;
type Kind = keyof typeof WORKERS;
const at = () => new Date().toISOString();

async function linksOf(h: Harness, id: string): Promise<string[]> {
  const v = (await h.state(id)) as { links: Array<{ connectorId: string; status: string }> };
  return v.links.map((l) => `${l.connectorId}:${l.status}`).sort();
}
const twoOpen = (h: Harness, id: string) => eventually(async () => (await linksOf(h, id)).filter((l) => l.endsWith(':open')).length === 2, { what: 'two open links' });

/** A checked run begun on a worker of Build ID `first` on a task queue of its own; that worker stopped once both opens settled. */
async function begunOn(first: Kind) {
  const taskQueue = uniqueId('wf-tq');
  const inc = incidentOf('acme', { severity: 'warning' });
  const a = await startHarness({ connectors: THREE, settings: SETTINGS, taskQueue, buildId: WORKERS[first] });
  try {
    await a.start(inc, undefined, undefined, { checkedBegin: { configDigest: D, begin } });
    await twoOpen(a, inc.id);
    return { taskQueue, inc, patches: (await a.history(inc.id)).patches };
  } finally {
    await a.stop();
  }
}

/**
 * Begin a checked run on a worker of Build ID `first` (its two opens settled, its patches as given), stop that worker,
 * then signal the resolve to a worker running `bundle` on the same task queue: its first task replays the first one and
 * must fail (nondeterminism).
 */
async function failsToContinue(first: Kind, patches: string[], bundle: Awaited<ReturnType<typeof bundleModified>>, over: { buildId?: string } = {}) {
  const { taskQueue, inc, patches: asked } = await begunOn(first);
  expect(asked).toEqual(patches);
  const next = await startHarness({ connectors: THREE, settings: SETTINGS, taskQueue, workflowBundle: bundle, ...over });
  try {
    await next.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'probectl', at: at() });
    await eventually(async () => (await next.history(inc.id)).types.includes('WORKFLOW_TASK_FAILED'), { what: 'a failed workflow task (nondeterminism)', timeoutMs: 30_000 });
  } finally {
    await next.client.workflow.getHandle(`probectl-${inc.id}`).terminate('test done').catch(() => undefined);
    await next.stop();
  }
}

describe('first-run-checked-v1: the first task decides by its worker\'s Build ID', () => {
  const harnesses: Harness[] = [];
  afterAll(async () => {
    for (const h of harnesses) await h.stop();
  });

  test.each<[Kind, boolean]>([['same', true], ['other', false], ['none', false]])('first task on a worker with %s digest: snapshot taken %p', async (kind, taken) => {
    const h = await startHarness({ connectors: THREE, settings: SETTINGS, buildId: WORKERS[kind] });
    harnesses.push(h);
    const inc = incidentOf('acme', { severity: 'warning' });
    await h.start(inc, undefined, undefined, { checkedBegin: { configDigest: D, begin } });
    await twoOpen(h, inc.id);
    expect(await linksOf(h, inc.id)).toEqual(['jira:open', 'pagerduty:open', 'slack:skipped']);
    const hist = await h.history(inc.id);
    expect(hist.buildIds[0]).toBe(WORKERS[kind]);
    expect(h.calls.filter((c) => c.name === 'beginIncident' && c.input.incident.id === inc.id)).toHaveLength(taken ? 0 : 1);
    expect(hist.patches).toEqual(taken ? ['first-run-checked-v1'] : ['state-machine-v1']);
    expect(hist.markers.filter((m) => m === 'core_local_activity')).toHaveLength(taken ? 0 : 1);
    await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'probectl', at: at() });
    expect(await h.result(inc.id)).toMatchObject({ source: 'probectl' });
  });

  // The entry decides with the state machine's own rule: a malformed unchecked snapshot counts as none.
  test.each([['null', null], ['of the wrong shape', { connectors: 'all' }]])('an unchecked snapshot %s beside a checked one: the checked one is taken under the one patch', async (_what, unchecked) => {
    const h = await startHarness({ connectors: THREE, settings: SETTINGS, buildId: WORKERS.same });
    harnesses.push(h);
    const inc = incidentOf('acme', { severity: 'warning' });
    await h.start(inc, undefined, unchecked, { checkedBegin: { configDigest: D, begin } });
    await twoOpen(h, inc.id);
    const hist = await h.history(inc.id);
    expect(hist.patches).toEqual(['first-run-checked-v1']);
    expect(h.calls.filter((c) => c.name === 'beginIncident' && c.input.incident.id === inc.id)).toHaveLength(0);
    await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'probectl', at: at() });
    expect(await h.result(inc.id)).toMatchObject({ source: 'probectl' });
  });

  // Label sizes are a condition of starting on the state machine, whichever patch the first run asks.
  test.each<[Kind, string[]]>([['same', ['first-run-checked-v1']], ['other', ['state-machine-v1']]])('a label over the limit, first task on a worker with %s digest: the run fails as invalid input and opens nothing', async (kind, patches) => {
    const h = await startHarness({ connectors: THREE, settings: SETTINGS, buildId: WORKERS[kind] });
    harnesses.push(h);
    const inc = incidentOf('acme', { severity: 'warning', labels: { runbook: 'r'.repeat(1025) } });
    await h.start(inc, undefined, undefined, { checkedBegin: { configDigest: D, begin } });
    await expect(resultWithin(h.result(inc.id), 30_000, 'the run to fail on its label')).rejects.toMatchObject({ cause: { type: 'InvalidInput' } });
    expect((await h.history(inc.id)).patches).toEqual(patches);
    // The harness is this test's own (its own task queue): no activity and no local activity ran at all.
    expect(h.calls).toEqual([]);
  });

  test('an unchecked snapshot (`begin`, as earlier releases of the API passed it) wins over a checked one, as before', async () => {
    const h = await startHarness({ connectors: THREE, settings: SETTINGS, buildId: WORKERS.same });
    harnesses.push(h);
    const inc = incidentOf('acme', { severity: 'warning' });
    await h.start(inc, undefined, begin, { checkedBegin: { configDigest: D, begin } });
    await twoOpen(h, inc.id);
    expect((await h.history(inc.id)).patches).toEqual(['state-machine-v1', 'begin-in-input-v1']);
    await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'probectl', at: at() });
    await h.result(inc.id);
  });
});

/**
 * Every pair (first task's worker, next task's worker): the first worker stops after the opens, the second starts on
 * the same task queue with nothing cached, so its first task replays the first one and must decide it the same way.
 */
describe('continued by a worker of another digest: the first task replays as it was decided', () => {
  const pairs: Array<[Kind, Kind]> = [];
  for (const a of ['same', 'other', 'none'] as const) for (const b of ['same', 'other', 'none'] as const) if (a !== b) pairs.push([a, b]);

  test.each(pairs)('begun on %s, continued on %s', async (first, next) => {
    const { taskQueue, inc } = await begunOn(first);
    const b = await startHarness({ connectors: THREE, settings: SETTINGS, taskQueue, buildId: WORKERS[next] });
    try {
      await b.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'probectl', at: at() });
      expect(await b.result(inc.id)).toMatchObject({ source: 'probectl' });
      const hist = await b.history(inc.id);
      expect(hist.types).not.toContain('WORKFLOW_TASK_FAILED');
      expect(hist.patches).toEqual(first === 'same' ? ['first-run-checked-v1'] : ['state-machine-v1']);
      expect(hist.buildIds[0]).toBe(WORKERS[first]);
      expect(hist.buildIds.at(-1)).toBe(WORKERS[next]);
      expect(b.calls.filter((c) => c.name === 'beginIncident')).toHaveLength(0);
      expect(b.calls.filter((c) => c.name === 'resolveConnector').map((c) => c.input.connectorId).sort()).toEqual(['jira', 'pagerduty']);
    } finally {
      await b.stop();
    }
  });

  // The premise of the API's gate (src/runtime/begin-gate.ts): a worker of a release before the run's patch cannot
  // continue a run that took the snapshot — so none may poll while runs take it. Before begin-checked-v1 the code
  // ignored checkedBegin; before first-run-checked-v1 it asked state-machine-v1 and begin-checked-v1 (and its digest
  // did not name the new patch: src/activities/begin.ts).
  test.each([
    ['begin-checked-v1 (checkedBegin ignored)', {
      'v2/checked-begin.ts': (s: string) => s.replace(
        'const checked = given === undefined && input.checkedBegin !== undefined ? checkedBeginFromInput(input.checkedBegin) : undefined;',
        'const checked = undefined as ReturnType<typeof checkedBeginFromInput>;',
      ),
    }],
    ['first-run-checked-v1 (the two patches asked instead)', {
      'incident.ts': (s: string) => s.replace('&& patched(FIRST_RUN_CHECKED_V1)) {', '&& false) {'),
    }],
  ])('a worker of the release before %s fails to continue a run that took the snapshot', async (name, edits) => {
    const scratch = join(__dirname, '..', '..', 'test-artifacts', `begin-checked-earlier-${name.split(' ')[0]}-${process.pid}`);
    await failsToContinue('same', ['first-run-checked-v1'], await bundleModified(scratch, edits));
  });

  // A replay follows the marker; code that decides a replay by what this worker is (here: its own digest) and asks
  // no patch must fail to replay a run begun on another digest — whichever of the two places decides.
  test.each([
    ['the state machine (begin-checked-v1)', 'v2/incident-v2.ts',
      'checked && (info.unsafe.isReplaying || takesCheckedBegin(checked.configDigest, info)) && patched(BEGIN_CHECKED_V1)'],
    ['the entry (first-run-checked-v1)', 'incident.ts',
      'checked && (info.unsafe.isReplaying || takesCheckedBegin(checked.configDigest, info)) && patched(FIRST_RUN_CHECKED_V1)'],
  ])('the guard has teeth: code in %s without the patch that decides by its own digest fails to replay a run begun on another digest', async (_where, file, anchor) => {
    const scratch = join(__dirname, '..', '..', 'test-artifacts', `begin-checked-teeth-${file.replace(/\W/g, '-')}-${process.pid}`);
    const unchecked = await bundleModified(scratch, {
      [file]: (s: string) => s.replace(anchor, `checked && takesCheckedBegin(checked.configDigest, { ...info, currentBuildId: '.begin-${D}' })`),
    });
    await failsToContinue('other', ['state-machine-v1'], unchecked, { buildId: WORKERS.same });
  });
});

/**
 * A reset to the first workflow task makes a run with the original start input, and in it the snapshot read before
 * the reset. The run made by the reset reads the snapshot itself (the mirror as it is now: the links the first run
 * opened), and opens nothing again.
 */
describe('a run made by a reset to the first workflow task', () => {
  test('reads the snapshot itself and adopts the links the reset run opened: nothing is opened twice', async () => {
    const h = await startHarness({ connectors: THREE, settings: SETTINGS, buildId: WORKERS.same });
    try {
      const inc = incidentOf('acme', { severity: 'warning' });
      const runId = await h.start(inc, undefined, undefined, { checkedBegin: { configDigest: D, begin } });
      await twoOpen(h, inc.id);
      expect(h.calls.filter((c) => c.name === 'beginIncident')).toHaveLength(0);
      const opened = h.calls.filter((c) => c.name === 'openConnector').length;
      const record = {
        status: 'open',
        links: ['pagerduty', 'jira'].map((id) => ({ connectorId: id, provider: id, status: 'open', externalRef: `${id}-ref`, updatedAt: at() })),
      };
      h.script.beginIncident = () => ({ connectors: THREE, settings: SETTINGS, mirror: { available: true, record } });
      const events = (await h.client.workflow.getHandle(`probectl-${inc.id}`).fetchHistory()).events ?? [];
      const firstCompleted = events.find((e) => e.workflowTaskCompletedEventAttributes)!.eventId!;
      await h.client.workflowService.resetWorkflowExecution({
        namespace: 'default', workflowExecution: { workflowId: `probectl-${inc.id}`, runId },
        workflowTaskFinishEventId: firstCompleted, requestId: `reset-${inc.id}`, reason: 'test: reset to the first task',
      });
      await eventually(async () => h.calls.some((c) => c.name === 'beginIncident' && c.input.incident.id === inc.id), { what: 'the reset run reading its snapshot' });
      await eventually(async () => (await linksOf(h, inc.id)).filter((l) => l.endsWith(':open')).length === 2, { what: 'the adopted links' });
      const after = await h.history(inc.id);
      expect(after.patches).toEqual(['state-machine-v1']);
      expect(after.markers.filter((m) => m === 'core_local_activity')).toHaveLength(1);
      expect(h.calls.filter((c) => c.name === 'openConnector')).toHaveLength(opened);
      await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'probectl', at: at() });
      expect(await h.result(inc.id)).toMatchObject({ source: 'probectl' });
    } finally {
      await h.stop();
    }
  });
});
