/**
 * Determinism guard: the recorded incident lifecycles in test/histories/ (test/replay/record-histories.ts)
 * must replay against the current workflow code. A change that adds, removes or reorders a command without
 * `patched()` fails here (docs/workflow-contract.md, "Changing workflow code safely"). Each recording is
 * checked to have really taken its path (a redrive really re-opened, a reconciliation really read back, ...).
 * The last part proves the guard has teeth: modified copies of the workflow really fail to replay.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { HistoryAndWorkflowId } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { checkSearchAttributes, registerSearchAttributes } from '../../src/runtime/search-attributes';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { activitiesOf, historyFacts } from './history-facts';

const ROOT = join(__dirname, '..', '..');
const HISTORIES = join(ROOT, 'test', 'histories');
/** Recorded before and after every patch. */
const LIFECYCLES = ['plain-resolve', 'inbound-resolve', 'continue-as-new'];
/** Recorded with the current code (test/histories/*.json), one path of incident.ts each; checked below to have taken it. */
const PATHS = [
  'one-connector-resolve', 'acknowledge', 'redrive', 'reconciliation', 'failed-open', 'already-resolved', 'continue-as-new-in-flight', 'resolve-racing-open',
];
/** Histories recorded before a patch, kept because runs of that age must still replay. */
const OLDER = ['before-lean-history-v1'];
const CLOSING = ['WORKFLOW_EXECUTION_COMPLETED', 'WORKFLOW_EXECUTION_CONTINUED_AS_NEW'];

/** Every recording under test/histories/, folders included, as paths relative to it without `.json`. */
function recordingIds(dir = ''): string[] {
  return readdirSync(join(HISTORIES, dir)).sort().flatMap((f) => {
    const rel = join(dir, f);
    if (statSync(join(HISTORIES, rel)).isDirectory()) return recordingIds(rel);
    return f.endsWith('.json') ? [rel.replace(/\.json$/, '')] : [];
  });
}

/** The current recordings (test/histories/*.json) and the older ones (test/histories/<patch>/*.json). */
function loadHistories(): HistoryAndWorkflowId[] {
  return recordingIds().map((workflowId) => ({
    workflowId,
    history: historyFromJSON(JSON.parse(readFileSync(join(HISTORIES, `${workflowId}.json`), 'utf8'))),
  }));
}

/** The facts of one current recording. */
const facts = (id: string) => historyFacts(join(HISTORIES, `${id}.json`));

async function replayAll(workflowBundle: WorkflowBundleWithSourceMap): Promise<Map<string, Error | undefined>> {
  const results = new Map<string, Error | undefined>();
  for await (const r of Worker.runReplayHistories({ workflowBundle }, loadHistories())) results.set(r.workflowId, r.error as Error | undefined);
  return results;
}

/**
 * A copy of the workflow code (the whole src/workflows tree) with `edits` applied to the named files (paths
 * relative to src/workflows), imports that leave the tree pointed back at src, bundled as a whole workflow
 * module. Throws if an edit's anchor is gone (update this test with the workflow).
 */
async function bundleModified(dir: string, edits: Record<string, (source: string) => string>): Promise<WorkflowBundleWithSourceMap> {
  const srcDir = join(ROOT, 'src');
  const wfDir = join(srcDir, 'workflows');
  const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : []));
  const applied = new Set<string>();
  for (const file of files(wfDir)) {
    const rel = relative(wfDir, file);
    let text = readFileSync(file, 'utf8');
    const edit = edits[rel];
    if (edit) {
      const edited = edit(text);
      if (edited === text) throw new Error(`the deliberate change did not apply: its anchor is no longer in src/workflows/${rel}`);
      text = edited;
      applied.add(rel);
    }
    // Relative imports that leave src/workflows point back at the original files.
    text = text.replace(/from '(\.{1,2}\/[^']+)'/g, (m, spec: string) => {
      const target = resolve(dirname(file), spec);
      return target.startsWith(`${wfDir}/`) ? m : `from '${target}'`;
    });
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  const missing = Object.keys(edits).filter((f) => !applied.has(f));
  if (missing.length > 0) throw new Error(`no such workflow file to edit: ${missing.join(', ')}`);
  return bundleWorkflowCode({ workflowsPath: join(dir, 'index.ts'), logger: new DefaultLogger('WARN') });
}

