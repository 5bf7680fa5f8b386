/**
 * test/helpers/resent-sends.ts tells a retried send from a second page by the workflow id's runs and history. Its
 * table: shapes of history (one connector, several, retried, not, running, two runs), read from a client that
 * answers fixed histories and run lists.
 */
import type { Client } from '@temporalio/client';
import { sentMoreThanOnce, unexplainedResends } from '../helpers/resent-sends';

type Ev = Record<string, unknown>;
const input = (connectorId: string) => ({ payloads: [{ data: Buffer.from(JSON.stringify({ connectorId, incidentId: 'a' })) }] });
const scheduled = (id: number, name = 'openConnector', connectorId = 'pagerduty'): Ev => ({ eventId: id, activityTaskScheduledEventAttributes: { activityType: { name }, input: input(connectorId) } });
const started = (id: number, of: number, attempt: number): Ev => ({ eventId: id, activityTaskStartedEventAttributes: { scheduledEventId: of, attempt } });
const completed = (id: number, of: number): Ev => ({ eventId: id, activityTaskCompletedEventAttributes: { scheduledEventId: of } });
const json = (v: unknown) => ({ data: Buffer.from(JSON.stringify(v)) });
/** A local first attempt's marker: its attempt, failed or not, and the summary that names its connector. */
const local = (id: number, attempt: number, failed: boolean | 'paced', summary = 'PagerDuty: trigger probectl-a', type = 'openConnector'): Ev => ({
  eventId: id,
  userMetadata: { summary: json(summary) },
  markerRecordedEventAttributes: {
    markerName: 'core_local_activity',
    details: { data: { payloads: [json({ seq: 1, attempt, activity_type: type })] } },
    ...(failed === 'paced' ? { failure: { message: 'connector pagerduty: paced to 6 calls/min', applicationFailureInfo: { type: 'RateLimited', details: { payloads: [json({ nextRetryDelayMs: 9_000, paced: true })] } } } }
      : failed ? { failure: { message: 'PagerDuty trigger: HTTP 503', applicationFailureInfo: { type: 'ProviderUnavailable' } } } : {}),
  },
});
/** A workflow task scheduled at an attempt (N − 1 tries before it did not complete), and a task's (first) failure. */
const taskScheduled = (id: number, attempt: number): Ev => ({ eventId: id, workflowTaskScheduledEventAttributes: { attempt } });
const taskFailed = (id: number): Ev => ({ eventId: id, workflowTaskFailedEventAttributes: { scheduledEventId: id - 2 } });
/** `runs`: how many runs visibility lists for an id, or a function of the call count (visibility lagging). */
const clientOf = (histories: Record<string, Ev[]>, runs: number | ((call: number) => number) = 1) => {
  let calls = 0;
  return {
    workflow: {
      getHandle: (id: string) => ({ fetchHistory: async () => ({ events: histories[id] ?? [] }) }),
      list: async function* ({ query }: { query: string }) {
        const id = /^WorkflowId = '([a-z0-9-]+)'$/.exec(query)?.[1];
        if (!id || !(id in histories)) throw new Error(`unexpected query ${query}`);
        const n = typeof runs === 'number' ? runs : runs(calls++);
        for (let i = 0; i < n; i += 1) yield { runId: `run-${i}` };
      },
    },
  } as unknown as Client;
};

