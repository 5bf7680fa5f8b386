/**
 * Records the histories that test/replay/replay.test.ts replays: real incident lifecycles on a real dev
 * server (its own, with a lowered continue-as-new suggestion) with the sandbox doubles.
 *
 *   RECORD_HISTORIES=1 npx jest --runInBand --testMatch '**\/test/replay/record-histories.ts'
 *
 * (`npm run record:histories`.) With RECORD_HISTORIES=1 the files are written to test/histories/ (commit
 * them); without it they go to test-artifacts/histories/ (a dry run). The file name is not `*.test.ts`, so
 * the normal suite never runs it. Histories are written with historyToJSON (proto3 JSON, int64 as strings),
 * never JSON.stringify of the proto objects.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { OpsgenieDouble } from '../../src/sandbox/doubles/opsgenie';
import { PagerDutyDouble } from '../../src/sandbox/doubles/pagerduty';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import { findTemporalCli, startDevServer, type DevServer } from '../setup/temporal-server';

const ROOT = join(__dirname, '..', '..');
const OUT = process.env.RECORD_HISTORIES === '1' ? join(ROOT, 'test', 'histories') : join(ROOT, 'test-artifacts', 'histories');
const PD_KEY = 'R0UT1NGKEYrecordedHistories00001';
const OG_KEY = 'og-key-recorded-histories-0000001';

jest.setTimeout(180_000);

async function save(client: Client, workflowId: string, name: string): Promise<number[]> {
  const runs: { runId: string; start: number }[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push({ runId: w.runId, start: w.startTime.getTime() });
  runs.sort((a, b) => a.start - b.start);
  const counts: number[] = [];
  for (const [i, r] of runs.entries()) {
    const history = await client.workflow.getHandle(workflowId, r.runId).fetchHistory();
    const file = runs.length === 1 ? `${name}.json` : `${name}.run-${i + 1}.json`;
    // Stable ids in the committed files: the replayer takes the workflow id from the caller.
    writeFileSync(join(OUT, file), `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 1)}\n`);
    counts.push(history.events?.length ?? 0);
  }
  return counts;
}

describe('record incident lifecycles for the replay tests', () => {
  let server: DevServer;
  let pd: PagerDutyDouble;
  let og: OpsgenieDouble;
  let stack: TestStack;
  const dbFile = join(ROOT, 'test-artifacts', `temporal-record-${process.pid}.sqlite`);
  const tenant = uniqueId('recorded');
  /** A tenant with PagerDuty only: the smallest lifecycle. */
  const single = uniqueId('single');
  const summary: Record<string, number[]> = {};

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    server = await startDevServer({
      cli: findTemporalCli(),
      dbFile,
      // Low enough that the continue-as-new lifecycle switches runs a few times, high enough that the
      // others (about 100 events) stay in one run.
      extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=150'],
    });
    pd = await new PagerDutyDouble().start();
    og = await new OpsgenieDouble({ apiKey: OG_KEY, processingMs: 0 }).start();
    stack = await startStack({
      temporalAddress: server.address,
      env: {
        PROBECTL_NOTIFY_CONNECTORS: [
          `${tenant}|pagerduty|${pd.url}/v2/enqueue|${PD_KEY}`,
          `${tenant}|opsgenie|${og.url}/v2/alerts|${OG_KEY}`,
          `${single}|pagerduty|${pd.url}/v2/enqueue|${PD_KEY}`,
        ].join(','),
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
    await og?.stop();
    await server?.stop();
    for (const suffix of ['', '-wal', '-shm']) rmSync(dbFile + suffix, { force: true });
    console.log(`histories written to ${OUT}: ${JSON.stringify(summary)}`);
  });

  const openAndWait = async (overrides = {}, t = tenant, links = 2) => {
    const inc = incidentFor(t, overrides);
    await stack.incidents.openIncident(inc);
    await eventually(async () => {
      const v = await stack.incidents.getIncident(inc.id);
      return v.links.length === links && v.links.every((l) => l.status === 'open');
    }, { what: 'open links' });
    return inc;
  };

  test('one connector: open and resolve (the smallest history)', async () => {
    const inc = await openAndWait({}, single, 1);
    await stack.incidents.resolve(inc.id, { tenantId: single, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(inc.id);
    summary['one-connector-resolve'] = await save(stack.client, `probectl-${inc.id}`, 'one-connector-resolve');
  });

  test('plain resolve: open on two connectors, resolve from the API', async () => {
    const inc = await openAndWait();
    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'api', actor: 'alice', reason: 'fixed', at: new Date().toISOString() });
    await stack.incidents.result(inc.id);
    summary['plain-resolve'] = await save(stack.client, `probectl-${inc.id}`, 'plain-resolve');
  });

  test('inbound resolve: acknowledged and resolved at PagerDuty, the origin is skipped', async () => {
    const inc = await openAndWait();
    await stack.incidents.acknowledge(inc.id, { tenantId: tenant, source: 'pagerduty', actor: 'bob', at: new Date().toISOString() });
    await eventually(async () => (await stack.incidents.getIncident(inc.id)).timeline.some((t) => t.kind === 'connector.acknowledged'), { what: 'ack fan-out' });
    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'pagerduty', actor: 'bob', at: new Date().toISOString() });
    const result = await stack.incidents.result(inc.id);
    expect(result.source).toBe('pagerduty');
    const timeline = await stack.mirror.timeline(tenant, inc.id);
    expect(timeline.map((t) => t.kind)).toContain('origin.skipped');
    summary['inbound-resolve'] = await save(stack.client, `probectl-${inc.id}`, 'inbound-resolve');
  });

  test('continue-as-new: correlated signals across several runs, then resolve', async () => {
    const inc = await openAndWait({ severity: 'error' });
    const key = `probectl-${inc.id}`;
    for (let i = 0; i < 300; i++) {
      await stack.incidents.correlate(inc.id, { tenantId: tenant, signalId: `sig-${i}`, summary: `flap ${i}`, at: new Date().toISOString() });
    }
    await eventually(async () => (await stack.incidents.getIncident(inc.id) as { correlationCount?: number }).correlationCount === 300, { what: 'all signals' });
    let runs = 0;
    await eventually(async () => {
      runs = 0;
      for await (const _ of stack.client.workflow.list({ query: `WorkflowId = '${key}'` })) runs += 1;
      return runs >= 2;
    }, { what: 'a continue-as-new' });
    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(inc.id);
    summary['continue-as-new'] = await save(stack.client, key, 'continue-as-new');
    expect(summary['continue-as-new']!.length).toBeGreaterThanOrEqual(2);
  });
});