describe('replay of recorded incident lifecycles', () => {
  const scratch = join(ROOT, 'test-artifacts', `replay-${process.pid}`);

  beforeAll(() => {
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR') });
    } catch {
      // already installed in this test file's registry
    }
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test('the committed histories cover the three lifecycles, before and after each patch, and are real histories', () => {
    for (const dir of ['', ...OLDER]) {
      const files = readdirSync(join(HISTORIES, dir)).filter((f) => f.endsWith('.json'));
      for (const name of LIFECYCLES) expect({ dir, name, found: files.some((f) => f === `${name}.json` || f.startsWith(`${name}.run-`)) }).toEqual({ dir, name, found: true });
      expect(files.filter((f) => f.startsWith('continue-as-new.run-')).length).toBeGreaterThanOrEqual(2);
    }
    const hs = loadHistories();
    for (const { workflowId, history } of hs) {
      const types = ((history as { events?: Array<{ eventType?: unknown }> }).events ?? []).map((e) => e.eventType);
      expect({ workflowId, first: types[0] }).toEqual({ workflowId, first: 1 }); // WorkflowExecutionStarted
      // already-resolved is the one shorter lifecycle (nothing opens); its own test below checks its shape.
      if (!workflowId.endsWith('already-resolved')) expect({ workflowId, long: types.length > 10 }).toEqual({ workflowId, long: true });
      // Never a truncated file: every recorded run ends by completing or by continuing as new.
      expect({ workflowId, last: CLOSING.includes(historyFacts(join(HISTORIES, `${workflowId}.json`)).last) }).toEqual({ workflowId, last: true });
    }
    // The inbound lifecycle really skipped its origin; the continue-as-new one really continued.
    type JsonEvent = { eventType: string; workflowExecutionSignaledEventAttributes?: { signalName: string; input?: { payloads?: Array<{ data?: string }> } } };
    const inbound = JSON.parse(readFileSync(join(HISTORIES, 'inbound-resolve.json'), 'utf8')) as { events: JsonEvent[] };
    const resolves = inbound.events
      .filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'resolve')
      .map((e) => JSON.parse(Buffer.from(e.workflowExecutionSignaledEventAttributes!.input!.payloads![0]!.data!, 'base64').toString('utf8')) as { source: string });
    expect(resolves.map((r) => r.source)).toEqual(['pagerduty']);
    // The current recordings took the patched path, the older ones the path from before it.
    const patches = (file: string) => [...readFileSync(file, 'utf8').matchAll(/"patch-data"[\s\S]*?"data": "([^"]+)"/g)]
      .map((m) => (JSON.parse(Buffer.from(m[1]!, 'base64').toString('utf8')) as { id: string }).id);
    expect(patches(join(HISTORIES, 'inbound-resolve.json'))).toContain('lean-history-v1');
    for (const d of OLDER) expect(patches(join(HISTORIES, d, 'inbound-resolve.json'))).not.toContain('lean-history-v1');
    const canFirst = JSON.parse(readFileSync(join(HISTORIES, 'continue-as-new.run-1.json'), 'utf8')) as { events: Array<{ eventType: string }> };
    expect(canFirst.events.at(-1)!.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
  });

  test('every path recorded with the current code is there, on the current patch', () => {
    const ids = recordingIds();
    for (const name of PATHS) {
      const runs = ids.filter((id) => id === name || id.startsWith(`${name}.run-`));
      expect({ name, recorded: runs.length > 0 }).toEqual({ name, recorded: true });
      for (const id of runs.filter((r) => r.endsWith('.run-1') || r === name)) expect({ id, patches: facts(id).patches }).toEqual({ id, patches: ['lean-history-v1'] });
    }
  });

  describe('each recording took its path', () => {
    test('acknowledge: an API acknowledgement fans out to both pagers and is reported to probectl, then the API resolves', () => {
      const f = facts('acknowledge');
      expect(f.signals.map((x) => `${x.name}:${x.input.source}`)).toEqual(['acknowledge:api', 'resolve:api']);
      const acks = activitiesOf(f, 'acknowledgeConnector');
      expect(acks.map((a) => a.connectorId).sort()).toEqual(['opsgenie', 'pagerduty']);
      for (const a of acks) {
        expect(a.outcome).toBe('completed');
        expect(a.scheduledAt).toBeGreaterThan(f.signals[0]!.at);
        expect(a.scheduledAt).toBeLessThan(f.signals[1]!.at);
      }
      expect(activitiesOf(f, 'reportToProbectl').map((a) => [a.input.type, a.outcome, (a.result as { delivered?: boolean }).delivered]))
        .toEqual([['incident.acknowledged', 'completed', true], ['incident.resolved', 'completed', true]]);
      expect(activitiesOf(f, 'resolveConnector', 'pagerduty').length).toBeGreaterThanOrEqual(2); // the pager's second resolve
      expect(f.result).toMatchObject({ source: 'api' });
    });

    test('redrive: the open fails permanently, a redrive signal re-opens the same connector, then it resolves', () => {
      const f = facts('redrive');
      const opens = activitiesOf(f, 'openConnector', 'pagerduty');
      expect(opens.map((o) => o.outcome)).toEqual(['failed', 'completed']);
      expect(opens[0]!.failure).toMatch(/HTTP 400/);
      expect(opens[0]!.attempt).toBe(1); // a 400 is not retried
      const redrive = f.signals.find((x) => x.name === 'redrive');
      expect(redrive?.input).toMatchObject({ connectorId: 'pagerduty' });
      expect(redrive!.at).toBeGreaterThan(opens[0]!.closedAt!);
      expect(opens[1]!.scheduledAt).toBeGreaterThan(redrive!.at);
      const resolve = f.signals.find((x) => x.name === 'resolve');
      expect(resolve!.at).toBeGreaterThan(opens[1]!.closedAt!);
      expect(activitiesOf(f, 'resolveConnector', 'pagerduty')[0]?.outcome).toBe('completed');
    });

    test('reconciliation: no resolve signal; a read-back finds the ticket resolved, the origin is not called back', () => {
      const f = facts('reconciliation');
      expect(f.signals).toEqual([]);
      const checks = activitiesOf(f, 'checkConnector', 'servicenow');
      expect(checks.length).toBeGreaterThanOrEqual(2);
      expect(checks.map((c) => c.result)).toEqual([...checks.slice(1).map(() => 'open'), 'resolved']);
      expect(f.types).toContain('TIMER_FIRED');
      expect(f.result).toMatchObject({ source: 'servicenow' });
      const resolves = f.activities.filter((a) => a.type === 'resolveConnector');
      expect(new Set(resolves.map((r) => r.connectorId))).toEqual(new Set(['pagerduty']));
      for (const r of resolves) expect(r.scheduledAt).toBeGreaterThan(checks.at(-1)!.closedAt!);
    });

    test('failed open: one connector is refused (401) while the other opens; the resolve still covers both', () => {
      const f = facts('failed-open');
      const [og] = activitiesOf(f, 'openConnector', 'opsgenie');
      const [pd] = activitiesOf(f, 'openConnector', 'pagerduty');
      expect([og?.outcome, og?.attempt, pd?.outcome]).toEqual(['failed', 1, 'completed']);
      expect(og!.failure).toMatch(/HTTP 401/);
      expect(f.signals.map((x) => `${x.name}:${x.input.source}`)).toEqual(['resolve:api']);
      expect(activitiesOf(f, 'resolveConnector', 'pagerduty')[0]?.outcome).toBe('completed');
      expect(activitiesOf(f, 'resolveConnector', 'opsgenie').map((r) => r.outcome)).toEqual(['failed']); // the key is still refused
      expect(f.last).toBe('WORKFLOW_EXECUTION_COMPLETED');
    });

    test('already resolved: the mirror holds it as resolved, so the start completes at once and pages nothing', () => {
      const f = facts('already-resolved');
      expect(f.activities.filter((a) => a.type === 'openConnector' || a.type === 'resolveConnector')).toEqual([]);
      expect(f.localActivities[0]).toBe('beginIncident');
      expect(f.signals).toEqual([]);
      expect(f.types.filter((t) => t === 'WORKFLOW_TASK_COMPLETED')).toHaveLength(1); // one task: begin, mirror, complete
      expect(f.last).toBe('WORKFLOW_EXECUTION_COMPLETED');
      expect(f.result).toMatchObject({ source: 'pagerduty', links: [expect.objectContaining({ connectorId: 'pagerduty', status: 'resolved' })] });
    });

    test('continue-as-new in flight: the switch is suggested while a ticket open is being retried, and waits for it', () => {
      const runs = recordingIds().filter((id) => id.startsWith('continue-as-new-in-flight.run-'));
      expect(runs.length).toBeGreaterThanOrEqual(2);
      const first = facts('continue-as-new-in-flight.run-1');
      const [open] = activitiesOf(first, 'openConnector', 'servicenow');
      expect(open?.outcome).toBe('completed');
      expect(open!.attempt).toBeGreaterThan(1); // retried (503) before it landed
      expect(first.suggestedAt).toBeDefined();
      expect(first.suggestedAt!).toBeLessThan(open!.closedAt!); // suggested while the open was still in flight
      expect(first.signals.filter((x) => x.name === 'correlate').length).toBeGreaterThan(0);
      expect(first.last).toBe('WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
      const last = facts(runs.at(-1)!);
      expect(activitiesOf(last, 'openConnector')).toEqual([]); // never opened again in the new run
      expect(last.signals.map((x) => x.name)).toContain('resolve');
      expect(activitiesOf(last, 'resolveConnector', 'servicenow')[0]?.outcome).toBe('completed');
      expect(last.last).toBe('WORKFLOW_EXECUTION_COMPLETED');
    });

    test('resolve racing open: the resolve arrives while an open is held; the open is cancelled and waited for before any resolve', () => {
      const f = facts('resolve-racing-open');
      const resolve = f.signals.find((x) => x.name === 'resolve')!;
      const [held] = activitiesOf(f, 'openConnector', 'pagerduty');
      expect(held!.scheduledAt).toBeLessThan(resolve.at);
      expect(held!.cancelRequestedAt).toBeGreaterThan(resolve.at);
      expect(held!.closedAt).toBeGreaterThan(held!.cancelRequestedAt!);
      expect(activitiesOf(f, 'openConnector', 'opsgenie')[0]?.closedAt).toBeLessThan(resolve.at);
      const resolves = activitiesOf(f, 'resolveConnector');
      expect(new Set(resolves.map((r) => r.connectorId))).toEqual(new Set(['pagerduty', 'opsgenie']));
      for (const r of resolves) expect(r.scheduledAt).toBeGreaterThan(held!.closedAt!); // no resolve before the open stopped
    });
  });

  test('every recorded history replays against the current workflow code', async () => {
    const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: new DefaultLogger('WARN') });
    const results = await replayAll(bundle);
    expect(results.size).toBe(recordingIds().length);
    expect(results.size).toBeGreaterThanOrEqual(8);
    const failures = [...results].filter(([, e]) => e).map(([id, e]) => `${id}: ${e!.message}`);
    expect(failures).toEqual([]);
  });

  test('a deliberate non-deterministic change (an extra timer before the open) fails every replay', async () => {
    const bundle = await bundleModified(join(scratch, 'extra-timer'), {
      'legacy/incident-v1.ts': (src) => src.replace('  // ---- open ----', "  await sleep('1 second'); // deliberate non-deterministic change\n  // ---- open ----"),
    });
    const results = await replayAll(bundle);
    expect(results.size).toBe(recordingIds().length);
    expect(results.size).toBeGreaterThanOrEqual(8);
    for (const [id, err] of results) {
      expect({ id, failed: err !== undefined }).toEqual({ id, failed: true });
      expect(`${err?.name} ${err?.message}`).toMatch(/Determinism|Nondeterminism|TMPRL1100/i);
    }
  });

  test('a deliberate non-deterministic change (dropping the pagers\' delayed second resolve) fails the resolve replays', async () => {
    const bundle = await bundleModified(join(scratch, 'no-second-resolve'), {
      'legacy/incident-v1.ts': (src) => src.replace('if (pagers.length > 0 && s.settings.pagerReResolveDelayMs > 0) {', 'if (pagers.length < 0) { // deliberate non-deterministic change'),
    });
    const results = await replayAll(bundle);
    const pagerResolves = [...['plain-resolve', 'inbound-resolve'].flatMap((n) => [n, ...OLDER.map((d) => join(d, n))]),
      'one-connector-resolve', 'acknowledge', 'redrive', 'reconciliation', 'failed-open', 'resolve-racing-open'];
    for (const id of pagerResolves) {
      const err = results.get(id);
      expect({ id, failed: err !== undefined }).toEqual({ id, failed: true });
      expect(`${err?.name} ${err?.message}`).toMatch(/Determinism|Nondeterminism|TMPRL1100/i);
    }
    // The first continue-as-new run never reached the resolve: the same change replays fine there.
    expect(results.get('continue-as-new.run-1')).toBeUndefined();
    for (const d of OLDER) expect(results.get(join(d, 'continue-as-new.run-1'))).toBeUndefined();
    // Nor did the lifecycles without a resolved pager: nothing paged, or a ticket only.
    for (const id of ['already-resolved', 'continue-as-new-in-flight.run-1', 'continue-as-new-in-flight.run-2']) expect({ id, error: results.get(id) }).toEqual({ id, error: undefined });
  });
});

