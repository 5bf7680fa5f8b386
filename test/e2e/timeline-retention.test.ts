/**
 * The timeline outlives Temporal's retention: once a resolved incident's workflow execution is deleted
 * (what retention does), GET /v1/incidents/{id}/timeline still serves every entry from Postgres, with who
 * resolved it, and a token of another tenant still sees nothing.
 */
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';

const ROUTING_KEY = 'R0UT1NGKEYretention00000000000001';

describe('timeline after the workflow history is gone', () => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const tenant = uniqueId('retained');
  const other = uniqueId('other');
  const token = 'tok-retained-0123456789abcdef';
  const otherToken = 'tok-other-0123456789abcdef00';

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${ROUTING_KEY}`,
        PROBECTL_NOTIFY_API_TOKENS: `${tenant}:${token},${other}:${otherToken}`,
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
  });

  const api = (method: 'GET' | 'POST', url: string, tok = token, payload?: object) =>
    stack.app.inject({ method, url, headers: { authorization: `Bearer ${tok}` }, ...(payload ? { payload } : {}) });

  test('a resolved incident whose execution was deleted still has its timeline', async () => {
    const inc = incidentFor(tenant);
    expect((await api('POST', '/v1/incidents', token, { id: inc.id, title: inc.title, severity: 'critical' })).statusCode).toBe(201);
    await eventually(async () => (await stack.incidents.getIncident(inc.id)).links[0]?.status === 'open', { what: 'the page' });
    expect((await api('POST', `/v1/incidents/${inc.id}/correlate`, token, { signalId: 'sig-1', summary: 'flap' })).statusCode).toBe(202);
    expect((await api('POST', `/v1/incidents/${inc.id}/resolve`, token, { actor: 'alice', reason: 'uplink replaced' })).statusCode).toBe(202);
    await stack.incidents.result(inc.id);
    const before = (await api('GET', `/v1/incidents/${inc.id}/timeline`)).json().timeline as Array<{ kind: string }>;

    // What retention does: the execution and its history are deleted.
    const workflowId = `probectl-${inc.id}`;
    await stack.client.workflowService.deleteWorkflowExecution({
      namespace: stack.config.temporal.namespace,
      workflowExecution: { workflowId },
    });
    await eventually(
      async () => {
        try {
          await stack.client.workflow.getHandle(workflowId).describe();
          return false;
        } catch (err) {
          return (err as Error).name === 'WorkflowNotFoundError';
        }
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'describe to say not found' },
    );
    await expect(stack.client.workflow.getHandle(workflowId).fetchHistory()).rejects.toThrow();

    const res = await api('GET', `/v1/incidents/${inc.id}/timeline`);
    expect(res.statusCode).toBe(200);
    const timeline = res.json().timeline as Array<{ seq: number; kind: string; connectorId?: string; source?: string; actor?: string; detail?: string }>;
    expect(timeline).toEqual(before);
    expect(timeline.map((t) => t.kind)).toEqual(
      expect.arrayContaining(['opened', 'connector.opened', 'correlated', 'resolved', 'connector.resolved']),
    );
    expect(timeline.find((t) => t.kind === 'connector.opened')).toMatchObject({ connectorId: 'pagerduty', detail: `paged via PagerDuty: probectl-${inc.id}` });
    expect(timeline.find((t) => t.kind === 'resolved')).toMatchObject({ source: 'api', actor: 'alice', detail: 'uplink replaced' });
    expect(timeline.map((t) => t.seq)).toEqual([...timeline.map((t) => t.seq)].sort((a, b) => a - b));

    // The live views are gone; the other tenant still sees nothing of it.
    expect((await api('GET', `/v1/incidents/${inc.id}`)).statusCode).toBe(404);
    expect((await api('GET', `/v1/incidents/${inc.id}/timeline`, otherToken)).statusCode).toBe(404);
  });
});
