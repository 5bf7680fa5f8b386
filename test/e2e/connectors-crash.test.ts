/**
 * The crash window per ticketing/paging provider: the double records the create and holds its answer, the
 * worker process is SIGKILLed before the link is recorded, a new worker retries the open → still exactly
 * one alert / ticket at the double, and the link points at it. For both kinds of first attempt: an ordinary activity
 * and a local one (PROBECTL_NOTIFY_LOCAL_FIRST_OPENS, the default), whose workflow task times out instead.
 */
import { JiraDouble } from '../../dev/doubles/jira';
import { OpsgenieDouble } from '../../dev/doubles/opsgenie';
import type { RecordedRequest } from '../../dev/doubles/server';
import { ServiceNowDouble } from '../../dev/doubles/servicenow';
import { localOpensOf } from '../helpers/local-opens';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

const OG_KEY = 'c0ffee00-crash-4ba2-a551-1afdf565c889';
const SN = { user: 'probectl.crash', password: 'Cr4sh-S3cret' };
const JIRA = { email: 'crash@acme.com', apiToken: 'ATATTcrashT0ken0000' };

describe.each([
  ['an ordinary first attempt', { PROBECTL_NOTIFY_LOCAL_FIRST_OPENS: 'off' }, false],
  ['a local first attempt', {}, true],
] as const)('a worker killed with SIGKILL while the provider holds the create answer to %s', (_mode, modeEnv, local) => {
  let og: OpsgenieDouble;
  let sn: ServiceNowDouble;
  let jira: JiraDouble;
  let stack: TestStack;
  const workers: WorkerProcess[] = [];
  const tenant = { opsgenie: uniqueId('crash-og'), servicenow: uniqueId('crash-sn'), jira: uniqueId('crash-ji') };

  beforeAll(async () => {
    og = await new OpsgenieDouble({ apiKey: OG_KEY }).start();
    sn = await new ServiceNowDouble(SN).start();
    jira = await new JiraDouble({ ...JIRA, searchLagMs: 500 }).start();
    stack = await startStack({
      worker: false,
      env: {
        PROBECTL_NOTIFY_CONNECTORS: [
          `${tenant.opsgenie}|opsgenie|${og.url}/v2/alerts|${OG_KEY}`,
          `${tenant.servicenow}|servicenow|${sn.url}|${SN.user}:${SN.password}`,
          `${tenant.jira}|jira|${jira.url}/rest/api/2/issue?project=OPS|${JIRA.email}:${JIRA.apiToken}`,
        ].join(','),
        ...modeEnv,
      },
    });
  });
  afterAll(async () => {
    for (const w of workers) await w.kill();
    await stack?.stop();
    await Promise.all([og?.stop(), sn?.stop(), jira?.stop()]);
  });

  async function crashOnce(
    provider: 'opsgenie' | 'servicenow' | 'jira',
    double: { faults: { hold?: (r: RecordedRequest) => boolean }; waitHeld(n?: number): Promise<void>; releaseHeld(): void },
    isCreate: (r: RecordedRequest) => boolean,
  ) {
    // Only the worker about to be killed polls: a worker left by the test before could take the task instead.
    for (const w of workers.splice(0)) await w.kill();
    const first = spawnWorker(stack.env);
    workers.push(first);
    await first.ready;
    if (local) await eventually(() => stack.beginGate!.refresh(), { what: 'the begin gate open' });
    const inc = incidentFor(tenant[provider]);
    let held = 0;
    double.faults.hold = (r) => isCreate(r) && held++ === 0;
    await stack.incidents.openIncident(inc);
    await double.waitHeld(1);
    await first.kill('SIGKILL');
    const second = spawnWorker(stack.env);
    workers.push(second);
    await second.ready;
    const link = await eventually(async () => {
      const s = await stack.incidents.getIncident(inc.id);
      return s.links.find((l) => l.connectorId === provider && l.status === 'open');
    }, { timeoutMs: 60_000, what: `the ${provider} link after the retry` });
    double.releaseHeld();
    expect(await localOpensOf(stack.client, inc.id)).toEqual(local ? { local: 1, ordinary: 0 } : { local: 0, ordinary: 1 });
    return { inc, link };
  }

  test('Opsgenie: the re-sent create is coalesced by alias → one open alert', async () => {
    const { inc, link } = await crashOnce('opsgenie', og, (r) => r.method === 'POST' && r.path === '/v2/alerts');
    const alerts = og.byAlias(`probectl-${inc.id}`);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.count).toBeGreaterThanOrEqual(2); // the create really was sent again
    expect(link.externalRef).toBe(`probectl-${inc.id}`);
    await stack.incidents.resolve(inc.id, { tenantId: tenant.opsgenie, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(inc.id);
    expect(og.byAlias(`probectl-${inc.id}`).filter((a) => a.status === 'open')).toHaveLength(0);
  });

  test('ServiceNow: the retry finds the ticket by correlation_id → one ticket, adopted', async () => {
    const { inc, link } = await crashOnce('servicenow', sn, (r) => r.method === 'POST');
    const tickets = sn.byCorrelation(`probectl-${inc.id}`);
    expect(tickets).toHaveLength(1);
    expect(link.externalRef).toBe(tickets[0]!.sys_id);
    expect(sn.requests.filter((r) => r.method === 'GET' && r.query.get('sysparm_query') === `correlation_id=probectl-${inc.id}`).length).toBeGreaterThanOrEqual(2);
    await stack.incidents.resolve(inc.id, { tenantId: tenant.servicenow, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(inc.id);
    expect(sn.byCorrelation(`probectl-${inc.id}`)[0]!.state).toBe('6');
  });

  test('Jira: the retry finds the issue by label → one issue, adopted', async () => {
    const { inc, link } = await crashOnce('jira', jira, (r) => r.method === 'POST' && r.path === '/rest/api/2/issue');
    const issues = jira.byLabel(`probectl-${inc.id}`);
    expect(issues).toHaveLength(1);
    expect(link.externalRef).toBe(issues[0]!.key);
    await stack.incidents.resolve(inc.id, { tenantId: tenant.jira, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(inc.id);
    expect(jira.byLabel(`probectl-${inc.id}`)[0]!.status.category).toBe('done');
  });
});
