/**
 * refused-opens-v1 when the first workflow task is tried again: a worker is SIGKILLed holding the run's first task
 * while its local first attempts wait for the providers' answers (the pages had landed), so the task times out and a
 * new worker makes the local attempts again, which the providers refuse (400). Those refusals are not the opens' first
 * tries (src/workflows/v2/calls.ts: a local attempt is a first try only in a first task on its first try, history
 * length 3), so the resolve still goes to both links: PagerDuty's resolve by key, Slack's resolution post. Were they
 * counted as first tries, the resolve would leave both pages open at the providers. The same when the run is
 * terminated instead and the incident opened again: the client starts the new run with `again` (its earlier run may
 * have sent opens it never recorded), so the new run's refusals are not first tries either.
 */
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import type { RecordedRequest } from '../../dev/doubles/server';
import { SlackDouble } from '../../dev/doubles/slack';
import { temporal } from '@temporalio/proto';
import { localOpensOf } from '../helpers/local-opens';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

jest.setTimeout(180_000);

const EventType = temporal.api.enums.v1.EventType;
const HOOK = '/services/TRAC/BRAC/RefusedAfterCrash01';

describe('a worker killed holding the first task; the local attempts made again are refused', () => {
  let pd: PagerDutyDouble;
  let slack: SlackDouble;
  let stack: TestStack;
  const workers: WorkerProcess[] = [];
  const tenant = uniqueId('crash-refused');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    slack = await new SlackDouble({ webhookPath: HOOK }).start();
    stack = await startStack({
      worker: false,
      env: {
        PROBECTL_NOTIFY_CONNECTORS: [`${tenant}|pagerduty|${pd.url}/v2/enqueue|RKEY-refused-after-crash-0001`, `${tenant}|slack|${slack.url}${HOOK}|`].join(','),
        PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '0s',
      },
    });
  });
  afterAll(async () => {
    for (const w of workers) await w.kill();
    pd?.releaseHeld();
    slack?.releaseHeld();
    await stack?.stop();
    await Promise.all([pd?.stop(), slack?.stop()]);
  });

  const keyOf = (id: string) => `probectl-${id}`;
  const isTrigger = (id: string) => (r: RecordedRequest) => (r.json as { dedup_key?: string; event_action?: string } | undefined)?.dedup_key === keyOf(id) && (r.json as { event_action?: string }).event_action === 'trigger';
  const isPost = (id: string) => (r: RecordedRequest) => r.method === 'POST' && r.path === HOOK && r.body.includes(id);

  /**
   * Open `inc` on a fresh worker whose local first attempts land at both providers (their answers held), then SIGKILL
   * that worker: nothing of the incident is recorded anywhere but at the providers. From then on both refuse the opens.
   */
  async function landedThenKilled(inc: ReturnType<typeof incidentFor>) {
    for (const w of workers.splice(0)) await w.kill();
    const first = spawnWorker(stack.env);
    workers.push(first);
    await first.ready;
    // Local first attempts need the begin snapshot, which the begin gate allows once Postgres answered.
    await eventually(() => stack.beginGate!.refresh(), { what: 'the begin gate open' });
    pd.faults.hold = isTrigger(inc.id);
    slack.faults.hold = isPost(inc.id);
    await stack.incidents.openIncident(inc);
    await pd.waitHeld(1);
    await slack.waitHeld(1);
    await first.kill('SIGKILL');
    pd.releaseHeld(); // answers to a socket that is gone
    slack.releaseHeld();
    pd.faults = { before: (r) => (isTrigger(inc.id)(r) ? { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: ['bad routing key'] } } : undefined) };
    slack.faults = { before: (r) => (isPost(inc.id)(r) ? { status: 400, body: 'invalid_payload' } : undefined) };
  }

  async function bothFailed(id: string) {
    const links = await eventually(async () => {
      const s = await stack.incidents.getIncident(id);
      const failed = s.links.filter((l) => l.status === 'failed').map((l) => l.connectorId).sort();
      return failed.length === 2 ? failed : undefined;
    }, { timeoutMs: 90_000, what: 'both links failed' });
    expect(links).toEqual(['pagerduty', 'slack']);
  }

  /** Resolve from probectl: both links resolved at their providers (PagerDuty's resolve by key, Slack's resolution post). */
  async function resolvedAtBoth(id: string, posts: number) {
    pd.faults = {};
    slack.faults = {};
    await stack.incidents.resolve(id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    const result = await stack.incidents.result(id);
    expect(Object.fromEntries(result.links.map((l) => [l.connectorId, l.status]))).toEqual({ pagerduty: 'resolved', slack: 'resolved' });
    expect(pd.events('resolve').filter((r) => (r.json as { dedup_key?: string }).dedup_key === keyOf(id)).length).toBeGreaterThanOrEqual(1);
    expect(slack.requests.filter(isPost(id))).toHaveLength(posts + 1); // the opens, then the resolution post
    const timeline = await stack.mirror.timeline(tenant, id);
    expect(timeline.filter((e) => e.kind === 'connector.skipped')).toEqual([]);
  }

  test('the retried task refused both opens: they may have landed before, so the resolve reaches both providers', async () => {
    const inc = incidentFor(tenant);
    await landedThenKilled(inc);
    const second = spawnWorker(stack.env);
    workers.push(second);
    await second.ready;
    await bothFailed(inc.id);
    // The history holds what the test claims: the first task timed out, and the opens were made as local attempts in the
    // retried task (one marker each; the killed worker recorded none) with no ordinary activity after them.
    const events = (await stack.client.workflow.getHandle(keyOf(inc.id)).fetchHistory()).events ?? [];
    expect(events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT)).toBe(3);
    expect(await localOpensOf(stack.client, inc.id)).toEqual({ local: 2, ordinary: 0 });
    expect(pd.events('trigger').filter(isTrigger(inc.id))).toHaveLength(2);
    expect(slack.requests.filter(isPost(inc.id))).toHaveLength(2);
    await resolvedAtBoth(inc.id, 2);
  });

  test('a run terminated before it recorded anything, opened again: the new run (`again`) resolves the opens it saw refused', async () => {
    const inc = incidentFor(tenant);
    await landedThenKilled(inc);
    const handle = stack.client.workflow.getHandle(keyOf(inc.id));
    await handle.terminate('test: an operator ends the run whose worker died');
    // Nothing of the incident reached Postgres: a new run that reads the mirror finds no record of it.
    expect(await stack.mirror.read(tenant, inc.id)).toBeUndefined();
    const second = spawnWorker(stack.env);
    workers.push(second);
    await second.ready;
    // The API's client finds the caller's run terminated and starts the id again, saying so in the start input.
    expect(await stack.incidents.openIncident(inc)).toMatchObject({ outcome: 'started' });
    const started = ((await handle.fetchHistory()).events ?? [])[0]!.workflowExecutionStartedEventAttributes!;
    const input = JSON.parse(Buffer.from(started.input!.payloads![0]!.data!).toString('utf8')) as { again?: boolean; checkedBegin?: unknown };
    expect({ again: input.again, snapshot: input.checkedBegin !== undefined }).toEqual({ again: true, snapshot: false });
    await bothFailed(inc.id);
    expect(pd.events('trigger').filter(isTrigger(inc.id))).toHaveLength(2);
    await resolvedAtBoth(inc.id, 2);
  });
});
