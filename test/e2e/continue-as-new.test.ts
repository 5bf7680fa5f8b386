/**
 * A long-lived incident: 10,000 correlated signals to one incident on a dev server whose limits are lowered —
 * continue-as-new suggested after 400 events, and at most 4,000 signals per run (the server refuses more,
 * the resolve included) — while outside systems keep work in flight: a ServiceNow ticket create failing with
 * 503 (retried for hours), a Jira create refused and then re-driven into the same 503s, and probectl's
 * callback answering 401. The workflow must keep switching runs regardless (on 528100c it waited for the
 * ticket create, hit the per-run signal limit and refused signals). Every signal is counted (state and
 * Postgres), the state query keeps answering, search attributes and current details carry on, no run
 * exceeds 10,000 events, and the resolve is delivered and fans out.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { withTenant } from '../../src/db/tenant-tx';
import { JiraDouble } from '../../dev/doubles/jira';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { ProbectlDouble } from '../../dev/doubles/probectl';
import { ServiceNowDouble } from '../../dev/doubles/servicenow';
import { EXTERNAL_REFS, PROVIDERS, STATUS } from '../../src/workflows/search-attributes';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import { findTemporalCli, startDevServer, type DevServer } from '../setup/temporal-server';

const ROUTING_KEY = 'R0UT1NGKEYcontinueAsNew000000001';
const SIGNALS = 10_000;
const CONCURRENCY = 8;
/** Server suggests continue-as-new after this many history events (default 4,096). */
const SUGGEST_AT = 400;
/** The server refuses signals past this many per run (default 10,000). */
const MAX_SIGNALS_PER_RUN = 4_000;
const SN = { user: 'svc', password: 'sn-pass-continueAsNew-0001' };
const JIRA = { email: 'bot@example.com', token: 'jira-token-continueAsNew-0001' };
const CALLBACK_SECRET = 'callback-secret-continueAsNew-01';

jest.setTimeout(240_000);

