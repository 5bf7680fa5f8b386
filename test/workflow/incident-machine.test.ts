/**
 * The incident workflow (state-machine path) on the real dev server with stubbed activities: every transition
 * and the races — resolve racing open, acknowledge racing resolve, signals during continue-as-new, a
 * continue-as-new that interrupts calls in flight — with short injected delays. What the provider calls do is
 * tested elsewhere (e2e); here only what the workflow decides, and what its history costs.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { ConnectorRef } from '../../src/config/connectors';
import { initialState as legacyInitial } from '../../src/workflows/legacy/state-v1';
import { eventually } from '../helpers/shared';
import { findTemporalCli, startDevServer, type DevServer } from '../setup/temporal-server';
import { incidentOf, refused, startHarness, type Call, type Harness } from './harness';

jest.setTimeout(120_000);

const SIX: ConnectorRef[] = [
  { id: 'pagerduty', provider: 'pagerduty' },
  { id: 'opsgenie', provider: 'opsgenie' },
  { id: 'slack', provider: 'slack' },
  { id: 'teams', provider: 'teams' },
  { id: 'servicenow', provider: 'servicenow' },
  { id: 'jira', provider: 'jira' },
];
const at = () => new Date().toISOString();
const of = (calls: Call[], name: string, connectorId?: string) => calls.filter((c) => c.name === name && (!connectorId || c.input.connectorId === connectorId));
const openLinks = async (h: Harness, id: string, n: number) =>
  eventually(async () => ((await h.state(id)) as { links: Array<{ status: string }> }).links.filter((l) => l.status === 'open').length === n, { what: `${n} open links` });

/** PagerDuty refuses every open (400, naming its attempt); every other open succeeds. */
const pagerRefused = (on: Harness) => {
  on.script.openConnector = (c) => {
    if (c.input.connectorId === 'pagerduty') throw refused('PagerDuty trigger: HTTP 400: invalid routing key', c.attempt);
    return { externalRef: `${c.input.connectorId}-ref`, recorded: true, followUpsRecorded: true };
  };
};

