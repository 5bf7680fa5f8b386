/**
 * Reconciliation whose cost does not grow with the open incidents (issue 17, "1,000 open incidents on one
 * ServiceNow and one Jira connector at default pacing with a 1-minute reconcile interval"), on the dev server, the
 * local Postgres and the doubles, with PROBECTL_NOTIFY_RECONCILE_MODE=per-connector:
 *
 * 1. a worker at the documented default pacing (ServiceNow and Jira 60 calls/min) opens one incident: the
 *    baseline ticket latency with nothing open;
 * 2. a worker with the keys paced fast opens N incidents (both tickets each) — only so that the set-up does not
 *    take N seconds per key;
 * 3. a worker at default pacing again reconciles: the reads of every pass are reported (the first pass still sees
 *    the N creations inside its window; then one listing per connector), and a new incident's tickets open within
 *    one token of the baseline latency while N incidents are open.
 *
 * FAULTS_MODE=reduced (`npm run test:faults`, a CI step): 250 incidents, a 5 s interval; full (`npm run faults`): 1,000 incidents, a
 * 1-minute interval. The figures go to docs/benchmarks.md.
 */
import { loadConfig } from '../../src/config/load';
import type { PassReport } from '../../src/reconcile/connector-reconciler';
import { JiraDouble } from '../../dev/doubles/jira';
import { ServiceNowDouble } from '../../dev/doubles/servicenow';
import { startWorker, type WorkerHandle } from '../../src/worker';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, workflowBundle, type TestStack } from '../helpers/stack';
import { scale } from './harness';

/** More than two listing pages (100 each) even reduced, so a listing that reached back over them would show. */
const N = scale(250, 1_000);
const INTERVAL_MS = scale(5_000, 60_000);
/** Steady passes per connector observed once the creations are behind the listing window (60 s overlap). */
const STEADY = 3;
/** One token of the default pace (60 calls/min) plus the stack's own latency on a loaded machine. */
const TOKEN_MS = 1_000;

