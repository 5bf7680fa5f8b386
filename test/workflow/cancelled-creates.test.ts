/**
 * No post or ticket after its resolve (patch `cancelled-creates-wait-v1`, docs/workflow-contract.md "Long-lived
 * incidents"): the real workflow on the dev server with stubbed activities. A create without a provider-side key whose
 * earlier attempt may still land — re-issued after a continue-as-new interrupted it (its `notBefore`), or the fallback
 * of a local first attempt cut by its 3 s limit (its timer) — and a resolve that cancels it in that window: the fan-out
 * waits until the window has ended, also across a continue-as-new during the wait, and the patch is asked once. The
 * family as plain transitions: test/unit/workflow-cancelled-creates.test.ts.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import type { temporal } from '@temporalio/proto';
import type { ConnectorRef } from '../../src/config/connectors';
import { workerBuildId } from '../../src/runtime/build-id';
import { eventually, sleep } from '../helpers/shared';
import { findTemporalCli, startDevServer, type DevServer } from '../setup/temporal-server';
import { incidentOf, startHarness, type Call, type Harness } from './harness';

jest.setTimeout(120_000);

const CONNECTORS: ConnectorRef[] = [
  { id: 'pagerduty', provider: 'pagerduty' },
  { id: 'slack', provider: 'slack' },
  { id: 'jira', provider: 'jira' },
];
const PATCH = 'cancelled-creates-wait-v1';
const at = () => new Date().toISOString();
const of = (calls: Call[], name: string, connectorId?: string) => calls.filter((c) => c.name === name && (!connectorId || c.input.connectorId === connectorId));
/** Clock slack between the workflow's time (its task's start) and the activity's Date.now() on this one machine. */
const SLACK_MS = 250;