describe('the state machine on the dev server (stubbed activities)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ connectors: SIX });
  });
  afterAll(async () => {
    await h?.stop();
  });
  beforeEach(() => {
    for (const k of Object.keys(h.script)) delete h.script[k];
  });
  afterEach(() => h.releaseAll());

  test('six connectors, open and an inbound resolve: each call records itself; history within budget, no timer, no mirror activity', async () => {
    const inc = incidentOf();
    await h.start(inc);
    await openLinks(h, inc.id, 6);
    await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'servicenow', actor: 'bob', at: at() });
    const result = await h.result(inc.id);
    expect(result).toMatchObject({ source: 'servicenow', actor: 'bob' });
    const calls = h.calls.filter((c) => c.input.incident?.id === inc.id);
    expect(of(calls, 'openConnector').map((c) => c.input.connectorId).sort()).toEqual(SIX.map((c) => c.id).sort());
    expect(of(calls, 'resolveConnector').map((c) => c.input.connectorId).sort()).toEqual(['jira', 'opsgenie', 'pagerduty', 'slack', 'teams']);
    // every provider call carried its record spec; pagers asked for their second resolve as a follow-up
    for (const c of [...of(calls, 'openConnector'), ...of(calls, 'resolveConnector')]) expect(c.input.record).toMatchObject({ chain: expect.any(String), actionId: expect.any(String) });
    expect(of(calls, 'resolveConnector', 'pagerduty')[0]!.input.reResolve).toMatchObject({ afterMs: 300 });
    expect(of(calls, 'resolveConnector', 'slack')[0]!.input.reResolve).toBeUndefined();
    // the callback follow-up (the source was not probectl) rides with the resolve calls: no write of the workflow's own
    const followUps = of(calls, 'resolveConnector').flatMap((c) => c.input.record.owed.followUps.map((f: { key: string; kind: string }) => `${f.kind}:${f.key}`));
    expect(new Set(followUps).size).toBe(1);
    expect([...new Set(followUps)][0]).toMatch(/^callback:.*:callback:resolved$/);
    expect(of(calls, 'recordIncident')).toEqual([]);
    expect(of(calls, 'reportToProbectl')).toEqual([]); // the runner delivers it, not the workflow
    const hist = await h.history(inc.id);
    console.log(`six-connector open + inbound resolve: ${hist.events} events, ${hist.workflowTasks} workflow tasks, ${hist.timers} timers, markers ${JSON.stringify(hist.markers)}`);
    expect(hist.activities.filter((a) => a === 'writeMirror' || a === 'recordIncident')).toEqual([]);
    expect(hist.timers).toBe(0);
    // Nothing but decisions: the start, the patch (marker + version upsert), the begin local activity, 11 provider
    // calls (scheduled, started, completed), two search-attribute upserts, the resolve signal, the completion — and
    // three events per workflow task. How many tasks the completions need depends on timing; fewer than 11 always.
    expect(hist.events).toBe(41 + 3 * hist.workflowTasks);
    expect(hist.workflowTasks).toBeLessThan(11);
  });

  test('resolve racing an open: the held open is cancelled and waited for; its link is resolved by key afterwards', async () => {
    const inc = incidentOf();
    const pd = h.hold('openConnector', 'pagerduty');
    await h.start(inc);
    await openLinks(h, inc.id, 5);
    expect(pd.held()).toBe(1);
    await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'api', at: at() });
    await h.result(inc.id);
    const calls = h.calls.filter((c) => c.input.incident?.id === inc.id);
    const [resolvePd] = of(calls, 'resolveConnector', 'pagerduty');
    expect(resolvePd?.input.externalRef).toBeUndefined(); // the open never answered: resolved by its dedup key
    const state = await h.state(inc.id);
    expect(state.timeline.map((e: { detail?: string }) => e.detail)).toContain('open cancelled: the incident was resolved first');
    expect(pd.held()).toBe(0); // the cancellation reached the held call
  });

  test('acknowledge racing resolve: the resolve fan-out waits for the acknowledgement in flight', async () => {
    const inc = incidentOf();
    await h.start(inc);
    await openLinks(h, inc.id, 6);
    const og = h.hold('acknowledgeConnector', 'opsgenie');
    await h.signal(inc.id, 'acknowledge', { tenantId: 'acme', source: 'pagerduty', actor: 'erin', at: at() });
    // The resolve goes once the acknowledgement is in flight: a resolve in the same workflow task as the acknowledge
    // finds it not yet scheduled, and an acknowledgement not yet scheduled is moot (state.ts resolve), so a busy
    // machine that delivered both signals to one task would never start it.
    await eventually(() => og.held() === 1, { what: 'the held acknowledgement' });
    await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'api', at: at() });
    await new Promise((r) => setTimeout(r, 500));
    const mine = () => h.calls.filter((c) => c.input.incident?.id === inc.id);
    expect(of(mine(), 'resolveConnector')).toEqual([]); // none while the acknowledgement runs
    og.release();
    await h.result(inc.id);
    expect(of(mine(), 'acknowledgeConnector').map((c) => c.input.connectorId)).toEqual(['opsgenie']); // not the origin
    expect(of(mine(), 'resolveConnector')).toHaveLength(6);
    const records = mine().flatMap((c) => (c.input.payload ?? c.input.record?.owed)?.followUps ?? []).map((f: { key: string }) => f.key);
    expect(new Set(records.filter((k: string) => k.endsWith(':callback:acknowledged'))).size).toBe(1);
  });

  test('redrive: a refused open is re-opened on request, then resolved', async () => {
    const inc = incidentOf();
    let first = true;
    h.script.openConnector = (c) => {
      if (c.input.connectorId === 'jira' && first) {
        first = false;
        throw refused('Jira create: HTTP 400: project OPS does not exist');
      }
      return { externalRef: `${c.input.connectorId}-ref`, recorded: true, followUpsRecorded: true };
    };
    await h.start(inc);
    await eventually(async () => (await h.state(inc.id)).links.find((l: { connectorId: string }) => l.connectorId === 'jira')?.status === 'failed', { what: 'the failed link' });
    await h.signal(inc.id, 'redrive', { tenantId: 'acme', connectorId: 'jira', actor: 'ops', at: at() });
    await openLinks(h, inc.id, 6);
    await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'api', at: at() });
    const result = await h.result(inc.id);
    expect(result.links.find((l: { connectorId: string }) => l.connectorId === 'jira')).toMatchObject({ status: 'resolved', externalRef: 'jira-ref' });
    expect(of(h.calls.filter((c) => c.input.incident?.id === inc.id), 'openConnector', 'jira')).toHaveLength(2);
  });

  test('refused opens (refused-opens-v1): no resolve to a link whose open the provider refused; one that failed otherwise still gets one', async () => {
    const inc = incidentOf();
    // The activity's own failures as the workflow sees them once attempts stop: refusals naming their attempt, as the
    // activity throws them; a 503 on the last attempt (non-retryable here so that the stub stops at once).
    const endings: Record<string, (attempt: number) => ApplicationFailure> = {
      pagerduty: (n) => refused('PagerDuty trigger: HTTP 400: invalid routing key', n),
      slack: (n) => refused('Slack post: HTTP 403', n, 'AuthRejected'),
      jira: () => ApplicationFailure.create({ type: 'ProviderUnavailable', message: 'Jira create: HTTP 503 (attempts stopped)', nonRetryable: true }),
      // A refusal on a retry: its first attempt (a 503) may have landed.
      teams: (n) => (n === 1 ? ApplicationFailure.create({ type: 'ProviderUnavailable', message: 'Teams post: HTTP 503', nonRetryable: false }) : refused('Teams post: HTTP 400', n)),
    };
    h.script.openConnector = (c) => {
      const e = endings[c.input.connectorId as string];
      if (e) throw e(c.attempt);
      return { externalRef: `${c.input.connectorId}-ref`, recorded: true, followUpsRecorded: true };
    };
    await h.start(inc);
    await eventually(async () => (await h.state(inc.id)).links.filter((l: { status: string }) => l.status === 'failed').length === 4, { timeoutMs: 30_000, what: 'four failed links' });
    await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'servicenow', at: at() });
    const result = await h.result(inc.id);
    const calls = h.calls.filter((c) => c.input.incident?.id === inc.id);
    // The 503 and the refusal on a retry may have landed: resolved like any link. The first-try 400 and 403 made nothing: left alone.
    expect(of(calls, 'openConnector', 'teams').map((c) => c.attempt)).toEqual([1, 2]);
    expect(of(calls, 'resolveConnector').map((c) => c.input.connectorId).sort()).toEqual(['jira', 'opsgenie', 'teams']);
    expect(Object.fromEntries(result.links.map((l: { connectorId: string; status: string }) => [l.connectorId, l.status])))
      .toMatchObject({ pagerduty: 'failed', slack: 'failed', servicenow: 'resolved', opsgenie: 'resolved', teams: 'resolved', jira: 'resolved' });
    const state = await h.state(inc.id);
    const skipped = state.timeline.filter((e: { kind: string; detail?: string }) => e.kind === 'connector.skipped' && /refused/.test(e.detail ?? ''));
    expect(skipped.map((e: { connectorId: string }) => e.connectorId).sort()).toEqual(['pagerduty', 'slack']);
    // Asked once, at the fan-out; the pager's second resolve is not owed for a page that never existed.
    expect((await h.history(inc.id)).patches.filter((p) => p === 'refused-opens-v1')).toHaveLength(1);
    expect(of(calls, 'resolveConnector', 'pagerduty')).toEqual([]);
  });

  // The runs in which a refusal on attempt 1 may follow a request this history does not hold (docs/workflow-contract.md
  // "Links", patch earlier-runs-resolve-v1): a run started again after the incident's earlier run ended without
  // completing (the client's `again`), and a run made by a reset — whether the reset re-runs the open (to the first task)
  // or keeps its refusal from before the reset point (to the last task before the resolve). Each on this harness's
  // worker and on one with no workflow cache, whose every task replays the run from its start (after an eviction or a
  // restart: a replay that must ask the patch as the live task did).
  const refusedAndFiveOpen = (on: Harness, id: string) => eventually(async () => {
    const links = ((await on.state(id)) as { links: Array<{ connectorId: string; status: string }> }).links;
    return links.find((l) => l.connectorId === 'pagerduty')?.status === 'failed' && links.filter((l) => l.status === 'open').length === 5;
  }, { timeoutMs: 30_000, what: 'PagerDuty refused, five open' });
  async function resolvedAll(on: Harness, id: string) {
    await on.signal(id, 'resolve', { tenantId: 'acme', source: 'api', at: at() });
    const result = await on.result(id);
    expect(Object.fromEntries(result.links.map((l: { connectorId: string; status: string }) => [l.connectorId, l.status])))
      .toEqual(Object.fromEntries(SIX.map((c) => [c.id, 'resolved'])));
    const calls = on.calls.filter((c) => c.input.incident?.id === id);
    expect(of(calls, 'resolveConnector', 'pagerduty')).toHaveLength(1);
    const state = await on.state(id);
    expect(state.timeline.filter((e: { kind: string }) => e.kind === 'connector.skipped')).toEqual([]);
    return { calls, patches: (await on.history(id)).patches };
  }
  /** This harness, or one like it with no workflow cache (stopped afterwards). */
  async function withWorker<T>(cache: 'cache' | 'no cache', fn: (on: Harness) => Promise<T>): Promise<T> {
    if (cache === 'cache') return fn(h);
    const uncached = await startHarness({ connectors: SIX, maxCachedWorkflows: 0 });
    try {
      return await fn(uncached);
    } finally {
      await uncached.stop();
    }
  }

  test.each(['cache', 'no cache'] as const)('a run started again after an ended run (`again`), worker with %s: the refusal on attempt 1 is resolved (earlier-runs-resolve-v1)', async (cache) => {
    await withWorker(cache, async (on) => {
      const inc = incidentOf();
      pagerRefused(on);
      await on.start(inc, undefined, undefined, { again: true });
      await refusedAndFiveOpen(on, inc.id);
      const { calls, patches } = await resolvedAll(on, inc.id);
      expect(of(calls, 'openConnector', 'pagerduty').map((c) => c.attempt)).toEqual([1]);
      expect(patches).toEqual(['state-machine-v1', 'earlier-runs-resolve-v1']);
    });
  });

  test.each([
    ['the first workflow task', 'first', 'cache'], ['the last task before the resolve', 'last', 'cache'],
    ['the first workflow task', 'first', 'no cache'], ['the last task before the resolve', 'last', 'no cache'],
  ] as const)('a run made by a reset to %s (%s), worker with %s: the refusal on attempt 1 is resolved (earlier-runs-resolve-v1)', async (_what, point, cache) => {
    await withWorker(cache, async (on) => {
      const inc = incidentOf();
      pagerRefused(on);
      const runId = await on.start(inc);
      await refusedAndFiveOpen(on, inc.id);
      const handle = on.client.workflow.getHandle(`probectl-${inc.id}`);
      const completed = ((await handle.fetchHistory()).events ?? []).filter((e) => e.workflowTaskCompletedEventAttributes);
      const finish = point === 'first' ? completed[0]! : completed.at(-1)!;
      await on.client.workflowService.resetWorkflowExecution({
        namespace: 'default', workflowExecution: { workflowId: `probectl-${inc.id}`, runId },
        workflowTaskFinishEventId: finish.eventId, requestId: `reset-${inc.id}`, reason: `test: reset to ${point}`,
      });
      await eventually(async () => (await handle.describe()).runId !== runId, { what: 'the reset run' });
      const pagerOpens = () => of(on.calls.filter((c) => c.input.incident?.id === inc.id), 'openConnector', 'pagerduty');
      // To the first task: the reset run begins again and makes the open again, refused on its own attempt 1.
      if (point === 'first') await eventually(async () => pagerOpens().length === 2, { what: 'the open made again' });
      await refusedAndFiveOpen(on, inc.id);
      const { patches } = await resolvedAll(on, inc.id);
      expect(pagerOpens().map((c) => c.attempt)).toEqual(point === 'first' ? [1, 1] : [1]);
      expect(patches).toEqual(['state-machine-v1', 'earlier-runs-resolve-v1']);
    });
  });

  // A reset to a task after the fan-out was decided (the release before decided it; or this release, in a run not
  // made by a reset): the reset run replays that decision — the link left alone under refused-opens-v1 — and goes on;
  // nothing is decided again, and a worker with no cache replays it the same way.
  test.each(['cache', 'no cache'] as const)('a run reset to a task after its fan-out left a refused link alone, worker with %s: it stays alone; no nondeterminism', async (cache) => {
    await withWorker(cache, async (on) => {
      const inc = incidentOf();
      pagerRefused(on);
      const held = on.hold('resolveConnector', 'jira');
      const runId = await on.start(inc);
      await refusedAndFiveOpen(on, inc.id);
      await on.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'api', at: at() });
      await eventually(async () => held.held() === 1, { what: 'the fan-out decided, Jira\'s resolve held' });
      const handle = on.client.workflow.getHandle(`probectl-${inc.id}`);
      // A task completed after the one that decided the fan-out (the one that scheduled the resolves): resetting to it
      // keeps the decision in the reset run's history.
      const after = await eventually(async () => {
        const events = (await handle.fetchHistory()).events ?? [];
        const decided = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'resolveConnector')?.eventId;
        return events.filter((e) => e.workflowTaskCompletedEventAttributes && decided && Number(e.eventId) > Number(decided)).at(-1)?.eventId ?? undefined;
      }, { what: 'a task completed after the fan-out' });
      await on.client.workflowService.resetWorkflowExecution({
        namespace: 'default', workflowExecution: { workflowId: `probectl-${inc.id}`, runId },
        workflowTaskFinishEventId: after, requestId: `reset-${inc.id}`, reason: 'test: reset after the fan-out',
      });
      await eventually(async () => (await handle.describe()).runId !== runId, { what: 'the reset run' });
      held.release();
      // Completed within a deadline: a nondeterminism would fail the reset run's tasks again and again instead.
      await eventually(async () => (await handle.describe()).status.name === 'COMPLETED', { timeoutMs: 30_000, what: 'the reset run completed' });
      const result = await on.result(inc.id);
      expect(Object.fromEntries(result.links.map((l: { connectorId: string; status: string }) => [l.connectorId, l.status])))
        .toEqual({ ...Object.fromEntries(SIX.map((c) => [c.id, 'resolved'])), pagerduty: 'failed' });
      expect(of(on.calls.filter((c) => c.input.incident?.id === inc.id), 'resolveConnector', 'pagerduty')).toEqual([]);
      const hist = await on.history(inc.id);
      expect(hist.patches).toEqual(['state-machine-v1', 'refused-opens-v1']);
      // The one failed task is the reset's own: none failed on a nondeterminism.
      const Cause = temporal.api.enums.v1.WorkflowTaskFailedCause;
      const causes = ((await handle.fetchHistory()).events ?? []).flatMap((e) => (e.workflowTaskFailedEventAttributes ? [Cause[e.workflowTaskFailedEventAttributes.cause ?? 0]] : []));
      expect(causes).toEqual(['WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW']);
    });
  });

  test('Postgres down: calls cannot record; the workflow writes what they could not and runs the follow-ups itself', async () => {
    const inc = incidentOf();
    let recordFailures = 0;
    h.script.openConnector = (c) => ({ externalRef: `${c.input.connectorId}-ref`, recorded: false, followUpsRecorded: false });
    h.script.resolveConnector = (c) => (c.input.record ? { recorded: false, followUpsRecorded: false, found: true } : { found: true });
    h.script.recordIncident = () => {
      if (recordFailures < 4) {
        recordFailures += 1;
        throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      }
      return { followUpsRecorded: false };
    };
    await h.start(inc);
    await openLinks(h, inc.id, 6);
    await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'jira', at: at() });
    await h.result(inc.id);
    const calls = h.calls.filter((c) => c.input.incident?.id === inc.id);
    // the pagers' second resolves, made by the workflow itself (no record spec), once each, after the delay
    const second = of(calls, 'resolveConnector').filter((c) => !c.input.record);
    expect(second.map((c) => c.input.connectorId).sort()).toEqual(['opsgenie', 'pagerduty']);
    // the callback, delivered by the workflow itself
    const reports = h.calls.filter((c) => c.name === 'reportToProbectl' && c.input.incidentId === inc.id);
    expect(reports.map((c) => c.input.type)).toEqual(['incident.resolved']);
    // sent after the fan-out, with its final links
    expect(reports[0]!.input.links.filter((l: { status: string }) => l.status === 'resolved')).toHaveLength(6);
    // every outcome the calls could not record reached Postgres through the workflow's own writes
    const written = of(calls, 'recordIncident').slice(-10).flatMap((c) => c.input.payload.entries.map((e: { kind: string; connectorId?: string }) => `${e.kind}:${e.connectorId ?? ''}`));
    for (const c of SIX) expect(written).toContain(`connector.opened:${c.id}`);
    expect(recordFailures).toBe(4);
  });

  test('a ticket whose create was still in flight at the resolve: not found, then closed by a second lookup', async () => {
    const inc = incidentOf();
    const sn = h.hold('openConnector', 'servicenow');
    let lookups = 0;
    h.script.resolveConnector = (c) => {
      if (c.input.connectorId !== 'servicenow') return { recorded: true, followUpsRecorded: true, found: true };
      lookups += 1;
      return lookups === 1 ? { recorded: true, followUpsRecorded: false, found: false } : { found: true };
    };
    h.script.recordIncident = () => ({ followUpsRecorded: false }); // no follow-up store: the workflow runs it
    await h.start(inc);
    await openLinks(h, inc.id, 5);
    await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'api', at: at() });
    const result = await h.result(inc.id);
    expect(sn.held()).toBe(0);
    expect(lookups).toBe(2);
    expect(result.links.find((l: { connectorId: string }) => l.connectorId === 'servicenow')?.status).toBe('resolved');
    const state = await h.state(inc.id);
    expect(state.timeline.map((e: { detail?: string }) => e.detail)).toEqual(expect.arrayContaining(['no ticket found yet: a second lookup-and-close follows', 'closed by lookup-and-close pass 2']));
  });

  test('a signal from another tenant, or malformed, is refused and recorded; nothing changes', async () => {
    const inc = incidentOf();
    await h.start(inc);
    await openLinks(h, inc.id, 6);
    await h.signal(inc.id, 'resolve', { tenantId: 'globex', source: 'api', at: at() });
    await h.signal(inc.id, 'correlate', { tenantId: 'acme', at: at() });
    await eventually(async () => (await h.state(inc.id)).timeline.filter((e: { kind: string }) => e.kind === 'signal.rejected').length === 2);
    expect((await h.state(inc.id)).status).toBe('open');
    await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'probectl', at: at() });
    expect((await h.result(inc.id)).source).toBe('probectl');
  });

  test('already resolved in the mirror: completes at once, opens nothing', async () => {
    const h2 = await startHarness({ connectors: SIX, mirror: { available: true, record: { status: 'resolved', resolutionSource: 'jira', links: [] } } });
    try {
      const inc = incidentOf();
      await h2.start(inc);
      expect((await h2.result(inc.id)).source).toBe('jira');
      expect(of(h2.calls, 'openConnector')).toEqual([]);
      const hist = await h2.history(inc.id);
      // begin, then the one write of what it decided (the already.resolved entry): two workflow tasks
      expect(hist.activities).toEqual(['recordIncident']);
      expect(hist.workflowTasks).toBe(2);
      expect(of(h2.calls, 'recordIncident')[0]!.input.payload.entries.map((e: { kind: string }) => e.kind)).toEqual(['already.resolved']);
      expect(hist.patches).not.toContain('resolved-left-open-v1');
    } finally {
      await h2.stop();
    }
  });

  test('resolved in the mirror with links left open (an earlier run ended mid-fan-out): those links are resolved, the origin is not called, probectl is told', async () => {
    const links = [
      { connectorId: 'jira', provider: 'jira', status: 'resolved', externalRef: 'OPS-1', updatedAt: at() },
      { connectorId: 'pagerduty', provider: 'pagerduty', status: 'open', externalRef: 'probectl-x', updatedAt: at() },
      { connectorId: 'opsgenie', provider: 'opsgenie', status: 'resolved', updatedAt: at() },
      { connectorId: 'servicenow', provider: 'servicenow', status: 'acknowledged', externalRef: 'INC0001', updatedAt: at() },
    ];
    const h2 = await startHarness({ connectors: SIX, mirror: { available: true, record: { status: 'resolved', resolutionSource: 'jira', links } } });
    try {
      const inc = incidentOf();
      await h2.start(inc);
      expect((await h2.result(inc.id)).source).toBe('jira');
      expect(of(h2.calls, 'openConnector')).toEqual([]);
      expect(of(h2.calls, 'resolveConnector').map((c) => c.input.connectorId).sort()).toEqual(['pagerduty', 'servicenow']);
      const followUps = of(h2.calls, 'resolveConnector').flatMap((c) => c.input.record.owed.followUps.map((f: { kind: string; event?: { eventId: string } }) => `${f.kind}:${f.event?.eventId ?? ''}`));
      // The same event id the earlier run's callback had: probectl takes it once.
      expect([...new Set(followUps)]).toEqual([`callback:probectl-${inc.id}/incident.resolved`]);
      const hist = await h2.history(inc.id);
      expect(hist.patches).toContain('resolved-left-open-v1');
    } finally {
      await h2.stop();
    }
  });

  test('reconciliation: a ticket found resolved at the provider resolves the incident from that connector', async () => {
    const h2 = await startHarness({ connectors: SIX, settings: { reconcileIntervalMs: 300 } });
    try {
      const inc = incidentOf();
      h2.script.checkConnector = (c) => (c.input.connectorId === 'jira' ? 'resolved' : 'open');
      await h2.start(inc);
      const result = await h2.result(inc.id);
      expect(result).toMatchObject({ source: 'jira', reason: 'resolved at the provider (reconciliation)' });
      expect(of(h2.calls, 'resolveConnector').map((c) => c.input.connectorId)).not.toContain('jira');
    } finally {
      await h2.stop();
    }
  });

  test.each([
    ['a newer version', { v: 99, incident: {}, links: {} }],
    ['a legacy-looking state without its pending records', { incident: {}, links: {} }],
    ['a value that is no state', 'v2'],
  ])('carried state this build does not know (%s) fails the workflow task: nothing begins or pages, the run waits for a build that knows it', async (_what, carried) => {
    const inc = incidentOf();
    await h.start(inc, carried);
    const id = `probectl-${inc.id}`;
    await eventually(async () => {
      const history = await h.client.workflow.getHandle(id).fetchHistory();
      return (history.events ?? []).some((e) => e.workflowTaskFailedEventAttributes?.failure?.message?.includes('carried state of an unknown version'));
    }, { what: 'a failed workflow task naming the unknown state' });
    expect((await h.client.workflow.getHandle(id).describe()).status.name).toBe('RUNNING');
    expect(h.calls.filter((c) => c.input.incident?.id === inc.id)).toEqual([]);
    expect((await h.history(inc.id)).activities).toEqual([]);
    await h.client.workflow.getHandle(id).terminate('test over');
  });

  test('a run of the legacy workflow hands over: its links and unwritten entries carry on in the state machine', async () => {
    const inc = incidentOf();
    const old = legacyInitial(inc);
    old.begun = true;
    old.connectors = SIX.slice(0, 2);
    old.links = {
      pagerduty: { connectorId: 'pagerduty', provider: 'pagerduty', status: 'open', externalRef: `probectl-${inc.id}`, updatedAt: at() },
      opsgenie: { connectorId: 'opsgenie', provider: 'opsgenie', status: 'open', externalRef: `probectl-${inc.id}`, updatedAt: at() },
    };
    old.correlationCount = 3;
    old.pending = { timeline: [{ seq: 9, at: at(), kind: 'correlated', detail: 'sig-9' }], linkIds: [], incident: false };
    old.nextSeq = 10;
    const chain = await h.start(inc, old);
    await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'api', at: at() });
    await h.result(inc.id);
    const calls = h.calls.filter((c) => c.input.incident?.id === inc.id);
    expect(of(calls, 'openConnector')).toEqual([]); // nothing is opened again
    expect(of(calls, 'resolveConnector').map((c) => c.input.connectorId).sort()).toEqual(['opsgenie', 'pagerduty']);
    const keys = [...of(calls, 'recordIncident'), ...of(calls, 'resolveConnector')].flatMap((c) => (c.input.payload ?? c.input.record?.owed)?.entries ?? []).map((e: { key: string }) => e.key);
    expect(keys).toContain(`${chain}:v1-9`);
    expect((await h.state(inc.id)).correlationCount).toBe(3);
  });
});

