/**
 * A long-lived incident: 10,000 correlated signals to one incident on a dev server whose continue-as-new
 * suggestion is lowered, so the workflow switches runs many times while signals keep arriving. Every signal
 * is counted (state and Postgres), the state query keeps answering, search attributes and current details
 * carry on, and the resolve still fans out.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { withTenant } from '../../src/db/tenant-tx';
import { PagerDutyDouble } from '../../src/sandbox/doubles/pagerduty';
import { EXTERNAL_REFS, PROVIDERS, STATUS } from '../../src/workflows/search-attributes';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import { findTemporalCli, startDevServer, type DevServer } from '../setup/temporal-server';

const ROUTING_KEY = 'R0UT1NGKEYcontinueAsNew000000001';
const SIGNALS = 10_000;
const CONCURRENCY = 8;
/** Server suggests continue-as-new after this many history events (default 4,096). */
const SUGGEST_AT = 400;

jest.setTimeout(240_000);

describe('continue-as-new under 10,000 correlated signals', () => {
  let server: DevServer;
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const dbFile = join(__dirname, '..', '..', 'test-artifacts', `temporal-can-${process.pid}.sqlite`);
  const tenant = uniqueId('longlived');

  beforeAll(async () => {
    server = await startDevServer({
      cli: findTemporalCli(),
      dbFile,
      extraArgs: ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${SUGGEST_AT}`],
    });
    pd = await new PagerDutyDouble().start();
    stack = await startStack({
      temporalAddress: server.address,
      env: { PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${ROUTING_KEY}` },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
    await server?.stop();
    for (const suffix of ['', '-wal', '-shm']) rmSync(dbFile + suffix, { force: true });
  });

  test('continues-as-new, counts every signal, answers queries, and resolves afterwards', async () => {
    const inc = incidentFor(tenant);
    const key = `probectl-${inc.id}`;
    await stack.incidents.openIncident(inc);
    await eventually(async () => (await stack.incidents.getIncident(inc.id)).links[0]?.status === 'open', { what: 'the page' });

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
    expect(state.status).toBe('open');

    // It continued-as-new: several runs under one workflow id.
    const runs: string[] = [];
    for await (const w of stack.client.workflow.list({ query: `WorkflowId = '${key}'` })) runs.push(w.runId);
    expect(runs.length).toBeGreaterThan(3);

    // Search attributes and current details carried on to the latest run.
    const handle = stack.client.workflow.getHandle(key);
    const d = await handle.describe();
    expect(d.typedSearchAttributes.get(STATUS)).toBe('open');
    expect(d.typedSearchAttributes.get(PROVIDERS)).toEqual(['pagerduty']);
    expect(d.typedSearchAttributes.get(EXTERNAL_REFS)).toEqual([key]);
    const meta = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(meta.currentDetails).toContain(`**Correlated signals:** ${SIGNALS}`);
    expect(meta.currentDetails).toMatch(/\| PagerDuty \| probectl-.* \| open \|/);

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

    // Resolve still fans out after all those runs.
    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', actor: 'alice', at: new Date().toISOString() });
    const result = await stack.incidents.result(inc.id);
    expect(result).toMatchObject({ source: 'probectl', actor: 'alice' });
    expect(result.links).toEqual([expect.objectContaining({ connectorId: 'pagerduty', status: 'resolved' })]);
    const alerts = pd.alerts.filter((a) => a.dedupKey === key);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.status).toBe('resolved');
    expect(pd.events('trigger').filter((r) => (r.json as { dedup_key?: string }).dedup_key === key)).toHaveLength(1);
    console.log(`continue-as-new: ${SIGNALS} signals sent in ${sendSeconds.toFixed(1)} s, ${runs.length} runs`);
  });
});
