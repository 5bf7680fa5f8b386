/**
 * The begin snapshot in the start input (patch `begin-in-input-v1`, docs/workflow-contract.md "Start"): a run given a
 * well-formed one schedules its opens in the first workflow task without the beginIncident local activity, and
 * decides exactly as a run that read the same snapshot itself; a malformed one is ignored. And the rolling deploy: a
 * run an older worker began (it ignores the snapshot and runs the local activity) continues on a new worker, which
 * replays that first task the old way.
 */
import { join } from 'node:path';
import { bundleModified } from '../helpers/workflow-bundle';
import { eventually } from '../helpers/shared';
import { SNAPSHOT_SETTINGS as SETTINGS, THREE_CONNECTORS as THREE, incidentOf, startHarness, type Harness } from './harness';

jest.setTimeout(120_000);

const snapshot = (over: Record<string, unknown> = {}) => ({ connectors: THREE, settings: SETTINGS, mirror: { available: true }, ...over });
const at = () => new Date().toISOString();
const LA_MARKER = 'core_local_activity';
const PATCH_MARKER = 'core_patch';

/** What a run decided, without its ids and times: links, timeline kinds, status. */
async function decided(h: Harness, id: string) {
  const v = (await h.state(id)) as { status: string; links: Array<{ connectorId: string; status: string }>; timeline: Array<{ kind: string; connectorId?: string }> };
  return {
    status: v.status,
    links: v.links.map((l) => `${l.connectorId}:${l.status}`).sort(),
    timeline: v.timeline.map((t) => `${t.kind}${t.connectorId ? `:${t.connectorId}` : ''}`).sort(),
  };
}

describe('the begin snapshot in the start input', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ connectors: THREE, settings: SETTINGS });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const settled = (id: string) => eventually(async () => (await decided(h, id)).links.filter((l) => l.endsWith(':open')).length === 2, { what: 'two open links' });

  test('given: no local activity, the opens in the first task, and the same decisions as a run that read it itself', async () => {
    const given = incidentOf('acme', { severity: 'warning' });
    const read = incidentOf('acme', { severity: 'warning' });
    await h.start(given, undefined, snapshot());
    await h.start(read);
    await Promise.all([settled(given.id), settled(read.id)]);
    expect(h.calls.filter((c) => c.name === 'beginIncident').map((c) => c.input.incident.id)).toEqual([read.id]);
    expect(await decided(h, given.id)).toEqual(await decided(h, read.id));
    expect((await decided(h, given.id)).links).toEqual(['jira:open', 'pagerduty:open', 'slack:skipped']);

    const hg = await h.history(given.id);
    const hr = await h.history(read.id);
    expect(hg.markers).toEqual([PATCH_MARKER, PATCH_MARKER]); // state-machine-v1, begin-in-input-v1
    expect(hr.markers).toEqual([PATCH_MARKER, LA_MARKER]);
    // The opens are scheduled by the first workflow task's completion, no marker between.
    const first = hg.types.indexOf('WORKFLOW_TASK_COMPLETED');
    expect(hg.types.indexOf('ACTIVITY_TASK_SCHEDULED')).toBeGreaterThan(first);
    expect(hg.types.slice(first + 1, hg.types.indexOf('ACTIVITY_TASK_SCHEDULED'))).not.toContain('WORKFLOW_TASK_SCHEDULED');

    for (const inc of [given, read]) await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'probectl', at: at() });
    expect(await h.result(given.id)).toMatchObject({ source: 'probectl' });
    expect(await h.result(read.id)).toMatchObject({ source: 'probectl' });
  });

  test('given with the mirror\'s record of an earlier run: its links adopted, nothing opened again', async () => {
    const inc = incidentOf();
    const record = { status: 'open', links: [{ connectorId: 'pagerduty', provider: 'pagerduty', status: 'open', externalRef: 'probectl-earlier', updatedAt: at() }] };
    await h.start(inc, undefined, snapshot({ mirror: { available: true, record } }));
    await eventually(async () => (await decided(h, inc.id)).links.includes('jira:open'), { what: 'the Jira open' });
    expect(h.calls.filter((c) => c.input.incident?.id === inc.id && c.name === 'openConnector').map((c) => c.input.connectorId).sort()).toEqual(['jira', 'slack']);
    expect((await decided(h, inc.id)).timeline).toContain('connector.adopted:pagerduty');
    await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'probectl', at: at() });
    await h.result(inc.id);
  });

  test.each<[string, unknown]>([
    ['not an object', 'snapshot'],
    ['connectors missing', { settings: SETTINGS, mirror: { available: true } }],
    ['a setting of the wrong type', snapshot({ settings: { ...SETTINGS, pagerReResolveDelayMs: '300ms' } })],
    ['a link of an unknown status', snapshot({ mirror: { available: true, record: { status: 'open', links: [{ connectorId: 'x', provider: 'slack', status: 'gone', updatedAt: at() }] } } })],
  ])('malformed (%s): ignored, the run reads it itself', async (_name, begin) => {
    const inc = incidentOf();
    await h.start(inc, undefined, begin);
    await eventually(async () => (await decided(h, inc.id)).links.filter((l) => l.endsWith(':open')).length === 3, { what: 'three open links' });
    expect(h.calls.filter((c) => c.name === 'beginIncident' && c.input.incident.id === inc.id)).toHaveLength(1);
    expect((await h.history(inc.id)).markers).toEqual([PATCH_MARKER, LA_MARKER]);
    await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'probectl', at: at() });
    await h.result(inc.id);
  });
});