describe('continue-as-new under signals, with calls in flight (a dev server suggesting it after 60 events)', () => {
  let server: DevServer;
  let h: Harness;
  const dbFile = join(__dirname, '..', '..', 'test-artifacts', `temporal-wf-can-${process.pid}.sqlite`);
  beforeAll(async () => {
    server = await startDevServer({ cli: findTemporalCli(), dbFile, extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=60'] });
    h = await startHarness({ connectors: SIX, temporalAddress: server.address });
  });
  afterAll(async () => {
    await h?.stop();
    await server?.stop();
    for (const suffix of ['', '-wal', '-shm']) rmSync(dbFile + suffix, { force: true });
  });

  test('signals during the switch are never lost; a resolve among them is delivered; every correlated entry is written once', async () => {
    const inc = incidentOf();
    await h.start(inc);
    await openLinks(h, inc.id, 6);
    const N = 300;
    let next = 0;
    // Signals after the completion fail (the workflow is closed): each sender stops at its first failure.
    const send = async () => {
      try {
        for (let i = next++; i < N; i = next++) {
          await h.signal(inc.id, 'correlate', { tenantId: 'acme', signalId: `s-${i}`, at: at() });
          if (i === 200) await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'probectl', at: at() });
        }
      } catch {
        next = N;
      }
    };
    await Promise.all(Array.from({ length: 6 }, send));
    const result = await h.result(inc.id);
    expect(result.source).toBe('probectl');
    const hist = await h.history(inc.id);
    expect(hist.runs).toBeGreaterThan(1);
    const state = await h.state(inc.id);
    // every correlated signal delivered before the completion is counted, and its entry is written exactly once
    const written = h.calls.filter((c) => c.input.incident?.id === inc.id)
      .flatMap((c) => (c.input.payload ?? c.input.record?.owed)?.entries ?? []).filter((e: { kind: string }) => e.kind === 'correlated');
    const keys = written.map((e: { key: string }) => e.key);
    expect(new Set(keys).size).toBe(state.correlationCount);
    // written by the workflow's own batched writes only, never along with a provider call
    expect(h.calls.filter((c) => c.input.incident?.id === inc.id && c.name !== 'recordIncident').flatMap((c) => c.input.record?.owed?.entries ?? [])
      .filter((e: { kind: string }) => e.kind === 'correlated')).toEqual([]);
    expect(state.correlationCount).toBeGreaterThanOrEqual(201);
  });

  test('an open re-issued after a switch and refused on its attempt 1 is still resolved: the interrupted attempt may have landed', async () => {
    const inc = incidentOf();
    let pdCalls = 0;
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((r) => (releaseFirst = r));
    h.script.openConnector = async (c) => {
      if (c.input.connectorId === 'pagerduty' && c.input.incident?.id === inc.id) {
        if (pdCalls++ === 0) {
          await firstHeld; // the first run's attempt: its answer never reaches a run
          throw refused('PagerDuty trigger: HTTP 400 (late)', c.attempt);
        }
        throw refused('PagerDuty trigger: HTTP 400', c.attempt); // the re-issued open, on its own attempt 1
      }
      return { externalRef: `${c.input.connectorId}-ref`, recorded: true, followUpsRecorded: true };
    };
    try {
      await h.start(inc);
      await openLinks(h, inc.id, 5);
      for (let i = 0; i < 40; i++) await h.signal(inc.id, 'correlate', { tenantId: 'acme', signalId: `r-${i}`, at: at() });
      await eventually(async () => (await h.history(inc.id)).runs > 1, { what: 'a continue-as-new while the page is held' });
      await eventually(async () => (await h.state(inc.id)).links.find((l: { connectorId: string }) => l.connectorId === 'pagerduty')?.status === 'failed', { what: 'the re-issued open refused' });
      const mine = () => h.calls.filter((c) => c.input.incident?.id === inc.id);
      expect(of(mine(), 'openConnector', 'pagerduty').map((c) => c.attempt)).toEqual([1, 1]);
      await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'probectl', at: at() });
      await h.result(inc.id);
      // Resolved (once as an action; a further switch while it was in flight re-issues the same action).
      const resolves = of(mine(), 'resolveConnector', 'pagerduty');
      expect(resolves.length).toBeGreaterThanOrEqual(1);
      expect(new Set(resolves.map((c) => c.input.record.actionId)).size).toBe(1);
      expect((await h.history(inc.id)).patches).toEqual([]);
    } finally {
      releaseFirst();
      delete h.script.openConnector;
    }
  });

  /** Every patch the chain asked, run by run from `firstRun` along each continue-as-new (no visibility query: it lags). */
  async function chainPatches(id: string, firstRun: string): Promise<string[]> {
    const asked: string[] = [];
    for (let runId: string | undefined = firstRun; runId;) {
      const events: temporal.api.history.v1.IHistoryEvent[] = (await h.client.workflow.getHandle(`probectl-${id}`, runId).fetchHistory()).events ?? [];
      for (const e of events) {
        const m = e.markerRecordedEventAttributes;
        if (m?.markerName === 'core_patch') asked.push((JSON.parse(Buffer.from(m.details!['patch-data']!.payloads![0]!.data!).toString('utf8')) as { id: string }).id);
      }
      runId = events.find((e) => e.workflowExecutionContinuedAsNewEventAttributes)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    return asked;
  }

  test('a chain with no earlier run continues as new with its refused link: a continued run is not taken for a reset, so the link is left alone', async () => {
    const inc = incidentOf();
    pagerRefused(h);
    try {
      const firstRun = await h.start(inc);
      await openLinks(h, inc.id, 5);
      // The refusal settled before the switch (else the next run would re-issue the open, which is then resolved).
      await eventually(async () => (await h.state(inc.id)).links.find((l: { connectorId: string }) => l.connectorId === 'pagerduty')?.status === 'failed', { what: 'the refused page' });
      for (let i = 0; i < 40; i++) await h.signal(inc.id, 'correlate', { tenantId: 'acme', signalId: `p-${i}`, at: at() });
      await eventually(async () => (await h.history(inc.id)).runs > 1, { what: 'a continue-as-new' });
      await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'probectl', at: at() });
      const result = await h.result(inc.id);
      expect(result.links.find((l: { connectorId: string }) => l.connectorId === 'pagerduty')?.status).toBe('failed');
      expect(of(h.calls.filter((c) => c.input.incident?.id === inc.id), 'resolveConnector', 'pagerduty')).toEqual([]);
      expect((await chainPatches(inc.id, firstRun)).sort()).toEqual(['refused-opens-v1', 'state-machine-v1']);
    } finally {
      delete h.script.openConnector;
    }
  });

  test('a run started again (`again`) continues as new with its refused link: the next run, carrying `earlier`, still resolves it', async () => {
    const inc = incidentOf();
    pagerRefused(h);
    try {
      const firstRun = await h.start(inc, undefined, undefined, { again: true });
      await openLinks(h, inc.id, 5);
      for (let i = 0; i < 40; i++) await h.signal(inc.id, 'correlate', { tenantId: 'acme', signalId: `e-${i}`, at: at() });
      await eventually(async () => (await h.history(inc.id)).runs > 1, { what: 'a continue-as-new' });
      // The continued run's start input has no `again`: what it knows comes from the carried state.
      const started = ((await h.client.workflow.getHandle(`probectl-${inc.id}`).fetchHistory()).events ?? [])[0]!.workflowExecutionStartedEventAttributes!;
      const input = JSON.parse(Buffer.from(started.input!.payloads![0]!.data!).toString('utf8')) as { again?: boolean; carried?: { earlier?: boolean; refused?: Record<string, string> } };
      expect({ again: input.again, earlier: input.carried?.earlier, refused: Object.keys(input.carried?.refused ?? {}) }).toEqual({ again: undefined, earlier: true, refused: ['pagerduty'] });
      await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'probectl', at: at() });
      await h.result(inc.id);
      expect(of(h.calls.filter((c) => c.input.incident?.id === inc.id), 'resolveConnector', 'pagerduty').length).toBeGreaterThanOrEqual(1);
      // Asked once in the whole chain, by the run that decided the fan-out (a later switch may re-issue its resolve).
      expect((await chainPatches(inc.id, firstRun)).sort()).toEqual(['earlier-runs-resolve-v1', 'state-machine-v1']);
    } finally {
      delete h.script.openConnector;
    }
  });

  test('a switch never waits for calls in flight: the next run re-issues them (a ticket create only after the guard)', async () => {
    const inc = incidentOf();
    const sn = h.hold('openConnector', 'servicenow');
    const pd = h.hold('openConnector', 'pagerduty');
    await h.start(inc);
    await openLinks(h, inc.id, 4);
    for (let i = 0; i < 40; i++) await h.signal(inc.id, 'correlate', { tenantId: 'acme', signalId: `c-${i}`, at: at() });
    await eventually(async () => (await h.history(inc.id)).runs > 1, { what: 'a continue-as-new while two opens are held' });
    const mine = () => h.calls.filter((c) => c.input.incident?.id === inc.id);
    await eventually(() => of(mine(), 'openConnector', 'servicenow').length === 2 && of(mine(), 'openConnector', 'pagerduty').length === 2, { what: 're-issued opens' });
    const [, snAgain] = of(mine(), 'openConnector', 'servicenow');
    const [, pdAgain] = of(mine(), 'openConnector', 'pagerduty');
    expect(snAgain!.input.notBefore).toEqual(expect.any(String)); // no provider-side key: after the guard
    expect(pdAgain!.input.notBefore).toBeUndefined(); // PagerDuty's dedup key makes a re-sent trigger harmless
    expect(snAgain!.input.record.actionId).toBe(of(mine(), 'openConnector', 'servicenow')[0]!.input.record.actionId); // same action, same keys
    sn.release();
    pd.release();
    await openLinks(h, inc.id, 6);
    await h.signal(inc.id, 'resolve', { tenantId: 'acme', source: 'probectl', at: at() });
    expect((await h.result(inc.id)).links.every((l: { status: string }) => l.status === 'resolved')).toBe(true);
  });
});
