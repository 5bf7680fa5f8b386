/**
 * PROBECTL_NOTIFY_EAGER_START (src/runtime/api.ts): where the API runs beside a worker of the same task queue (`all`),
 * new runs are started on that worker's connection with an eager start, and the server hands their first workflow
 * task back in the start's answer. The family: every way a start can go through that path — through the HTTP route
 * and the client, one at a time and many at once, a repeat of the same id, another tenant's id, with the begin
 * snapshot — and every way it cannot be eager (the worker stopped; a connection no worker of the task queue is on),
 * where the run still starts and pages, through matching. Real dev server, real Postgres, a loopback PagerDuty.
 */
import { defineSearchAttributeKey } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { NativeConnection } from '@temporalio/worker';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { TenantConflictError } from '../../src/client';
import { loadConfig } from '../../src/config/load';
import { connectionOptions } from '../../src/config/temporal';
import { eventually, sharedStack, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, workflowBundle, type TestStack } from '../helpers/stack';
import { buildApi, type ApiParts } from '../../src/runtime/api';
import { eagerStartOn } from '../../src/runtime/processes';
import { startWorker, type WorkerHandle } from '../../src/worker';

const EventType = temporal.api.enums.v1.EventType;
const CHANGE_VERSION = defineSearchAttributeKey('TemporalChangeVersion', 'KEYWORD_LIST');
const KEY = 'RKEY-eager-start-0000000000000000';
const TOKEN = 'tok-eager-start-0123456789abcdef';
const OTHER_TOKEN = 'tok-eager-other-0123456789abcdef';

/** probectl_notify_incident_starts_total by path, from the stack's registry. */
async function starts(stack: TestStack): Promise<{ eager: number; task_queue: number }> {
  const values = (await stack.metrics.incidentStarts.get()).values;
  const of = (path: string) => values.find((v) => v.labels.path === path)?.value ?? 0;
  return { eager: of('eager'), task_queue: of('task_queue') };
}

/**
 * The run's first workflow task was carried out by the worker it was handed to: completed within 8 s of the start
 * (an eager task the worker never got would time out after 10 s first; 8 s leaves a loaded machine room) and never
 * timed out.
 */
async function firstTaskPromptlyDone(stack: TestStack, id: string): Promise<void> {
  // The page can reach the double before the task that sent it completes (the open's local first attempt runs inside
  // that task): wait for the completion, then check when it came.
  const events = await eventually(async () => {
    const all = (await stack.client.workflow.getHandle(`probectl-${id}`).fetchHistory()).events ?? [];
    return all.some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED || e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) ? all : undefined;
  }, { timeoutMs: 15_000, what: 'the first workflow task completed or timed out' });
  const ms = (e: (typeof events)[number]) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
  expect(events.some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT)).toBe(false);
  const completed = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  expect(completed).toBeDefined();
  expect(ms(completed!) - ms(events[0]!)).toBeLessThan(8_000);
}

/** Triggers the PagerDuty double took for the incident (one alert per dedup key; a repeated trigger counts on it). */
const pages = (pd: PagerDutyDouble, id: string) => pd.alerts.filter((a) => a.dedupKey === `probectl-${id}`).reduce((n, a) => n + a.triggers, 0);