describe('unexplainedResends', () => {
  test.each<[string, Ev[], number, boolean]>([
    ['one open activity, retried twice, sent twice', [scheduled(5), started(6, 5, 2), completed(7, 5)], 2, true],
    ['one open activity, attempt 3 (a pacer wait sent nothing), sent twice', [scheduled(5), started(6, 5, 3), completed(7, 5)], 2, true],
    ['one open activity, first attempt, sent twice', [scheduled(5), started(6, 5, 1), completed(7, 5)], 2, false],
    ['one open activity, attempt 2, sent three times', [scheduled(5), started(6, 5, 2), completed(7, 5)], 3, false],
    ['two open activities, each sent once', [scheduled(5), started(6, 5, 1), completed(7, 5), scheduled(9), started(10, 9, 1), completed(11, 9)], 2, false],
    ['still running (no started event yet)', [scheduled(5)], 2, false],
    ['only another activity type', [scheduled(5, 'resolveConnector'), started(6, 5, 4), completed(7, 5)], 2, false],
    ['no history', [], 2, false],
  ])('%s', async (_name, events, sends, explained) => {
    const problems = await unexplainedResends(clientOf({ 'probectl-a': events }), Array(sends).fill('probectl-a'), { timeoutMs: 50 });
    expect(problems.length === 0).toBe(explained);
    if (!explained) expect(problems[0]).toContain(`probectl-a: ${sends} sends`);
  });

  test.each<[string, Ev[], boolean]>([
    ["the connector's activity retried, another connector's beside it", [scheduled(5, 'openConnector', 'slack'), scheduled(6), started(7, 5, 1), started(8, 6, 2), completed(9, 5), completed(10, 6)], true],
    ["the connector's activity on its first attempt, another's retried", [scheduled(5, 'openConnector', 'slack'), scheduled(6), started(7, 5, 4), started(8, 6, 1), completed(9, 5), completed(10, 6)], false],
    ["only another connector's activity", [scheduled(5, 'openConnector', 'slack'), started(7, 5, 4), completed(9, 5)], false],
  ])('connectorId picks one connector among several: %s', async (_name, events, explained) => {
    const problems = await unexplainedResends(clientOf({ 'probectl-a': events }), ['probectl-a', 'probectl-a'], { connectorId: 'pagerduty', timeoutMs: 50 });
    expect(problems.length === 0).toBe(explained);
  });

  // A local first attempt and the ordinary activity it fell back to are one open: their attempts add up.
  test.each<[string, Ev[], number, boolean]>([
    ['a local attempt that succeeded, sent once', [local(5, 1, false)], 1, true],
    ['a local attempt retried locally (attempt 2) that succeeded, sent twice', [local(5, 2, false)], 2, true],
    ['a local attempt (attempt 1) that succeeded, sent twice', [local(5, 1, false)], 2, false],
    ['a failed local attempt, then an ordinary activity on attempt 6, sent 7 times', [local(5, 1, true), scheduled(6), started(7, 6, 6), completed(8, 6)], 7, true],
    ['a failed local attempt, then an ordinary activity on attempt 6, sent 8 times', [local(5, 1, true), scheduled(6), started(7, 6, 6), completed(8, 6)], 8, false],
    ['a failed local attempt, its ordinary activity still running', [local(5, 1, true), scheduled(6)], 2, false],
    ['a failed local attempt and nothing after it', [local(5, 1, true)], 2, false],
    ['two local attempts of the connector', [local(5, 1, false), local(6, 1, false)], 2, false],
    ['a local success beside an ordinary activity (never a fallback), sent twice', [local(5, 1, false), scheduled(6), started(7, 6, 1), completed(8, 6)], 2, false],
    ['an ordinary activity, then a failed local attempt (not its fallback), sent twice', [scheduled(5), started(6, 5, 1), completed(7, 5), local(8, 1, true)], 2, false],
    ['a pacer-refused local attempt (sent nothing), then an ordinary activity on attempt 1, sent twice', [local(5, 1, 'paced'), scheduled(6), started(7, 6, 1), completed(8, 6)], 2, false],
    ['a pacer-refused local attempt (sent nothing), then an ordinary activity on attempt 2, sent twice', [local(5, 1, 'paced'), scheduled(6), started(7, 6, 2), completed(8, 6)], 2, true],
    // A first workflow task tried again (timed out, or failed) ran its local attempt again: the earlier try's send
    // used the pacing token, so the next try's pacer refused, and the ordinary activity sent once more.
    ['a task tried twice (scheduled again at attempt 2), a pacer-refused local attempt, an ordinary activity on attempt 1, sent twice', [taskFailed(4), taskScheduled(5, 2), local(8, 1, 'paced'), scheduled(9), started(10, 9, 1), completed(11, 9)], 2, true],
    ['a task tried twice, a pacer-refused local attempt, an ordinary activity on attempt 1, sent three times', [taskFailed(4), taskScheduled(5, 2), local(8, 1, 'paced'), scheduled(9), started(10, 9, 1), completed(11, 9)], 3, false],
    ['a task tried three times (only the first failure is an event; attempt 3), a local success, sent three times', [taskFailed(4), taskScheduled(5, 3), local(8, 1, false)], 3, true],
    ['a task tried three times, a local success, sent four times', [taskFailed(4), taskScheduled(5, 3), local(8, 1, false)], 4, false],
    ['a failure event with no task scheduled again before the marker explains nothing, sent twice', [taskFailed(4), local(8, 1, 'paced'), scheduled(9), started(10, 9, 1), completed(11, 9)], 2, false],
    ['a task tried again after the marker (not the one that ran it), a pacer-refused local attempt, sent twice', [local(5, 1, 'paced'), taskScheduled(6, 2), scheduled(9), started(10, 9, 1), completed(11, 9)], 2, false],
    ["another connector's local attempt beside the connector's ordinary retry", [local(5, 3, false, 'Slack: post probectl-a'), scheduled(6), started(7, 6, 2), completed(8, 6)], 2, true],
    ["another connector's local attempt only", [local(5, 3, false, 'Slack: post probectl-a')], 2, false],
    ['a local attempt of another activity type', [local(5, 3, false, 'PagerDuty: resolve', 'resolveConnector')], 2, false],
  ])('local first attempts: %s', async (_name, events, sends, explained) => {
    const problems = await unexplainedResends(clientOf({ 'probectl-a': events }), Array(sends).fill('probectl-a'), { connectorId: 'pagerduty', timeoutMs: 50 });
    expect(problems.length === 0).toBe(explained);
    if (!explained) expect(problems[0]).toContain(`probectl-a: ${sends} sends`);
  });

  test('a named connector is matched by the label given', async () => {
    const events = [local(5, 2, false, 'PagerDuty pd-eu: trigger probectl-a')];
    expect(await unexplainedResends(clientOf({ 'probectl-a': events }), ['probectl-a', 'probectl-a'], { connectorId: 'pd-eu', label: 'PagerDuty pd-eu', timeoutMs: 50 })).toEqual([]);
    expect(await unexplainedResends(clientOf({ 'probectl-a': events }), ['probectl-a', 'probectl-a'], { connectorId: 'pagerduty', timeoutMs: 50 })).toHaveLength(1);
  });

  test('six connectors and no connectorId: six activities are never one, even all retried', async () => {
    const six = ['pagerduty', 'opsgenie', 'slack', 'teams', 'servicenow', 'jira'].flatMap((c, i) => [scheduled(5 + i * 3, 'openConnector', c), started(6 + i * 3, 5 + i * 3, 3), completed(7 + i * 3, 5 + i * 3)]);
    expect(await unexplainedResends(clientOf({ 'probectl-a': six }), ['probectl-a', 'probectl-a'], { timeoutMs: 50 })).toHaveLength(1);
    expect(await unexplainedResends(clientOf({ 'probectl-a': six }), ['probectl-a', 'probectl-a'], { connectorId: 'pagerduty', timeoutMs: 50 })).toEqual([]);
  });

  test('a second run of the id is never explained, whatever its history shows', async () => {
    const problems = await unexplainedResends(clientOf({ 'probectl-a': [scheduled(5), started(6, 5, 2), completed(7, 5)] }, 2), ['probectl-a', 'probectl-a'], { timeoutMs: 50 });
    expect(problems).toEqual([expect.stringContaining('2 run(s)')]);
  });

  test('a run visibility does not list yet is waited for, not judged', async () => {
    const problems = await unexplainedResends(clientOf({ 'probectl-a': [scheduled(5), started(6, 5, 2), completed(7, 5)] }, 0), ['probectl-a', 'probectl-a'], { timeoutMs: 50 });
    expect(problems).toEqual([expect.stringContaining('0 run(s)')]);
    expect(problems[0]).toContain('(deadline passed)');
  });

  test('a run visibility lists late is waited for, then judged', async () => {
    const problems = await unexplainedResends(clientOf({ 'probectl-a': [scheduled(5), started(6, 5, 2), completed(7, 5)] }, (call) => (call < 2 ? 0 : 1)), ['probectl-a', 'probectl-a'], { timeoutMs: 5_000 });
    expect(problems).toEqual([]);
  });

  test('keys are checked side by side under one deadline, and a settled history is not waited on', async () => {
    const keys = Array.from({ length: 6 }, (_, i) => `probectl-${i}`);
    const histories = Object.fromEntries(keys.map((k, i) => [k, i % 2 ? [scheduled(5)] : [scheduled(5), started(6, 5, 1), completed(7, 5)]]));
    const from = Date.now();
    const problems = await unexplainedResends(clientOf(histories), keys.flatMap((k) => [k, k]), { timeoutMs: 1_500 });
    // Three running (waited on until the deadline) and three completed on a first attempt (answered at once).
    expect(problems.filter((p) => p.includes('(deadline passed)'))).toHaveLength(3);
    expect(problems.filter((p) => p.includes('attempts 1, completed'))).toHaveLength(3);
    expect(Date.now() - from).toBeLessThan(1_500 + 1_000);
  });

  test('a key sent once needs no history at all', async () => {
    expect(await unexplainedResends(clientOf({}), ['probectl-a', 'probectl-b'], { timeoutMs: 50 })).toEqual([]);
  });

  test('sentMoreThanOnce keeps only the repeated keys, with their counts', () => {
    expect([...sentMoreThanOnce(['a', 'b', 'a', 'c', 'a', 'b'])]).toEqual([['a', 3], ['b', 2]]);
  });
});
