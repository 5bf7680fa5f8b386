/**
 * Records the histories that test/replay/replay.test.ts replays: real incident lifecycles on a real dev
 * server (its own, with a lowered continue-as-new suggestion) with the sandbox doubles.
 *
 *   RECORD_HISTORIES=1 RECORD_ONLY=name,name npx jest --runInBand --testMatch '**\/test/replay/record-histories.ts'
 *
 * (`npm run record:histories` sets RECORD_HISTORIES=1.) With RECORD_HISTORIES=1 the files are written to
 * test/histories/ (or to the folder test/histories/$RECORD_INTO/); without it they go to
 * test-artifacts/histories/ (a dry run).
 * Recordings are append-only: the recorder refuses, naming the file, to write any lifecycle that already has
 * a file in the target folder, and appends the SHA-256 line of every file it writes to test/replay/histories.sha256
 * (histories-manifest.ts; it refuses to start while test/histories/ does not match that manifest), so RECORD_ONLY must
 * name only new lifecycles (LIFECYCLES below lists them all;
 * without RECORD_ONLY every one is recorded). The file name is not `*.test.ts`, so the normal suite never runs
 * it. Histories are written with historyToJSON (proto3 JSON, int64 as strings), never JSON.stringify of the
 * proto objects.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { OpsgenieDouble } from '../../dev/doubles/opsgenie';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { ProbectlDouble } from '../../dev/doubles/probectl';
import type { RecordedRequest } from '../../dev/doubles/server';
import { JiraDouble } from '../../dev/doubles/jira';
import { ServiceNowDouble } from '../../dev/doubles/servicenow';
import { SlackDouble } from '../../dev/doubles/slack';
import { TeamsDouble } from '../../dev/doubles/teams';
import { beginInStart } from '../../src/activities/begin';
import { TENANT_MEMO_KEY } from '../../src/client';
import { redriveSignal } from '../../src/workflows/messages';
import { eventually, sharedStack, sleep, uniqueId } from '../helpers/shared';
import { CuttableProxy } from '../helpers/tcp-proxy';
import { incidentFor, pastResolvedIncident, startStack, type TestStack } from '../helpers/stack';
import { findTemporalCli, startDevServer, type DevServer } from '../setup/temporal-server';
import { HISTORIES_DIR, MANIFEST, appendToManifest, manifestProblems } from './histories-manifest';
import { existingRecordings, recordingDir, recordingFile, refuseOverwrite, selectLifecycles, writeNewRecording } from './recording-files';

const ROOT = join(__dirname, '..', '..');
const WRITE = process.env.RECORD_HISTORIES === '1';
const OUT = recordingDir(join(ROOT, WRITE ? 'test' : 'test-artifacts', 'histories'), process.env.RECORD_INTO);
/** Fake keys of the loopback doubles (no real provider accepts them). */
const PD_KEY = 'R0UT1NGKEYrecordedHistories00001';
const OG_KEY = 'og-key-recorded-histories-0000001';
const OG_WRONG_KEY = 'og-key-recorded-histories-revoked9';
const SN_USER = 'svc-recorder';
const SN_PASSWORD = 'pa55-recorded-histories';
const API_TOKEN = 'api-token-recorded-histories-000000000001';
const CALLBACK_SECRET = 'callback-secret-recorded-histories-01';
const PD_PACED_KEY = 'R0UT1NGKEYrecordedHistoriesPaced';
const SLACK_HOOK = '/services/TREC/BREC/RecordedHistoriesHook01';
const TEAMS_PATH = '/workflows/rec0/triggers/manual/paths/invoke';
const TEAMS_SIG = 'RecordedHistoriesSig01';
const JIRA_EMAIL = 'recorder@example.com';
const JIRA_TOKEN = 'jira-token-recorded-histories-01';
/** Server suggests continue-as-new past this many events: the continue-as-new lifecycles switch runs, the others (< 150 events) do not. */
const SUGGEST_AT = 150;

/** Every lifecycle the recorder knows, in recording order (the first four were recorded before the rest). */
const LIFECYCLES = [
  'one-connector-resolve', 'plain-resolve', 'inbound-resolve', 'continue-as-new',
  'acknowledge', 'redrive', 'reconciliation', 'failed-open', 'already-resolved', 'continue-as-new-in-flight', 'resolve-racing-open',
  'legacy-handover', 'postgres-down', 'refused-signals',
  'six-connectors', 'ticket-create-late', 'paced-open', 'refused-opens', 'reset-refused-open', 'again-refused-open',
  'ticket-create-cut-resolved', 'ticket-create-handed-over-resolved', 'acknowledged-before-begin', 'resolved-left-open',
] as const;
type LifecycleName = (typeof LIFECYCLES)[number];

if (process.env.RECORD_INTO?.trim() === 'begin-in-input-v1') {
  throw new Error('RECORD_INTO=begin-in-input-v1: the API no longer passes an unchecked begin snapshot, so that path cannot be recorded again (its folder is complete)');
}
if (process.env.RECORD_INTO?.trim() === 'begin-checked-v1') {
  throw new Error('RECORD_INTO=begin-checked-v1: a first run that takes the checked snapshot asks first-run-checked-v1 now, so that path cannot be recorded again (its folder is complete; record into first-run-checked-v1)');
}
/** The folder of first runs that take the checked begin snapshot the API passes, their opens ordinary activities. */
const CHECKED = process.env.RECORD_INTO?.trim() === 'first-run-checked-v1';
/**
 * The folders of first runs that take it with local first opens (PROBECTL_NOTIFY_LOCAL_FIRST_OPENS=on, the default):
 * local-first-opens-v1, refused-opens-v1 (runs whose fan-out left a refused link alone, on the same settings),
 * earlier-runs-resolve-v1 (a run started again, or made by a reset, whose fan-out resolves such a link; both of its
 * lifecycles open as ordinary activities), cancelled-creates-wait-v1 (a resolve that cancels a ticket create which may
 * still land waits for it), adopted-links-acknowledged-v1 (an acknowledge before the begin of a run started again) and
 * resolved-left-open-v1 (a run started again after one that ended during its resolve fan-out).
 */
const LOCAL_FIRST = ['local-first-opens-v1', 'refused-opens-v1', 'earlier-runs-resolve-v1', 'cancelled-creates-wait-v1', 'adopted-links-acknowledged-v1', 'resolved-left-open-v1'].includes(process.env.RECORD_INTO?.trim() ?? '');
/** The lifecycles of earlier-runs-resolve-v1, which refused-opens-v1 holds as the release before that patch recorded them. */
const EARLIER_RUNS = ['reset-refused-open', 'again-refused-open'];
/** The API passes the checked snapshot (both folders above). */
const GIVEN = CHECKED || LOCAL_FIRST;
const selected = selectLifecycles(LIFECYCLES, process.env.RECORD_ONLY) as LifecycleName[];
if (process.env.RECORD_INTO?.trim() === 'refused-opens-v1' && selected.some((n) => EARLIER_RUNS.includes(n))) {
  throw new Error(`RECORD_INTO=refused-opens-v1 with ${EARLIER_RUNS.join(' or ')}: that folder holds them as the release before earlier-runs-resolve-v1 recorded them (the refused link left alone); this code resolves it, so record them into earlier-runs-resolve-v1`);
}
// Fails the run before anything starts, naming every file that would be overwritten; and unless the recordings match
// their SHA-256 manifest, to which each new file's line is appended (test/replay/histories-manifest.ts).
if (WRITE) {
  refuseOverwrite(OUT, selected);
  const problems = manifestProblems(HISTORIES_DIR, readFileSync(MANIFEST, 'utf8'));
  if (problems.length > 0) throw new Error(`test/histories/ does not match ${MANIFEST}; fix that before recording:\n${problems.join('\n')}`);
}

