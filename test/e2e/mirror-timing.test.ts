/**
 * When the mirror is written (lean-history-v1, docs/workflow-contract.md "History budget"): while one
 * connector's open keeps retrying, the other links, a correlated signal and the resolution still reach
 * Postgres promptly; nothing waits for the slow connector. And what a call carries for the workflow (an
 * acknowledgement's callback, its entry, the incident row) is not held by that call when it keeps failing.
 */
import { OpsgenieDouble } from '../../dev/doubles/opsgenie';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { ProbectlDouble } from '../../dev/doubles/probectl';
import { ServiceNowDouble } from '../../dev/doubles/servicenow';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';

describe('mirror writes while a connector keeps retrying', () => {
  let pd: PagerDutyDouble;
  let sn: ServiceNowDouble;
  let stack: TestStack;
  const tenant = uniqueId('mirrortime');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    sn = await new ServiceNowDouble({ user: 'mt-user', password: 'mt-password' }).start();
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: [
          `${tenant}|pagerduty|${pd.url}/v2/enqueue|RKEY-mirror-timing-0000000000000`,
          `${tenant}|servicenow|${sn.url}|mt-user:mt-password`,
        ].join(','),
        PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '1s',
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
    await sn?.stop();
  });

  test('links, a correlated signal and the resolve are mirrored while ServiceNow answers 503', async () => {
    let snDown = true;
    sn.faults.before = () => (snDown ? { status: 503, body: { error: { message: 'maintenance' } } } : undefined);
    const inc = incidentFor(tenant);
    await stack.incidents.openIncident(inc);

    // PagerDuty's link is an outcome: written although the ServiceNow open is still in flight.
    const links = await eventually(async () => {
      const rec = await stack.mirror.read(tenant, inc.id);
      return rec?.links.find((l) => l.connectorId === 'pagerduty' && l.status === 'open') ? rec.links : undefined;
    }, { what: 'the PagerDuty link in the mirror', timeoutMs: 20_000 });
    expect(links.find((l) => l.connectorId === 'servicenow')?.status ?? 'absent').not.toBe('open');

    await stack.incidents.correlate(inc.id, { tenantId: tenant, signalId: 'sig-mt-1', summary: 'flap', at: new Date().toISOString() });
    await eventually(async () => (await stack.mirror.timeline(tenant, inc.id)).some((t) => t.kind === 'correlated'), {
      what: 'the correlated entry in the mirror', timeoutMs: 10_000,
    });
    const live = await stack.incidents.getIncident(inc.id);
    expect(live.links.find((l) => l.connectorId === 'servicenow')?.status).toBe('pending'); // still retrying
    expect(sn.requests.length).toBeGreaterThan(0);

    // The resolve cancels the ServiceNow open; everything lands in the mirror and the run completes.
    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    snDown = false;
    await stack.incidents.result(inc.id);
    const rec = await stack.mirror.read(tenant, inc.id);
    expect(rec?.status).toBe('resolved');
    expect(rec?.links.find((l) => l.connectorId === 'pagerduty')?.status).toBe('resolved');
    const kinds = (await stack.mirror.timeline(tenant, inc.id)).map((t) => t.kind);
    expect(kinds).toEqual(expect.arrayContaining(['opened', 'connector.opened', 'correlated', 'resolved', 'connector.resolved']));
    expect(pd.alerts.filter((a) => a.dedupKey === `probectl-${inc.id}`)).toHaveLength(1);
  });
});

/** Which calls a double fails (503) or answers late (held until released), by kind of call. */
type CallKind = 'open' | 'acknowledge' | 'resolve';
const kindOf: Record<'pagerduty' | 'opsgenie' | 'servicenow', (r: { method: string; path: string; json?: unknown }) => CallKind | undefined> = {
  pagerduty: (r) => {
    const action = (r.json as { event_action?: string } | undefined)?.event_action;
    return action === 'trigger' ? 'open' : action === 'acknowledge' ? 'acknowledge' : action === 'resolve' ? 'resolve' : undefined;
  },
  opsgenie: (r) => (r.method !== 'POST' ? undefined : r.path.endsWith('/acknowledge') ? 'acknowledge' : r.path.endsWith('/close') ? 'resolve' : r.path.endsWith('/alerts') ? 'open' : undefined),
  servicenow: (r) => (r.method === 'POST' ? 'open' : r.method === 'PATCH' || r.method === 'PUT' ? 'resolve' : undefined),
};