/** Every patch the chain asked, run by run from `firstRun` along each continue-as-new. */
async function chainPatches(h: Harness, id: string, firstRun: string): Promise<{ patches: string[]; runs: number }> {
  const patches: string[] = [];
  let runs = 0;
  for (let runId: string | undefined = firstRun; runId; runs++) {
    const events: temporal.api.history.v1.IHistoryEvent[] = (await h.client.workflow.getHandle(`probectl-${id}`, runId).fetchHistory()).events ?? [];
    for (const e of events) {
      const m = e.markerRecordedEventAttributes;
      if (m?.markerName === 'core_patch') patches.push((JSON.parse(Buffer.from(m.details!['patch-data']!.payloads![0]!.data!).toString('utf8')) as { id: string }).id);
    }
    runId = events.find((e) => e.workflowExecutionContinuedAsNewEventAttributes)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return { patches, runs };
}

describe('a create re-issued after a continue-as-new, cancelled by the resolve while it waits (a dev server suggesting continue-as-new after 60 events)', () => {
  let server: DevServer;
  let h: Harness;
  const dbFile = join(__dirname, '..', '..', 'test-artifacts', `temporal-wf-cancelled-creates-${process.pid}.sqlite`);
  beforeAll(async () => {
    server = await startDevServer({ cli: findTemporalCli(), dbFile, extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=60'] });
    h = await startHarness({ connectors: CONNECTORS, temporalAddress: server.address, settings: { reissueGuardMs: 20_000 } });
  });
  afterAll(async () => {
    await h?.stop();
    await server?.stop();
    for (const suffix of ['', '-wal', '-shm']) rmSync(dbFile + suffix, { force: true });
  });
  afterEach(() => h.releaseAll());

  /** Correlated signals, five at a time, until the chain (walked from its first run; visibility lags) has `runs` runs. */
  const correlateUntil = async (id: string, firstRun: string, prefix: string, runs: number) => {
    for (let i = 0; (await chainPatches(h, id, firstRun)).runs < runs; i += 5) {
      if (i >= 300) throw new Error('continue-as-new was never suggested');
      for (let j = i; j < i + 5; j++) await h.signal(id, 'correlate', { tenantId: 'acme', signalId: `${prefix}-${j}`, at: at() });
    }
  };

  test.each([
    ['no further continue-as-new', false],
    ['another continue-as-new during the wait (the next run carries it)', true],
  ])('Slack and Jira re-issued not before their guard, the resolve cancels them: every resolve waits for the guard; %s', async (_what, again) => {
    const inc = incidentOf();
    const mine = () => h.calls.filter((c) => c.input.incident?.id === inc.id);
    h.hold('openConnector', 'slack');
    h.hold('openConnector', 'jira');
    const firstRun = await h.start(inc);
    await eventually(async () => (await h.state(inc.id)).links.some((l: { connectorId: string; status: string }) => l.connectorId === 'pagerduty' && l.status === 'open'), { what: 'the page open' });
    await correlateUntil(inc.id, firstRun, 'a', 2);
    // The next run re-issues both creates, not before the guard (the interrupted attempts certainly stopped then).
    await eventually(() => of(mine(), 'openConnector', 'slack').length === 2 && of(mine(), 'openConnector', 'jira').length === 2, { what: 're-issued creates' });
    const notBefore = Math.max(...['slack', 'jira'].map((c) => Date.parse(of(mine(), 'openConnector', c)[1]!.input.notBefore as string)));
    expect(notBefore - Date.now()).toBeGreaterThan(12_000);
    const { runs } = await chainPatches(h, inc.id, firstRun);
    await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'api', at: at() });
    if (again) {
      await eventually(async () => (await chainPatches(h, inc.id, firstRun)).patches.includes(PATCH), { what: 'the wait decided' });
      await correlateUntil(inc.id, firstRun, 'b', runs + 1);
      expect(Date.now()).toBeLessThan(notBefore); // the switch came during the wait
    }
    const result = await h.result(inc.id);
    expect(result.links.map((l: { connectorId: string; status: string }) => `${l.connectorId}:${l.status}`).sort()).toEqual(['jira:resolved', 'pagerduty:resolved', 'slack:resolved']);
    const resolves = of(mine(), 'resolveConnector');
    expect([...new Set(resolves.map((c) => c.input.connectorId))].sort()).toEqual(['jira', 'pagerduty', 'slack']);
    // No resolve before the interrupted attempts certainly stopped: a late post or ticket cannot follow its resolve.
    expect(resolves.filter((r) => r.at < notBefore - SLACK_MS).map((r) => `${r.input.connectorId}: ${notBefore - r.at} ms early`)).toEqual([]);
    // Asked once in the whole chain, by the run that decided to wait; a run continued during the wait carries it.
    const chain = await chainPatches(h, inc.id, firstRun);
    expect(chain.patches.sort()).toEqual([PATCH, 'state-machine-v1']);
    // (The low threshold may switch once more after the fan-out, with the resolves in flight: they are re-issued.)
    expect(chain.runs).toBeGreaterThanOrEqual(again ? runs + 1 : runs);
  });
});

describe('the fallback of a local first attempt cut by its limit, cancelled by the resolve during its timer', () => {
  const D = 'cccccccccccccccc';
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ connectors: CONNECTORS, buildId: workerBuildId({ code: 'the code' }, D) });
  });
  afterAll(async () => {
    await h?.stop();
  });

  test('Slack and Jira attempts cut at 3 s: the resolve during their 8 s fallback timers cancels them, and every resolve waits until the timers would have ended', async () => {
    const inc = incidentOf();
    const mine = () => h.calls.filter((c) => c.input.incident?.id === inc.id);
    // The local attempts of the post and the ticket outlive their 3 s limit (as a slow provider's); the page answers.
    h.script.openConnector = async (c) => {
      if (Context.current().info.isLocal && c.input.connectorId !== 'pagerduty') await sleep(4_500);
      return { externalRef: `${c.input.connectorId}-ref`, recorded: true, followUpsRecorded: true };
    };
    const settings = { pagerReResolveDelayMs: 300, reconcileIntervalMs: 0, reissueGuardMs: 8_000, localFirstOpenMs: 3_000 };
    await h.start(inc, undefined, undefined, { checkedBegin: { configDigest: D, begin: { connectors: CONNECTORS, settings, mirror: { available: true } } } });
    await eventually(async () => (await h.history(inc.id)).timers >= 2, { what: 'the two fallback timers' });
    const local = of(mine(), 'openConnector', 'slack')[0]!;
    expect(Date.now() - local.at).toBeLessThan(7_000); // the timers are still running
    await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'api', at: at() });
    const result = await h.result(inc.id);
    expect(result.links.map((l: { connectorId: string; status: string }) => `${l.connectorId}:${l.status}`).sort()).toEqual(['jira:resolved', 'pagerduty:resolved', 'slack:resolved']);
    // The fallbacks never called (cancelled during their timers): one local attempt each.
    expect([of(mine(), 'openConnector', 'slack').length, of(mine(), 'openConnector', 'jira').length]).toEqual([1, 1]);
    // The timers began with the first task, whose time is no later than the local attempts: the window ends 8 s after.
    const resolves = of(mine(), 'resolveConnector');
    expect(resolves.map((c) => c.input.connectorId).sort()).toEqual(['jira', 'pagerduty', 'slack']);
    const windowEnd = local.at + 8_000;
    expect(resolves.filter((r) => r.at < windowEnd - SLACK_MS).map((r) => `${r.input.connectorId}: ${windowEnd - r.at} ms early`)).toEqual([]);
    const hist = await h.history(inc.id);
    expect(hist.patches).toEqual(['first-run-checked-v1', 'local-first-opens-v1', PATCH]);
    // The two fallback timers (cancelled) and the wait's own timer.
    expect(hist.timers).toBe(3);
    expect(hist.types.filter((t) => t === 'TIMER_CANCELED')).toHaveLength(2);
  });
});
