/**
 * Per-connector reconciliation (PROBECTL_NOTIFY_RECONCILE_MODE=per-connector), end to end on the dev server, real
 * Postgres and the doubles, with two workers on one task queue: a ticket resolved in ServiceNow, an issue moved
 * to Done in Jira and an alert acknowledged in Opsgenie — no webhook — reach their incidents with that connector
 * as the source (the origin is never called back, PagerDuty is resolved); the reads per interval are one listing
 * per connector whatever the number of open incidents; one worker reconciles a connector per interval (lease);
 * another tenant's connector that lists this tenant's incident key never signals it.
 */
import { ReconcileCursorStore } from '../../src/db/reconcile-cursor-store';
import type { PassReport } from '../../src/reconcile/connector-reconciler';
import { JiraDouble } from '../../dev/doubles/jira';
import { OpsgenieDouble } from '../../dev/doubles/opsgenie';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { ServiceNowDouble } from '../../dev/doubles/servicenow';
import { startWorker, type WorkerHandle } from '../../src/worker';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, workflowBundle, type TestStack } from '../helpers/stack';

const INTERVAL_MS = 2_000;
const FAST = 'rate_per_min=6000';

describe('per-connector reconciliation', () => {
  let pd: PagerDutyDouble;
  let sn: ServiceNowDouble;
  let jira: JiraDouble;
  let og: OpsgenieDouble;
  let snBig: ServiceNowDouble;
  let jiraBig: JiraDouble;
  let snOther: ServiceNowDouble;
  let stack: TestStack;
  let cursors: ReconcileCursorStore;
  const workers: WorkerHandle[] = [];
  const reports: Array<PassReport & { worker: number; at: number }> = [];
  const tenant = uniqueId('rcA');
  const big = uniqueId('rcBig');
  const other = uniqueId('rcB');
  const OG_KEY = 'genie-key-per-connector-0123456789';

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    sn = await new ServiceNowDouble({ user: 'svc', password: 'pw-a' }).start();
    jira = await new JiraDouble({ email: 'a@acme.com', apiToken: 'tok-a' }).start();
    og = await new OpsgenieDouble({ apiKey: OG_KEY }).start();
    snBig = await new ServiceNowDouble({ user: 'svc', password: 'pw-big' }).start();
    jiraBig = await new JiraDouble({ email: 'big@acme.com', apiToken: 'tok-big' }).start();
    snOther = await new ServiceNowDouble({ user: 'svc', password: 'pw-b' }).start();
    stack = await startStack({
      worker: false,
      env: {
        PROBECTL_NOTIFY_CONNECTORS: [
          `${tenant}|pagerduty|${pd.url}/v2/enqueue?${FAST}|RKEY-per-connector-0000000000`,
          `${tenant}|servicenow|${sn.url}?${FAST}|svc:pw-a`,
          `${tenant}|jira|${jira.url}/rest/api/2/issue?project=OPS&${FAST}|a@acme.com:tok-a`,
          `${tenant}|opsgenie|${og.url}/v2/alerts?${FAST}|${OG_KEY}`,
          `${big}|servicenow|${snBig.url}?${FAST}|svc:pw-big`,
          `${big}|jira|${jiraBig.url}/rest/api/2/issue?project=OPS&${FAST}|big@acme.com:tok-big`,
          `${other}|servicenow|${snOther.url}?${FAST}|svc:pw-b`,
        ].join(','),
        PROBECTL_NOTIFY_RECONCILE_INTERVAL: `${INTERVAL_MS / 1000}s`,
        PROBECTL_NOTIFY_RECONCILE_MODE: 'per-connector',
        // No PROBECTL_NOTIFY_INBOUND: every webhook would be refused, so only reconciliation can notice.
      },
    });
    cursors = new ReconcileCursorStore(stack.pool, stack.config.temporal.taskQueue);
    for (const n of [1, 2]) {
      workers.push(await startWorker({
        config: stack.config, pool: stack.pool, log: stack.log, metrics: stack.metrics, env: stack.env, workflowBundle: await workflowBundle(),
        onReconcilePass: (r) => reports.push({ ...r, worker: n, at: Date.now() }),
        reconcileOverlapMs: 5_000,
      }));
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.shutdown()));
    await stack?.stop();
    await Promise.all([pd, sn, jira, og, snBig, jiraBig, snOther].map((d) => d?.stop()));
  });

  const openIn = async (tenantId: string, links: number) => {
    const inc = incidentFor(tenantId, { severity: 'warning' });
    await stack.incidents.openIncident(inc);
    await eventually(async () => (await stack.incidents.getIncident(inc.id)).links.filter((l) => l.status === 'open').length === links, { timeoutMs: 60_000 });
    return inc;
  };
  const passesOf = async (tenantId: string, connectorId: string) => (await cursors.read(tenantId, connectorId))?.passes ?? 0;
  /** Wait until `n` more passes of this connector have completed (by whichever worker). */
  const morePasses = async (tenantId: string, connectorId: string, n: number) => {
    const from = await passesOf(tenantId, connectorId);
    await eventually(async () => (await passesOf(tenantId, connectorId)) >= from + n, { timeoutMs: 30_000, intervalMs: 200 });
  };

  test('resolved in ServiceNow, done in Jira, acknowledged in Opsgenie: signalled with that connector as source, the origin not called back', async () => {
    const [a, b, c, d] = [await openIn(tenant, 4), await openIn(tenant, 4), await openIn(tenant, 4), await openIn(tenant, 4)];
    const ticket = sn.byCorrelation(`probectl-${a.id}`)[0]!;
    const issue = jira.byLabel(`probectl-${b.id}`)[0]!;
    const snBefore = sn.requests.length;
    const jiraBefore = jira.requests.length;
    sn.setState(ticket.sys_id, '6'); // an engineer resolves it in ServiceNow; no webhook
    jira.setStatus(issue.key, 'done'); // and moves the other to Done in Jira
    og.setState(`probectl-${c.id}`, { acknowledged: true }); // and acknowledges the third in Opsgenie

    const ra = await stack.incidents.result(a.id);
    expect(ra.source).toBe('servicenow');
    expect(ra.links.every((l) => l.status === 'resolved')).toBe(true);
    const rb = await stack.incidents.result(b.id);
    expect(rb.source).toBe('jira');
    for (const inc of [a, b]) expect(pd.alerts.find((x) => x.dedupKey === `probectl-${inc.id}`)?.status).toBe('resolved');
    expect(og.byAlias(`probectl-${a.id}`)[0]?.status).toBe('closed');
    expect(sn.byCorrelation(`probectl-${b.id}`)[0]?.state).toBe('6');
    // the origins were only read, never written back to
    expect(sn.requests.slice(snBefore).filter((r) => r.method !== 'GET' && r.path.includes(ticket.sys_id))).toHaveLength(0);
    expect(jira.requests.slice(jiraBefore).filter((r) => r.method === 'POST' && r.path.includes(`/issue/${issue.key}/`))).toHaveLength(0);
    await eventually(async () => (await stack.incidents.getIncident(c.id)).status === 'acknowledged', { timeoutMs: 20_000 });
    expect((await stack.incidents.getIncident(d.id)).status).toBe('open');
    const timeline = await stack.mirror.timeline(tenant, a.id);
    expect(timeline.some((t) => t.kind === 'resolved' && t.source === 'servicenow')).toBe(true);
    // no per-incident read-back of the incidents left open: no ticket read by sys_id, no issue status read, no
    // alert read by alias (the resolved ones' links were read by their resolve, as always)
    for (const inc of [c, d]) {
      const sysId = sn.byCorrelation(`probectl-${inc.id}`)[0]!.sys_id;
      const key = jira.byLabel(`probectl-${inc.id}`)[0]!.key;
      expect(sn.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/incident/${sysId}`))).toHaveLength(0);
      expect(jira.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/issue/${key}`))).toHaveLength(0);
      expect(og.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/probectl-${inc.id}`))).toHaveLength(0);
    }
  }, 120_000);

  test('200 open incidents on one ServiceNow and one Jira connector: one listing per connector per interval', async () => {
    const N = 200;
    const opened: Array<{ id: string }> = [];
    for (let i = 0; i < N; i += 20) {
      const batch = Array.from({ length: Math.min(20, N - i) }, () => incidentFor(big, { severity: 'info' }));
      await Promise.all(batch.map((inc) => stack.incidents.openIncident(inc)));
      opened.push(...batch);
    }
    await eventually(() => snBig.tickets.length === N && jiraBig.issues.length === N, { timeoutMs: 330_000, intervalMs: 1_000, what: 'every ticket and issue created (200 each, paced)' })
      .catch(async (err: unknown) => {
        // Say what is missing or doubled, and where the runs are, rather than only that the wait ran out.
        const tickets = new Map<string, number>();
        for (const t of snBig.tickets) tickets.set(String(t.correlation_id), (tickets.get(String(t.correlation_id)) ?? 0) + 1);
        const states = await Promise.all(opened.slice(0, N).map(async (inc) => {
          const v = await stack.incidents.getIncident(inc.id).catch((e: unknown) => ({ links: [], error: String(e).slice(0, 80) }));
          return JSON.stringify((v as { links: Array<{ connectorId: string; status: string }> }).links.map((l) => `${l.connectorId}:${l.status}`).sort());
        }));
        const byState = new Map<string, number>();
        for (const st of states) byState.set(st, (byState.get(st) ?? 0) + 1);
        throw new Error(`${(err as Error).message}: ServiceNow ${snBig.tickets.length} tickets (${[...tickets.values()].filter((n) => n > 1).length} correlation ids doubled), `
          + `Jira ${jiraBig.issues.length} issues; links by state: ${JSON.stringify(Object.fromEntries(byState))}`);
      });
    const created = Date.now();
    const passesBig = (connectorId: string) => reports.filter((r) => r.tenantId === big && r.connectorId === connectorId && r.outcome === 'done');
    const burst = { servicenow: 0, jira: 0 };
    // Right after the burst, a listing still covers the creations within its window (the overlap; Jira's whole
    // minutes): a few pages. Once they are behind it, a pass is one request per connector. A listing's window starts
    // at its cursor less the overlap (`since`), which never moves back, and nothing is created after `created`: once
    // a pass whose window starts after `created` reads one page, every later pass does too. (A pass that ended after
    // `created` may still have listed before the burst was complete, and read one page of it.)
    for (const id of ['servicenow', 'jira'] as const) {
      await eventually(() => {
        const last = passesBig(id).at(-1);
        return last !== undefined && Date.parse(last.since!) > created && last.reads === 1;
      }, { timeoutMs: 200_000, intervalMs: 500, what: `a ${id} pass whose window starts after the burst reading one page` });
      burst[id] = Math.max(...passesBig(id).map((r) => r.reads));
    }
    const counted = { servicenow: passesBig('servicenow').length, jira: passesBig('jira').length };
    const listings = { servicenow: snBig.changeListings().length, jira: jiraBig.changeListings().length };
    const others = (d: ServiceNowDouble | JiraDouble) => d.requests.filter((r) => r.method === 'GET').length - d.changeListings().length;
    const [snOthers, jiraOthers] = [others(snBig), others(jiraBig)];
    await morePasses(big, 'servicenow', 3);
    await morePasses(big, 'jira', 3);
    const steady = {
      servicenow: passesBig('servicenow').slice(counted.servicenow),
      jira: passesBig('jira').slice(counted.jira),
    };
    const snPerPass = (snBig.changeListings().length - listings.servicenow) / steady.servicenow.length;
    const jiraPerPass = (jiraBig.changeListings().length - listings.jira) / steady.jira.length;
    // Nothing changed: each pass is one request per connector, whatever the number of open incidents.
    expect(steady.servicenow.map((r) => r.reads)).toEqual(steady.servicenow.map(() => 1));
    expect(steady.jira.map((r) => r.reads)).toEqual(steady.jira.map(() => 1));
    expect(snPerPass).toBe(1);
    expect(jiraPerPass).toBe(1);
    expect(burst.servicenow).toBeLessThanOrEqual(Math.ceil(N / 100) + 1);
    expect(burst.jira).toBeLessThanOrEqual(Math.ceil(N / 100) + 1);
    // and no other read (no per-incident read-back) happened meanwhile
    expect(others(snBig)).toBe(snOthers);
    expect(others(jiraBig)).toBe(jiraOthers);
    process.stdout.write(`per-connector reconciliation, ${N} open incidents: while the burst of creations was within the listing window at most ${burst.servicenow} ServiceNow and ${burst.jira} Jira request(s) per pass; then ${snPerPass} and ${jiraPerPass}\n`);

    // 150 tickets resolved at once in ServiceNow: two pages in one pass, every one of those incidents resolves.
    const resolved = opened.slice(0, 150);
    for (const inc of resolved) snBig.setState(snBig.byCorrelation(`probectl-${inc.id}`)[0]!.sys_id, '6');
    for (const inc of resolved) expect((await stack.incidents.result(inc.id)).source).toBe('servicenow');
    const bigReports = reports.filter((r) => r.tenantId === big && r.connectorId === 'servicenow' && r.outcome === 'done');
    expect(Math.max(...bigReports.map((r) => r.reads))).toBeLessThanOrEqual(3);
    expect(bigReports.reduce((n, r) => n + r.signalled, 0)).toBeGreaterThanOrEqual(150);
    process.stdout.write(`per-connector reconciliation: 150 tickets resolved at once were found with at most ${Math.max(...bigReports.map((r) => r.reads))} reads in a pass\n`);
  }, 520_000);

  test('another tenant\'s connector listing this tenant\'s incident key never signals it', async () => {
    const inc = await openIn(tenant, 4);
    // A ticket on tenant B's own instance carries tenant A's incident key and is resolved.
    snOther.tickets.push({
      sys_id: 'f'.repeat(32), number: 'INC0099999', state: '6', short_description: 'forged', correlation_id: `probectl-${inc.id}`,
      sys_updated_on: new Date().toISOString().slice(0, 19).replace('T', ' '), createdAt: Date.now(),
    });
    await morePasses(other, 'servicenow', 2);
    const seen = reports.filter((r) => r.tenantId === other && r.found > 0);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((r) => r.signalled === 0)).toBe(true);
    const view = await stack.incidents.getIncident(inc.id);
    expect(view.status).toBe('open');
    expect(view.links.filter((l) => l.status === 'open')).toHaveLength(4);
  }, 120_000);

  test('two workers: one reconciles a connector per interval (the lease), the other is told it is leased', async () => {
    // the lease itself: of two takers one gets it; a token that does not hold it cannot move the cursor
    const first = await cursors.lease(tenant, 'lease-probe', 60_000, new Date(0).toISOString());
    const second = await cursors.lease(tenant, 'lease-probe', 60_000, new Date(0).toISOString());
    expect(first).toBeDefined();
    expect(second).toBeUndefined();
    expect(await cursors.advance({ ...first!, leaseToken: 'not-the-holder' }, new Date().toISOString())).toBe(false);
    expect(await cursors.advance(first!, '2026-01-01T00:00:00.000Z')).toBe(true);
    expect(await cursors.advance(first!, '2025-01-01T00:00:00.000Z')).toBe(true); // never backwards
    expect((await cursors.read(tenant, 'lease-probe'))?.cursor).toBe('2026-01-01T00:00:00.000Z');
    // the resume position of a pass cut by its bound is kept with the cursor, handed to the next lease, and cleared
    const position = JSON.stringify({ tie: '2026-01-01 00:00:00', afterId: 'abc' });
    expect(await cursors.advance(first!, '2026-01-01T00:00:00.000Z', position)).toBe(true);
    expect((await cursors.read(tenant, 'lease-probe'))?.resume).toBe(position);
    expect(await cursors.advance(first!, '2026-01-01T00:00:00.000Z')).toBe(true);
    expect((await cursors.read(tenant, 'lease-probe'))?.resume).toBeUndefined();
    const short = await cursors.lease(tenant, 'resume-probe', 1, new Date(0).toISOString());
    expect(short?.resume).toBeUndefined();
    expect(await cursors.advance(short!, '2026-01-01T00:00:00.000Z', position)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect((await cursors.lease(tenant, 'resume-probe', 60_000, new Date(0).toISOString()))?.resume).toBe(position);
    // row-level security: another tenant does not see the row; its own lease on the same connector id is its own row
    expect(await cursors.read(other, 'lease-probe')).toBeUndefined();
    const theirs = await cursors.lease(other, 'lease-probe', 60_000, new Date(0).toISOString());
    expect(theirs?.cursor).toBe(new Date(0).toISOString());
    expect((await cursors.read(tenant, 'lease-probe'))?.cursor).toBe('2026-01-01T00:00:00.000Z');
    // ten workers taking one fresh connector's pass at once: exactly one gets it
    const race = await Promise.all(Array.from({ length: 10 }, () => cursors.lease(tenant, 'lease-race', 60_000, new Date(0).toISOString())));
    expect(race.filter((l) => l !== undefined)).toHaveLength(1);

    const byConnector = new Map<string, number[]>();
    for (const r of reports.filter((x) => x.outcome !== 'leased-elsewhere' && x.outcome !== 'store-unavailable')) {
      const k = `${r.tenantId}/${r.connectorId}`;
      byConnector.set(k, [...(byConnector.get(k) ?? []), r.at]);
    }
    expect(reports.some((r) => r.outcome === 'leased-elsewhere')).toBe(true);
    expect(new Set(reports.filter((r) => r.outcome === 'done').map((r) => r.worker)).size).toBe(2);
    // Passes of one connector by either worker start at least a lease (0.9 of the interval) apart; their
    // reports come in later than they start, by up to the pass's own duration.
    for (const [, times] of byConnector) {
      const sorted = [...times].sort((x, y) => x - y);
      const passes = sorted.length;
      const span = sorted[passes - 1]! - sorted[0]!;
      expect(passes).toBeLessThanOrEqual(Math.floor(span / (INTERVAL_MS * 0.9)) + 2);
    }
  });
});
