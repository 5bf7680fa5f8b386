/**
 * Signals that reach a first run before its begin, on the dev server with stubbed activities: a signal sent with the
 * start (signal-with-start: delivered in the first task when the handlers are registered, before the begin) or one that
 * arrives while the beginIncident local activity runs. An acknowledge before a begin that adopts the mirror's open
 * pager links (a run started again) acknowledges them (patch `adopted-links-acknowledged-v1`); the origin's own link is
 * marked, never called. The family as plain transitions: test/unit/workflow-signals-before-begin.test.ts.
 */
import type { ConnectorRef } from '../../src/config/connectors';
import { TENANT_MEMO_KEY } from '../../src/client';
import { workerBuildId } from '../../src/runtime/build-id';
import type { Incident } from '../../src/shared/contract';
import { eventually, sleep } from '../helpers/shared';
import { incidentOf, startHarness, type Call, type Harness } from './harness';

jest.setTimeout(120_000);

const CONNECTORS: ConnectorRef[] = [
  { id: 'pagerduty', provider: 'pagerduty' },
  { id: 'opsgenie', provider: 'opsgenie' },
  { id: 'slack', provider: 'slack' },
  { id: 'jira', provider: 'jira' },
];
const PATCH = 'adopted-links-acknowledged-v1';
const SETTINGS = { pagerReResolveDelayMs: 300, reconcileIntervalMs: 0, reissueGuardMs: 500 };
const at = () => new Date().toISOString();
const of = (calls: Call[], name: string, connectorId?: string) => calls.filter((c) => c.name === name && (!connectorId || c.input.connectorId === connectorId));
const link = (connectorId: string, status: string) => ({ connectorId, provider: connectorId, status, externalRef: `${connectorId}-ref`, updatedAt: at() });
/** What an earlier run of the incident left in the mirror: both pagers and the post open; the ticket create failed. */
const ADOPT = { available: true, record: { status: 'open', links: [link('pagerduty', 'open'), link('opsgenie', 'open'), link('slack', 'open'), link('jira', 'failed')] } };

/** Start the incident again (`again`: its earlier run ended) with the signal in the same call: delivered before the begin. */
async function startWith(h: Harness, inc: Incident, signal: string, arg: Record<string, unknown>, more: Record<string, unknown> = {}) {
  const handle = await h.client.workflow.signalWithStart('incidentWorkflow', {
    workflowId: `probectl-${inc.id}`, taskQueue: h.taskQueue, args: [{ incident: inc, again: true, ...more }],
    memo: { [TENANT_MEMO_KEY]: inc.tenantId }, signal, signalArgs: [arg],
  });
  return handle.signaledRunId;
}

async function resolvedAll(h: Harness, inc: Incident) {
  await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'probectl', at: at() });
  const result = await h.result(inc.id);
  expect(result.links.map((l: { connectorId: string; status: string }) => `${l.connectorId}:${l.status}`).sort()).toEqual(['jira:resolved', 'opsgenie:resolved', 'pagerduty:resolved', 'slack:resolved']);
}

