/**
 * test/helpers/resent-sends.ts tells a retried send from a second page by the incident's history. Its table: every
 * shape of history the e2e and cluster pacing tests can meet, read from a client that answers fixed histories.
 */
import type { Client } from '@temporalio/client';
import { sentMoreThanOnce, unexplainedResends } from '../helpers/resent-sends';

type Ev = Record<string, unknown>;
const input = (connectorId: string) => ({ payloads: [{ data: Buffer.from(JSON.stringify({ connectorId, incidentId: 'a' })) }] });
const scheduled = (id: number, name = 'openConnector', connectorId = 'pagerduty'): Ev => ({ eventId: id, activityTaskScheduledEventAttributes: { activityType: { name }, input: input(connectorId) } });
const started = (id: number, of: number, attempt: number): Ev => ({ eventId: id, activityTaskStartedEventAttributes: { scheduledEventId: of, attempt } });
const completed = (id: number, of: number): Ev => ({ eventId: id, activityTaskCompletedEventAttributes: { scheduledEventId: of } });
const clientOf = (histories: Record<string, Ev[]>) =>
  ({ workflow: { getHandle: (id: string) => ({ fetchHistory: async () => ({ events: histories[id] ?? [] }) }) } }) as unknown as Client;

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

  test('a key sent once needs no history at all', async () => {
    expect(await unexplainedResends(clientOf({}), ['probectl-a', 'probectl-b'], { timeoutMs: 50 })).toEqual([]);
  });

  test('sentMoreThanOnce keeps only the repeated keys, with their counts', () => {
    expect([...sentMoreThanOnce(['a', 'b', 'a', 'c', 'a', 'b'])]).toEqual([['a', 3], ['b', 2]]);
  });
});
