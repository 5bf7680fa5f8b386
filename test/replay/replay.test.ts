/**
 * Determinism guard: the recorded incident lifecycles in test/histories/ (test/replay/record-histories.ts)
 * must replay against the current workflow code. A change that adds, removes or reorders a command without
 * `patched()` fails here (docs/workflow-contract.md, "Changing workflow code safely"). Each recording is
 * checked to have really taken its path (a redrive really re-opened, a reconciliation really read back, ...).
 * The last part proves the guard has teeth: modified copies of the workflow really fail to replay.
 */
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryAndWorkflowId } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { sharedWorkflowBundle } from '../helpers/shared-bundle';
import { checkSearchAttributes, registerSearchAttributes } from '../../src/runtime/search-attributes';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { MANIFEST, listedHash, manifestProblems, sha256 } from './histories-manifest';
import { activitiesOf, historyFacts } from './history-facts';
import { bundleModified } from '../helpers/workflow-bundle';

const ROOT = join(__dirname, '..', '..');
const HISTORIES = join(ROOT, 'test', 'histories');
/** Recorded before and after every patch. */
const LIFECYCLES = ['plain-resolve', 'inbound-resolve', 'continue-as-new'];
/** Recorded on the legacy path (test/histories/*.json, lean-history-v1) and on the state machine; checked below to have taken their path. */
const PATHS = [
  'one-connector-resolve', 'acknowledge', 'redrive', 'reconciliation', 'failed-open', 'already-resolved', 'continue-as-new-in-flight', 'resolve-racing-open',
];
/**
 * The current recordings: runs started on `state-machine-v1` (src/workflows/v2/). The top-level files are the
 * legacy path on `lean-history-v1`, the folder below it the legacy path from before that patch; runs of every
 * age must still replay.
 */
const CURRENT = 'state-machine-v1';
/** State-machine runs given their begin snapshot in the start input (`begin-in-input-v1`): no local activity. */
const BEGIN_IN_INPUT = 'begin-in-input-v1';
/** State-machine runs given a checked begin snapshot (`begin-checked-v1`), taken under the worker's digest. */
const BEGIN_CHECKED = 'begin-checked-v1';
/** First runs that took the checked snapshot under one patch for the state machine and the snapshot (`first-run-checked-v1`). */
const FIRST_RUN_CHECKED = 'first-run-checked-v1';
/** The folders of first runs given a checked snapshot under their first task's digest, each on its own patches. */
const CHECKED_FOLDERS = [[BEGIN_CHECKED, ['state-machine-v1', 'begin-checked-v1']], [FIRST_RUN_CHECKED, ['first-run-checked-v1']]] as const;
/** First runs that took the checked snapshot with local first opens (`local-first-opens-v1`, src/workflows/v2/local-first.ts). */
const LOCAL_FIRST = 'local-first-opens-v1';
/** First runs whose resolve fan-out left alone links whose open the provider refused (`refused-opens-v1`, v2/state.ts planResolve). */
const REFUSED = 'refused-opens-v1';
/**
 * Runs that may follow opens their history does not hold — made by a reset, or started again after an ended run — whose
 * fan-out resolves the link whose open was refused on attempt 1 (`earlier-runs-resolve-v1`).
 */
