/**
 * refused-opens-v1 through ordinary activities (PROBECTL_NOTIFY_LOCAL_FIRST_OPENS=off), on the real dev server, Postgres
 * and the providers' doubles: the real activity names the attempt a refusal came on (src/http/failures.ts withAttempt),
 * so a refusal on the open's first attempt leaves the link alone at the resolve, while a refusal after an attempt that
 * may have landed (a 503 first) keeps the resolve. And a Slack webhook's 2xx with a body that is not an error code is
 * a delivered post, never a refusal (docs/faults.md F-3).
 */
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import type { RecordedRequest } from '../../dev/doubles/server';
import { SlackDouble } from '../../dev/doubles/slack';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';

jest.setTimeout(120_000);

const HOOK = '/services/TREF/BREF/RefusedOpensHook01';

describe('refused opens through ordinary activities', () => {
  let pd: PagerDutyDouble;
  let slack: SlackDouble;
  let stack: TestStack;
  const tenant = uniqueId('refused');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    slack = await new SlackDouble({ webhookPath: HOOK }).start();
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: [`${tenant}|pagerduty|${pd.url}/v2/enqueue|RKEY-refused-opens-000000000001`, `${tenant}|slack|${slack.url}${HOOK}|`].join(','),
        PROBECTL_NOTIFY_LOCAL_FIRST_OPENS: 'off',
        PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '0s',
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
    await slack?.stop();
  });
  afterEach(() => {
    pd.faults = {};
    slack.faults = {};
  });

  const triggers = (id: string) => pd.events('trigger').filter((r) => (r.json as { dedup_key?: string }).dedup_key === `probectl-${id}`);
  const resolves = (id: string) => pd.events('resolve').filter((r) => (r.json as { dedup_key?: string }).dedup_key === `probectl-${id}`);
  const posts = (id: string) => slack.requests.filter((r: RecordedRequest) => r.method === 'POST' && r.body.includes(id));

  /** The ordinary open activities' failures of the run: type and the attempt their details name. */
  async function openFailures(id: string) {
    const events = (await stack.client.workflow.getHandle(`probectl-${id}`).fetchHistory()).events ?? [];
    expect(events.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity' && e.markerRecordedEventAttributes.details?.data)).toBe(false);
    return events.flatMap((e) => {
      const info = e.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo;
      if (!info) return [];
      const details = (info.details?.payloads ?? []).map((p) => JSON.parse(Buffer.from(p.data!).toString('utf8')) as { attempt?: number });
      return [{ type: info.type, attempt: details.find((d) => d.attempt !== undefined)?.attempt }];
    });
  }

  async function openAndFail(id: string) {
    await stack.incidents.openIncident(incidentFor(tenant, { id }));
    return eventually(async () => (await stack.incidents.getIncident(id)).links.find((l) => l.connectorId === 'pagerduty' && l.status === 'failed'), { timeoutMs: 30_000, what: 'the refused PagerDuty link' });
  }

  test('a 400 on the first attempt: the link stays failed, PagerDuty hears no resolve; Slack, open, is resolved', async () => {
    const id = uniqueId('inc');
    pd.faults.before = (r) => ((r.json as { dedup_key?: string }).dedup_key === `probectl-${id}` ? { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: ['bad routing key'] } } : undefined);
    await openAndFail(id);
    expect(await openFailures(id)).toEqual([{ type: 'ProviderRejected', attempt: 1 }]);
    await stack.incidents.resolve(id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    const result = await stack.incidents.result(id);
    expect(Object.fromEntries(result.links.map((l) => [l.connectorId, l.status]))).toEqual({ pagerduty: 'failed', slack: 'resolved' });
    expect(triggers(id)).toHaveLength(1);
    expect(resolves(id)).toHaveLength(0);
    expect(posts(id)).toHaveLength(2); // opened and resolved
  });

  test('a 503, then a 400 on the retry: the first attempt may have landed, so the resolve still goes', async () => {
    const id = uniqueId('inc');
    let n = 0;
    pd.faults.before = (r) => {
      if ((r.json as { dedup_key?: string; event_action?: string }).dedup_key !== `probectl-${id}` || (r.json as { event_action?: string }).event_action !== 'trigger') return undefined;
      return n++ === 0 ? { status: 503, body: { status: 'unavailable' } } : { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: ['bad'] } };
    };
    await openAndFail(id);
    expect(await openFailures(id)).toEqual([{ type: 'ProviderRejected', attempt: 2 }]);
    pd.faults = {};
    await stack.incidents.resolve(id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    const result = await stack.incidents.result(id);
    expect(triggers(id)).toHaveLength(2);
    expect(resolves(id).length).toBeGreaterThanOrEqual(1);
    expect(result.links.find((l) => l.connectorId === 'pagerduty')?.status).toBe('resolved');
  });

  test("a Slack webhook's 2xx with a proxy's HTML body is a delivered post: open, then resolved with its resolution post", async () => {
    const id = uniqueId('inc');
    let first = true;
    slack.faults.before = (r) => (r.method === 'POST' && r.body.includes(id) && first ? ((first = false), { status: 200, body: '<html><body>200 OK from the relay</body></html>' }) : undefined);
    await stack.incidents.openIncident(incidentFor(tenant, { id }));
    await eventually(async () => (await stack.incidents.getIncident(id)).links.find((l) => l.connectorId === 'slack')?.status === 'open', { timeoutMs: 30_000, what: 'the Slack link open' });
    await stack.incidents.resolve(id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    const result = await stack.incidents.result(id);
    expect(result.links.find((l) => l.connectorId === 'slack')?.status).toBe('resolved');
    expect(posts(id)).toHaveLength(2);
  });
});