describe('eager start on the worker of the same process', () => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const tenant = uniqueId('eag');
  const other = uniqueId('eao');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    stack = await startStack({
      eagerStart: 'worker',
      env: {
        PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${KEY},${other}|pagerduty|${pd.url}/v2/enqueue|${KEY}-o`,
        PROBECTL_NOTIFY_API_TOKENS: `${tenant}:${TOKEN},${other}:${OTHER_TOKEN}`,
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
  });

  const post = (token: string, body: object) => stack.app.inject({
    method: 'POST', url: '/v1/incidents', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body),
  });

  test('an open through the HTTP route starts the run eagerly (201, counted), its worker runs the first task at once, the page goes out once', async () => {
    const inc = incidentFor(tenant);
    const before = await starts(stack);
    const r = await post(TOKEN, { id: inc.id, title: inc.title, severity: inc.severity });
    expect(r.statusCode).toBe(201);
    expect(r.json()).toMatchObject({ outcome: 'started', noop: false });
    // Counted as eager by the API's registry (the route does not answer how the task went).
    expect(await starts(stack)).toEqual({ eager: before.eager + 1, task_queue: before.task_queue });
    await eventually(() => pages(pd, inc.id) === 1, { what: 'the page' });
    await firstTaskPromptlyDone(stack, inc.id);
    await new Promise((r2) => setTimeout(r2, 500));
    expect(pages(pd, inc.id)).toBe(1);
  });

  test('one at a time and twelve at once: every start is eager, every incident paged exactly once', async () => {
    const one = incidentFor(tenant);
    const outcome = await stack.incidents.openIncident(one);
    expect(outcome).toMatchObject({ outcome: 'started', eagerlyStarted: true });
    const many = Array.from({ length: 12 }, () => incidentFor(tenant));
    const outcomes = await Promise.all(many.map((inc) => stack.incidents.openIncident(inc)));
    expect(outcomes.map((o) => (o.outcome === 'started' ? o.eagerlyStarted : o.outcome))).toEqual(many.map(() => true));
    for (const inc of [one, ...many]) await eventually(() => pages(pd, inc.id) === 1, { what: `the page of ${inc.id}` });
    for (const inc of [one, ...many]) await firstTaskPromptlyDone(stack, inc.id);
    await new Promise((r) => setTimeout(r, 500));
    for (const inc of [one, ...many]) expect(pages(pd, inc.id)).toBe(1);
  });

  test('the same id again is answered "running" (the eager path maps the refusal), and nothing pages twice', async () => {
    const inc = incidentFor(tenant);
    expect(await stack.incidents.openIncident(inc)).toMatchObject({ outcome: 'started', eagerlyStarted: true });
    expect(await stack.incidents.openIncident(inc)).toMatchObject({ outcome: 'running' });
    const r = await post(TOKEN, { id: inc.id, title: inc.title, severity: inc.severity });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ outcome: 'running', noop: true });
    await eventually(() => pages(pd, inc.id) === 1, { what: 'the page' });
    await new Promise((r2) => setTimeout(r2, 500));
    expect(pages(pd, inc.id)).toBe(1);
  });

  test("another tenant's id is a conflict through the eager path too: nothing is started or paged for the caller", async () => {
    const inc = incidentFor(tenant);
    expect(await stack.incidents.openIncident(inc)).toMatchObject({ outcome: 'started', eagerlyStarted: true });
    const before = await starts(stack);
    await expect(stack.incidents.openIncident({ ...inc, tenantId: other })).rejects.toBeInstanceOf(TenantConflictError);
    const r = await post(OTHER_TOKEN, { id: inc.id, title: inc.title, severity: inc.severity });
    expect(r.statusCode).toBe(409);
    expect(await starts(stack)).toEqual(before); // nothing started for the other tenant, by either path
    await eventually(() => pages(pd, inc.id) === 1, { what: "the first tenant's page" });
    await new Promise((r2) => setTimeout(r2, 500));
    expect(pd.alerts.filter((a) => a.dedupKey === `probectl-${inc.id}`).map((a) => a.routingKey)).toEqual([KEY]);
    const run = await stack.client.workflow.getHandle(`probectl-${inc.id}`).describe();
    expect(run.memo?.tenantId).toBe(tenant);
  });

  test('an eager start takes the begin snapshot the API passed: no begin read in its first task, the open a local first attempt', async () => {
    const inc = incidentFor(tenant);
    expect(await stack.incidents.openIncident(inc)).toMatchObject({ outcome: 'started', eagerlyStarted: true });
    await eventually(() => pages(pd, inc.id) === 1, { what: 'the page' });
    await firstTaskPromptlyDone(stack, inc.id); // the page leaves inside the first task: read its history once it completed
    const history = await stack.client.workflow.getHandle(`probectl-${inc.id}`).fetchHistory();
    const markers = (history.events ?? []).map((e) => e.markerRecordedEventAttributes).filter((m) => m != null);
    // The patches a first run that takes the snapshot asks, no begin read (beginIncident local activity), and the one
    // open's first attempt as a local activity (PROBECTL_NOTIFY_LOCAL_FIRST_OPENS, on by default).
    expect(markers.map((m) => m.markerName).filter((n) => n === 'core_patch')).toHaveLength(2);
    const localTypes = markers.filter((m) => m.markerName === 'core_local_activity')
      .map((m) => (JSON.parse(Buffer.from(m.details!.data!.payloads![0]!.data!).toString('utf8')) as { activity_type: string }).activity_type);
    expect(localTypes).toEqual(['openConnector']);
    const versions = (await stack.client.workflow.getHandle(`probectl-${inc.id}`).describe()).typedSearchAttributes.get(CHANGE_VERSION) ?? [];
    expect(versions).toEqual(['first-run-checked-v1', 'local-first-opens-v1']);
  });

  test('while the worker is stopped, a start goes through matching and the run pages once a worker polls again', async () => {
    // (The stack's `active()` is false once its worker stopped, so the API starts through its own connection; that this
    // matters — the worker's own connection closed — is the last describe's test.)
    await stack.worker!.shutdown();
    const before = await starts(stack);
    const inc = incidentFor(tenant);
    expect(await stack.incidents.openIncident(inc)).toMatchObject({ outcome: 'started', eagerlyStarted: false });
    expect(await starts(stack)).toEqual({ eager: before.eager, task_queue: before.task_queue + 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(pages(pd, inc.id)).toBe(0);
    await stack.startWorker();
    await eventually(() => pages(pd, inc.id) === 1, { what: 'the page after the worker is back', timeoutMs: 30_000 });
    // The worker runs again: the next start is eager again.
    const next = incidentFor(tenant);
    expect(await stack.incidents.openIncident(next)).toMatchObject({ outcome: 'started', eagerlyStarted: true });
    await eventually(() => pages(pd, next.id) === 1, { what: 'the next page' });
  });
});

describe('eager start asked on a connection no worker of the task queue is on', () => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  let lone: NativeConnection;
  const tenant = uniqueId('eal');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    const env = { PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${KEY}` };
    // A connection of its own, said to be active: the SDK has no worker slot to reserve on it, so the start is not eager.
    lone = await NativeConnection.connect(connectionOptions(loadConfig({ TEMPORAL_ADDRESS: sharedStack().temporalAddress }).temporal));
    stack = await startStack({ env, eagerStart: { connection: lone, active: () => true } });
  });
  afterAll(async () => {
    await stack?.stop();
    await lone?.close();
    await pd?.stop();
  });

  test('the start is accepted without the eager task, and the worker on its own connection runs it through matching', async () => {
    const incs = Array.from({ length: 3 }, () => incidentFor(tenant));
    for (const inc of incs) expect(await stack.incidents.openIncident(inc)).toMatchObject({ outcome: 'started', eagerlyStarted: false });
    for (const inc of incs) await eventually(() => pages(pd, inc.id) === 1, { what: `the page of ${inc.id}` });
  });
});