describe('what a slow or failing call carries still reaches Postgres and probectl', () => {
  let pd: PagerDutyDouble;
  let og: OpsgenieDouble;
  let sn: ServiceNowDouble;
  let probectl: ProbectlDouble;
  let stack: TestStack;
  const tenant = uniqueId('carried');
  const OG_KEY = 'og-carried-0000-0000-000000000000';
  const fault: { kind?: CallKind; how?: 'fails' | 'slow' } = {};

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    og = await new OpsgenieDouble({ apiKey: OG_KEY, processingMs: 0 }).start();
    sn = await new ServiceNowDouble({ user: 'ca-user', password: 'ca-password' }).start();
    probectl = await new ProbectlDouble('callback-secret-carried-000001').start();
    for (const [name, d] of [['pagerduty', pd], ['opsgenie', og], ['servicenow', sn]] as const) {
      const hit = (r: { method: string; path: string; json?: unknown }) => fault.kind !== undefined && kindOf[name](r) === fault.kind;
      d.faults.before = (r) => (fault.how === 'fails' && hit(r) ? { status: 503, body: { message: 'maintenance' } } : undefined);
      d.faults.hold = (r) => fault.how === 'slow' && hit(r);
    }
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: [
          `${tenant}|pagerduty|${pd.url}/v2/enqueue|RKEY-carried-00000000000000000`,
          `${tenant}|opsgenie|${og.url}/v2/alerts|${OG_KEY}`,
          `${tenant}|servicenow|${sn.url}|ca-user:ca-password`,
        ].join(','),
        PROBECTL_NOTIFY_CALLBACK_URL: `${probectl.url}/hooks/notify`,
        PROBECTL_NOTIFY_CALLBACK_SECRET: 'callback-secret-carried-000001',
        PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '0s',
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    for (const d of [pd, og, sn, probectl]) await d?.stop();
  });

  const doubles = () => [['pagerduty', pd], ['opsgenie', og], ['servicenow', sn]] as const;
  const deliveries = (incidentId: string, type: string) =>
    probectl.requests.filter((r) => (r.json as { type?: string; incidentId?: string } | undefined)?.type === type && (r.json as { incidentId?: string }).incidentId === incidentId).length;

  // Every kind of call that carries records (opens carry `opened` and the row; an acknowledgement's calls carry its
  // entry, the row and the callback; a resolve's calls carry its entry and the row), each failing (503, retried) or
  // slow (answered late: held until the records are seen): the records are in Postgres, and the callback at probectl, while every such call is
  // still unanswered. Before carry-owed.ts they waited for the calls to end (for a failing one, up to its budget).
  const table: Array<[CallKind, 'fails' | 'slow']> = [['open', 'fails'], ['open', 'slow'], ['acknowledge', 'fails'], ['acknowledge', 'slow'], ['resolve', 'fails'], ['resolve', 'slow']];
  test.each(table)('every %s call %s: what it carries is recorded meanwhile', async (kind, how) => {
    const inc = incidentFor(tenant);
    const link = async (id: string) => (await stack.incidents.getIncident(inc.id)).links.find((l) => l.connectorId === id);
    const calls = () => doubles().reduce((n, [name, d]) => n + d.requests.filter((r) => kindOf[name](r) === kind).length, 0);
    const before = calls();
    if (kind === 'open') Object.assign(fault, { kind, how });
    await stack.incidents.openIncident(inc);
    if (kind !== 'open') {
      await eventually(async () => (await link('pagerduty'))?.status === 'open' && (await link('opsgenie'))?.status === 'open' && (await link('servicenow'))?.status === 'open', { what: 'three links open' });
      Object.assign(fault, { kind, how });
    }
    const t0 = Date.now();
    if (kind === 'acknowledge') await stack.incidents.acknowledge(inc.id, { tenantId: tenant, source: 'pagerduty', actor: 'erin', at: new Date().toISOString() });
    if (kind === 'resolve') await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    // Every call of that kind has reached its double and none has been answered well.
    const expected = kind === 'open' ? 3 : kind === 'acknowledge' ? 1 : 3; // the acknowledgement comes from PagerDuty; ServiceNow has none
    await eventually(() => calls() - before >= expected, { what: `${expected} ${kind} calls at the doubles` });

    const wanted = { open: ['opened'], acknowledge: ['acknowledged'], resolve: ['resolved'] }[kind];
    const status = { open: 'open', acknowledge: 'acknowledged', resolve: 'resolved' }[kind];
    await eventually(async () => {
      const rec = await stack.mirror.read(tenant, inc.id);
      const kinds = (await stack.mirror.timeline(tenant, inc.id)).map((t) => t.kind);
      return rec?.status === status && wanted.every((k) => kinds.includes(k as never));
    }, { what: `the incident row ${status} and ${wanted.join(', ')} in Postgres while every ${kind} call is ${how === 'fails' ? 'failing' : 'unanswered'}`, timeoutMs: 15_000 });
    if (kind === 'acknowledge') {
      await eventually(() => deliveries(inc.id, 'incident.acknowledged') > 0, { what: 'the acknowledgement callback', timeoutMs: 15_000 });
    }
    const recordedMs = Date.now() - t0;
    // Still unanswered: no call of that kind has its outcome yet (the records did not come with one).
    const outcome = { open: 'open', acknowledge: 'acknowledged', resolve: 'resolved' }[kind];
    const affected = kind === 'acknowledge' ? ['opsgenie'] : ['pagerduty', 'opsgenie', 'servicenow'];
    const links = (await stack.incidents.getIncident(inc.id)).links;
    expect(links.filter((l) => affected.includes(l.connectorId) && l.status === outcome).map((l) => l.connectorId)).toEqual([]);
    if (how === 'slow') expect(doubles().reduce((n, [, d]) => n + d.heldCount, 0)).toBeGreaterThan(0);
    process.stderr.write(`[carried] ${kind} ${how}: recorded after ${recordedMs} ms\n`);

    // Let the calls through and end the incident.
    Object.assign(fault, { kind: undefined, how: undefined });
    for (const d of [pd, og, sn]) d.releaseHeld();
    if (kind === 'open') {
      await eventually(async () => (await stack.incidents.getIncident(inc.id)).links.every((l) => l.status === 'open'), { what: 'the opens once they are answered', timeoutMs: 60_000 });
    }
    if (kind !== 'resolve') await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(inc.id);
    if (kind === 'acknowledge') expect(deliveries(inc.id, 'incident.acknowledged')).toBe(1);
    expect(pd.alerts.filter((a) => a.dedupKey === `probectl-${inc.id}`)).toHaveLength(1);
  }, 120_000);
});
