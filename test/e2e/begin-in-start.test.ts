/**
 * PROBECTL_NOTIFY_BEGIN_IN_START (src/activities/begin.ts): auto (the default; `on` is the same), the API passes a
 * new run its begin snapshot with the digest of its configuration, and a worker with the same digest schedules the
 * opens without a local activity; the mirror's record travels in it (an incident the mirror holds as resolved opens
 * nothing). An API configured apart from the workers sees their other digest on the task queue and passes none: the
 * run reads the snapshot itself and pages every connector the worker knows. Off: every run reads it itself. The workflow side (every
 * Build ID, every replay order, malformed snapshots) is in test/workflow/begin-checked.test.ts.
 */
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { historyFacts } from '../replay/history-facts';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, pastResolvedIncident, startStack, type TestStack } from '../helpers/stack';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { defineSearchAttributeKey } from '@temporalio/common';

const CHANGE_VERSION = defineSearchAttributeKey('TemporalChangeVersion', 'KEYWORD_LIST');

const scratch = join(__dirname, '..', '..', 'test-artifacts', `begin-in-start-${process.pid}`);

/** The patches a run asked and its begin-snapshot reads (the `beginIncident` local activity), from its history. */
async function pathOf(client: Client, id: string) {
  mkdirSync(scratch, { recursive: true });
  const file = join(scratch, `${id}.json`);
  writeFileSync(file, historyToJSON(await client.workflow.getHandle(`probectl-${id}`).fetchHistory()));
  const f = historyFacts(file);
  return { patches: f.patches, localActivities: f.localActivities.filter((t) => t === 'beginIncident').length };
}

const KEY = 'RKEY-begin-in-start-000000000000';
const KEY2 = 'RKEY-begin-in-start-000000000002';
const KEY3 = 'RKEY-begin-in-start-000000000003';