/**
 * The code before begin-in-input-v1, as far as these runs are concerned: the start input's snapshot is not read.
 * Bundled once, for both tests below.
 */
let olderBundle: ReturnType<typeof bundleModified> | undefined;
const olderWorkerCode = () => (olderBundle ??= bundleModified(join(__dirname, '..', '..', 'test-artifacts', `older-worker-${process.pid}`), {
  'v2/checked-begin.ts': (s) => s.replace('const given = input.begin !== undefined ? beginFromInput(input.begin) : undefined;', 'const given = undefined as ReturnType<typeof beginFromInput>;'),
}));

describe('rolling deploy: a run an older worker began continues on a new one', () => {
  test('the older worker ignored the snapshot (local activity); the new worker replays that and finishes the run', async () => {
    const older = await olderWorkerCode();
    const old = await startHarness({ connectors: THREE, settings: SETTINGS, workflowBundle: older });
    const inc = incidentOf();
    try {
      await old.start(inc, undefined, snapshot());
      await eventually(async () => (await decided(old, inc.id)).links.filter((l) => l.endsWith(':open')).length === 3, { what: 'three open links on the older worker' });
      expect(old.calls.filter((c) => c.name === 'beginIncident')).toHaveLength(1);
    } finally {
      await old.stop();
    }
    // The new code on the same task queue: no cached run, so the next task replays the first one.
    const fresh = await startHarness({ connectors: THREE, settings: SETTINGS, taskQueue: old.taskQueue });
    try {
      await fresh.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'probectl', at: at() });
      expect(await fresh.result(inc.id)).toMatchObject({ source: 'probectl' });
      const hist = await fresh.history(inc.id);
      expect(hist.markers).toEqual([PATCH_MARKER, LA_MARKER]);
      expect(hist.types).not.toContain('WORKFLOW_TASK_FAILED');
      expect(fresh.calls.filter((c) => c.name === 'beginIncident')).toHaveLength(0);
      expect(fresh.calls.filter((c) => c.name === 'resolveConnector').map((c) => c.input.connectorId).sort()).toEqual(['jira', 'pagerduty', 'slack']);
    } finally {
      await fresh.stop();
    }
  });

  test('and the guard has teeth: the new code without the patch check fails to replay that run', async () => {
    const scratch = join(__dirname, '..', '..', 'test-artifacts', `older-worker-teeth-${process.pid}`);
    const older = await olderWorkerCode();
    const unpatched = await bundleModified(`${scratch}-new`, {
      'v2/incident-v2.ts': (s) => s.replace('given && patched(BEGIN_IN_INPUT_V1)', 'given'),
    });
    const old = await startHarness({ connectors: THREE, settings: SETTINGS, workflowBundle: older });
    const inc = incidentOf();
    try {
      await old.start(inc, undefined, snapshot());
      await eventually(async () => (await decided(old, inc.id)).links.filter((l) => l.endsWith(':open')).length === 3, { what: 'three open links on the older worker' });
    } finally {
      await old.stop();
    }
    const bad = await startHarness({ connectors: THREE, settings: SETTINGS, taskQueue: old.taskQueue, workflowBundle: unpatched });
    try {
      await bad.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'probectl', at: at() });
      await eventually(async () => (await bad.history(inc.id)).types.includes('WORKFLOW_TASK_FAILED'), { what: 'a failed workflow task (nondeterminism)', timeoutMs: 30_000 });
    } finally {
      await bad.client.workflow.getHandle(`probectl-${inc.id}`).terminate('test done').catch(() => undefined);
      await bad.stop();
    }
  });
});
