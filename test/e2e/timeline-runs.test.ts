/**
 * Every way a run starts leaves a complete, ordered timeline in Postgres: a run started again after a
 * terminated one (on 528100c its entries were numbered from 1 again and silently dropped on conflict with the
 * first run's), a start for an incident the mirror already holds as resolved, and runs joined by
 * continue-as-new. Complete means: every entry each run recorded is there once, in the order it happened.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { OpsgenieDouble } from '../../dev/doubles/opsgenie';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import type { TimelineEntry } from '../../src/shared/contract';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import { findTemporalCli, startDevServer, type DevServer } from '../setup/temporal-server';

const PD_KEY = 'R0UT1NGKEYtimelineRuns0000000001';
const OG_KEY = 'og-key-timeline-runs-000000000001';

function expectOrdered(timeline: TimelineEntry[]): void {
  expect(timeline.map((t) => t.seq)).toEqual(timeline.map((_, i) => i + 1));
  const at = timeline.map((t) => Date.parse(t.at));
  expect(at).toEqual([...at].sort((a, b) => a - b));
}

const kinds = (t: TimelineEntry[]) => t.map((e) => `${e.kind}${e.connectorId ? `:${e.connectorId}` : ''}`);

describe('the Postgres timeline across run starts', () => {
  let pd: PagerDutyDouble;
  let og: OpsgenieDouble;
  let stack: TestStack;
  const tenant = uniqueId('runs');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    og = await new OpsgenieDouble({ apiKey: OG_KEY, processingMs: 0 }).start();
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${PD_KEY},${tenant}|opsgenie|${og.url}/v2/alerts|${OG_KEY}`,
        PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '0s',
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await og?.stop();
    await pd?.stop();
  });

  const openLinks = (id: string) => eventually(async () => {
    const r = await stack.mirror.read(tenant, id);
    return r?.links.filter((l) => l.status === 'open').length === 2;
  }, { what: 'two open links in the mirror' });

  test('a run started again after a terminated one adopts the links and keeps both runs\' entries', async () => {
    const inc = incidentFor(tenant);
    await stack.incidents.openIncident(inc);
    await openLinks(inc.id);
    const first = await eventually(async () => {
      const t = await stack.mirror.timeline(tenant, inc.id);
      return t.filter((e) => e.kind === 'connector.opened').length === 2 ? t : undefined;
    }, { what: 'the first run\'s entries' });
    await stack.client.workflow.getHandle(`probectl-${inc.id}`).terminate('test: the run is lost');
    // A failed or terminated run may be started again (ALLOW_DUPLICATE_FAILED_ONLY).
    expect((await stack.incidents.openIncident(inc)).outcome).toBe('started');
    await eventually(async () => (await stack.incidents.getIncident(inc.id)).timeline.filter((e) => e.kind === 'connector.adopted').length === 2, { what: 'adopted links' });
    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(inc.id);
    const timeline = await eventually(async () => {
      const t = await stack.mirror.timeline(tenant, inc.id);
      return t.filter((e) => e.kind === 'connector.resolved').length === 2 ? t : undefined;
    }, { what: 'the second run\'s entries' });
    expectOrdered(timeline);
    // the first run's entries, untouched, then the second run's — none dropped
    expect(kinds(timeline.slice(0, first.length))).toEqual(kinds(first));
    expect(kinds(timeline.slice(first.length)).sort()).toEqual([
      'connector.adopted:opsgenie', 'connector.adopted:pagerduty', 'connector.resolved:opsgenie', 'connector.resolved:pagerduty', 'opened', 'resolved',
    ]);
    expect(timeline.find((e, i) => i >= first.length && e.kind === 'opened')?.detail).toMatch(/started again/);
    // nothing was paged twice
    expect(pd.alerts.filter((a) => a.dedupKey === `probectl-${inc.id}`)).toEqual([expect.objectContaining({ triggers: 1 })]);
  });

  test('a start for an incident the mirror holds as resolved opens nothing and records why', async () => {
    const inc = incidentFor(tenant);
    const at = new Date().toISOString();
    // What Temporal's retention leaves behind: the mirror rows of a resolved incident, no execution.
    await stack.mirror.record({
      incident: inc, status: 'resolved', resolution: { at, source: 'opsgenie', actor: 'erin' },
      links: [{ connectorId: 'opsgenie', provider: 'opsgenie', status: 'resolved', externalRef: `probectl-${inc.id}`, updatedAt: at }],
      entries: [{ key: `earlier:${inc.id}:resolved`, at, kind: 'resolved', source: 'opsgenie', actor: 'erin' }],
    });
    await stack.incidents.openIncident(inc);
    const result = await stack.incidents.result(inc.id);
    expect(result).toMatchObject({ source: 'opsgenie', actor: 'erin' });
    const timeline = await eventually(async () => {
      const t = await stack.mirror.timeline(tenant, inc.id);
      return t.some((e) => e.kind === 'already.resolved') ? t : undefined;
    }, { what: 'the already.resolved entry' });
    expectOrdered(timeline);
    expect(kinds(timeline)).toEqual(['resolved', 'already.resolved']);
    expect(pd.requests.filter((r) => (r.json as { dedup_key?: string } | undefined)?.dedup_key === `probectl-${inc.id}`)).toEqual([]);
  });
});

describe('the Postgres timeline across continue-as-new (a dev server suggesting it after 80 events)', () => {
  let server: DevServer;
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const tenant = uniqueId('canruns');
  const dbFile = join(__dirname, '..', '..', 'test-artifacts', `temporal-tl-can-${process.pid}.sqlite`);

  beforeAll(async () => {
    server = await startDevServer({ cli: findTemporalCli(), dbFile, extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=80'] });
    pd = await new PagerDutyDouble().start();
    stack = await startStack({
      temporalAddress: server.address,
      env: { PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${PD_KEY}`, PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '0s' },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
    await server?.stop();
    for (const suffix of ['', '-wal', '-shm']) rmSync(dbFile + suffix, { force: true });
  });

  test('every run\'s entries, once each, in order', async () => {
    const inc = incidentFor(tenant);
    await stack.incidents.openIncident(inc);
    await eventually(async () => (await stack.incidents.getIncident(inc.id)).links[0]?.status === 'open', { what: 'the page' });
    const N = 150;
    for (let i = 0; i < N; i++) await stack.incidents.correlate(inc.id, { tenantId: tenant, signalId: `s-${i}`, summary: `flap ${i}`, at: new Date().toISOString() });
    let runs = 0;
    await eventually(async () => {
      runs = 0;
      for await (const _ of stack.client.workflow.list({ query: `WorkflowId = 'probectl-${inc.id}'` })) runs += 1;
      return runs > 1;
    }, { what: 'a continue-as-new' });
    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(inc.id);
    const timeline = await eventually(async () => {
      const t = await stack.mirror.timeline(tenant, inc.id);
      return t.some((e) => e.kind === 'connector.resolved') && t.filter((e) => e.kind === 'correlated').length === N ? t : undefined;
    }, { what: 'the whole timeline' });
    expectOrdered(timeline);
    const correlated = timeline.filter((e) => e.kind === 'correlated').map((e) => e.detail);
    expect(new Set(correlated).size).toBe(N);
    expect(kinds(timeline).filter((k) => k !== 'correlated')).toEqual(['opened', 'connector.opened:pagerduty', 'resolved', 'connector.resolved:pagerduty']);
  });
});