jest.setTimeout(240_000);

async function runsOf(client: Client, workflowId: string): Promise<{ runId: string; start: number }[]> {
  const runs: { runId: string; start: number }[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push({ runId: w.runId, start: w.startTime.getTime() });
  return runs.sort((a, b) => a.start - b.start);
}

/** `last`: only the latest run (one a reset made, or one started again: the run before it ended without completing, as no recorded run may). */
async function save(client: Client, workflowId: string, name: string, last = false): Promise<number[]> {
  const runs = (await runsOf(client, workflowId)).slice(last ? -1 : 0);
  if (!WRITE) for (const f of existingRecordings(OUT, name)) rmSync(join(OUT, f)); // a dry run replaces its own scratch files
  const counts: number[] = [];
  const written: string[] = [];
  for (const [i, r] of runs.entries()) {
    const history = await client.workflow.getHandle(workflowId, r.runId).fetchHistory();
    // Stable ids in the committed files: the replayer takes the workflow id from the caller.
    const file = join(OUT, recordingFile(name, i + 1, runs.length));
    writeNewRecording(file, `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 1)}\n`);
    written.push(file);
    counts.push(history.events?.length ?? 0);
  }
  // Each new recording's SHA-256 line goes at the end of the manifest (a dry run writes none).
  if (WRITE) appendToManifest(MANIFEST, HISTORIES_DIR, written);
  return counts;
}

/** The server has suggested continue-as-new to the current run, or to run `runId` (a workflow task started with the flag). */
async function continueAsNewSuggested(client: Client, workflowId: string, runId?: string): Promise<boolean> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return (history.events ?? []).some((e) => e.workflowTaskStartedEventAttributes?.suggestContinueAsNew === true);
}

const mentions = (req: RecordedRequest, text: string) => req.body.includes(text) || req.path.includes(text) || req.query.toString().includes(text);