describe('as main.ts runs `all`: the worker owns its connection and the API starts on it only while the worker runs', () => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  let worker: WorkerHandle | undefined;
  let api: ApiParts | undefined;
  const tenant = uniqueId('eam');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    stack = await startStack({ worker: false, env: { PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${KEY}` } });
    const { config, pool, log, metrics, env } = stack;
    worker = await startWorker({ config, pool, log, metrics, env, workflowBundle: await workflowBundle() });
    api = await buildApi({ config, pool, log, metrics, dispatcher: false, eagerStart: eagerStartOn(worker.connection, () => worker?.worker), checks: () => ({}) });
  });
  afterAll(async () => {
    await worker?.shutdown();
    await api?.close();
    await stack?.stop();
    await pd?.stop();
  });

  test('eager while the worker runs; once it has stopped and closed its connection, starts go through the API\'s own', async () => {
    const first = incidentFor(tenant);
    expect(await api!.incidents.openIncident(first)).toMatchObject({ outcome: 'started', eagerlyStarted: true });
    await eventually(() => pages(pd, first.id) === 1, { what: 'the first page' });
    await worker!.shutdown();
    // The worker's connection is closed now: a start on it would fail; the API's own connection starts the run.
    const second = incidentFor(tenant);
    expect(await api!.incidents.openIncident(second)).toMatchObject({ outcome: 'started', eagerlyStarted: false });
    await stack.startWorker();
    await eventually(() => pages(pd, second.id) === 1, { what: 'the second page, by another worker', timeoutMs: 30_000 });
  });
});
