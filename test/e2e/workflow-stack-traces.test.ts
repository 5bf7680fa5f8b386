/**
 * PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES through the real worker process (`node [--require preload] main.js worker`)
 * and the real SDK: for each way the process can be started, what the worker logs, what the Temporal UI's stack
 * trace query answers, and that the incident is paged and resolved the same way. The setting only decides whether
 * the SDK's workflow thread records stacks; it must never change what a run does.
 */
import { dirname, join } from 'node:path';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import { ensureBuild, spawnWorker } from '../helpers/worker-process';

const PRELOAD = () => ['--require', join(dirname(ensureBuild()), 'runtime', 'workflow-thread-preload.js')];

describe.each<[string, boolean, Record<string, string>, string]>([
  ['preloaded, the setting unset (the default: off)', true, {}, 'off'],
  ['preloaded, off', true, { PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES: 'off' }, 'off'],
  ['preloaded, on', true, { PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES: 'on' }, 'on'],
  ['not preloaded, the setting unset', false, {}, 'on (the thread preload is not loaded)'],
  ['not preloaded, on', false, { PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES: 'on' }, 'on'],
  // The SDK's own debug switch runs workflows in the main thread, where the preload changes nothing.
  ['preloaded, off, TEMPORAL_DEBUG=1', true, { TEMPORAL_DEBUG: '1' }, 'on (TEMPORAL_DEBUG runs workflows in the main thread)'],
])('workflow stack traces: %s', (_name, preloaded, settings, logged) => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const tenant = uniqueId('wst');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    stack = await startStack({
      worker: false,
      env: { PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|RKEY-wst-000000000000000000` },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
  });

  test(`the worker logs ${logged}; the stack-trace query answers accordingly; the incident is paged and resolved as always`, async () => {
    const proc = spawnWorker({ ...stack.env, ...settings, LOG_LEVEL: 'info' }, 'worker', ensureBuild(), preloaded ? PRELOAD() : []);
    try {
      await proc.ready;
      const started = proc.output().split('\n').find((l) => l.includes('"worker started"'));
      expect(JSON.parse(started!)).toMatchObject({ workflowStackTraces: logged });

      const inc = incidentFor(tenant);
      await stack.incidents.openIncident(inc);
      await eventually(() => pd.events('trigger').some((r) => (r.json as { dedup_key?: string }).dedup_key === `probectl-${inc.id}`), { what: 'the page' });
      const handle = stack.client.workflow.getHandle(`probectl-${inc.id}`);
      // The run waits for a resolution now: a stack trace, if the thread records them, shows where.
      const query = handle.query<string>('__stack_trace');
      if (logged === 'off') {
        await expect(query).rejects.toThrow('Workflow stack traces are not enabled on this worker');
      } else {
        const trace = await query;
        expect(typeof trace).toBe('string');
        expect(trace).toMatch(/incidentWorkflow/);
      }
      // Other queries are untouched either way. The double has the page before the workflow has the answer: the link is
      // open once the open's completion is in the run (a busy machine shows it pending for a while).
      await eventually(async () => (await stack.incidents.getIncident(inc.id)).links.some((l) => l.status === 'open'), { what: 'the link open in the query' });
      await expect(stack.incidents.getIncident(inc.id)).resolves.toMatchObject({ links: [expect.objectContaining({ status: 'open' })] });

      await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
      await stack.incidents.result(inc.id);
      expect(pd.openAlerts().filter((a) => a.dedupKey === `probectl-${inc.id}`)).toHaveLength(0);
      expect(pd.events('trigger').filter((r) => (r.json as { dedup_key?: string }).dedup_key === `probectl-${inc.id}`)).toHaveLength(1);
      // Not one workflow task failed or timed out on the way (a hook refused where Node needs one fails tasks, not pages).
      const events = (await handle.fetchHistory()).events ?? [];
      const bad = events.filter((e) => e.workflowTaskFailedEventAttributes || e.workflowTaskTimedOutEventAttributes);
      expect(bad).toEqual([]);
      expect(events.some((e) => e.workflowExecutionCompletedEventAttributes)).toBe(true);
      // The SDK says once per workflow thread that it runs without the hook; nothing else is printed about it.
      const notices = proc.output().split('\n').filter((l) => l.includes('stack trace collection will be disabled'));
      expect(notices.length).toBe(logged === 'off' ? 1 : 0);
    } finally {
      await proc.kill('SIGTERM');
    }
  });
});