describe('record incident lifecycles for the replay tests', () => {
  let server: DevServer;
  let pd: PagerDutyDouble;
  let og: OpsgenieDouble;
  let sn: ServiceNowDouble;
  let stack: TestStack;
  const dbFile = join(ROOT, 'test-artifacts', `temporal-record-${process.pid}.sqlite`);
  /** PagerDuty and Opsgenie. */
  const tenant = uniqueId('recorded');
  /** PagerDuty only: the smallest lifecycle. */
  const single = uniqueId('single');
  /** PagerDuty, and Opsgenie with a revoked key (every call to it answers 401). */
  const broken = uniqueId('broken');
  /** ServiceNow only: a ticket whose open is retried. */
  const ticket = uniqueId('ticket');
  const summary: Record<string, number[]> = {};
  /** Stacks started by one lifecycle for settings of its own (their own task queue); stopped after it. */
  const extraStacks: TestStack[] = [];

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    server = await startDevServer({
      cli: findTemporalCli(),
      dbFile,
      extraArgs: ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${SUGGEST_AT}`],
    });
    pd = await new PagerDutyDouble().start();
    og = await new OpsgenieDouble({ apiKey: OG_KEY, processingMs: 0 }).start();
    sn = await new ServiceNowDouble({ user: SN_USER, password: SN_PASSWORD }).start();
    stack = await startStack({
      temporalAddress: server.address,
      env: {
        PROBECTL_NOTIFY_CONNECTORS: [
          `${tenant}|pagerduty|${pd.url}/v2/enqueue|${PD_KEY}`,
          `${tenant}|opsgenie|${og.url}/v2/alerts|${OG_KEY}`,
          `${single}|pagerduty|${pd.url}/v2/enqueue|${PD_KEY}`,
          `${broken}|pagerduty|${pd.url}/v2/enqueue|${PD_KEY}`,
          `${broken}|opsgenie|${og.url}/v2/alerts|${OG_WRONG_KEY}`,
          `${ticket}|servicenow|${sn.url}|${SN_USER}:${SN_PASSWORD}`,
        ].join(','),
        // The folder of runs given their checked begin snapshot is recorded with the API passing it (the worker has
        // the API's configuration, so its digest); every other folder with the runs reading it themselves. The
        // unchecked snapshot of begin-in-input-v1 is no longer passed by the API, and a run taking the checked one
        // no longer asks begin-checked-v1: those folders are complete.
        PROBECTL_NOTIFY_BEGIN_IN_START: GIVEN ? 'auto' : 'off',
        // Local first opens only in their own folder: every other folder keeps the path it was recorded on.
        PROBECTL_NOTIFY_LOCAL_FIRST_OPENS: LOCAL_FIRST ? 'on' : 'off',
      },
    });
  });
  beforeAll(async () => {
    // The API passes the checked snapshot once Temporal lists the stack's worker on the task queue.
    if (GIVEN) await eventually(() => stack.beginGate!.refresh(), { what: 'the begin gate open' });
  });
  afterEach(async () => {
    for (const s of extraStacks.splice(0)) await s.stop();
    pd.faults = {};
    og.faults = {};
    sn.faults = {};
    pd.releaseHeld();
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
    await og?.stop();
    await sn?.stop();
    await server?.stop();
    for (const suffix of ['', '-wal', '-shm']) rmSync(dbFile + suffix, { force: true });
    console.log(`histories written to ${OUT} (events per run): ${JSON.stringify(summary)}`);
  });

  const startExtraStack = async (env: Record<string, string>) => {
    const s = await startStack({ temporalAddress: server.address, env: { PROBECTL_NOTIFY_LOCAL_FIRST_OPENS: LOCAL_FIRST ? 'on' : 'off', ...env } });
    extraStacks.push(s);
    // In the local-first folder a lifecycle on its own stack takes the checked snapshot too, as on the main one.
    if (LOCAL_FIRST) await eventually(() => s.beginGate!.refresh(), { what: 'the extra stack\'s begin gate open' });
    return s;
  };

  /** Runs `fn` with chat and Jira doubles of its own (the recorded keys), stopped afterwards. */
  const withOwnDoubles = async <T>(fn: (d: { slack: SlackDouble; teams: TeamsDouble; jira: JiraDouble }) => Promise<T>): Promise<T> => {
    const slack = await new SlackDouble({ webhookPath: SLACK_HOOK }).start();
    const teams = await new TeamsDouble({ sig: TEAMS_SIG, path: TEAMS_PATH }).start();
    const jira = await new JiraDouble({ email: JIRA_EMAIL, apiToken: JIRA_TOKEN }).start();
    try {
      return await fn({ slack, teams, jira });
    } finally {
      await Promise.all([slack.stop(), teams.stop(), jira.stop()]);
    }
  };

  /** The six providers for tenant `t`: the shared PagerDuty, Opsgenie and ServiceNow doubles and a lifecycle's own chat and Jira ones. */
  const sixConnectors = (t: string, slack: SlackDouble, teams: TeamsDouble, jira: JiraDouble) => [
    `${t}|pagerduty|${pd.url}/v2/enqueue|${PD_KEY}`,
    `${t}|opsgenie|${og.url}/v2/alerts|${OG_KEY}`,
    `${t}|slack|${slack.url}${SLACK_HOOK}|`,
    `${t}|teams|${teams.url}${TEAMS_PATH}?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${TEAMS_SIG}|`,
    `${t}|servicenow|${sn.url}|${SN_USER}:${SN_PASSWORD}`,
    `${t}|jira|${jira.url}/rest/api/2/issue?project=OPS|${JIRA_EMAIL}:${JIRA_TOKEN}`,
  ].join(',');

  const openAndWait = async (overrides = {}, t = tenant, links = 2, on: TestStack = stack) => {
    const inc = incidentFor(t, overrides);
    await on.incidents.openIncident(inc);
    await eventually(async () => {
      const v = await on.incidents.getIncident(inc.id);
      return v.links.length === links && v.links.every((l) => l.status === 'open');
    }, { what: 'open links' });
    return inc;
  };
  const at = () => new Date().toISOString();
  const kinds = async (s: TestStack, id: string) => (await s.incidents.getIncident(id)).timeline.map((t) => t.kind);

  /**
   * Opens on PagerDuty and Opsgenie while PagerDuty holds its trigger answer, resolves once Opsgenie is open,
   * and checks how the held open ended (`openEnded`, its connector.failed detail).
   */
  const raceResolveWithOpen = async (s: TestStack, t: string, openEnded: string): Promise<string> => {
    const inc = incidentFor(t);
    const key = `probectl-${inc.id}`;
    pd.faults.hold = (req) => (req.json as { event_action?: string } | undefined)?.event_action === 'trigger' && mentions(req, key);
    await s.incidents.openIncident(inc);
    await pd.waitHeld(1);
    await eventually(async () => (await s.incidents.getIncident(inc.id)).links.find((l) => l.connectorId === 'opsgenie')?.status === 'open', { what: 'Opsgenie open' });
    expect((await s.incidents.getIncident(inc.id)).links.find((l) => l.connectorId === 'pagerduty')?.status).toBe('pending');
    await s.incidents.resolve(inc.id, { tenantId: t, source: 'api', actor: 'dave', at: at() });
    const result = await s.incidents.result(inc.id);
    pd.releaseHeld();
    expect(Object.fromEntries(result.links.map((l) => [l.connectorId, l.status]))).toEqual({ pagerduty: 'resolved', opsgenie: 'resolved' });
    expect(pd.alerts.filter((a) => a.dedupKey === key && a.status !== 'resolved')).toHaveLength(0);
    const failed = (await s.mirror.timeline(t, inc.id)).filter((e) => e.kind === 'connector.failed').map((e) => `${e.connectorId}: ${e.detail}`);
    expect(failed).toEqual([`pagerduty: ${openEnded}`]);
    return key;
  };

  /** Each lifecycle drives one incident and returns its workflow id; `runs` says whether it must continue-as-new. */
  /** PagerDuty refuses every trigger of `key` (400), as a routing rule would. */
  const refuseTriggers = (key: string) => (r: RecordedRequest) =>
    (mentions(r, key) && (r.json as { event_action?: string } | undefined)?.event_action === 'trigger'
      ? { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: ['routing rule rejects it'] } }
      : undefined);
  /** Resolve from the API; the one PagerDuty link is resolved, and PagerDuty got the resolve. Returns the workflow id. */
  const resolvedPage = async (s: TestStack, t: string, id: string, actor: string) => {
    const key = `probectl-${id}`;
    await s.incidents.resolve(id, { tenantId: t, source: 'api', actor, at: at() });
    const result = await s.incidents.result(id);
    expect(result.links.map((l) => `${l.connectorId}:${l.status}`)).toEqual(['pagerduty:resolved']);
    expect(pd.events('resolve').filter((r) => mentions(r, key)).length).toBeGreaterThan(0);
    return key;
  };

  const recorders: Record<LifecycleName, { title: string; runs: 'one' | 'several' | 'last'; record: () => Promise<string> }> = {
    'one-connector-resolve': {
      title: 'one connector: open and resolve (the smallest history)',
      runs: 'one',
      record: async () => {
        const inc = await openAndWait({}, single, 1);
        await stack.incidents.resolve(inc.id, { tenantId: single, source: 'probectl', at: at() });
        await stack.incidents.result(inc.id);
        return `probectl-${inc.id}`;
      },
    },

    'plain-resolve': {
      title: 'plain resolve: open on two connectors, resolve from the API',
      runs: 'one',
      record: async () => {
        const inc = await openAndWait();
        await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'api', actor: 'alice', reason: 'fixed', at: at() });
        await stack.incidents.result(inc.id);
        return `probectl-${inc.id}`;
      },
    },

    'inbound-resolve': {
      title: 'inbound resolve: acknowledged and resolved at PagerDuty, the origin is skipped',
      runs: 'one',
      record: async () => {
        const inc = await openAndWait();
        await stack.incidents.acknowledge(inc.id, { tenantId: tenant, source: 'pagerduty', actor: 'bob', at: at() });
        await eventually(async () => (await kinds(stack, inc.id)).includes('connector.acknowledged'), { what: 'ack fan-out' });
        await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'pagerduty', actor: 'bob', at: at() });
        const result = await stack.incidents.result(inc.id);
        expect(result.source).toBe('pagerduty');
        const timeline = await stack.mirror.timeline(tenant, inc.id);
        expect(timeline.map((t) => t.kind)).toContain('origin.skipped');
        return `probectl-${inc.id}`;
      },
    },

    'continue-as-new': {
      title: 'continue-as-new: correlated signals across several runs, then resolve',
      runs: 'several',
      record: async () => {
        const inc = await openAndWait({ severity: 'error' });
        const key = `probectl-${inc.id}`;
        for (let i = 0; i < 300; i++) {
          await stack.incidents.correlate(inc.id, { tenantId: tenant, signalId: `sig-${i}`, summary: `flap ${i}`, at: at() });
        }
        await eventually(async () => (await stack.incidents.getIncident(inc.id) as { correlationCount?: number }).correlationCount === 300, { what: 'all signals' });
        await eventually(async () => (await runsOf(stack.client, key)).length >= 2, { what: 'a continue-as-new' });
        await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: at() });
        await stack.incidents.result(inc.id);
        return key;
      },
    },

    acknowledge: {
      title: 'acknowledge: acknowledged through the API, fanned out to both pagers and reported to probectl, then resolved',
      runs: 'one',
      record: async () => {
        const probectl = await new ProbectlDouble(CALLBACK_SECRET).start();
        try {
          const t = uniqueId('acked');
          const s = await startExtraStack({
            PROBECTL_NOTIFY_CONNECTORS: [`${t}|pagerduty|${pd.url}/v2/enqueue|${PD_KEY}`, `${t}|opsgenie|${og.url}/v2/alerts|${OG_KEY}`].join(','),
            PROBECTL_NOTIFY_API_TOKENS: `${t}:${API_TOKEN}`,
            PROBECTL_NOTIFY_CALLBACK_URL: `${probectl.url}/v1/notify/events`,
            PROBECTL_NOTIFY_CALLBACK_SECRET: CALLBACK_SECRET,
          });
          const api = (url: string, payload: object) => s.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${API_TOKEN}` }, payload });
          const inc = incidentFor(t);
          expect((await api('/v1/incidents', { id: inc.id, title: inc.title, severity: inc.severity })).statusCode).toBeLessThan(300);
          await eventually(async () => {
            const v = await s.incidents.getIncident(inc.id);
            return v.links.length === 2 && v.links.every((l) => l.status === 'open');
          }, { what: 'open links' });
          expect((await api(`/v1/incidents/${inc.id}/acknowledge`, { actor: 'carol' })).statusCode).toBe(202);
          await eventually(async () => (await kinds(s, inc.id)).filter((k) => k === 'connector.acknowledged').length === 2, { what: 'both pagers acknowledged' });
          await eventually(() => probectl.accepted().some((e) => e.incidentId === inc.id && e.type === 'incident.acknowledged'), { what: 'probectl told of the acknowledgement' });
          expect(pd.alerts.find((a) => a.dedupKey === `probectl-${inc.id}`)?.status).toBe('acknowledged');
          expect(og.byAlias(`probectl-${inc.id}`)[0]?.acknowledged).toBe(true);
          expect((await api(`/v1/incidents/${inc.id}/resolve`, { actor: 'carol', reason: 'uplink replaced' })).statusCode).toBe(202);
          const result = await s.incidents.result(inc.id);
          expect(result).toMatchObject({ source: 'api', actor: 'carol' });
          // The resolution's callback comes from the worker's follow-up runner, after the workflow completed.
          await eventually(() => probectl.accepted().some((e) => e.incidentId === inc.id && e.type === 'incident.resolved'), { what: 'probectl told of the resolution' });
          expect(probectl.accepted().filter((e) => e.incidentId === inc.id).map((e) => e.type).sort()).toEqual(['incident.acknowledged', 'incident.resolved']);
          return `probectl-${inc.id}`;
        } finally {
          await probectl.stop();
        }
      },
    },

    redrive: {
      title: 'redrive: the open is refused (400), the operator re-drives it once fixed, then resolve',
      runs: 'one',
      record: async () => {
        const inc = incidentFor(single);
        let refusing = true;
        pd.faults.before = (req) =>
          refusing && mentions(req, `probectl-${inc.id}`) ? { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: ['routing rule rejects it'] } } : undefined;
        await stack.incidents.openIncident(inc);
        await eventually(async () => (await stack.incidents.getIncident(inc.id)).links[0]?.status === 'failed', { what: 'the failed link' });
        refusing = false;
        await stack.client.workflow.getHandle(`probectl-${inc.id}`).signal(redriveSignal, { tenantId: single, connectorId: 'pagerduty', actor: 'oncall-operator', at: at() });
        await eventually(async () => (await stack.incidents.getIncident(inc.id)).links[0]?.status === 'open', { what: 'the re-driven link open' });
        expect(await kinds(stack, inc.id)).toEqual(expect.arrayContaining(['connector.failed', 'connector.redriven', 'connector.opened']));
        await stack.incidents.resolve(inc.id, { tenantId: single, source: 'probectl', at: at() });
        const result = await stack.incidents.result(inc.id);
        expect(result.links).toEqual([expect.objectContaining({ connectorId: 'pagerduty', status: 'resolved' })]);
        expect(pd.alerts.filter((a) => a.dedupKey === `probectl-${inc.id}`).map((a) => a.status)).toEqual(['resolved']);
        return `probectl-${inc.id}`;
      },
    },

    reconciliation: {
      title: 'reconciliation: a ServiceNow ticket resolved at the provider, no webhook, noticed by reading it back',
      runs: 'one',
      record: async () => {
        const t = uniqueId('reconciled');
        const s = await startExtraStack({
          PROBECTL_NOTIFY_CONNECTORS: [`${t}|pagerduty|${pd.url}/v2/enqueue|${PD_KEY}`, `${t}|servicenow|${sn.url}|${SN_USER}:${SN_PASSWORD}`].join(','),
          PROBECTL_NOTIFY_RECONCILE_INTERVAL: '2s',
          // No PROBECTL_NOTIFY_INBOUND: only reading back can notice the resolution.
        });
        const inc = await openAndWait({}, t, 2, s);
        const sysId = sn.byCorrelation(`probectl-${inc.id}`)[0]!.sys_id;
        const reads = () => sn.requests.filter((r) => r.method === 'GET' && r.path.endsWith(sysId)).length;
        await eventually(() => reads() >= 2, { what: 'two reconciliation rounds that found the ticket open' });
        expect((await s.incidents.getIncident(inc.id)).status).toBe('open');
        sn.byCorrelation(`probectl-${inc.id}`)[0]!.state = '6'; // resolved in ServiceNow by an engineer
        const result = await s.incidents.result(inc.id);
        expect(result.source).toBe('servicenow');
        expect(pd.alerts.find((a) => a.dedupKey === `probectl-${inc.id}`)?.status).toBe('resolved');
        const timeline = await s.mirror.timeline(t, inc.id);
        expect(timeline.some((e) => e.kind === 'resolved' && e.source === 'servicenow' && e.detail?.includes('reconciliation'))).toBe(true);
        return `probectl-${inc.id}`;
      },
    },

    'failed-open': {
      title: 'failed open: Opsgenie refuses the key (401) while PagerDuty pages, then resolve',
      runs: 'one',
      record: async () => {
        const inc = incidentFor(broken);
        await stack.incidents.openIncident(inc);
        const links = await eventually(async () => {
          const v = await stack.incidents.getIncident(inc.id);
          return v.links.length === 2 && v.links.every((l) => l.status === 'open' || l.status === 'failed') ? v.links : undefined;
        }, { what: 'one link open, one failed' });
        expect(Object.fromEntries(links.map((l) => [l.connectorId, l.status]))).toEqual({ pagerduty: 'open', opsgenie: 'failed' });
        await stack.incidents.resolve(inc.id, { tenantId: broken, source: 'api', actor: 'alice', at: at() });
        const result = await stack.incidents.result(inc.id);
        expect(Object.fromEntries(result.links.map((l) => [l.connectorId, l.status]))).toEqual({ pagerduty: 'resolved', opsgenie: 'failed' });
        expect(og.byAlias(`probectl-${inc.id}`)).toHaveLength(0);
        return `probectl-${inc.id}`;
      },
    },

    'already-resolved': {
      title: 'already resolved: the mirror holds the incident as resolved (a start after retention), nothing pages',
      runs: 'one',
      record: async () => {
        // What an earlier, long-deleted run of this incident left in the mirror; no workflow with this id exists.
        const inc = await pastResolvedIncident(stack, single);
        expect(await runsOf(stack.client, `probectl-${inc.id}`)).toHaveLength(0);
        await stack.incidents.openIncident(inc);
        const result = await stack.incidents.result(inc.id);
        expect(result).toMatchObject({ source: 'pagerduty', actor: 'erin' });
        expect(pd.requests.filter((r) => mentions(r, `probectl-${inc.id}`))).toHaveLength(0);
        expect((await stack.mirror.timeline(single, inc.id)).map((e) => e.kind)).toContain('already.resolved');
        return `probectl-${inc.id}`;
      },
    },

    'continue-as-new-in-flight': {
      title: 'continue-as-new with a ticket open still being retried (503): the switch waits for nothing; the next run re-issues the open',
      runs: 'several',
      record: async () => {
        const inc = incidentFor(ticket, { severity: 'error' });
        const key = `probectl-${inc.id}`;
        let unavailable = true;
        let refused = 0;
        sn.faults.before = (req) => {
          if (!unavailable || !mentions(req, key)) return undefined;
          refused += 1;
          return { status: 503, body: { error: { message: 'Service Unavailable', detail: 'the instance is hibernating' }, status: 'failure' } };
        };
        await stack.incidents.openIncident(inc);
        await eventually(() => refused >= 1, { what: 'a refused open attempt' });
        // Push the first run past the continue-as-new suggestion while the open is still being retried.
        for (let i = 0; !(await continueAsNewSuggested(stack.client, key)); i++) {
          if (i >= 200) throw new Error('continue-as-new was never suggested');
          await stack.incidents.correlate(inc.id, { tenantId: ticket, signalId: `flap-${i}`, summary: `flap ${i}`, at: at() });
          if (i % 5 === 4) await sleep(200);
        }
        // The server suggests the switch and the run switches at once, the open still being refused; the next
        // run re-issues it (a ticket create: after the guard), and it lands once the instance answers again.
        await eventually(async () => (await runsOf(stack.client, key)).length >= 2, { timeoutMs: 60_000, intervalMs: 250, what: 'the switch while the open is refused' });
        expect(sn.byCorrelation(key)).toHaveLength(0);
        unavailable = false;
        await eventually(async () => (await stack.incidents.getIncident(inc.id)).links.some((l) => l.connectorId === 'servicenow' && l.status === 'open'), { timeoutMs: 120_000, intervalMs: 500, what: 'the re-issued open' });
        expect(refused).toBeGreaterThanOrEqual(1);
        expect(sn.byCorrelation(key)).toHaveLength(1);
        await stack.incidents.resolve(inc.id, { tenantId: ticket, source: 'probectl', at: at() });
        const result = await stack.incidents.result(inc.id);
        expect(result.links).toEqual([expect.objectContaining({ connectorId: 'servicenow', status: 'resolved' })]);
        return key;
      },
    },

    'resolve-racing-open': {
      title: 'resolve racing an open: PagerDuty holds its answer, the resolve cancels the open and waits until it has stopped',
      runs: 'one',
      record: async () => {
        const t = uniqueId('raced');
        // An HTTP timeout longer than the activity's heartbeat throttle (0.8 x 10 s), as in production (10 s):
        // the cancellation reaches the held call before it times out, and the aborted call ends the activity as
        // cancelled: the workflow records the cancelled open and resolves the link by its key.
        const s = await startExtraStack({
          PROBECTL_NOTIFY_CONNECTORS: [`${t}|pagerduty|${pd.url}/v2/enqueue|${PD_KEY}`, `${t}|opsgenie|${og.url}/v2/alerts|${OG_KEY}`].join(','),
          PROBECTL_NOTIFY_HTTP_TIMEOUT: '30s',
        });
        return raceResolveWithOpen(s, t, 'open cancelled: the incident was resolved first');
      },
    },

    'postgres-down': {
      title: 'Postgres down after the opens: the resolve fans out, the calls cannot record, the workflow retries its own writes (back-off) and carries out the pager re-resolve and the callback itself; Postgres returns, the run completes',
      runs: 'one',
      record: async () => {
        const probectl = await new ProbectlDouble(CALLBACK_SECRET).start();
        const db = new URL(sharedStack().databaseUrl);
        const proxy = await CuttableProxy.forAddress(`${db.hostname}:${db.port || 5432}`).start();
        try {
          const t = uniqueId('pgdown');
          const proxied = new URL(db.toString());
          proxied.host = proxy.address;
          const s = await startExtraStack({
            DATABASE_URL: proxied.toString(),
            PROBECTL_NOTIFY_CONNECTORS: [`${t}|pagerduty|${pd.url}/v2/enqueue|${PD_KEY}`, `${t}|opsgenie|${og.url}/v2/alerts|${OG_KEY}`].join(','),
            PROBECTL_NOTIFY_CALLBACK_URL: `${probectl.url}/v1/notify/events`,
            PROBECTL_NOTIFY_CALLBACK_SECRET: CALLBACK_SECRET,
            PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '2s',
          });
          s.pool.on('connect', (client) => client.on('error', () => undefined));
          const inc = await openAndWait({}, t, 2, s);
          const key = `probectl-${inc.id}`;
          proxy.cut();
          await s.incidents.resolve(inc.id, { tenantId: t, source: 'api', actor: 'grace', at: at() });
          // The workflow carries out what Postgres cannot take: both pagers resolved twice, probectl told.
          await eventually(() => pd.events('resolve').filter((r) => mentions(r, key)).length >= 2, { what: 'the second PagerDuty resolve, by the workflow', timeoutMs: 60_000 });
          await eventually(() => probectl.accepted().some((e) => e.incidentId === inc.id && e.type === 'incident.resolved'), { what: 'the callback, by the workflow', timeoutMs: 60_000 });
          await sleep(3_000); // a few of the workflow's own write attempts fail while Postgres is away
          proxy.restore();
          const result = await s.incidents.result(inc.id);
          expect(result.links.map((l: { connectorId: string; status: string }) => `${l.connectorId}:${l.status}`).sort()).toEqual(['opsgenie:resolved', 'pagerduty:resolved']);
          await eventually(async () => (await kinds(s, inc.id)).includes('resolved'), { what: 'the resolution in Postgres' });
          return key;
        } finally {
          proxy.restore();
          await proxy.stop();
          await probectl.stop();
        }
      },
    },

    'refused-signals': {
      title: 'refused signals: a resolve from another tenant and a malformed acknowledge are refused and recorded, nothing changes; then the real resolve',
      runs: 'one',
      record: async () => {
        const inc = await openAndWait({}, single, 1);
        const handle = stack.client.workflow.getHandle(`probectl-${inc.id}`);
        await handle.signal('resolve', { tenantId: `${single}-other`, source: 'api', actor: 'mallory', at: at() });
        await handle.signal('acknowledge', { tenantId: single, source: 42 } as unknown as Record<string, unknown>);
        await eventually(async () => (await kinds(stack, inc.id)).filter((k) => k === 'signal.rejected').length === 2, { what: 'both refusals recorded' });
        expect((await stack.incidents.getIncident(inc.id)).links.map((l) => l.status)).toEqual(['open']);
        await stack.incidents.resolve(inc.id, { tenantId: single, source: 'probectl', at: at() });
        await stack.incidents.result(inc.id);
        return `probectl-${inc.id}`;
      },
    },

    'legacy-handover': {
      title: 'legacy hand-over: a legacy run continued as new after the deploy; the next run asks state-machine-v1 with the legacy state it carries, then resolves',
      runs: 'one',
      record: async () => {
        // The input a legacy run really continued with: the end of the committed legacy recording
        // (test/histories/continue-as-new.run-1.json), for a fresh incident of this recorder's tenant.
        const legacy = JSON.parse(readFileSync(join(ROOT, 'test', 'histories', 'continue-as-new.run-1.json'), 'utf8')) as {
          events: Array<{ workflowExecutionContinuedAsNewEventAttributes?: { input: { payloads: Array<{ data: string }> } } }>;
        };
        const carriedInput = legacy.events.at(-1)!.workflowExecutionContinuedAsNewEventAttributes!.input.payloads[0]!.data;
        const recorded = JSON.parse(Buffer.from(carriedInput, 'base64').toString('utf8')) as { incident: { id: string; tenantId: string } };
        const inc = incidentFor(tenant);
        const input = JSON.parse(JSON.stringify(recorded).split(recorded.incident.id).join(inc.id).split(recorded.incident.tenantId).join(tenant)) as {
          incident: typeof inc; carried: { v?: number; begun: boolean; links: Record<string, { status: string }> };
        };
        expect([input.carried.v, input.carried.begun, Object.values(input.carried.links).map((l) => l.status)]).toEqual([undefined, true, ['open', 'open']]);
        // What the legacy run had opened: the page and the alert, under the incident's key.
        const key = `probectl-${inc.id}`;
        const trigger = await fetch(`${pd.url}/v2/enqueue`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ routing_key: PD_KEY, event_action: 'trigger', dedup_key: key, payload: { summary: inc.title, source: 'probectl', severity: 'error' } }),
        });
        const create = await fetch(`${og.url}/v2/alerts`, {
          method: 'POST', headers: { 'content-type': 'application/json', authorization: `GenieKey ${OG_KEY}` }, body: JSON.stringify({ message: inc.title, alias: key }),
        });
        expect([trigger.status, create.status]).toEqual([202, 202]);
        await stack.client.workflow.start('incidentWorkflow', {
          workflowId: key, taskQueue: stack.config.temporal.taskQueue, args: [input], memo: { [TENANT_MEMO_KEY]: tenant },
        });
        await eventually(async () => (await stack.incidents.getIncident(inc.id)).links.length === 2, { what: 'the carried links' });
        await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'api', actor: 'frank', at: at() });
        const result = await stack.incidents.result(inc.id);
        expect(result.links.map((l) => `${l.connectorId}:${l.status}`).sort()).toEqual(['opsgenie:resolved', 'pagerduty:resolved']);
        await eventually(async () => og.byAlias(key).every((a) => a.status === 'closed') && pd.alerts.filter((a) => a.dedupKey === key).every((a) => a.status === 'resolved'), { what: 'closed at the doubles' });
        return key;
      },
    },


    'six-connectors': {
      title: 'six connectors: a page, an alert, two chat posts and two tickets opened together, then resolve from the API',
      runs: 'one',
      record: () => withOwnDoubles(async ({ slack, teams, jira }) => {
        const t = uniqueId('six');
        const s = await startExtraStack({ PROBECTL_NOTIFY_CONNECTORS: sixConnectors(t, slack, teams, jira) });
        const inc = await openAndWait({}, t, 6, s);
        await s.incidents.resolve(inc.id, { tenantId: t, source: 'api', actor: 'gina', at: at() });
        const result = await s.incidents.result(inc.id);
        expect(result.links.map((l) => `${l.connectorId}:${l.status}`).sort())
          .toEqual(['jira', 'opsgenie', 'pagerduty', 'servicenow', 'slack', 'teams'].map((c) => `${c}:resolved`));
        const key = `probectl-${inc.id}`;
        expect([pd.alerts.filter((a) => a.dedupKey === key).length, og.byAlias(key).length, sn.byCorrelation(key).length, jira.byLabel(key).length]).toEqual([1, 1, 1, 1]);
        return key;
      }),
    },

    'refused-opens': {
      title: 'refused opens: of six connectors four providers refuse the open (PagerDuty 400, Slack 400, ServiceNow 403, Jira 400), two open; resolve from the API closes the two and leaves the four alone',
      runs: 'one',
      record: () => withOwnDoubles(async ({ slack, teams, jira }) => {
        const t = uniqueId('refused');
        const inc = incidentFor(t);
        const key = `probectl-${inc.id}`;
        pd.faults.before = (r) => (mentions(r, key) ? { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: ['routing rule rejects it'] } } : undefined);
        slack.faults.before = (r) => (r.method === 'POST' && mentions(r, inc.id) ? { status: 400, body: 'invalid_blocks' } : undefined);
        sn.faults.before = (r) => (r.method === 'POST' && mentions(r, key) ? { status: 403, body: { error: { message: 'Insufficient rights to insert data into incident' } } } : undefined);
        jira.faults.before = (r) => (r.method === 'POST' && r.path.endsWith('/issue') && mentions(r, key) ? { status: 400, body: { errorMessages: [], errors: { project: 'project OPS is archived' } } } : undefined);
        const s = await startExtraStack({ PROBECTL_NOTIFY_CONNECTORS: sixConnectors(t, slack, teams, jira) });
        await s.incidents.openIncident(inc);
        const statuses = async () => Object.fromEntries((await s.incidents.getIncident(inc.id)).links.map((l) => [l.connectorId, l.status]));
        const opened = { pagerduty: 'failed', opsgenie: 'open', slack: 'failed', teams: 'open', servicenow: 'failed', jira: 'failed' };
        await eventually(async () => {
          const st = await statuses();
          if (JSON.stringify(st) === JSON.stringify(opened)) return true;
          throw new Error(`links ${JSON.stringify(st)}`);
        }, { timeoutMs: 60_000, what: 'four refused, two open' });
        const sent = [pd, slack, sn, jira].map((d) => d.requests.length);
        await s.incidents.resolve(inc.id, { tenantId: t, source: 'api', actor: 'hana', at: at() });
        const result = await s.incidents.result(inc.id);
        expect(Object.fromEntries(result.links.map((l) => [l.connectorId, l.status])))
          .toEqual({ ...opened, opsgenie: 'resolved', teams: 'resolved' });
        // The four refused providers heard nothing more of the incident.
        expect([pd, slack, sn, jira].map((d, i) => d.requests.slice(sent[i]).filter((r) => mentions(r, inc.id)).length)).toEqual([0, 0, 0, 0]);
        expect((await kinds(s, inc.id)).filter((k) => k === 'connector.skipped')).toHaveLength(4);
        return key;
      }),
    },

    'reset-refused-open': {
      title: 'a run made by a reset: PagerDuty refused the ordinary open on its attempt 1 (400); an operator resets the run to its last workflow task (the one that took the refusal); the resolve from the API then decides the fan-out in the reset run (recorded: that run only)',
      runs: 'last',
      record: async () => {
        const t = uniqueId('reset');
        // An ordinary open, so that its refusal is taken in a task of its own after the first (a local attempt's is taken
        // in the first task, and a reset to that task makes the attempt again, which is never a first try).
        const s = await startExtraStack({ PROBECTL_NOTIFY_CONNECTORS: `${t}|pagerduty|${pd.url}/v2/enqueue|${PD_KEY}`, PROBECTL_NOTIFY_LOCAL_FIRST_OPENS: 'off' });
        const inc = incidentFor(t);
        const key = `probectl-${inc.id}`;
        pd.faults.before = refuseTriggers(key);
        try {
          const started = await s.incidents.openIncident(inc);
          await eventually(async () => (await s.incidents.getIncident(inc.id)).links[0]?.status === 'failed', { timeoutMs: 60_000, what: 'the refused page' });
          const runId = (started as { runId: string }).runId;
          const handle = s.client.workflow.getHandle(key);
          const completed = ((await handle.fetchHistory()).events ?? []).filter((e) => e.workflowTaskCompletedEventAttributes);
          await s.client.workflowService.resetWorkflowExecution({
            namespace: 'default', workflowExecution: { workflowId: key, runId },
            workflowTaskFinishEventId: completed.at(-1)!.eventId, requestId: `reset-${inc.id}`, reason: 'recorder: reset to the last workflow task',
          });
          await eventually(async () => (await handle.describe()).runId !== runId, { what: 'the reset run' });
          await eventually(async () => (await s.incidents.getIncident(inc.id)).links[0]?.status === 'failed', { what: 'the reset run\'s state' });
        } finally {
          pd.faults = {};
        }
        // The release before earlier-runs-resolve-v1 (its recording is in refused-opens-v1) left the refused page alone;
        // this one resolves it, since a reset run's refusal may follow a request of the run before the reset.
        return resolvedPage(s, t, inc.id, 'ivan');
      },
    },

    'again-refused-open': {
      title: 'a run started again after the incident\'s earlier run ended without completing (terminated before any worker took it): the client starts the id again with `again`; PagerDuty refuses the ordinary open on its attempt 1 (400); the resolve from the API',
      runs: 'last',
      record: async () => {
        const t = uniqueId('again');
        const s = await startExtraStack({ PROBECTL_NOTIFY_CONNECTORS: `${t}|pagerduty|${pd.url}/v2/enqueue|${PD_KEY}` });
        const inc = incidentFor(t);
        const key = `probectl-${inc.id}`;
        // The earlier run: on a task queue no worker polls, terminated, so it wrote nothing anywhere (its own history is
        // not recorded: the recording is the run the client starts again).
        const earlier = await s.client.workflow.start('incidentWorkflow', {
          workflowId: key, taskQueue: uniqueId('nobody-polls'), args: [{ incident: inc }], memo: { [TENANT_MEMO_KEY]: t },
        });
        await earlier.terminate('recorder: the earlier run ended without completing');
        pd.faults.before = refuseTriggers(key);
        try {
          expect(await s.incidents.openIncident(inc)).toMatchObject({ outcome: 'started' });
          await eventually(async () => (await s.incidents.getIncident(inc.id)).links[0]?.status === 'failed', { timeoutMs: 60_000, what: 'the refused page' });
        } finally {
          pd.faults = {};
        }
        // As for reset-refused-open: the release before left the page alone; this one resolves it.
        return resolvedPage(s, t, inc.id, 'judy');
      },
    },

    'ticket-create-late': {
      title: 'a ticket create that ServiceNow carries out after the local attempt\'s limit: the ordinary open waits the hand-over guard and its lookup adopts the ticket; then resolve',
      runs: 'one',
      record: async () => {
        // The request timeout as shipped (10 s), longer than a local attempt's 3 s limit: the limit cuts the create.
        const s = await startExtraStack({ PROBECTL_NOTIFY_CONNECTORS: `${ticket}|servicenow|${sn.url}|${SN_USER}:${SN_PASSWORD}`, PROBECTL_NOTIFY_HTTP_TIMEOUT: '10s' });
        const inc = incidentFor(ticket);
        const key = `probectl-${inc.id}`;
        const isCreate = (r: RecordedRequest) => r.method === 'POST' && (r.json as { correlation_id?: string } | undefined)?.correlation_id === key;
        let deferred = 0;
        sn.faults.defer = (r) => isCreate(r) && deferred++ === 0;
        await s.incidents.openIncident(inc);
        await sn.waitDeferred(1);
        await sleep(8_000);
        sn.releaseDeferred();
        await eventually(async () => (await s.incidents.getIncident(inc.id)).links[0]?.status === 'open', { timeoutMs: 60_000, what: 'the adopted ticket' });
        expect(sn.byCorrelation(key)).toHaveLength(1);
        expect(sn.requests.filter(isCreate)).toHaveLength(1);
        await s.incidents.resolve(inc.id, { tenantId: ticket, source: 'probectl', at: at() });
        await s.incidents.result(inc.id);
        return key;
      },
    },

    'ticket-create-cut-resolved': {
      title: 'a ticket create cut by the local attempt\'s limit (ServiceNow carries it out late); the resolve during the fallback\'s 25 s timer cancels it and the fan-out waits until that timer would have ended, so the lookup finds the late ticket and closes it (lookup-and-close passes 2 s apart)',
      runs: 'one',
      record: async () => {
        // Passes 2 s apart: without the wait, three passes would miss a ticket that lands 9 s after the resolve.
        const s = await startExtraStack({ PROBECTL_NOTIFY_CONNECTORS: `${ticket}|servicenow|${sn.url}|${SN_USER}:${SN_PASSWORD}`, PROBECTL_NOTIFY_HTTP_TIMEOUT: '10s', PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '2s' });
        const inc = incidentFor(ticket);
        const key = `probectl-${inc.id}`;
        const isCreate = (r: RecordedRequest) => r.method === 'POST' && (r.json as { correlation_id?: string } | undefined)?.correlation_id === key;
        let deferred = 0;
        sn.faults.defer = (r) => isCreate(r) && deferred++ === 0;
        await s.incidents.openIncident(inc);
        await sn.waitDeferred(1);
        const handle = s.client.workflow.getHandle(key);
        await eventually(async () => ((await handle.fetchHistory()).events ?? []).some((e) => e.timerStartedEventAttributes), { timeoutMs: 30_000, what: 'the fallback\'s timer' });
        await s.incidents.resolve(inc.id, { tenantId: ticket, source: 'api', actor: 'lena', at: at() });
        const resolvedAt = Date.now();
        await sleep(9_000);
        sn.releaseDeferred(); // the cut create lands, after the resolve
        await eventually(() => sn.byCorrelation(key).length === 1, { what: 'the late ticket' });
        const result = await s.incidents.result(inc.id);
        expect(result.links.map((l) => `${l.connectorId}:${l.status}`)).toEqual(['servicenow:resolved']);
        // The late ticket was found and closed by the fan-out itself, which waited for the window.
        expect(['6', '7']).toContain(sn.byCorrelation(key)[0]!.state);
        const lookups = sn.requests.filter((r) => r.method === 'GET' && mentions(r, key) && r.at > resolvedAt);
        expect(lookups.length).toBeGreaterThan(0);
        expect(Math.min(...lookups.map((r) => r.at)) - resolvedAt).toBeGreaterThan(15_000);
        expect(sn.requests.filter(isCreate)).toHaveLength(1);
        return key;
      },
    },

    'ticket-create-handed-over-resolved': {
      title: 'a ticket create still being retried (503) when the run continues as new; the next run re-issues it not before the 25 s guard, and a resolve during that wait cancels it: the fan-out waits until the guard has passed',
      runs: 'several',
      record: async () => {
        const inc = incidentFor(ticket, { severity: 'error' });
        const key = `probectl-${inc.id}`;
        let refused = 0;
        sn.faults.before = (req) => {
          if (req.method !== 'POST' || !mentions(req, key)) return undefined;
          refused += 1;
          return { status: 503, body: { error: { message: 'Service Unavailable', detail: 'the instance is hibernating' }, status: 'failure' } };
        };
        await stack.incidents.openIncident(inc);
        await eventually(() => refused >= 1, { what: 'a refused open attempt' });
        // Signals until the first run is told to continue as new (that run's own history: the next one is not pushed on).
        const firstRun = (await stack.client.workflow.getHandle(key).describe()).runId;
        for (let i = 0; !(await continueAsNewSuggested(stack.client, key, firstRun)); i++) {
          if (i >= 200) throw new Error('continue-as-new was never suggested');
          await stack.incidents.correlate(inc.id, { tenantId: ticket, signalId: `flap-${i}`, summary: `flap ${i}`, at: at() });
          if (i % 5 === 4) await sleep(200);
        }
        await eventually(async () => (await runsOf(stack.client, key)).length >= 2, { timeoutMs: 60_000, intervalMs: 250, what: 'the switch while the open is refused' });
        const runs = await runsOf(stack.client, key);
        expect(runs).toHaveLength(2);
        const switched = runs[1]!.start;
        // The guard the next run waits for before it creates again (src/activities/begin.ts: heartbeat timeout, request timeout, margin).
        const guard = 15_000 + stack.config.httpTimeoutMs;
        await sleep(2_000);
        const resolvedAt = Date.now();
        await stack.incidents.resolve(inc.id, { tenantId: ticket, source: 'api', actor: 'mona', at: at() });
        await stack.incidents.result(inc.id);
        // Nothing was created; the resolve's lookup came only after the re-issued create's guard (25 s after the switch).
        expect(sn.byCorrelation(key)).toHaveLength(0);
        const lookups = sn.requests.filter((r) => r.method === 'GET' && mentions(r, key) && r.at > resolvedAt);
        expect(lookups.length).toBeGreaterThan(0);
        expect(Math.min(...lookups.map((r) => r.at)) - switched).toBeGreaterThan(guard - 1_000);
        return key;
      },
    },

    'acknowledged-before-begin': {
      title: 'an incident started again after its run was terminated with PagerDuty and Opsgenie open; the acknowledge from the API comes with the start (signal-with-start, before the begin): the begin adopts both links from the checked snapshot and acknowledges them; then resolve (recorded: the latest run only)',
      runs: 'last',
      record: async () => {
        const inc = await openAndWait();
        const key = `probectl-${inc.id}`;
        await stack.client.workflow.getHandle(key).terminate('recorder: the earlier run ended without completing, its links open');
        const checkedBegin = await beginInStart(stack.config, stack.mirror, inc, 2_000);
        expect(checkedBegin.begin.mirror.record?.links.map((l) => `${l.connectorId}:${l.status}`).sort()).toEqual(['opsgenie:open', 'pagerduty:open']);
        await stack.client.workflow.signalWithStart('incidentWorkflow', {
          workflowId: key, taskQueue: stack.config.temporal.taskQueue, args: [{ incident: inc, checkedBegin, again: true }],
          memo: { [TENANT_MEMO_KEY]: tenant }, workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
          signal: 'acknowledge', signalArgs: [{ tenantId: tenant, source: 'api', actor: 'kate', at: at() }],
        });
        await eventually(() => pd.alerts.find((a) => a.dedupKey === key)?.status === 'acknowledged' && og.byAlias(key)[0]?.acknowledged === true, { what: 'both adopted pagers acknowledged' });
        expect([pd.alerts.filter((a) => a.dedupKey === key).length, og.byAlias(key).length]).toEqual([1, 1]);
        await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'api', actor: 'kate', at: at() });
        const result = await stack.incidents.result(inc.id);
        expect(result.links.map((l) => `${l.connectorId}:${l.status}`).sort()).toEqual(['opsgenie:resolved', 'pagerduty:resolved']);
        return key;
      },
    },

    'resolved-left-open': {
      title: 'a run terminated during its resolve fan-out (PagerDuty resolved, Opsgenie\'s close refused with 503 again and again), then the incident opened again: the begin finds it resolved with Opsgenie still open and resolves it (recorded: the latest run only)',
      runs: 'last',
      record: async () => {
        const inc = await openAndWait();
        const key = `probectl-${inc.id}`;
        let refusedCloses = 0;
        og.faults.before = (r) => {
          if (r.method !== 'POST' || !r.path.includes('/close') || !mentions(r, key)) return undefined;
          refusedCloses += 1;
          return { status: 503, body: { message: 'Service Unavailable', took: 0.01 } };
        };
        try {
          await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'api', actor: 'olga', at: at() });
          await eventually(async () => {
            const v = await stack.incidents.getIncident(inc.id);
            const links = v.links.map((l) => `${l.connectorId}:${l.status}`).sort().join(',');
            return v.status === 'resolved' && links === 'opsgenie:open,pagerduty:resolved' && refusedCloses >= 2;
          }, { timeoutMs: 60_000, what: 'the incident resolved in the mirror, PagerDuty resolved, Opsgenie\'s close refused twice' });
          await stack.client.workflow.getHandle(key).terminate('recorder: the run ended during its resolve fan-out');
        } finally {
          og.faults = {};
        }
        expect(og.byAlias(key)[0]?.status).toBe('open');
        // Opened again, as an operator would after the terminated run: the client starts it again (`again`).
        expect(await stack.incidents.openIncident(inc)).toMatchObject({ outcome: 'started' });
        const result = await stack.incidents.result(inc.id);
        expect(result.links.map((l) => `${l.connectorId}:${l.status}`).sort()).toEqual(['opsgenie:resolved', 'pagerduty:resolved']);
        expect(og.byAlias(key)[0]?.status).toBe('closed');
        expect(pd.alerts.filter((a) => a.dedupKey === key)).toHaveLength(1);
        return key;
      },
    },

    'paced-open': {
      title: 'a paced open: PagerDuty paced to 6 a minute, a second incident\'s first attempt finds its turn too far off, sends nothing and goes on at that turn; then resolve',
      runs: 'one',
      record: async () => {
        const t = uniqueId('paced');
        const s = await startExtraStack({ PROBECTL_NOTIFY_CONNECTORS: `${t}|pagerduty|${pd.url}/v2/enqueue?rate_per_min=6|${PD_PACED_KEY}` });
        const first = await openAndWait({}, t, 1, s);
        const inc = await openAndWait({}, t, 1, s);
        const triggers = (id: string) => pd.requests.filter((r) => (r.json as { event_action?: string } | undefined)?.event_action === 'trigger' && mentions(r, `probectl-${id}`));
        expect(triggers(inc.id)).toHaveLength(1);
        expect(triggers(inc.id)[0]!.at - triggers(first.id)[0]!.at).toBeGreaterThanOrEqual(10_000 - 2_000);
        await Promise.all([first, inc].map(async (i) => {
          await s.incidents.resolve(i.id, { tenantId: t, source: 'probectl', at: at() });
          await s.incidents.result(i.id);
        }));
        return `probectl-${inc.id}`;
      },
    },
  };

  for (const name of selected) {
    const { title, runs, record } = recorders[name];
    test(`${name} — ${title}`, async () => {
      const workflowId = await record();
      summary[name] = await save(stack.client, workflowId, name, runs === 'last');
      if (runs !== 'several') expect(summary[name]).toHaveLength(1);
      else expect(summary[name]!.length).toBeGreaterThanOrEqual(2);
    });
  }
});