describe.each([['unset (auto)', undefined, true], ['auto', 'auto', true], ['on', 'on', true], ['off', 'off', false]] as const)('PROBECTL_NOTIFY_BEGIN_IN_START %s', (_name, setting, given) => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const tenant = uniqueId('bis');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    stack = await startStack({
      env: { PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${KEY}`, ...(setting !== undefined ? { PROBECTL_NOTIFY_BEGIN_IN_START: setting } : {}) },
    });
    // The API passes the snapshot once Temporal lists the stack's worker, with the API's digest, on the task queue.
    if (given) await eventually(() => stack.beginGate!.refresh(), { what: 'the begin gate open' });
    else expect(stack.beginGate).toBeUndefined();
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
  });

  // The gate's answer is fresh when the open reads it (an answer older than twice its refresh time is asked again
  // within the start's 500 ms budget, which a loaded machine can miss: the run then reads its own snapshot).
  const open = async (inc: ReturnType<typeof incidentFor>) => {
    if (given) await eventually(() => stack.beginGate!.refresh(), { what: 'the begin gate open' });
    return stack.incidents.openIncident(inc);
  };

  test(`a new incident ${given ? 'is given its snapshot: no begin read, the open a local first attempt' : 'reads its snapshot itself'}; the page goes out once`, async () => {
    const inc = incidentFor(tenant);
    await open(inc);
    await eventually(() => pd.alerts.some((a) => a.dedupKey === `probectl-${inc.id}`), { what: 'the page' });
    // What docs/operations.md has an operator query before a rollback: the open runs that took the snapshot.
    const listed = async () => {
      const ids: string[] = [];
      const query = `TemporalChangeVersion = 'first-run-checked-v1' AND ExecutionStatus = 'Running' AND WorkflowId = 'probectl-${inc.id}'`;
      for await (const w of stack.client.workflow.list({ query })) ids.push(w.workflowId);
      return ids.length;
    };
    // The run's own search attributes (strongly consistent) say which patches it asked; the list (visibility, eventually
    // consistent) finds it by that one.
    // The page can reach the double before the task that sent it completes (a local first attempt runs inside that
    // task): the search attributes are those of the completed task.
    const versions = await eventually(async () => {
      const v = (await stack.client.workflow.getHandle(`probectl-${inc.id}`).describe()).typedSearchAttributes.get(CHANGE_VERSION) ?? [];
      return v.length > 0 ? v : undefined;
    }, { what: 'the first task\'s patches in the search attributes' });
    expect(versions.includes('first-run-checked-v1')).toBe(given);
    expect(versions.includes('state-machine-v1')).toBe(!given);
    if (given) await eventually(async () => (await listed()) === 1, { what: 'the run listed by its patch' });
    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(inc.id);
    // Given the snapshot, the open's first attempt is local (PROBECTL_NOTIFY_LOCAL_FIRST_OPENS, on by default).
    expect(await pathOf(stack.client, inc.id)).toEqual(given
      ? { patches: ['first-run-checked-v1', 'local-first-opens-v1'], localActivities: 0 }
      : { patches: ['state-machine-v1'], localActivities: 1 });
    expect(pd.alerts.filter((a) => a.dedupKey === `probectl-${inc.id}`)).toHaveLength(1);
  });

  test('an incident the mirror holds as resolved (a start after retention) opens nothing, whoever read the mirror', async () => {
    const inc = await pastResolvedIncident(stack, tenant);
    await open(inc);
    expect(await stack.incidents.result(inc.id)).toMatchObject({ source: 'pagerduty', actor: 'erin' });
    expect(pd.requests.filter((r) => r.body.includes(`probectl-${inc.id}`))).toHaveLength(0);
    expect((await pathOf(stack.client, inc.id)).localActivities).toBe(given ? 0 : 1);
  });

  test('a tenant no connector names: nothing to page, whoever read it (the worker has the API\'s configuration)', async () => {
    const inc = incidentFor(uniqueId('bisnone'));
    await open(inc);
    await stack.incidents.resolve(inc.id, { tenantId: inc.tenantId, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(inc.id);
    expect(await pathOf(stack.client, inc.id)).toEqual(given
      ? { patches: ['first-run-checked-v1'], localActivities: 0 }
      : { patches: ['state-machine-v1'], localActivities: 1 });
    expect(pd.requests.filter((r) => r.body.includes(`probectl-${inc.id}`))).toHaveLength(0);
  });
});

/**
 * The case the digest is for: an API whose configuration differs from the workers' — every kind of difference the
 * digest covers gives the same outcome here, so one connector fewer, one more, and another setting stand for them.
 * The API sees the worker's other digest on the task queue and passes no snapshot (and says so in its log); the
 * worker pages what its own configuration says. (A worker that differs from the API while the gate is open — one
 * started between the API's look and the run's first task — does not take the snapshot either:
 * test/workflow/begin-checked.test.ts.)
 */
describe.each([
  ['one connector fewer', (pd: string, t: string) => `${t}|pagerduty|${pd}/v2/enqueue|${KEY}|pd1`, {}],
  ['one connector more', (pd: string, t: string) => `${t}|pagerduty|${pd}/v2/enqueue|${KEY}|pd1,${t}|pagerduty|${pd}/v2/enqueue|${KEY3}|pd3,${t}|pagerduty|${pd}/v2/enqueue|${KEY2}|pd2`, {}],
  ['another pager re-resolve delay', (pd: string, t: string) => `${t}|pagerduty|${pd}/v2/enqueue|${KEY}|pd1,${t}|pagerduty|${pd}/v2/enqueue|${KEY2}|pd2`, { PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '2s' }],
] as const)('an API configured apart from the worker (%s)', (_name, apiConnectors, apiEnv) => {
  let pd: PagerDutyDouble;
  let api: TestStack;
  let worker: TestStack;
  const tenant = uniqueId('bisapart');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    const taskQueue = uniqueId('tq');
    // The worker's configuration: two PagerDuty services for the tenant, the stack's default delay.
    worker = await startStack({
      env: { PROBECTL_NOTIFY_TASK_QUEUE: taskQueue, PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${KEY}|pd1,${tenant}|pagerduty|${pd.url}/v2/enqueue|${KEY2}|pd2` },
    });
    api = await startStack({ worker: false, env: { PROBECTL_NOTIFY_TASK_QUEUE: taskQueue, PROBECTL_NOTIFY_CONNECTORS: apiConnectors(pd.url, tenant), ...apiEnv } });
  });
  afterAll(async () => {
    await api?.stop();
    await worker?.stop();
    await pd?.stop();
  });

  test('no snapshot is passed: the worker reads its own and pages both of its services, once each', async () => {
    // Temporal lists the worker; the API has seen its digest and closed the gate.
    await eventually(async () => api.logLines.some((l) => l.includes('begin snapshot: not passed') && l.includes('another or no begin digest')), { what: 'the gate closed for the other digest' });
    expect(await api.beginGate!.refresh()).toBe(false);
    const inc = incidentFor(tenant);
    await api.incidents.openIncident(inc);
    const key = `probectl-${inc.id}`;
    await eventually(() => [KEY, KEY2].every((k) => pd.alerts.some((a) => a.routingKey === k && a.dedupKey === key)), { what: 'both pages' });
    const started = await api.client.workflow.getHandle(key).fetchHistory();
    const input = started.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!.data!;
    expect(JSON.parse(Buffer.from(input).toString('utf8'))).not.toHaveProperty('checkedBegin');
    await api.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    await api.incidents.result(inc.id);
    expect(await pathOf(api.client, inc.id)).toEqual({ patches: ['state-machine-v1'], localActivities: 1 });
    expect(pd.alerts.filter((a) => a.dedupKey === key).map((a) => a.routingKey).sort()).toEqual([KEY, KEY2].sort());
    expect(pd.alerts.filter((a) => a.routingKey === KEY3)).toHaveLength(0);
  });
});