describe('continue-as-new under 10,000 correlated signals', () => {
  let server: DevServer;
  let pd: PagerDutyDouble;
  let sn: ServiceNowDouble;
  let jira: JiraDouble;
  let probectl: ProbectlDouble;
  let stack: TestStack;
  const dbFile = join(__dirname, '..', '..', 'test-artifacts', `temporal-can-${process.pid}.sqlite`);
  const tenant = uniqueId('longlived');

  beforeAll(async () => {
    server = await startDevServer({
      cli: findTemporalCli(),
      dbFile,
      extraArgs: [
        '--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${SUGGEST_AT}`,
        '--dynamic-config-value', `history.maximumSignalsPerExecution=${MAX_SIGNALS_PER_RUN}`,
      ],
    });
    pd = await new PagerDutyDouble().start();
    sn = await new ServiceNowDouble(SN).start();
    jira = await new JiraDouble({ email: JIRA.email, apiToken: JIRA.token }).start();
    probectl = await new ProbectlDouble(CALLBACK_SECRET).start();
    probectl.faults.before = () => ({ status: 401, body: { error: 'bad signature' } });
    sn.faults.before = (r) => (r.method === 'POST' ? { status: 503, body: 'maintenance' } : undefined);
    let jiraCreates = 0;
    jira.faults.before = (r) => {
      if (r.method !== 'POST' || !r.path.endsWith('/issue')) return undefined;
      jiraCreates += 1;
      return jiraCreates === 1 ? { status: 400, body: { errorMessages: ['project OPS is archived'] } } : { status: 503, body: 'maintenance' };
    };
    stack = await startStack({
      temporalAddress: server.address,
      env: {
        PROBECTL_NOTIFY_CONNECTORS: [
          `${tenant}|pagerduty|${pd.url}/v2/enqueue|${ROUTING_KEY}`,
          `${tenant}|servicenow|${sn.url}|${SN.user}:${SN.password}`,
          `${tenant}|jira|${jira.url}/rest/api/2/issue?project=OPS|${JIRA.email}:${JIRA.token}`,
        ].join(','),
        PROBECTL_NOTIFY_CALLBACK_URL: `${probectl.url}/hooks/notify`,
        PROBECTL_NOTIFY_CALLBACK_SECRET: CALLBACK_SECRET,
        PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '0s',
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
    await sn?.stop();
    await jira?.stop();
    await probectl?.stop();
    await server?.stop();
    for (const suffix of ['', '-wal', '-shm']) rmSync(dbFile + suffix, { force: true });
  });

  test('continues-as-new, counts every signal, answers queries, and resolves afterwards', async () => {
    const inc = incidentFor(tenant);
    const key = `probectl-${inc.id}`;
    await stack.incidents.openIncident(inc);
    const link = async (id: string) => (await stack.incidents.getIncident(inc.id)).links.find((l) => l.connectorId === id);
    await eventually(async () => (await link('pagerduty'))?.status === 'open', { what: 'the page' });
    // Work in flight that a switch must not wait for: the ServiceNow create retried against 503s; the Jira
    // create refused, then re-driven into 503s; an acknowledgement whose callback probectl keeps refusing.
    await eventually(async () => (await link('jira'))?.status === 'failed', { what: 'the refused Jira create' });
    await stack.incidents.acknowledge(inc.id, { tenantId: tenant, source: 'pagerduty', actor: 'erin', at: new Date().toISOString() });
    await stack.client.workflow.getHandle(key).signal('redrive', { tenantId: tenant, connectorId: 'jira', actor: 'ops', at: new Date().toISOString() });
    await eventually(async () => (await link('jira'))?.status === 'pending', { what: 'the redrive in flight' });
    // On a timeout, say what the workflow was waiting for (this wait once timed out inside the full suite only).
    const explained = async <T>(wait: Promise<T>): Promise<T> => wait.catch(async (err: unknown) => {
      const d = await stack.client.workflow.getHandle(key).describe().catch(() => undefined);
      const pending = (d?.raw.pendingActivities ?? []).map((a) => `${a.activityType?.name} attempt ${a.attempt} ${a.state} ${a.lastFailure?.message ?? ''}`);
      const followUps = await withTenant(stack.pool, tenant, (c) => c.query('SELECT kind, due_at, done_at, attempts, outcome, task_queue FROM follow_ups WHERE tenant_id = $1', [tenant])).then((r) => r.rows, (e: Error) => e.message);
      process.stderr.write(`continue-as-new: pending activities: ${JSON.stringify(pending)}; follow-up rows: ${JSON.stringify(followUps)} (task queue ${stack.config.temporal.taskQueue}); SN requests ${sn.requests.map((r) => r.method).join(',')}; last log lines:\n${stack.logLines.slice(-30).join('')}\n`);
      throw err;
    });
    await explained(eventually(() => sn.requests.some((r) => r.method === 'POST'), { what: 'the ServiceNow create failing', timeoutMs: 90_000 }));
    await explained(eventually(() => probectl.requests.length > 0, { what: 'the acknowledgement callback failing', timeoutMs: 90_000 }));

    // 10,000 signals, at most CONCURRENCY in flight; a few repeated signal ids on top must not count twice.
    const started = Date.now();
    let next = 0;
    const send = async () => {
      for (let i = next++; i < SIGNALS; i = next++) {
        await stack.incidents.correlate(inc.id, { tenantId: tenant, signalId: `sig-${i}`, summary: `flap ${i}`, at: new Date().toISOString() });
        if (i % 2500 === 0) await stack.incidents.correlate(inc.id, { tenantId: tenant, signalId: `sig-${i}`, at: new Date().toISOString() });
      }
    };
    const progress = setInterval(() => process.stderr.write(`PROGRESS sent=${next}\n`), 10_000);
    await Promise.all(Array.from({ length: CONCURRENCY }, send)).finally(() => clearInterval(progress));
    process.stderr.write(`PROGRESS stream done\n`);
    const sendSeconds = (Date.now() - started) / 1000;

    // Every signal counted, the query answering on the latest run.
    const state = await eventually(
      async () => {
        const s = (await stack.incidents.getIncident(inc.id)) as { correlationCount?: number; status: string };
        return s.correlationCount === SIGNALS ? s : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: `correlationCount === ${SIGNALS}` },
    );
    expect(state.status).toBe('acknowledged');

    // It continued-as-new: several runs under one workflow id.
    const runs: string[] = [];
    for await (const w of stack.client.workflow.list({ query: `WorkflowId = '${key}'` })) runs.push(w.runId);
    expect(runs.length).toBeGreaterThan(3);

    // Search attributes and current details carried on to the latest run.
    const handle = stack.client.workflow.getHandle(key);
    const d = await handle.describe();
    expect(d.typedSearchAttributes.get(STATUS)).toBe('acknowledged');
    expect(d.typedSearchAttributes.get(PROVIDERS)).toEqual(['jira', 'pagerduty', 'servicenow']);
    expect(d.typedSearchAttributes.get(EXTERNAL_REFS)).toEqual([key]);
    const meta = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(meta.currentDetails).toContain(`**Correlated signals:** ${SIGNALS}`);
    expect(meta.currentDetails).toMatch(/\| PagerDuty \| probectl-.* \| acknowledged \|/);
    // The outside systems were still failing the whole time: the switches did not wait for them.
    expect(sn.tickets).toEqual([]);
    expect(jira.issues).toEqual([]);
    expect(probectl.events).toEqual([]);

    // The Postgres timeline holds every correlated signal exactly once.
    await eventually(
      async () => {
        const r = await withTenant(stack.pool, tenant, (c) =>
          c.query<{ n: number; d: number }>(
            `SELECT count(*)::int AS n, count(DISTINCT detail)::int AS d FROM incident_timeline WHERE tenant_id = $1 AND incident_id = $2 AND kind = 'correlated'`,
            [tenant, inc.id],
          ),
        );
        return r.rows[0]!.n === SIGNALS && r.rows[0]!.d === SIGNALS;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'every correlated row in Postgres' },
    );
    const timeline = await stack.mirror.timeline(tenant, inc.id);
    expect(timeline.filter((t) => t.kind === 'correlated')).toHaveLength(SIGNALS);
    expect(new Set(timeline.map((t) => t.seq)).size).toBe(timeline.length);

    // Resolve still fans out after all those runs (the outside systems recover; the open calls are cancelled).
    sn.faults = {};
    jira.faults = {};
    probectl.faults = {};
    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', actor: 'alice', at: new Date().toISOString() });
    const result = await stack.incidents.result(inc.id);
    expect(result).toMatchObject({ source: 'probectl', actor: 'alice' });
    expect(result.links.find((l) => l.connectorId === 'pagerduty')).toMatchObject({ status: 'resolved' });
    // No run came near the limits: each switched long before 10,000 events and before the per-run signal limit.
    const lengths: number[] = [];
    for await (const w of stack.client.workflow.list({ query: `WorkflowId = '${key}'` })) {
      lengths.push((await stack.client.workflow.getHandle(key, w.runId).fetchHistory()).events?.length ?? 0);
    }
    expect(Math.max(...lengths)).toBeLessThan(10_000);
    expect(Math.max(...lengths)).toBeLessThan(MAX_SIGNALS_PER_RUN * 2);
    // The acknowledgement reached probectl once it accepted callbacks again (the runner retries it).
    await eventually(() => probectl.accepted().some((e) => e.type === 'incident.acknowledged'), { timeoutMs: 90_000, what: 'the acknowledgement callback' });
    const alerts = pd.alerts.filter((a) => a.dedupKey === key);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.status).toBe('resolved');
    expect(pd.events('trigger').filter((r) => (r.json as { dedup_key?: string }).dedup_key === key)).toHaveLength(1);
    console.log(`continue-as-new: ${SIGNALS} signals sent in ${sendSeconds.toFixed(1)} s, ${runs.length} runs`);
  }, 300_000);
});