describe(`${N} open incidents on one ServiceNow and one Jira connector, per-connector reconciliation`, () => {
  let sn: ServiceNowDouble;
  let jira: JiraDouble;
  let stack: TestStack;
  const tenant = uniqueId('rcScale');
  const reports: Array<PassReport & { at: number }> = [];
  let worker: WorkerHandle | undefined;

  const connectors = (rate: string) => [
    `${tenant}|servicenow|${sn.url}${rate ? `?${rate}` : ''}|svc:pw-scale`,
    `${tenant}|jira|${jira.url}/rest/api/2/issue?project=OPS${rate ? `&${rate}` : ''}|scale@acme.com:tok-scale`,
  ].join(',');

  /** A worker on the stack's task queue, its connectors paced `rate` ('' = the provider defaults). */
  async function workerWith(rate: string): Promise<WorkerHandle> {
    await worker?.shutdown();
    const env = { ...stack.env, PROBECTL_NOTIFY_CONNECTORS: connectors(rate) };
    worker = await startWorker({
      config: loadConfig(env), pool: stack.pool, log: stack.log, metrics: stack.metrics, env, workflowBundle: await workflowBundle(),
      onReconcilePass: (r) => reports.push({ ...r, at: Date.now() }),
    });
    return worker;
  }

  /** Ms from the open to both of the incident's tickets at the doubles. */
  async function ticketLatency(): Promise<{ servicenow: number; jira: number }> {
    const inc = incidentFor(tenant, { severity: 'critical' });
    const from = Date.now();
    await stack.incidents.openIncident(inc);
    const seen: { servicenow?: number; jira?: number } = {};
    await eventually(() => {
      if (seen.servicenow === undefined && sn.byCorrelation(`probectl-${inc.id}`).length > 0) seen.servicenow = Date.now() - from;
      if (seen.jira === undefined && jira.byLabel(`probectl-${inc.id}`).length > 0) seen.jira = Date.now() - from;
      return seen.servicenow !== undefined && seen.jira !== undefined;
    }, { timeoutMs: 60_000, intervalMs: 20, what: 'the new incident\'s tickets' });
    return { servicenow: seen.servicenow!, jira: seen.jira! };
  }

  beforeAll(async () => {
    sn = await new ServiceNowDouble({ user: 'svc', password: 'pw-scale' }).start();
    jira = await new JiraDouble({ email: 'scale@acme.com', apiToken: 'tok-scale' }).start();
    stack = await startStack({
      worker: false,
      env: {
        PROBECTL_NOTIFY_CONNECTORS: connectors(''),
        PROBECTL_NOTIFY_RECONCILE_INTERVAL: `${INTERVAL_MS / 1000}s`,
        PROBECTL_NOTIFY_RECONCILE_MODE: 'per-connector',
      },
    });
  }, 60_000);
  afterAll(async () => {
    await worker?.shutdown();
    await stack?.stop();
    await Promise.all([sn, jira].map((d) => d?.stop()));
  });

  test('reads per interval stay a handful per connector; a new incident\'s tickets open as fast as with none open', async () => {
    // 1. The baseline, nothing open, default pacing; and the reads an open itself makes (a ticket create looks for
    // an earlier attempt's ticket first).
    const otherReads = (d: ServiceNowDouble | JiraDouble) => d.requests.filter((r) => r.method === 'GET').length - d.changeListings().length;
    await workerWith('');
    await ticketLatency(); // a warm-up: the first open of a fresh worker is not the baseline
    const [snBefore, jiraBefore] = [otherReads(sn), otherReads(jira)];
    const baseline = await ticketLatency();
    const perOpen = { servicenow: otherReads(sn) - snBefore, jira: otherReads(jira) - jiraBefore };

    // 2. N incidents opened (set-up only, keys paced fast).
    await workerWith('rate_per_min=6000');
    const setUpFrom = Date.now();
    const opened: string[] = [];
    for (let i = 0; i < N; i += 25) {
      const batch = Array.from({ length: Math.min(25, N - i) }, () => incidentFor(tenant, { severity: 'info' }));
      await Promise.all(batch.map((inc) => stack.incidents.openIncident(inc)));
      opened.push(...batch.map((inc) => inc.id));
    }
    await eventually(() => sn.tickets.length >= N + 2 && jira.issues.length >= N + 2, { timeoutMs: N * 1_000, intervalMs: 1_000, what: `${N} tickets and issues` });
    const setUpMs = Date.now() - setUpFrom;

    // 3. Default pacing again; reconciliation on. Wait for the first pass, then STEADY more per connector. (The
    // set-up worker is stopped first, so every pass and listing counted from here is the new worker's.)
    await worker!.shutdown();
    worker = undefined;
    const reportsFrom = reports.length;
    const snListingsFrom = sn.changeListings().length;
    const jiraListingsFrom = jira.changeListings().length;
    const [snOtherFrom, jiraOtherFrom] = [otherReads(sn), otherReads(jira)];
    await workerWith('');
    const passes = (id: string) => reports.slice(reportsFrom).filter((r) => r.connectorId === id && r.outcome === 'done');
    // Waited for, not required here: a connector whose passes never complete is reported with the figures below
    // and fails the assertions after them (every pass's outcome is printed).
    // Steady: the last STEADY passes of each connector came after the creations left the listing window (the
    // reconciler's 60 s overlap behind its cursor), so each is one request.
    const steadyNow = (id: string) => passes(id).length >= 1 + STEADY && passes(id).slice(-STEADY).every((r) => r.reads === 1);
    await eventually(() => steadyNow('servicenow') && steadyNow('jira'), {
      timeoutMs: 60_000 + (STEADY + 3) * INTERVAL_MS + 60_000, intervalMs: 500, what: `${STEADY} steady passes per connector`,
    }).catch(() => undefined);
    const outcomes = (id: string) => reports.slice(reportsFrom).filter((r) => r.connectorId === id).map((r) => `${r.outcome}:${r.reads}`).join(',');
    console.log(`[reconcile-scale] every pass since the default-pacing worker started (outcome:reads): ServiceNow ${outcomes('servicenow')}; Jira ${outcomes('jira')}`);
    // A new incident while N are open and reconciliation runs.
    const loaded = await ticketLatency();

    const reads = { servicenow: passes('servicenow').map((r) => r.reads), jira: passes('jira').map((r) => r.reads) };
    const steady = { servicenow: reads.servicenow.slice(-STEADY), jira: reads.jira.slice(-STEADY) };
    const passesCounted = passes('servicenow').length + passes('jira').length;
    const listings = sn.changeListings().length - snListingsFrom + jira.changeListings().length - jiraListingsFrom;
    console.log(
      `[reconcile-scale] ${N} open incidents (set up in ${(setUpMs / 1000).toFixed(0)} s), interval ${INTERVAL_MS / 1000} s, default pacing: ` +
        `reads per pass ServiceNow ${reads.servicenow.join(',')}, Jira ${reads.jira.join(',')} (passes list the creations until they leave the 60 s overlap); ` +
        `listing requests ${listings} over ${passesCounted} passes; ` +
        `new incident's ticket latency with none open: ServiceNow ${baseline.servicenow} ms, Jira ${baseline.jira} ms; ` +
        `with ${N} open: ServiceNow ${loaded.servicenow} ms, Jira ${loaded.jira} ms`,
    );

    // Once the creations are behind the listing window: one request per connector per pass, whatever N is.
    expect(steady.servicenow).toEqual([1, 1, 1]);
    expect(steady.jira).toEqual([1, 1, 1]);
    // The first pass pages through the creations: about one read per 100 of them, never one per incident.
    expect(Math.max(...reads.servicenow, ...reads.jira)).toBeLessThanOrEqual(Math.ceil((N + 2) / 100) + 1);
    // Every listing request is one a pass counted (no other reader), and no per-incident read-back happened: the only
    // other reads are the new incident's own open.
    // (Every pass counts, cut ones too: a listing cut by its page bound is followed by a longer one next pass.)
    // Reconciliation still runs: a pass's listing reaches the double before the pass reports, so the two counts are
    // compared at a moment no pass is between them (a listing no pass counted never lets them meet).
    const listingsNow = () => sn.changeListings().length - snListingsFrom + jira.changeListings().length - jiraListingsFrom;
    const readsNow = () => reports.slice(reportsFrom).reduce((n, r) => n + r.reads, 0);
    const counted = await eventually(() => {
      const c = { listings: listingsNow(), reads: readsNow() };
      return c.listings === c.reads ? c : undefined;
    }, { timeoutMs: 4 * INTERVAL_MS, intervalMs: 50, what: 'listing requests and the reads passes reported to agree' }).catch(() => ({ listings: listingsNow(), reads: readsNow() }));
    expect(counted.listings).toBe(counted.reads);
    expect(otherReads(sn) - snOtherFrom).toBe(perOpen.servicenow);
    expect(otherReads(jira) - jiraOtherFrom).toBe(perOpen.jira);
    // A new incident's tickets open within one token of the baseline (reads are the lowest priority class).
    expect(loaded.servicenow).toBeLessThanOrEqual(baseline.servicenow + TOKEN_MS + 1_000);
    expect(loaded.jira).toBeLessThanOrEqual(baseline.jira + TOKEN_MS + 1_000);

    for (let i = 0; i < opened.length; i += 50) {
      await Promise.all(opened.slice(i, i + 50).map((id) => stack.client.workflow.getHandle(`probectl-${id}`).terminate('test done').catch(() => undefined)));
    }
  }, scale(360_000, 1_800_000));
});
