/**
 * Determinism guard: the recorded incident lifecycles in test/histories/ (test/replay/record-histories.ts)
 * must replay against the current workflow code. A change that adds, removes or reorders a command without
 * `patched()` fails here (docs/workflow-contract.md, "Changing workflow code safely"). The second part
 * proves the guard has teeth: modified copies of the workflow really fail to replay.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryAndWorkflowId } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { checkSearchAttributes, registerSearchAttributes } from '../../src/runtime/search-attributes';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';

const ROOT = join(__dirname, '..', '..');
const HISTORIES = join(ROOT, 'test', 'histories');
const LIFECYCLES = ['plain-resolve', 'inbound-resolve', 'continue-as-new'];
/** Histories recorded before a patch, kept because runs of that age must still replay. */
const OLDER = ['before-lean-history-v1'];

/** The current recordings (test/histories/*.json) and the older ones (test/histories/<patch>/*.json). */
function loadHistories(): HistoryAndWorkflowId[] {
  return ['', ...OLDER].flatMap((dir) =>
    readdirSync(join(HISTORIES, dir))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => ({
        workflowId: join(dir, f.replace(/\.json$/, '')),
        history: historyFromJSON(JSON.parse(readFileSync(join(HISTORIES, dir, f), 'utf8'))),
      })),
  );
}

async function replayAll(workflowBundle: WorkflowBundleWithSourceMap): Promise<Map<string, Error | undefined>> {
  const results = new Map<string, Error | undefined>();
  for await (const r of Worker.runReplayHistories({ workflowBundle }, loadHistories())) results.set(r.workflowId, r.error as Error | undefined);
  return results;
}

/**
 * A copy of src/workflows/incident.ts with `edit` applied, imports pointed back at src, bundled as a whole
 * workflow module. Throws if the edit's anchor is gone (update this test with the workflow).
 */
async function bundleModified(dir: string, edit: (source: string) => string): Promise<WorkflowBundleWithSourceMap> {
  const srcDir = join(ROOT, 'src');
  const original = readFileSync(join(srcDir, 'workflows', 'incident.ts'), 'utf8');
  const edited = edit(original);
  if (edited === original) throw new Error('the deliberate change did not apply: its anchor is no longer in incident.ts');
  const rewired = edited
    .replace(/from '\.\/([^']+)'/g, (_m, p: string) => `from '${join(srcDir, 'workflows', p)}'`)
    .replace(/from '\.\.\/([^']+)'/g, (_m, p: string) => `from '${join(srcDir, p)}'`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'incident.ts'), rewired);
  writeFileSync(join(dir, 'index.ts'), "export { incidentWorkflow } from './incident';\n");
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
      expect(types.length).toBeGreaterThan(10);
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

  test('every recorded history replays against the current workflow code', async () => {
    const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: new DefaultLogger('WARN') });
    const results = await replayAll(bundle);
    expect(results.size).toBeGreaterThanOrEqual(8);
    const failures = [...results].filter(([, e]) => e).map(([id, e]) => `${id}: ${e!.message}`);
    expect(failures).toEqual([]);
  });

  test('a deliberate non-deterministic change (an extra timer before the open) fails every replay', async () => {
    const bundle = await bundleModified(join(scratch, 'extra-timer'), (src) =>
      src.replace('  // ---- open ----', "  await sleep('1 second'); // deliberate non-deterministic change\n  // ---- open ----"),
    );
    const results = await replayAll(bundle);
    expect(results.size).toBeGreaterThanOrEqual(8);
    for (const [id, err] of results) {
      expect({ id, failed: err !== undefined }).toEqual({ id, failed: true });
      expect(`${err?.name} ${err?.message}`).toMatch(/Determinism|Nondeterminism|TMPRL1100/i);
    }
  });

  test('a deliberate non-deterministic change (dropping the pagers\' delayed second resolve) fails the resolve replays', async () => {
    const bundle = await bundleModified(join(scratch, 'no-second-resolve'), (src) =>
      src.replace('if (pagers.length > 0 && s.settings.pagerReResolveDelayMs > 0) {', 'if (pagers.length < 0) { // deliberate non-deterministic change'),
    );
    const results = await replayAll(bundle);
    for (const id of ['plain-resolve', 'inbound-resolve'].flatMap((n) => [n, ...OLDER.map((d) => join(d, n))])) {
      const err = results.get(id);
      expect({ id, failed: err !== undefined }).toEqual({ id, failed: true });
      expect(`${err?.name} ${err?.message}`).toMatch(/Determinism|Nondeterminism|TMPRL1100/i);
    }
    // The first continue-as-new run never reached the resolve: the same change replays fine there.
    expect(results.get('continue-as-new.run-1')).toBeUndefined();
    for (const d of OLDER) expect(results.get(join(d, 'continue-as-new.run-1'))).toBeUndefined();
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
