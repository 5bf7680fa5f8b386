/**
 * Determinism of the state-machine path where it is most fragile, checked on histories made here and replayed at
 * once against the same code (Worker.runReplayHistory): the begin local activity outliving its workflow task while
 * signals arrive; the Postgres-down path (the workflow's own writes, back-off timers and the follow-ups it carries
 * out itself); acknowledgements, re-drives and a resolve racing held calls with signals landing next to
 * completions; and a run of the legacy path, started before the deploy, that continues-as-new after it (its own
 * history replays through the dispatcher's patched() call, its next run takes the state machine from its state).
 * Every run of every chain is replayed.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { DefaultLogger, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { ConnectorRef } from '../../src/config/connectors';
import { TENANT_MEMO_KEY } from '../../src/client';
import { SEVERITY, STATUS, TENANT } from '../../src/workflows/search-attributes';
import { eventually, uniqueId } from '../helpers/shared';
import { findTemporalCli, startDevServer, type DevServer } from '../setup/temporal-server';
import { incidentOf, refused, startHarness, workflowBundle, type Harness } from './harness';
import { resultWithin } from './records';

jest.setTimeout(300_000);

const ROOT = join(__dirname, '..', '..');
const CONNECTORS: ConnectorRef[] = [
  { id: 'pagerduty', provider: 'pagerduty' },
  { id: 'opsgenie', provider: 'opsgenie' },
  { id: 'slack', provider: 'slack' },
  { id: 'jira', provider: 'jira' },
];
const at = () => new Date().toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Replay every run of the incident's chain against `bundle`; the errors, by run. */
async function replayChain(h: Harness, incidentId: string, bundle: WorkflowBundleWithSourceMap): Promise<Array<{ runId: string; events: number; error?: string }>> {
  const runs: string[] = [];
  for await (const w of h.client.workflow.list({ query: `WorkflowId = 'probectl-${incidentId}'` })) runs.push(w.runId);
  const out: Array<{ runId: string; events: number; error?: string }> = [];
  for (const runId of runs) {
    const history = await h.client.workflow.getHandle(`probectl-${incidentId}`, runId).fetchHistory();
    let error: string | undefined;
    try {
      await Worker.runReplayHistory({ workflowBundle: bundle, replayName: runId }, history);
    } catch (err) {
      error = (err as Error).message;
    }
    out.push({ runId, events: history.events?.length ?? 0, ...(error ? { error } : {}) });
  }
  return out;
}

/** The workflow code with `edit` applied to one file (relative to src/workflows), bundled. */
async function bundleEdited(dir: string, file: string, edit: (s: string) => string): Promise<WorkflowBundleWithSourceMap> {
  const wfDir = join(ROOT, 'src', 'workflows');
  const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : []));
  for (const f of files(wfDir)) {
    const rel = relative(wfDir, f);
    let text = readFileSync(f, 'utf8');
    if (rel === file) {
      const edited = edit(text);
      if (edited === text) throw new Error(`the edit did not apply to ${file}`);
      text = edited;
    }
    text = text.replace(/from '(\.{1,2}\/[^']+)'/g, (m, spec: string) => {
      const target = resolve(dirname(f), spec);
      return target.startsWith(`${wfDir}/`) ? m : `from '${target}'`;
    });
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return bundleWorkflowCode({ workflowsPath: join(dir, 'index.ts'), logger: new DefaultLogger('WARN') });
}