describe('adopted-links-acknowledged-v1: acknowledged before a begin that adopts open pagers', () => {
  const harnesses: Harness[] = [];
  const harness = async (opts: Partial<Parameters<typeof startHarness>[0]> = {}) => {
    const h = await startHarness({ connectors: CONNECTORS, settings: SETTINGS, mirror: ADOPT, ...opts });
    harnesses.push(h);
    return h;
  };
  afterAll(async () => {
    for (const h of harnesses) await h.stop();
  });

  test('from the API, sent with the start: both adopted pagers are acknowledged, nothing is opened again but the failed ticket', async () => {
    const h = await harness();
    const inc = incidentOf();
    await startWith(h, inc, 'acknowledge', { tenantId: 'acme', source: 'api', actor: 'carol', at: at() });
    await eventually(() => of(h.calls, 'acknowledgeConnector').length === 2, { what: 'both pagers acknowledged' });
    expect(of(h.calls, 'acknowledgeConnector').map((c) => [c.input.connectorId, c.input.externalRef, c.input.actor]).sort())
      .toEqual([['opsgenie', 'opsgenie-ref', 'carol'], ['pagerduty', 'pagerduty-ref', 'carol']]);
    expect(of(h.calls, 'openConnector').map((c) => c.input.connectorId)).toEqual(['jira']);
    const state = await h.state(inc.id);
    expect(state.status).toBe('acknowledged');
    await eventually(async () => (await h.state(inc.id)).links.filter((l: { status: string }) => l.status === 'acknowledged').length === 2, { what: 'two acknowledged links' });
    expect((await h.history(inc.id)).patches).toEqual(['state-machine-v1', PATCH]);
    await resolvedAll(h, inc);
  });

  test('from PagerDuty itself: its link is marked acknowledged, never called; Opsgenie is acknowledged', async () => {
    const h = await harness();
    const inc = incidentOf();
    await startWith(h, inc, 'acknowledge', { tenantId: 'acme', source: 'pagerduty', at: at() });
    await eventually(() => of(h.calls, 'acknowledgeConnector').length === 1, { what: 'Opsgenie acknowledged' });
    expect(of(h.calls, 'acknowledgeConnector').map((c) => c.input.connectorId)).toEqual(['opsgenie']);
    await eventually(async () => (await h.state(inc.id)).links.filter((l: { status: string }) => l.status === 'acknowledged').length === 2, { what: 'two acknowledged links' });
    await sleep(500);
    expect(of(h.calls, 'acknowledgeConnector', 'pagerduty')).toEqual([]);
    await resolvedAll(h, inc);
  });

  test('in a first task that took the checked begin snapshot (it carries the mirror\'s record): the patch is asked there', async () => {
    const D = 'dddddddddddddddd';
    const h = await harness({ buildId: workerBuildId({ code: 'the code' }, D) });
    const inc = incidentOf();
    await startWith(h, inc, 'acknowledge', { tenantId: 'acme', source: 'api', at: at() }, { checkedBegin: { configDigest: D, begin: { connectors: CONNECTORS, settings: SETTINGS, mirror: ADOPT } } });
    await eventually(() => of(h.calls, 'acknowledgeConnector').length === 2, { what: 'both pagers acknowledged' });
    expect(of(h.calls, 'beginIncident')).toEqual([]);
    const hist = await h.history(inc.id);
    expect(hist.patches).toEqual(['first-run-checked-v1', PATCH]);
    // Both markers among the first workflow task's commands (between its completion and the next task).
    const first = hist.types.indexOf('WORKFLOW_TASK_COMPLETED');
    const next = hist.types.indexOf('WORKFLOW_TASK_SCHEDULED', first);
    expect(hist.types.slice(first, next === -1 ? undefined : next).filter((t) => t === 'MARKER_RECORDED')).toHaveLength(2);
    await resolvedAll(h, inc);
  });

  test('arriving while the beginIncident local activity runs (past its task\'s heartbeat): the adopted pagers are acknowledged', async () => {
    const h = await harness();
    h.script.beginIncident = async () => {
      await sleep(12_000); // longer than the workflow task's heartbeat (8 s of 10): the signal reaches the run in a task of its own
      return { connectors: CONNECTORS, settings: SETTINGS, mirror: ADOPT };
    };
    const inc = incidentOf();
    await h.start(inc, undefined, undefined, { again: true });
    await eventually(() => of(h.calls, 'beginIncident').length === 1, { what: 'the begin under way' });
    await h.signal(inc.id, 'acknowledge', { tenantId: 'acme', source: 'api', at: at() });
    await eventually(() => of(h.calls, 'acknowledgeConnector').length === 2, { timeoutMs: 30_000, what: 'both pagers acknowledged' });
    // The signal is in history before the begin's local-activity marker: it reached the run while the activity ran.
    const events = (await h.client.workflow.getHandle(`probectl-${inc.id}`).fetchHistory()).events ?? [];
    const signaled = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes);
    const begun = events.findIndex((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
    expect({ signaled, beforeTheBegin: signaled >= 0 && signaled < begun }).toEqual({ signaled, beforeTheBegin: true });
    expect((await h.history(inc.id)).patches).toEqual(['state-machine-v1', PATCH]);
    await resolvedAll(h, inc);
  });

  test.each([
    ['a fresh begin: the pagers are acknowledged as their opens land', { available: true }, ['opsgenie', 'pagerduty']],
    ['a begin that cannot read the mirror: likewise', { available: false }, ['opsgenie', 'pagerduty']],
    ['a begin that adopts only the post', { available: true, record: { status: 'open', links: [link('slack', 'open')] } }, ['opsgenie', 'pagerduty']],
  ])('not asked: %s', async (_what, mirror, acked) => {
    const h = await harness({ mirror });
    const inc = incidentOf();
    await startWith(h, inc, 'acknowledge', { tenantId: 'acme', source: 'api', at: at() });
    await eventually(() => of(h.calls, 'acknowledgeConnector').length === acked.length, { what: 'the pagers acknowledged' });
    expect(of(h.calls, 'acknowledgeConnector').map((c) => c.input.connectorId).sort()).toEqual(acked);
    await resolvedAll(h, inc);
    expect((await h.history(inc.id)).patches).toEqual(['state-machine-v1']);
  });

  // The ticket whose create failed in the earlier run is neither adopted nor opened, so it gets no resolve either (a resolve
  // before the begin: reported, unchanged here; docs/workflow-contract.md "Links").
  test('a resolve sent with the start: the adopted links are resolved, nothing opens or is acknowledged; no patch', async () => {
    const h = await harness();
    const inc = incidentOf();
    await startWith(h, inc, 'resolve', { tenantId: 'acme', source: 'api', at: at() });
    const result = await h.result(inc.id);
    expect(result.links.map((l: { connectorId: string; status: string }) => `${l.connectorId}:${l.status}`).sort()).toEqual(['opsgenie:resolved', 'pagerduty:resolved', 'slack:resolved']);
    expect(of(h.calls, 'resolveConnector').map((c) => c.input.connectorId).sort()).toEqual(['opsgenie', 'pagerduty', 'slack']);
    expect([of(h.calls, 'openConnector'), of(h.calls, 'acknowledgeConnector')]).toEqual([[], []]);
    expect((await h.history(inc.id)).patches).toEqual(['state-machine-v1']);
  });
});