const EARLIER = 'earlier-runs-resolve-v1';
/** Resolves that cancelled a ticket create which might still land, and waited for it (`cancelled-creates-wait-v1`). */
const CANCELLED_WAIT = 'cancelled-creates-wait-v1';
/** An acknowledge that reached a run started again before its begin, which then acknowledged the adopted pagers (`adopted-links-acknowledged-v1`). */
const ADOPTED_ACKS = 'adopted-links-acknowledged-v1';
/** A run started again after one that ended during its resolve fan-out, which resolved the links left open (`resolved-left-open-v1`). */
const LEFT_OPEN = 'resolved-left-open-v1';
/** The same two lifecycles recorded by the release before that patch (the second with a client of this release): the fan-out left the link alone. */
const RESET_BEFORE = join(REFUSED, 'reset-refused-open');
const AGAIN_BEFORE = join(REFUSED, 'again-refused-open');
/** A recording of the state machine, in any of its folders. */
const onStateMachine = (id: string) => [CURRENT, BEGIN_IN_INPUT, BEGIN_CHECKED, FIRST_RUN_CHECKED, LOCAL_FIRST, REFUSED, EARLIER, CANCELLED_WAIT, ADOPTED_ACKS, LEFT_OPEN].some((folder) => id.startsWith(`${folder}/`));
/** Histories recorded on the legacy path, kept because runs of that age must still replay. */
const OLDER = ['before-lean-history-v1'];
/** A later run of a continued chain (run 2, 3, … 10, …), not its first. */
const LATER_RUN = /\.run-(?!1$)\d+$/;
/** The decoded input of a recording's first event (WorkflowExecutionStarted). */
function startInput(id: string): { incident: { id: string }; carried?: Record<string, unknown> } {
  const { events } = JSON.parse(readFileSync(join(HISTORIES, `${id}.json`), 'utf8')) as {
    events: Array<{ workflowExecutionStartedEventAttributes?: { input?: { payloads?: Array<{ data: string }> } } }>;
  };
  return JSON.parse(Buffer.from(events[0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!.data, 'base64').toString('utf8'));
}
const CLOSING = ['WORKFLOW_EXECUTION_COMPLETED', 'WORKFLOW_EXECUTION_CONTINUED_AS_NEW'];
/** The line of v2/incident-v2.ts the refused-opens teeth below replace. */
const LEAVES_REFUSED = 'const leavesRefused = (s: IncidentState) => (): boolean => !(mayFollowEarlier(s) && patched(EARLIER_RUNS_RESOLVE_V1)) && patched(REFUSED_OPENS_V1);';
/** The lines of v2/incident-v2.ts the teeth of the two patches after it replace. */
const WAITS_FOR_CANCELLED = 'const waitsForCancelled = (): boolean => patched(CANCELLED_CREATES_WAIT_V1);';
const ACKNOWLEDGES_ADOPTED = 'const acknowledgesAdopted = (): boolean => patched(ADOPTED_LINKS_ACKNOWLEDGED_V1);';
const RESOLVES_LEFT_OPEN = 'const resolvesLeftOpen = (): boolean => patched(RESOLVED_LEFT_OPEN_V1);';
/** `src` with `line` replaced; a line no longer there fails the test instead of leaving the code unchanged. */
function swapped(src: string, line: string, by: string): string {
  if (!src.includes(line)) throw new Error(`the line to replace is no longer in the source: ${line}`);
  return src.replace(line, by);
}

/** Every recording under test/histories/, folders included, as paths relative to it without `.json`. */
function recordingIds(dir = ''): string[] {
  return readdirSync(join(HISTORIES, dir)).sort().flatMap((f) => {
    const rel = join(dir, f);
    if (statSync(join(HISTORIES, rel)).isDirectory()) return recordingIds(rel);
    return f.endsWith('.json') ? [rel.replace(/\.json$/, '')] : [];
  });
}

/**
 * A recording's text, its bytes checked against the committed SHA-256 manifest first (test/replay/histories-manifest.ts):
 * nothing is replayed that is not what was recorded, whatever git is told to ignore.
 */
function recordingText(id: string): string {
  const bytes = readFileSync(join(HISTORIES, `${id}.json`));
  const path = `${id.split('\\').join('/')}.json`;
  if (sha256(bytes) !== listedHash(readFileSync(MANIFEST, 'utf8'), path)) throw new Error(`test/histories/${path} does not match its SHA-256 in the manifest: the recording was changed`);
  return bytes.toString('utf8');
}

/**
 * Every recording: the top-level files (test/histories/*.json) and every folder (test/histories/<patch>/*.json). Read,
 * checked against the manifest and parsed once for this file (the replays below only encode them; a test that
 * changes a history parses its own copy).
 */
let loaded: readonly HistoryAndWorkflowId[] | undefined;
function loadHistories(): HistoryAndWorkflowId[] {
  loaded ??= recordingIds().map((workflowId) => ({
    workflowId,
    history: historyFromJSON(JSON.parse(recordingText(workflowId))),
  }));
  return [...loaded];
}

/** The facts of one current recording. */
const facts = (id: string) => historyFacts(join(HISTORIES, `${id}.json`));

async function replayAll(workflowBundle: WorkflowBundleWithSourceMap, histories = loadHistories()): Promise<Map<string, Error | undefined>> {
  const results = new Map<string, Error | undefined>();
  for await (const r of Worker.runReplayHistories({ workflowBundle }, histories)) results.set(r.workflowId, r.error as Error | undefined);
  return results;
}

/** Replay results: exactly the recordings `fails` names failed, each on a nondeterminism; every other one replayed. */
function expectFailing(results: Map<string, Error | undefined>, fails: (id: string) => boolean): void {
  for (const [id, err] of results) {
    const failing = fails(id);
    expect({ id, failed: err !== undefined }).toEqual({ id, failed: failing });
    if (failing) expect(`${err?.name} ${err?.message}`).toMatch(/Determinism|Nondeterminism|TMPRL1100/i);
  }
}

/** The checked-begin recordings (both folders) without the Build ID Temporal recorded with each workflow task (a deprecated field). */
const inCheckedFolder = (id: string) => CHECKED_FOLDERS.some(([folder]) => id.startsWith(`${folder}/`));
function withoutBuildIds() {
  return recordingIds().filter(inCheckedFolder).map((workflowId) => {
    const history = historyFromJSON(JSON.parse(recordingText(workflowId)));
    for (const e of history.events ?? []) if (e.workflowTaskCompletedEventAttributes) e.workflowTaskCompletedEventAttributes.workerVersion = null;
    return { workflowId, history };
  });
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

  // Before anything is replayed: the files are the recordings the manifest lists, byte for byte (git alone cannot say so:
  // a file it is told to skip, `git update-index --skip-worktree`, shows no change). Its history: histories-manifest.test.ts.
  test('every file under test/histories/ is the recording the committed SHA-256 manifest lists; nothing listed is missing', () => {
    expect(manifestProblems(HISTORIES, readFileSync(MANIFEST, 'utf8'))).toEqual([]);
  });

  test('the committed histories cover the three lifecycles, before and after each patch, and are real histories', () => {
    for (const dir of [CURRENT, '', ...OLDER]) {
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
    // Each age took its path: lean-history-v1 at the top level, none before it, state-machine-v1 in its folder.
    const patches = (file: string) => [...readFileSync(file, 'utf8').matchAll(/"patch-data"[\s\S]*?"data": "([^"]+)"/g)]
      .map((m) => (JSON.parse(Buffer.from(m[1]!, 'base64').toString('utf8')) as { id: string }).id);
    expect(patches(join(HISTORIES, 'inbound-resolve.json'))).toContain('lean-history-v1');
    for (const d of OLDER) expect(patches(join(HISTORIES, d, 'inbound-resolve.json'))).not.toContain('lean-history-v1');
    expect(patches(join(HISTORIES, CURRENT, 'inbound-resolve.json'))).toEqual(['state-machine-v1']);
    for (const d of ['', ...OLDER]) expect(patches(join(HISTORIES, d, 'inbound-resolve.json'))).not.toContain('state-machine-v1');
    const canFirst = JSON.parse(readFileSync(join(HISTORIES, 'continue-as-new.run-1.json'), 'utf8')) as { events: Array<{ eventType: string }> };
    expect(canFirst.events.at(-1)!.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
  });

  test('every path is recorded on the legacy path and on the state machine, each on its own patch', () => {
    const ids = recordingIds();
    for (const [dir, patch] of [['', 'lean-history-v1'], [CURRENT, 'state-machine-v1']] as const) {
      for (const name of [...PATHS, ...LIFECYCLES]) {
        const runs = ids.filter((id) => id === join(dir, name) || id.startsWith(`${join(dir, name)}.run-`));
        expect({ dir, name, recorded: runs.length > 0 }).toEqual({ dir, name, recorded: true });
        for (const id of runs.filter((r) => r.endsWith('.run-1') || r === join(dir, name))) expect({ id, patches: facts(id).patches }).toEqual({ id, patches: [patch] });
      }
    }
    // A state-machine run that continued knows its path from its carried state: it asks no patch at all.
    const continued = ids.filter((id) => id.startsWith(`${CURRENT}/`) && LATER_RUN.test(id));
    expect(continued.length).toBeGreaterThanOrEqual(2);
    for (const id of continued) expect({ id, patches: facts(id).patches }).toEqual({ id, patches: [] });
    // A legacy run's next run after the deploy is the fourth age: it asks the patch, carrying legacy state.
    expect({ handover: facts(join(CURRENT, 'legacy-handover')).patches }).toEqual({ handover: ['state-machine-v1'] });
  });

  test('begin-in-input-v1: first runs given their begin snapshot ask both patches and run no local activity', () => {
    const ids = recordingIds().filter((id) => id.startsWith(`${BEGIN_IN_INPUT}/`));
    expect(ids.map((id) => id.slice(BEGIN_IN_INPUT.length + 1)).sort()).toEqual(['acknowledge', 'already-resolved', 'plain-resolve']);
    for (const id of ids) {
      const input = startInput(id) as { begin?: { connectors?: unknown[] } };
      expect({ id, given: Array.isArray(input.begin?.connectors) }).toEqual({ id, given: true });
      expect({ id, patches: facts(id).patches }).toEqual({ id, patches: ['state-machine-v1', 'begin-in-input-v1'] });
      const text = readFileSync(join(HISTORIES, `${id}.json`), 'utf8');
      expect({ id, localActivity: text.includes('"markerName": "core_local_activity"') }).toEqual({ id, localActivity: false });
    }
    // The same lifecycles on the state machine without a snapshot in the input ran the local activity.
    for (const name of ['plain-resolve', 'acknowledge', 'already-resolved']) {
      const text = readFileSync(join(HISTORIES, CURRENT, `${name}.json`), 'utf8');
      expect({ name, localActivity: text.includes('"markerName": "core_local_activity"') }).toEqual({ name, localActivity: true });
    }
  });

  test.each(CHECKED_FOLDERS)('%s: first runs given a checked snapshot under their first task\'s digest ask %p and run no local activity', (folder, patches) => {
    const ids = recordingIds().filter((id) => id.startsWith(`${folder}/`));
    expect(ids.map((id) => id.slice(folder.length + 1)).sort()).toEqual(['acknowledge', 'already-resolved', 'plain-resolve']);
    for (const id of ids) {
      const input = startInput(id) as { begin?: unknown; checkedBegin?: { configDigest?: string; begin?: { connectors?: unknown[] } } };
      expect({ id, unchecked: input.begin, given: Array.isArray(input.checkedBegin?.begin?.connectors) }).toEqual({ id, unchecked: undefined, given: true });
      expect({ id, patches: facts(id).patches }).toEqual({ id, patches });
      const text = readFileSync(join(HISTORIES, `${id}.json`), 'utf8');
      expect({ id, localActivity: text.includes('"markerName": "core_local_activity"') }).toEqual({ id, localActivity: false });
      // The first task's worker carried the digest the API passed (the replay decides by this recorded Build ID).
      const first = (JSON.parse(text) as { events: Array<{ workflowTaskCompletedEventAttributes?: { workerVersion?: { buildId?: string } } }> })
        .events.find((e) => e.workflowTaskCompletedEventAttributes)!.workflowTaskCompletedEventAttributes!.workerVersion?.buildId;
      expect({ id, buildId: first?.endsWith(`.begin-${input.checkedBegin?.configDigest}`) }).toEqual({ id, buildId: true });
    }
  });

  describe('local-first-opens-v1: each recording took its path', () => {
    const lf = (id: string) => facts(join(LOCAL_FIRST, id));
    const ids = () => recordingIds().filter((id) => id.startsWith(`${LOCAL_FIRST}/`)).map((id) => id.slice(LOCAL_FIRST.length + 1));
    /** The local first attempts of a run: connector and outcome, from the markers' decoded data. */
    const localOpens = (id: string) => {
      const { events } = JSON.parse(readFileSync(join(HISTORIES, LOCAL_FIRST, `${id}.json`), 'utf8')) as { events: Array<{ markerRecordedEventAttributes?: { markerName: string; details?: Record<string, { payloads?: Array<{ data?: string }> }>; failure?: { message?: string } } }> };
      return events.flatMap((e) => {
        const m = e.markerRecordedEventAttributes;
        if (m?.markerName !== 'core_local_activity') return [];
        const data = JSON.parse(Buffer.from(m.details!.data!.payloads![0]!.data!, 'base64').toString('utf8')) as { activity_type: string };
        return data.activity_type === 'openConnector' ? [m.failure ? `failed: ${m.failure.message ?? ''}` : 'completed'] : [];
      });
    };

    /** Timers shorter than a minute (the fallbacks' back-offs; the read-back's are minutes), as `<seconds>s:<fired|canceled|open>`. */
    const backoffs = (id: string) => {
      const { events } = JSON.parse(readFileSync(join(HISTORIES, LOCAL_FIRST, `${id}.json`), 'utf8')) as { events: Array<{ eventId: string; timerStartedEventAttributes?: { startToFireTimeout?: string }; timerFiredEventAttributes?: { startedEventId: string }; timerCanceledEventAttributes?: { startedEventId: string } }> };
      const ended = new Map<string, string>();
      for (const e of events) {
        if (e.timerFiredEventAttributes) ended.set(e.timerFiredEventAttributes.startedEventId, 'fired');
        if (e.timerCanceledEventAttributes) ended.set(e.timerCanceledEventAttributes.startedEventId, 'canceled');
      }
      return events.filter((e) => e.timerStartedEventAttributes && parseFloat(e.timerStartedEventAttributes.startToFireTimeout ?? '0') < 60)
        .map((e) => `${e.timerStartedEventAttributes!.startToFireTimeout}:${ended.get(e.eventId) ?? 'open'}`);
    };

    test('the folder holds its lifecycles; every first run asks both patches, reads no begin snapshot itself and opens locally first', () => {
      expect(ids().filter((id) => !LATER_RUN.test(id)).map((id) => id.replace(/\.run-1$/, '')).sort())
        .toEqual(['acknowledge', 'continue-as-new-in-flight', 'failed-open', 'paced-open', 'plain-resolve', 'redrive', 'resolve-racing-open', 'six-connectors', 'ticket-create-late']);
      for (const id of ids()) {
        const f = lf(id);
        const first = !LATER_RUN.test(id);
        expect({ id, patches: f.patches }).toEqual({ id, patches: first ? ['first-run-checked-v1', 'local-first-opens-v1'] : [] });
        expect({ id, begin: f.localActivities.includes('beginIncident') }).toEqual({ id, begin: false });
        if (first) expect({ id, local: f.localActivities.filter((t) => t === 'openConnector').length > 0 }).toEqual({ id, local: true });
        expect({ id, last: CLOSING.includes(f.last) }).toEqual({ id, last: true });
      }
    });

    test('plain resolve and acknowledge: both opens local, no ordinary open', () => {
      for (const id of ['plain-resolve', 'acknowledge']) {
        expect({ id, local: localOpens(id) }).toEqual({ id, local: ['completed', 'completed'] });
        expect({ id, ordinary: activitiesOf(lf(id), 'openConnector') }).toEqual({ id, ordinary: [] });
      }
      expect(activitiesOf(lf('acknowledge'), 'acknowledgeConnector').map((a) => a.connectorId).sort()).toEqual(['opsgenie', 'pagerduty']);
    });

    test('failed open: the refusal (401) of the local attempt is the outcome; no ordinary open follows', () => {
      expect(localOpens('failed-open').sort()).toEqual(['completed', expect.stringMatching(/^failed: .*HTTP 401/)]);
      expect(activitiesOf(lf('failed-open'), 'openConnector')).toEqual([]);
    });

    test('redrive: the refused local attempt, then the re-driven open is a local first attempt again', () => {
      expect(localOpens('redrive')).toEqual([expect.stringMatching(/^failed: .*HTTP 400/), 'completed']);
      expect(activitiesOf(lf('redrive'), 'openConnector')).toEqual([]);
    });

    test('resolve racing open: the held attempt reaches its limit; the resolve, applied in the next task, cancels the back-off: no ordinary open', () => {
      const f = lf('resolve-racing-open');
      expect(localOpens('resolve-racing-open').sort()).toEqual(['completed', expect.stringMatching(/^failed: /)]);
      expect(activitiesOf(f, 'openConnector')).toEqual([]);
      expect(backoffs('resolve-racing-open')).toEqual(['1s:canceled']);
      expect(new Set(activitiesOf(f, 'resolveConnector').map((r) => r.connectorId))).toEqual(new Set(['pagerduty', 'opsgenie']));
    });

    test('six connectors: the six first attempts (a page, an alert, two chat posts, two tickets) local in one task, all completed; no ordinary open', () => {
      const f = lf('six-connectors');
      expect(localOpens('six-connectors')).toEqual(Array(6).fill('completed'));
      const { events } = JSON.parse(readFileSync(join(HISTORIES, LOCAL_FIRST, 'six-connectors.json'), 'utf8')) as { events: Array<{ markerRecordedEventAttributes?: { markerName: string; workflowTaskCompletedEventId?: string } }> };
      const tasks = events.flatMap((e) => (e.markerRecordedEventAttributes?.markerName === 'core_local_activity' ? [e.markerRecordedEventAttributes.workflowTaskCompletedEventId] : []));
      expect(tasks).toHaveLength(6);
      expect(new Set(tasks).size).toBe(1); // one workflow task made all six
      expect(activitiesOf(f, 'openConnector')).toEqual([]);
      expect(activitiesOf(f, 'resolveConnector').map((r) => r.connectorId).sort()).toEqual(['jira', 'opsgenie', 'pagerduty', 'servicenow', 'slack', 'teams']);
    });

    test('ticket create late: the create cut by the limit (a time-out), the ordinary open after the 25 s hand-over guard adopts it', () => {
      const f = lf('ticket-create-late');
      expect(localOpens('ticket-create-late')).toEqual([expect.stringMatching(/^failed: .*timed out/i)]);
      expect(backoffs('ticket-create-late')).toEqual(['25s:fired']);
      expect(activitiesOf(f, 'openConnector', 'servicenow').map((o) => o.outcome)).toEqual(['completed']);
    });

    test('paced open: the attempt refused by the pacer (its turn 10 s off) sent nothing; the ordinary open after a timer of that turn', () => {
      const f = lf('paced-open');
      expect(localOpens('paced-open')).toEqual([expect.stringMatching(/^failed: connector pagerduty: paced to 6 calls\/min/)]);
      const [timer, ...others] = backoffs('paced-open');
      expect(others).toEqual([]);
      expect(timer).toMatch(/^\d+(\.\d+)?s:fired$/);
      // The pacer's turn, not the 1 s default back-off.
      expect(parseFloat(timer!)).toBeGreaterThan(1);
      expect(parseFloat(timer!)).toBeLessThanOrEqual(10);
      expect(activitiesOf(f, 'openConnector', 'pagerduty').map((o) => o.outcome)).toEqual(['completed']);
    });

    test('continue-as-new in flight: the ticket\'s local attempt fails (503), the ordinary open after the back-off is retried across the switch', () => {
      const first = lf('continue-as-new-in-flight.run-1');
      expect(localOpens('continue-as-new-in-flight.run-1')).toEqual([expect.stringMatching(/^failed: .*503/)]);
      expect(backoffs('continue-as-new-in-flight.run-1')[0]).toBe('1s:fired'); // the fallback's back-off, first of its short timers
      expect(activitiesOf(first, 'openConnector', 'servicenow').length).toBe(1);
      expect(first.last).toBe('WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    });
  });

  /** Where the run was reset (the task at the reset point failed by the reset; -1: none), and its opens' refusals with their attempts. */
  function earlierRun(id: string) {
    const { events } = JSON.parse(readFileSync(join(HISTORIES, `${id}.json`), 'utf8')) as { events: Array<{ eventType: string; workflowTaskFailedEventAttributes?: { cause?: string }; activityTaskFailedEventAttributes?: { failure?: { applicationFailureInfo?: { type?: string; details?: { payloads?: Array<{ data: string }> } } } } }> };
    const resetAt = events.findIndex((e) => e.workflowTaskFailedEventAttributes?.cause === 'WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW');
    const refusals = events.flatMap((e, i) => {
      const info = e.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo;
      if (!info) return [];
      const attempt = (info.details?.payloads ?? []).map((p) => JSON.parse(Buffer.from(p.data, 'base64').toString('utf8')) as { attempt?: number }).find((d) => d.attempt !== undefined)?.attempt;
      return [{ type: info.type, attempt, beforeReset: i < resetAt }];
    });
    return { resetAt, refusals, again: (startInput(id) as { again?: boolean }).again };
  }
  /** The two lifecycles' own shape: a reset after the open's refusal; a start input saying `again` and no reset. */
  const EARLIER_SHAPES = {
    'reset-refused-open': { resetAt: expect.any(Number), refusals: [{ type: 'ProviderRejected', attempt: 1, beforeReset: true }], again: undefined },
    'again-refused-open': { resetAt: -1, refusals: [{ type: 'ProviderRejected', attempt: 1, beforeReset: false }], again: true },
  };

  describe('refused-opens-v1: each recording took its path', () => {
    test('the folder holds its lifecycles; the runs started again or made by a reset, recorded by the release before earlier-runs-resolve-v1, left the refused page alone', () => {
      const ids = recordingIds().filter((id) => id.startsWith(`${REFUSED}/`)).map((id) => id.slice(REFUSED.length + 1));
      expect(ids).toEqual(['again-refused-open', 'refused-opens', 'reset-refused-open']);
      for (const [name, shape] of Object.entries(EARLIER_SHAPES)) {
        const id = join(REFUSED, name);
        expect({ id, ...earlierRun(id) }).toEqual({ id, ...shape });
        const f = facts(id);
        expect({ id, patches: f.patches, resolves: activitiesOf(f, 'resolveConnector') }).toEqual({ id, patches: [name === 'again-refused-open' ? 'state-machine-v1' : 'first-run-checked-v1', 'refused-opens-v1'], resolves: [] });
      }
      expect(earlierRun(RESET_BEFORE).resetAt).toBeGreaterThan(0);
    });

    test('refused-opens: its run asks the patch once, at the fan-out, and sends no resolve to the four refused links', () => {
      const f = facts(join(REFUSED, 'refused-opens'));
      expect(f.patches).toEqual(['first-run-checked-v1', 'local-first-opens-v1', 'refused-opens-v1']);
      const { events } = JSON.parse(readFileSync(join(HISTORIES, REFUSED, 'refused-opens.json'), 'utf8')) as { events: Array<{ eventType: string; markerRecordedEventAttributes?: { markerName: string; failure?: { message?: string } } }> };
      // Six local first attempts: four refused (400, 400, 403, 400), two completed; no ordinary open.
      const local = events.flatMap((e) => (e.markerRecordedEventAttributes?.markerName === 'core_local_activity' ? [e.markerRecordedEventAttributes.failure?.message?.match(/HTTP (\d+)/)?.[1] ?? 'completed'] : []));
      expect(local.sort()).toEqual(['400', '400', '400', '403', 'completed', 'completed']);
      expect(activitiesOf(f, 'openConnector')).toEqual([]);
      // The patch is decided after the opens settled, before the resolves it decided: its marker precedes them.
      const patchAt = events.findIndex((e, i) => e.markerRecordedEventAttributes?.markerName === 'core_patch' && i > events.findIndex((x) => x.markerRecordedEventAttributes?.markerName === 'core_local_activity'));
      const firstResolve = events.findIndex((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED' && JSON.stringify(e).includes('resolveConnector'));
      expect(patchAt).toBeGreaterThan(0);
      expect(firstResolve).toBeGreaterThan(patchAt);
      expect(activitiesOf(f, 'resolveConnector').map((r) => r.connectorId).sort()).toEqual(['opsgenie', 'teams']);
    });
  });

  describe('earlier-runs-resolve-v1: each recording took its path', () => {
    test('the folder holds its lifecycles; each run asks the patch at the fan-out (not refused-opens-v1) and resolves the refused page', () => {
      const ids = recordingIds().filter((id) => id.startsWith(`${EARLIER}/`)).map((id) => id.slice(EARLIER.length + 1));
      expect(ids).toEqual(['again-refused-open', 'reset-refused-open']);
      for (const [name, shape] of Object.entries(EARLIER_SHAPES)) {
        const id = join(EARLIER, name);
        expect({ id, ...earlierRun(id) }).toEqual({ id, ...shape });
        const f = facts(id);
        expect({ id, patches: f.patches, resolves: activitiesOf(f, 'resolveConnector').map((r) => r.connectorId) })
          .toEqual({ id, patches: [name === 'again-refused-open' ? 'state-machine-v1' : 'first-run-checked-v1', 'earlier-runs-resolve-v1'], resolves: ['pagerduty'] });
      }
    });
  });

  /** A recording's events as `<type>[:detail]`: markers by patch id or name, activities by type and connector, timers, signals. */
  function eventsOf(id: string): string[] {
    type E = {
      eventType: string; markerRecordedEventAttributes?: { markerName: string; details?: Record<string, { payloads?: Array<{ data?: string }> }> };
      activityTaskScheduledEventAttributes?: { activityType: { name: string }; input?: { payloads?: Array<{ data?: string }> } };
      workflowExecutionSignaledEventAttributes?: { signalName: string };
    };
    const { events } = JSON.parse(recordingText(id)) as { events: E[] };
    const decode = (d?: string) => JSON.parse(Buffer.from(d ?? '', 'base64').toString('utf8')) as Record<string, unknown>;
    return events.map((e) => {
      const t = e.eventType.replace(/^EVENT_TYPE_/, '');
      const m = e.markerRecordedEventAttributes;
      if (m) return `${t}:${m.markerName === 'core_patch' ? decode(m.details!['patch-data']!.payloads![0]!.data).id : m.markerName}`;
      const a = e.activityTaskScheduledEventAttributes;
      if (a) return `${t}:${a.activityType.name}:${String(decode(a.input?.payloads?.[0]?.data).connectorId ?? '')}`;
      if (e.workflowExecutionSignaledEventAttributes) return `${t}:${e.workflowExecutionSignaledEventAttributes.signalName}`;
      return t;
    });
  }

  describe('cancelled-creates-wait-v1: each recording took its path', () => {
    test('the folder holds its lifecycles; the runs that cancelled a create ask the patch, the others none of it', () => {
      const ids = recordingIds().filter((id) => id.startsWith(`${CANCELLED_WAIT}/`)).map((id) => id.slice(CANCELLED_WAIT.length + 1));
      expect(ids).toEqual(['ticket-create-cut-resolved', 'ticket-create-handed-over-resolved.run-1', 'ticket-create-handed-over-resolved.run-2']);
      expect(ids.map((id) => facts(join(CANCELLED_WAIT, id)).patches)).toEqual([
        ['first-run-checked-v1', 'local-first-opens-v1', CANCELLED_WAIT],
        ['first-run-checked-v1', 'local-first-opens-v1'],
        [CANCELLED_WAIT], // a continued run asks no other patch
      ]);
    });

    // The order that makes the guard: the resolve, the create cancelled (its fallback timer, or the re-issued activity
    // waiting for its guard), the patch, a timer until the window's end, and only after it fired the resolve.
    test.each([
      ['ticket-create-cut-resolved', 'TIMER_CANCELED'],
      ['ticket-create-handed-over-resolved.run-2', 'ACTIVITY_TASK_CANCELED'],
    ])('%s: the create cancelled after the resolve, then the patch and a timer; the lookup-and-close only once it fired', (name, cancelled) => {
      const ev = eventsOf(join(CANCELLED_WAIT, name));
      const at = (e: string, from = 0) => ev.indexOf(e, from);
      const resolveSignal = at('WORKFLOW_EXECUTION_SIGNALED:resolve');
      const cancel = at(cancelled, resolveSignal);
      const patch = at(`MARKER_RECORDED:${CANCELLED_WAIT}`);
      const wait = at('TIMER_STARTED', patch);
      const fired = at('TIMER_FIRED', wait);
      const resolve = at('ACTIVITY_TASK_SCHEDULED:resolveConnector:servicenow');
      expect({ resolveSignal: resolveSignal > 0, order: [cancel, patch, wait, fired, resolve].every((x, i, all) => x > (i === 0 ? resolveSignal : all[i - 1]!)) })
        .toEqual({ resolveSignal: true, order: true });
      expect(ev.filter((e) => e.startsWith('ACTIVITY_TASK_SCHEDULED:resolveConnector'))).toEqual(['ACTIVITY_TASK_SCHEDULED:resolveConnector:servicenow']);
    });

    test('the cut create: a local attempt that timed out, its fallback timer of the 25 s guard cancelled by the resolve, no ordinary open', () => {
      const f = facts(join(CANCELLED_WAIT, 'ticket-create-cut-resolved'));
      expect(f.localActivities).toEqual(['openConnector']);
      expect(activitiesOf(f, 'openConnector')).toEqual([]);
      expect(eventsOf(join(CANCELLED_WAIT, 'ticket-create-cut-resolved')).filter((e) => e.startsWith('TIMER_'))).toEqual(['TIMER_STARTED', 'TIMER_CANCELED', 'TIMER_STARTED', 'TIMER_FIRED']);
    });

    test('the handed-over create: the first run continued as new with the open still being retried; the next run re-issued it not before its guard', () => {
      const first = facts(join(CANCELLED_WAIT, 'ticket-create-handed-over-resolved.run-1'));
      expect([first.last, activitiesOf(first, 'openConnector', 'servicenow').map((o) => o.outcome)]).toEqual(['WORKFLOW_EXECUTION_CONTINUED_AS_NEW', ['open']]);
      const next = facts(join(CANCELLED_WAIT, 'ticket-create-handed-over-resolved.run-2'));
      const [reissued] = activitiesOf(next, 'openConnector', 'servicenow');
      expect([reissued?.outcome, typeof reissued?.input.notBefore]).toEqual(['canceled', 'string']);
      expect(next.last).toBe('WORKFLOW_EXECUTION_COMPLETED');
    });
  });

  describe('adopted-links-acknowledged-v1: each recording took its path', () => {
    test('acknowledged before the begin of a run started again: the checked snapshot\'s adopted pagers are acknowledged in the first task, both patches asked there', () => {
      const ids = recordingIds().filter((id) => id.startsWith(`${ADOPTED_ACKS}/`));
      expect(ids).toEqual([join(ADOPTED_ACKS, 'acknowledged-before-begin')]);
      const id = ids[0]!;
      const input = startInput(id) as { again?: boolean; checkedBegin?: { begin?: { mirror?: { record?: { links?: Array<{ connectorId: string; status: string }> } } } } };
      expect([input.again, input.checkedBegin?.begin?.mirror?.record?.links?.map((l) => `${l.connectorId}:${l.status}`).sort()]).toEqual([true, ['opsgenie:open', 'pagerduty:open']]);
      const ev = eventsOf(id);
      // The signal before the first task; the patches, then both acknowledges, as that task's commands; no open, no local activity.
      const firstDone = ev.indexOf('WORKFLOW_TASK_COMPLETED');
      expect(ev.indexOf('WORKFLOW_EXECUTION_SIGNALED:acknowledge')).toBeLessThan(firstDone);
      const nextTask = ev.indexOf('WORKFLOW_TASK_SCHEDULED', firstDone);
      const firstTask = ev.slice(firstDone, nextTask === -1 ? undefined : nextTask);
      expect(firstTask.filter((e) => e.startsWith('MARKER_RECORDED') || e.includes('acknowledgeConnector'))).toEqual([
        'MARKER_RECORDED:first-run-checked-v1', `MARKER_RECORDED:${ADOPTED_ACKS}`,
        'ACTIVITY_TASK_SCHEDULED:acknowledgeConnector:pagerduty', 'ACTIVITY_TASK_SCHEDULED:acknowledgeConnector:opsgenie',
      ]);
      const f = facts(id);
      expect([f.patches, f.localActivities, activitiesOf(f, 'openConnector')]).toEqual([['first-run-checked-v1', ADOPTED_ACKS], [], []]);
      expect(activitiesOf(f, 'resolveConnector').map((r) => r.connectorId).sort()).toEqual(['opsgenie', 'pagerduty']);
    });
  });

  describe('resolved-left-open-v1: each recording took its path', () => {
    test('a run terminated during its fan-out, opened again: the begin finds it resolved with Opsgenie open, asks the patch there and resolves only Opsgenie', () => {
      const ids = recordingIds().filter((id) => id.startsWith(`${LEFT_OPEN}/`));
      expect(ids).toEqual([join(LEFT_OPEN, 'resolved-left-open')]);
      const id = ids[0]!;
      expect((startInput(id) as { again?: boolean }).again).toBe(true);
      const f = facts(id);
      expect(f.patches).toEqual(['state-machine-v1', LEFT_OPEN]);
      expect(activitiesOf(f, 'openConnector')).toEqual([]);
      expect(activitiesOf(f, 'resolveConnector').map((r) => r.connectorId)).toEqual(['opsgenie']);
      // Decided in the first task, with the begin: the patch, then the resolve, before the first task's completion is followed by another.
      const ev = eventsOf(id);
      const second = ev.indexOf('WORKFLOW_TASK_SCHEDULED', ev.indexOf('WORKFLOW_TASK_COMPLETED'));
      expect(ev.slice(0, second).filter((e) => e.startsWith('MARKER_RECORDED:resolved') || e.includes('resolveConnector'))).toEqual([
        `MARKER_RECORDED:${LEFT_OPEN}`, 'ACTIVITY_TASK_SCHEDULED:resolveConnector:opsgenie',
      ]);
    });
  });

  describe('each legacy-path recording took its path', () => {
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


  describe('each state-machine recording took its path', () => {
    const v2 = (id: string) => facts(join(CURRENT, id));
    const byConnector = (f: ReturnType<typeof facts>, type: string) => activitiesOf(f, type).map((a) => `${a.connectorId}:${a.outcome}`).sort();

    test('every first run begins with one local activity and asks the patch once; every run ends by completing or continuing', () => {
      for (const id of recordingIds().filter((r) => r.startsWith(`${CURRENT}/`))) {
        const f = facts(id);
        // A later run, or a legacy run's hand-over (begun in its legacy run), begins nothing.
        const first = !LATER_RUN.test(id) && id !== join(CURRENT, 'legacy-handover');
        expect({ id, local: f.localActivities }).toEqual({ id, local: first ? ['beginIncident'] : [] });
        expect({ id, last: CLOSING.includes(f.last) }).toEqual({ id, last: true });
        // Reports to probectl are follow-ups (the runner's, outside history); only a run whose Postgres was down carries one out itself.
        if (id !== join(CURRENT, 'postgres-down')) expect({ id, reports: f.activities.filter((a) => a.type === 'reportToProbectl').length }).toEqual({ id, reports: 0 });
      }
    });

    test('one connector, and a plain resolve: each open once, each resolve once, from the API or probectl', () => {
      const one = v2('one-connector-resolve');
      expect([byConnector(one, 'openConnector'), byConnector(one, 'resolveConnector'), one.signals.map((x) => `${x.name}:${x.input.source}`)])
        .toEqual([['pagerduty:completed'], ['pagerduty:completed'], ['resolve:probectl']]);
      const plain = v2('plain-resolve');
      expect([byConnector(plain, 'openConnector'), byConnector(plain, 'resolveConnector'), plain.signals.map((x) => `${x.name}:${x.input.source}`)])
        .toEqual([['opsgenie:completed', 'pagerduty:completed'], ['opsgenie:completed', 'pagerduty:completed'], ['resolve:api']]);
      for (const f of [one, plain]) for (const r of activitiesOf(f, 'resolveConnector')) expect(r.scheduledAt).toBeGreaterThan(f.signals[0]!.at);
    });

    test('legacy hand-over: a run started with a legacy run\'s carried state asks the patch, begins and opens nothing, and resolves what the legacy run opened', () => {
      const id = join(CURRENT, 'legacy-handover');
      const input = startInput(id);
      expect([input.carried?.v, input.carried?.begun, Object.keys((input.carried?.links ?? {}) as object).sort()]).toEqual([undefined, true, ['opsgenie', 'pagerduty']]);
      const f = facts(id);
      expect([f.patches, f.localActivities, activitiesOf(f, 'openConnector')]).toEqual([['state-machine-v1'], [], []]);
      expect(f.signals.map((x) => `${x.name}:${x.input.source}`)).toEqual(['resolve:api']);
      expect(byConnector(f, 'resolveConnector')).toEqual(['opsgenie:completed', 'pagerduty:completed']);
      expect([f.last, f.result?.source]).toEqual(['WORKFLOW_EXECUTION_COMPLETED', 'api']);
    });

    test('Postgres down: the calls cannot record; the workflow backs off on its own writes and carries out the second resolves and the callback itself', () => {
      const f = v2('postgres-down');
      expect(f.signals.map((x) => `${x.name}:${x.input.source}`)).toEqual(['resolve:api']);
      const writes = activitiesOf(f, 'recordIncident');
      expect(writes.filter((w) => w.outcome === 'failed').length).toBeGreaterThanOrEqual(1);
      expect(writes.at(-1)!.outcome).toBe('completed');
      // A timer between a failed write and the next one: the back-off.
      const failed = writes.find((w) => w.outcome === 'failed')!;
      const next = writes[writes.indexOf(failed) + 1]!;
      expect(f.types.slice(failed.closedAt! - 1, next.scheduledAt - 1)).toContain('TIMER_STARTED');
      // Each pager resolved twice (the fan-out, then the workflow's own second pass), probectl told once.
      expect(byConnector(f, 'resolveConnector')).toEqual(['opsgenie:completed', 'opsgenie:completed', 'pagerduty:completed', 'pagerduty:completed']);
      expect(activitiesOf(f, 'reportToProbectl').map((r) => [r.input.type, r.outcome])).toEqual([['incident.resolved', 'completed']]);
      expect(f.last).toBe('WORKFLOW_EXECUTION_COMPLETED');
    });

    test('refused signals: another tenant\'s resolve and a malformed acknowledge change nothing; the real resolve resolves', () => {
      const f = v2('refused-signals');
      expect(f.signals.map((x) => x.name)).toEqual(['resolve', 'acknowledge', 'resolve']);
      const real = f.signals[2]!;
      expect(activitiesOf(f, 'acknowledgeConnector')).toEqual([]);
      const resolves = activitiesOf(f, 'resolveConnector');
      expect(resolves.map((r) => `${r.connectorId}:${r.outcome}`)).toEqual(['pagerduty:completed']);
      expect(resolves[0]!.scheduledAt).toBeGreaterThan(real.at);
      expect(f.result).toMatchObject({ source: 'probectl' });
    });

    test('inbound resolve: acknowledged and resolved at PagerDuty; only Opsgenie is called, never the origin', () => {
      const f = v2('inbound-resolve');
      expect(f.signals.map((x) => `${x.name}:${x.input.source}`)).toEqual(['acknowledge:pagerduty', 'resolve:pagerduty']);
      expect(byConnector(f, 'openConnector')).toEqual(['opsgenie:completed', 'pagerduty:completed']);
      expect(byConnector(f, 'acknowledgeConnector')).toEqual(['opsgenie:completed']);
      expect(byConnector(f, 'resolveConnector')).toEqual(['opsgenie:completed']);
      expect(f.result).toMatchObject({ source: 'pagerduty' });
    });

    test('acknowledge: an API acknowledgement fans out to both pagers before the resolve; each pager is resolved once', () => {
      const f = v2('acknowledge');
      expect(f.signals.map((x) => `${x.name}:${x.input.source}`)).toEqual(['acknowledge:api', 'resolve:api']);
      const [ack, res] = f.signals;
      for (const a of activitiesOf(f, 'acknowledgeConnector')) expect([a.outcome, a.scheduledAt > ack!.at, a.scheduledAt < res!.at]).toEqual(['completed', true, true]);
      expect(byConnector(f, 'acknowledgeConnector')).toEqual(['opsgenie:completed', 'pagerduty:completed']);
      expect(byConnector(f, 'resolveConnector')).toEqual(['opsgenie:completed', 'pagerduty:completed']);
    });

    test('redrive: the refused open (400, not retried) is re-opened by the redrive signal, then resolved', () => {
      const f = v2('redrive');
      const opens = activitiesOf(f, 'openConnector', 'pagerduty');
      expect(opens.map((o) => [o.outcome, o.attempt])).toEqual([['failed', 1], ['completed', 1]]);
      expect(opens[0]!.failure).toMatch(/HTTP 400/);
      const redrive = f.signals.find((x) => x.name === 'redrive')!;
      expect([redrive.input.connectorId, redrive.at > opens[0]!.closedAt!, opens[1]!.scheduledAt > redrive.at]).toEqual(['pagerduty', true, true]);
      expect(byConnector(f, 'resolveConnector')).toEqual(['pagerduty:completed']);
    });

    test('reconciliation: no signal; read-backs (a timer before each) find the ticket resolved; only the pager is resolved', () => {
      const f = v2('reconciliation');
      expect(f.signals).toEqual([]);
      const checks = activitiesOf(f, 'checkConnector', 'servicenow');
      expect(checks.length).toBeGreaterThanOrEqual(2);
      expect(checks.map((c) => c.result)).toEqual([...checks.slice(1).map(() => 'open'), 'resolved']);
      expect(f.types.filter((t) => t === 'TIMER_FIRED').length).toBeGreaterThanOrEqual(checks.length);
      expect(f.result).toMatchObject({ source: 'servicenow' });
      const resolves = activitiesOf(f, 'resolveConnector');
      expect(resolves.map((r) => r.connectorId)).toEqual(['pagerduty']);
      expect(resolves[0]!.scheduledAt).toBeGreaterThan(checks.at(-1)!.closedAt!);
    });

    test('failed open: Opsgenie refused (401, not retried) while PagerDuty pages; the resolve still covers both', () => {
      const f = v2('failed-open');
      expect(activitiesOf(f, 'openConnector').map((a) => `${a.connectorId}:${a.outcome}:${a.attempt}`).sort()).toEqual(['opsgenie:failed:1', 'pagerduty:completed:1']);
      expect(activitiesOf(f, 'openConnector', 'opsgenie')[0]!.failure).toMatch(/HTTP 401/);
      expect(f.signals.map((x) => `${x.name}:${x.input.source}`)).toEqual(['resolve:api']);
      expect(byConnector(f, 'resolveConnector')).toEqual(['opsgenie:failed', 'pagerduty:completed']);
    });

    test('already resolved: nothing opens, nothing resolves; the start completes with the mirror\'s resolution', () => {
      const f = v2('already-resolved');
      expect(f.activities.filter((a) => a.type === 'openConnector' || a.type === 'resolveConnector')).toEqual([]);
      expect(f.signals).toEqual([]);
      expect(f.result).toMatchObject({ source: 'pagerduty', links: [expect.objectContaining({ connectorId: 'pagerduty', status: 'resolved' })] });
    });

    test('continue-as-new in flight: the switch waits for nothing; the next run re-issues the unfinished open, then resolves', () => {
      const runs = recordingIds().filter((id) => id.startsWith(`${CURRENT}/continue-as-new-in-flight.run-`));
      expect(runs.length).toBeGreaterThanOrEqual(2);
      const first = facts(runs[0]!);
      const [open] = activitiesOf(first, 'openConnector', 'servicenow');
      expect(open?.outcome).toBe('open'); // still being retried when the run continued
      expect(first.suggestedAt).toBeDefined();
      expect(first.last).toBe('WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
      const last = facts(runs.at(-1)!);
      expect(byConnector(last, 'openConnector')).toEqual(['servicenow:completed']);
      expect(last.signals.map((x) => x.name)).toContain('resolve');
      expect(byConnector(last, 'resolveConnector')).toEqual(['servicenow:completed']);
      expect(last.last).toBe('WORKFLOW_EXECUTION_COMPLETED');
    });

    test('continue-as-new: pages open once in the first run and are never opened again; the last run resolves both', () => {
      const runs = recordingIds().filter((id) => id.startsWith(`${CURRENT}/continue-as-new.run-`));
      expect(runs.length).toBeGreaterThanOrEqual(3);
      const all = runs.map((r) => facts(r));
      expect(all.flatMap((f) => activitiesOf(f, 'openConnector')).map((a) => `${a.connectorId}:${a.outcome}`).sort()).toEqual(['opsgenie:completed', 'pagerduty:completed']);
      expect(byConnector(all[0]!, 'openConnector')).toEqual(['opsgenie:completed', 'pagerduty:completed']);
      for (const f of all.slice(0, -1)) expect([f.last, f.suggestedAt !== undefined]).toEqual(['WORKFLOW_EXECUTION_CONTINUED_AS_NEW', true]);
      expect(byConnector(all.at(-1)!, 'resolveConnector')).toEqual(['opsgenie:completed', 'pagerduty:completed']);
    });

    test('resolve racing open: the held open is cancelled after the resolve and has stopped before any resolve starts', () => {
      const f = v2('resolve-racing-open');
      const resolve = f.signals.find((x) => x.name === 'resolve')!;
      const [held] = activitiesOf(f, 'openConnector', 'pagerduty');
      expect([held!.scheduledAt < resolve.at, held!.cancelRequestedAt! > resolve.at, held!.closedAt! > held!.cancelRequestedAt!]).toEqual([true, true, true]);
      for (const r of activitiesOf(f, 'resolveConnector')) expect(r.scheduledAt).toBeGreaterThan(held!.closedAt!);
      expect(byConnector(f, 'resolveConnector')).toEqual(['opsgenie:completed', 'pagerduty:completed']);
    });
  });

  test('every recorded history replays against the current workflow code', async () => {
    const bundle = await sharedWorkflowBundle();
    const results = await replayAll(bundle);
    expect(results.size).toBe(recordingIds().length);
    expect(results.size).toBeGreaterThanOrEqual(8);
    const failures = [...results].filter(([, e]) => e).map(([id, e]) => `${id}: ${e!.message}`);
    expect(failures).toEqual([]);
  });

  test('a deliberate non-deterministic change to the legacy path (an extra timer before the open) fails every legacy replay', async () => {
    const bundle = await bundleModified(join(scratch, 'extra-timer'), {
      'legacy/incident-v1.ts': (src) => src.replace('  // ---- open ----', "  await sleep('1 second'); // deliberate non-deterministic change\n  // ---- open ----"),
    });
    const results = await replayAll(bundle);
    expect(results.size).toBe(recordingIds().length);
    expect(results.size).toBeGreaterThanOrEqual(8);
    const legacy = [...results].filter(([id]) => !onStateMachine(id));
    expect(legacy.length).toBeGreaterThanOrEqual(8);
    for (const [id, err] of legacy) {
      expect({ id, failed: err !== undefined }).toEqual({ id, failed: true });
      expect(`${err?.name} ${err?.message}`).toMatch(/Determinism|Nondeterminism|TMPRL1100/i);
    }
  });

  test('a deliberate non-deterministic change to the state machine (an extra timer after the begin) fails every state-machine replay', async () => {
    const bundle = await bundleModified(join(scratch, 'v2-extra-timer'), {
      'v2/incident-v2.ts': (src) => src.replace('  const calls = new Calls(s, wake, now);', "  await sleep('1 second'); // deliberate non-deterministic change\n  const calls = new Calls(s, wake, now);"),
    });
    const results = await replayAll(bundle);
    const current = [...results.keys()].filter(onStateMachine);
    expect(current.length).toBeGreaterThanOrEqual(15);
    for (const id of current) {
      const err = results.get(id);
      expect({ id, failed: err !== undefined }).toEqual({ id, failed: true });
      expect(`${err?.name} ${err?.message}`).toMatch(/Determinism|Nondeterminism|TMPRL1100/i);
    }
  });

  // The premise of the setting being in the begin digest (src/workflows/patches.ts): code that never asks the patch
  // (the release before) cannot replay a run that took it, and still replays every other recording.
  test('code that never asks local-first-opens-v1 fails its recordings\' first runs and replays everything else', async () => {
    const before = await bundleModified(join(scratch, 'no-local-first'), {
      'v2/calls.ts': (src) => src.replace('return this.s.settings.localFirstOpenMs !== undefined && patched(LOCAL_FIRST_OPENS_V1);', 'return false; // the release before the patch'),
    });
    const results = await replayAll(before);
    expect(results.size).toBe(recordingIds().length);
    // refused-opens-v1's refused-opens run opened locally first too, and so did the first runs of cancelled-creates-wait-v1;
    // the runs started again or made by a reset (in both folders) opened as ordinary activities, and the run of
    // adopted-links-acknowledged-v1 opened nothing.
    expectFailing(results, (id) => [LOCAL_FIRST, REFUSED, CANCELLED_WAIT].some((f) => id.startsWith(`${f}/`)) && !LATER_RUN.test(id) && ![RESET_BEFORE, AGAIN_BEFORE].includes(id));
  });

  // What a worker of the release before this patch does with a run that took it (src/workflows/patches.ts): it fails
  // the replay (so such a task waits for a worker of this release), and it still replays every other recording.
  test('code that never asks refused-opens-v1 fails its recordings and replays everything else', async () => {
    const before = await bundleModified(join(scratch, 'no-refused-opens'), {
      'v2/incident-v2.ts': (src) => swapped(src, LEAVES_REFUSED, 'const leavesRefused = (_s: IncidentState) => (): boolean => false; // the release before the patch'),
    });
    const results = await replayAll(before);
    expect(results.size).toBe(recordingIds().length);
    // And the runs that asked earlier-runs-resolve-v1, a patch this code never asks.
    expectFailing(results, (id) => id.startsWith(`${REFUSED}/`) || id.startsWith(`${EARLIER}/`));
    // And the gate is needed: code that leaves refused links alone without asking the patch fails the run recorded
    // before it whose first-try refusal got its resolve (local-first-opens-v1's failed-open: Opsgenie's 401 on the local
    // first attempt) and the patched runs (their markers unasked; the runs of earlier-runs-resolve-v1 also resolved
    // their link); every other recording replays. The ordinary activities of the release before named no attempt, so their
    // refusals (state-machine-v1's failed-open) are resolved either way, and a redrive clears the mark (redrive).
    const ungated = await bundleModified(join(scratch, 'refused-opens-ungated'), {
      'v2/incident-v2.ts': (src) => swapped(src, LEAVES_REFUSED, 'const leavesRefused = (_s: IncidentState) => (): boolean => true; // deliberate: no patch'),
    });
    const ungatedResults = await replayAll(ungated);
    expect(ungatedResults.size).toBe(recordingIds().length);
    const refusedFirstTry = [join(LOCAL_FIRST, 'failed-open'), join(REFUSED, 'refused-opens'), RESET_BEFORE, AGAIN_BEFORE, join(EARLIER, 'reset-refused-open'), join(EARLIER, 'again-refused-open')];
    expectFailing(ungatedResults, (id) => refusedFirstTry.includes(id));
  });

  // What a worker of the release before earlier-runs-resolve-v1 does with the runs that took it: it fails their replay (an
  // unmatched patch marker), so such a task waits for a worker of this release, and it replays everything else — among
  // them the run it began itself with a client of this release (`again` in its input, the link left alone), which this
  // code replays too. And the gate is needed: code that resolves such runs' refused links without asking the patch (on
  // replay it cannot tell a reset run, so it resolves every such link) fails those recordings and every run that left a
  // refused link alone, the two the release before recorded among them.
  test('code that never asks earlier-runs-resolve-v1 fails its recordings and replays everything else; code that skips the gate fails the runs that left a link alone', async () => {
    const before = await bundleModified(join(scratch, 'no-earlier-runs'), {
      'v2/incident-v2.ts': (src) => swapped(src, LEAVES_REFUSED, 'const leavesRefused = (_s: IncidentState) => (): boolean => patched(REFUSED_OPENS_V1); // the release before the patch'),
    });
    const results = await replayAll(before);
    expect(results.size).toBe(recordingIds().length);
    expectFailing(results, (id) => id.startsWith(`${EARLIER}/`));
    const ungated = await bundleModified(join(scratch, 'earlier-runs-ungated'), {
      'v2/incident-v2.ts': (src) => swapped(src, LEAVES_REFUSED, 'const leavesRefused = (s: IncidentState) => (): boolean => !mayFollowEarlier(s) && patched(REFUSED_OPENS_V1); // deliberate: no patch'),
    });
    const ungatedResults = await replayAll(ungated);
    expect(ungatedResults.size).toBe(recordingIds().length);
    const leftAlone = [join(REFUSED, 'refused-opens'), RESET_BEFORE, AGAIN_BEFORE, join(EARLIER, 'reset-refused-open'), join(EARLIER, 'again-refused-open')];
    expectFailing(ungatedResults, (id) => leftAlone.includes(id));
  });

  // What a worker of the release before cancelled-creates-wait-v1 does with the runs that took it: it fails their replay (an
  // unmatched marker, resolves scheduled before the wait's timer), so such a task waits for a worker of this release, and it
  // replays everything else. Code that waits without asking the patch fails them too (their marker unasked): no recording
  // made before the patch cancelled such a create, so it replays every other one.
  test('code that never asks cancelled-creates-wait-v1 fails its recordings and replays everything else; so does code that waits without asking', async () => {
    const withPatch = [join(CANCELLED_WAIT, 'ticket-create-cut-resolved'), join(CANCELLED_WAIT, 'ticket-create-handed-over-resolved.run-2')];
    for (const [name, by] of [['no-cancelled-wait', 'false; // the release before the patch'], ['cancelled-wait-ungated', 'true; // deliberate: no patch']] as const) {
      const bundle = await bundleModified(join(scratch, name), {
        'v2/incident-v2.ts': (src) => swapped(src, WAITS_FOR_CANCELLED, `const waitsForCancelled = (): boolean => ${by}`),
      });
      const results = await replayAll(bundle);
      expect(results.size).toBe(recordingIds().length);
      expectFailing(results, (id) => withPatch.includes(id));
    }
  });

  test('code that never asks adopted-links-acknowledged-v1 fails its recording and replays everything else', async () => {
    const before = await bundleModified(join(scratch, 'no-adopted-acks'), {
      'v2/incident-v2.ts': (src) => swapped(src, ACKNOWLEDGES_ADOPTED, 'const acknowledgesAdopted = (): boolean => false; // the release before the patch'),
    });
    const results = await replayAll(before);
    expect(results.size).toBe(recordingIds().length);
    expectFailing(results, (id) => id.startsWith(`${ADOPTED_ACKS}/`));
  });

  test('code that never asks resolved-left-open-v1 fails its recording and replays everything else', async () => {
    const before = await bundleModified(join(scratch, 'no-left-open'), {
      'v2/incident-v2.ts': (src) => swapped(src, RESOLVES_LEFT_OPEN, 'const resolvesLeftOpen = (): boolean => false; // the release before the patch'),
    });
    const results = await replayAll(before);
    expect(results.size).toBe(recordingIds().length);
    expectFailing(results, (id) => id.startsWith(`${LEFT_OPEN}/`));
  });

  // No run before the patch met a left-open mirror in a recording, so one is derived in memory from a real one: the
  // unchecked-snapshot `already-resolved` with an Opsgenie connector whose link is still open in the snapshot's mirror
  // record. Such a run of the release before ended at once (no marker); it must replay so, and code that takes the new
  // branch without asking must fail it.
  function leftOpenBeforeThePatch(): HistoryAndWorkflowId[] {
    const h = JSON.parse(recordingText('begin-in-input-v1/already-resolved')) as {
      events: Array<{ workflowExecutionStartedEventAttributes?: { input?: { payloads?: Array<{ data: string }> } } }>;
    };
    const payload = h.events[0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    const input = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as {
      begin: { connectors: Array<Record<string, unknown>>; mirror: { record: { links: Array<Record<string, unknown>> } } };
    };
    const pd = input.begin.connectors.find((c) => c.provider === 'pagerduty');
    expect(pd).toBeDefined();
    input.begin.connectors.push({ ...pd, id: 'opsgenie', provider: 'opsgenie' });
    input.begin.mirror.record.links.push({ connectorId: 'opsgenie', provider: 'opsgenie', status: 'open', externalRef: 'probectl-x', updatedAt: '2026-12-01T11:00:02.546Z' });
    payload.data = Buffer.from(JSON.stringify(input)).toString('base64');
    return [{ workflowId: 'derived/left-open-before-the-patch', history: historyFromJSON(h) }];
  }

  test('a run of the release before that met a left-open mirror (derived) replays on its old path; taking the branch without asking fails it', async () => {
    const now = await replayAll(await sharedWorkflowBundle(), leftOpenBeforeThePatch());
    expect([...now.values()]).toEqual([undefined]);
    const unasked = await bundleModified(join(scratch, 'left-open-unasked'), {
      'v2/incident-v2.ts': (src) => swapped(src, RESOLVES_LEFT_OPEN, 'const resolvesLeftOpen = (): boolean => true; // the branch, never asked'),
    });
    // One replay of that code: the derived run, and the recording that asked the patch, which fails without asking
    // too (the marker has no command).
    const asked = loadHistories().filter(({ workflowId }) => workflowId.startsWith(`${LEFT_OPEN}/`));
    const failed = await replayAll(unasked, [...leftOpenBeforeThePatch(), ...asked]);
    expect(failed.size).toBe(1 + asked.length);
    expect(asked.length).toBeGreaterThan(0);
    expectFailing(failed, () => true);
  });

  // A replay decides the checked begin by the run's patch marker, never by a Build ID: not by the replaying worker's,
  // and not by the one history records with each task (WorkflowTaskCompleted.workerVersion, deprecated in the API).
  test('checked-begin recordings (both patches) replay without their recorded Build IDs; code that decides a replay by the Build ID fails them', async () => {
    const stripped = withoutBuildIds();
    expect(stripped).toHaveLength(6);
    for (const { history } of stripped) expect(history.events!.filter((e) => e.workflowTaskCompletedEventAttributes?.workerVersion).length).toBe(0);
    const fine = await replayAll(await sharedWorkflowBundle(), stripped);
    expect([...fine].map(([id, e]) => ({ id, error: e?.message }))).toEqual(stripped.map(({ workflowId }) => ({ id: workflowId, error: undefined })));
    const byBuildId = await bundleModified(join(scratch, 'v2-checked-begin-by-build-id'), {
      'v2/incident-v2.ts': (src) => src.replace('(info.unsafe.isReplaying || takesCheckedBegin(checked.configDigest, info))', 'takesCheckedBegin(checked.configDigest, info)'),
      'incident.ts': (src) => src.replace('(info.unsafe.isReplaying || takesCheckedBegin(checked.configDigest, info))', 'takesCheckedBegin(checked.configDigest, info)'),
    });
    // One replay of that code: the six without their Build IDs (named apart), which fail, and the same six with them,
    // which replay: the recordings are sound, the field is what it used.
    const STRIPPED = 'without-build-ids/';
    const both = await replayAll(byBuildId, [
      ...withoutBuildIds().map((h) => ({ ...h, workflowId: `${STRIPPED}${h.workflowId}` })),
      ...loadHistories().filter(({ workflowId }) => inCheckedFolder(workflowId)),
    ]);
    const failed = [...both].filter(([id]) => id.startsWith(STRIPPED));
    const withIds = [...both].filter(([id]) => !id.startsWith(STRIPPED));
    expect(failed).toHaveLength(6);
    for (const [id, err] of failed) {
      expect({ id, failed: err !== undefined }).toEqual({ id, failed: true });
      expect(`${err?.name} ${err?.message}`).toMatch(/Determinism|Nondeterminism|TMPRL1100/i);
    }
    expect(withIds.map(([id]) => id).sort()).toEqual(stripped.map(({ workflowId }) => workflowId).sort());
    expect(withIds.filter(([, err]) => err)).toEqual([]);
  });

  // The premise of the begin digest naming the patch (src/activities/begin.ts): code of the release before
  // first-run-checked-v1 (it asks state-machine-v1 first, whatever the input) cannot replay a run that asked it, and
  // the code of this release still replays every run that release began on the two patches.
  test('code that never asks first-run-checked-v1 fails its recordings and replays the begin-checked-v1 ones', async () => {
    const before = await bundleModified(join(scratch, 'no-first-run-checked'), {
      'incident.ts': (src) => src.replace('&& patched(FIRST_RUN_CHECKED_V1)) {', '&& false) { // the release before the patch'),
    });
    const results = await replayAll(before, loadHistories().filter(({ workflowId }) => inCheckedFolder(workflowId)));
    expect(results.size).toBe(6);
    expectFailing(results, (id) => id.startsWith(`${FIRST_RUN_CHECKED}/`));
  });

  test('a deliberate non-deterministic change to the state machine\'s read-back (no timer before a read) fails the reconciliation replay, not the pager-only ones', async () => {
    const bundle = await bundleModified(join(scratch, 'v2-no-reconcile-timer'), {
      'v2/reconcile.ts': (src) => src.replace('    await sleep(every);\n', '    // deliberate non-deterministic change: no timer before the read\n'),
    });
    const results = await replayAll(bundle);
    const failed = (id: string) => ({ id, failed: results.get(id) !== undefined });
    expect(failed(join(CURRENT, 'reconciliation'))).toEqual({ id: join(CURRENT, 'reconciliation'), failed: true });
    expect(`${results.get(join(CURRENT, 'reconciliation'))?.message}`).toMatch(/Determinism|Nondeterminism|TMPRL1100/i);
    // Nothing readable (PagerDuty only) or nothing open: the same change replays fine.
    for (const name of ['one-connector-resolve', 'redrive', 'already-resolved']) expect(failed(join(CURRENT, name))).toEqual({ id: join(CURRENT, name), failed: false });
    for (const id of results.keys()) if (!onStateMachine(id)) expect(failed(id)).toEqual({ id, failed: false });
  });

  test('a deliberate non-deterministic change to the hand-over (a timer in the dispatcher for carried legacy state) fails the hand-over replay and nothing else', async () => {
    const bundle = await bundleModified(join(scratch, 'handover-timer'), {
      'incident.ts': (src) => src
        .replace("import { ApplicationFailure, patched, workflowInfo } from '@temporalio/workflow';", "import { ApplicationFailure, patched, sleep, workflowInfo } from '@temporalio/workflow';")
        .replace('    const chain = workflowInfo().firstExecutionRunId;', "    if (legacy) await sleep('1 second'); // deliberate non-deterministic change\n    const chain = workflowInfo().firstExecutionRunId;"),
    });
    const results = await replayAll(bundle);
    expectFailing(results, (id) => id === join(CURRENT, 'legacy-handover'));
  });

  test('a deliberate non-deterministic change to the carried legacy state (begun forgotten, so it begins again) fails the hand-over replay', async () => {
    const bundle = await bundleModified(join(scratch, 'handover-begun'), {
      'v2/from-legacy.ts': (src) => src.replace('  s.begun = old.begun;', '  s.begun = false; // deliberate non-deterministic change'),
    });
    const results = await replayAll(bundle);
    const id = join(CURRENT, 'legacy-handover');
    expect({ id, failed: results.get(id) !== undefined }).toEqual({ id, failed: true });
    expect(`${results.get(id)?.message}`).toMatch(/Determinism|Nondeterminism|TMPRL1100/i);
    // Runs that never carried legacy state never call it.
    for (const other of [join(CURRENT, 'plain-resolve'), 'plain-resolve', join(CURRENT, 'continue-as-new.run-2')]) expect({ other, error: results.get(other) }).toEqual({ other, error: undefined });
  });

  test('deliberate non-deterministic changes to what runs while Postgres is down (a timer in the own follow-ups; no back-off timer) fail the Postgres-down replay', async () => {
    const id = join(CURRENT, 'postgres-down');
    for (const [name, file, edit] of [
      ['own-follow-up-timer', 'v2/own-follow-ups.ts', (src: string) => src.replace('    if (wait > 0) await sleep(wait);\n', "    if (wait > 0) await sleep(wait);\n    await sleep('1 second'); // deliberate non-deterministic change\n")],
      ['no-backoff', 'v2/flusher.ts', (src: string) => src.replace('          await sleep(Math.min(1_000 * 2 ** this.#failures, MAX_BACKOFF_MS));', '          // deliberate non-deterministic change: no back-off')],
    ] as const) {
      const results = await replayAll(await bundleModified(join(scratch, name), { [file]: edit }));
      expect({ name, id, failed: results.get(id) !== undefined }).toEqual({ name, id, failed: true });
      expect(`${results.get(id)?.message}`).toMatch(/Determinism|Nondeterminism|TMPRL1100/i);
      // A run whose Postgres never failed takes neither branch.
      expect({ name, error: results.get(join(CURRENT, 'one-connector-resolve')) }).toEqual({ name, error: undefined });
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