describe('histories of the state machine replay against the code that made them', () => {
  let server: DevServer;
  let h: Harness;
  let bundle: WorkflowBundleWithSourceMap;
  const dbFile = join(ROOT, 'test-artifacts', `temporal-wf-replay-${process.pid}.sqlite`);
  const scratch = join(ROOT, 'test-artifacts', `replay-harness-${process.pid}`);
  beforeAll(async () => {
    server = await startDevServer({ cli: findTemporalCli(), dbFile, extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=150'] });
    h = await startHarness({ connectors: CONNECTORS, temporalAddress: server.address });
    bundle = await workflowBundle();
  });
  afterAll(async () => {
    h?.releaseAll();
    await h?.stop();
    await server?.stop();
    for (const suffix of ['', '-wal', '-shm']) rmSync(dbFile + suffix, { force: true });
    rmSync(scratch, { recursive: true, force: true });
  });
  beforeEach(() => {
    for (const k of Object.keys(h.script)) delete h.script[k];
  });
  afterEach(() => h.releaseAll());

  test('the begin local activity outlives its workflow task while a correlate and a resolve arrive', async () => {
    const inc = incidentOf();
    const begin = h.hold('beginIncident', '');
    await h.client.workflow.start('incidentWorkflow', {
      workflowId: `probectl-${inc.id}`, taskQueue: h.taskQueue, args: [{ incident: inc }], workflowTaskTimeout: '2 seconds',
      memo: { [TENANT_MEMO_KEY]: inc.tenantId },
      typedSearchAttributes: [{ key: TENANT, value: inc.tenantId }, { key: STATUS, value: 'open' }, { key: SEVERITY, value: inc.severity }],
    });
    await eventually(() => begin.held() === 1, { what: 'the begin local activity under way' });
    await sleep(500);
    await h.signal(inc.id, 'correlate', { tenantId: inc.tenantId, signalId: 'during-begin', at: at() });
    await sleep(2_500); // past the workflow task timeout: the task was heartbeated at least once
    await h.signal(inc.id, 'resolve', { tenantId: inc.tenantId, source: 'probectl', at: at() });
    await sleep(2_000);
    begin.release();
    const result = await resultWithin(h.result(inc.id), 30_000, 'resolved during begin');
    expect(result.source).toBe('probectl');
    expect(h.calls.filter((c) => c.name === 'openConnector' && c.input.incident?.id === inc.id)).toEqual([]); // resolved before begin answered
    const hist = await h.history(inc.id);
    expect(hist.workflowTasks).toBeGreaterThan(2); // the local activity spanned several workflow tasks
    expect(await replayChain(h, inc.id, bundle)).toEqual([expect.not.objectContaining({ error: expect.anything() })]);
  });

  test('Postgres down: own writes with back-off, follow-ups carried out by the workflow', async () => {
    const inc = incidentOf();
    let recordFailures = 0;
    h.script.openConnector = (c) => ({ externalRef: `${c.input.connectorId}-ref`, recorded: false, followUpsRecorded: false });
    h.script.resolveConnector = (c) => (c.input.record ? { recorded: false, followUpsRecorded: false, found: c.input.connectorId !== 'jira' } : { found: true });
    h.script.recordIncident = () => {
      if (recordFailures++ < 3) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      return { followUpsRecorded: false };
    };
    await h.start(inc);
    await eventually(async () => (await h.state(inc.id)).links.filter((l: { status: string }) => l.status === 'open').length === 4);
    await h.signal(inc.id, 'acknowledge', { tenantId: inc.tenantId, source: 'opsgenie', at: at() });
    for (let i = 0; i < 5; i++) await h.signal(inc.id, 'correlate', { tenantId: inc.tenantId, signalId: `c${i}`, at: at() });
    await h.signal(inc.id, 'resolve', { tenantId: inc.tenantId, source: 'slack', at: at() });
    await resultWithin(h.result(inc.id), 60_000, 'the Postgres-down lifecycle');
    expect(h.calls.filter((c) => c.name === 'reportToProbectl' && c.input.incidentId === inc.id).length).toBeGreaterThan(0); // the workflow's own follow-ups ran
    expect(await replayChain(h, inc.id, bundle)).toEqual([expect.not.objectContaining({ error: expect.anything() })]);
  });

  test('acknowledgements, a re-drive and a resolve racing held calls, with signals next to completions', async () => {
    const inc = incidentOf();
    let jiraOpens = 0;
    h.script.openConnector = (c) => {
      if (c.input.connectorId === 'jira' && jiraOpens++ === 0) throw refused('Jira create: HTTP 400');
      return { externalRef: `${c.input.connectorId}-ref`, recorded: true, followUpsRecorded: true };
    };
    const slack = h.hold('openConnector', 'slack');
    await h.start(inc);
    await eventually(async () => (await h.state(inc.id)).links.find((l: { connectorId: string }) => l.connectorId === 'jira')?.status === 'failed');
    const og = h.hold('acknowledgeConnector', 'opsgenie');
    await h.signal(inc.id, 'acknowledge', { tenantId: inc.tenantId, source: 'api', at: at() });
    await eventually(() => og.held() === 1);
    await h.signal(inc.id, 'redrive', { tenantId: inc.tenantId, connectorId: 'jira', at: at() });
    // releases and signals at once, so some land in the same workflow task as the completions
    await Promise.all([
      (async () => og.release())(),
      h.signal(inc.id, 'correlate', { tenantId: inc.tenantId, signalId: 'x1', at: at() }),
      h.signal(inc.id, 'resolve', { tenantId: inc.tenantId, source: 'pagerduty', at: at() }),
      (async () => slack.release())(),
      h.signal(inc.id, 'correlate', { tenantId: 'globex', signalId: 'x2', at: at() }),
      h.signal(inc.id, 'redrive', { tenantId: inc.tenantId, connectorId: 'slack', at: at() }),
    ]);
    await resultWithin(h.result(inc.id), 30_000, 'the racing lifecycle');
    expect(await replayChain(h, inc.id, bundle)).toEqual([expect.not.objectContaining({ error: expect.anything() })]);
  });

  test('a legacy run from before the deploy continues-as-new after it: both runs replay; the next run is the state machine', async () => {
    // The code as deployed before state-machine-v1 asked no patch and took the legacy path: the same history as
    // this code with patched(STATE_MACHINE_V1) answering false.
    const before = await bundleEdited(scratch, 'incident.ts', (s) => s.replace('if (patched(STATE_MACHINE_V1)) {', 'if (false as boolean && patched(STATE_MACHINE_V1)) {'));
    const taskQueue = uniqueId('wf-legacy');
    const old = await startHarness({ connectors: CONNECTORS.slice(0, 2), temporalAddress: server.address, workflowBundle: before, taskQueue });
    const inc = incidentOf();
    try {
      await old.start(inc);
      await eventually(async () => (await old.state(inc.id)).links.filter((l: { status: string }) => l.status === 'open').length === 2);
      await old.signal(inc.id, 'acknowledge', { tenantId: inc.tenantId, source: 'pagerduty', at: at() });
      await eventually(async () => (await old.state(inc.id)).links.every((l: { status: string }) => l.status === 'acknowledged'));
    } finally {
      await old.stop();
    }
    // The deploy: the new code takes over the running legacy run on the same task queue.
    const now = await startHarness({ connectors: CONNECTORS.slice(0, 2), temporalAddress: server.address, taskQueue });
    try {
      for (let i = 0; i < 60 && (await now.history(inc.id)).runs < 2; i++) await now.signal(inc.id, 'correlate', { tenantId: inc.tenantId, signalId: `s${i}`, at: at() });
      expect((await now.history(inc.id)).runs).toBe(2);
      await now.signal(inc.id, 'resolve', { tenantId: inc.tenantId, source: 'api', at: at() });
      const result = await resultWithin(now.result(inc.id), 30_000, 'the handed-over legacy incident');
      expect(result.links.map((l: { status: string }) => l.status)).toEqual(['resolved', 'resolved']);
      // the second run is the state machine: its resolves carry a record spec (the legacy ones never do)
      const resolves = now.calls.filter((c) => c.name === 'resolveConnector' && c.input.incident?.id === inc.id);
      expect(resolves.map((c) => c.input.connectorId).sort()).toEqual(['opsgenie', 'pagerduty']);
      for (const c of resolves) expect(c.input.record).toEqual(expect.objectContaining({ actionId: expect.any(String) }));
      expect((await now.state(inc.id)).correlationCount).toBeGreaterThan(0);
      const replays = await replayChain(now, inc.id, bundle);
      expect(replays).toHaveLength(2);
      expect(replays).toEqual([expect.not.objectContaining({ error: expect.anything() }), expect.not.objectContaining({ error: expect.anything() })]);
      // the check has teeth: the state machine's run does not replay on the code from before the deploy
      const onOld = await replayChain(now, inc.id, before);
      expect(onOld.filter((r) => r.error !== undefined).map((r) => r.error)).toEqual([expect.stringContaining('state-machine-v1')]);
    } finally {
      await now.stop();
    }
  });
});