describe('search attributes: code, dev-server list and setup agree', () => {
  test('scripts/search-attributes.txt lists exactly the attributes the workflow uses', () => {
    const listed = readFileSync(join(ROOT, 'scripts', 'search-attributes.txt'), 'utf8')
      .split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(/\s+/)).map(([name, type]) => `${name}=${type!.toUpperCase()}`);
    const used = SEARCH_ATTRIBUTES.map((a) => `${a.name}=${a.type.replace('_', '')}`);
    expect(listed.sort()).toEqual(used.sort());
  });

  test('registerSearchAttributes adds only what is missing; the worker check names the command to run', async () => {
    const have: Record<string, number> = { ProbectlTenant: 2 };
    const added: Array<Record<string, number>> = [];
    const conn = {
      operatorService: {
        listSearchAttributes: async () => ({ customAttributes: { ...have } }),
        addSearchAttributes: async (req: { searchAttributes: Record<string, number> }) => {
          added.push(req.searchAttributes);
          Object.assign(have, req.searchAttributes);
          return {};
        },
      },
    };
    await expect(checkSearchAttributes(conn, 'default')).rejects.toThrow(/probectl-notify setup-temporal.*ProbectlStatus/s);
    expect(await registerSearchAttributes(conn, 'default')).toEqual({
      added: ['ProbectlStatus', 'ProbectlSeverity', 'ProbectlProviders', 'ProbectlExternalRefs'],
      present: ['ProbectlTenant'],
    });
    expect(added).toEqual([{ ProbectlStatus: 2, ProbectlSeverity: 2, ProbectlProviders: 7, ProbectlExternalRefs: 7 }]);
    await expect(checkSearchAttributes(conn, 'default')).resolves.toBeUndefined();
    expect(await registerSearchAttributes(conn, 'default')).toMatchObject({ added: [] });
    have.ProbectlStatus = 1; // registered as Text by hand: cannot be fixed automatically
    await expect(registerSearchAttributes(conn, 'default')).rejects.toThrow(/ProbectlStatus \(is Text, needs Keyword\)/);
  });
});
