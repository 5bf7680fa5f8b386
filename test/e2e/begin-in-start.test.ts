/**
 * PROBECTL_NOTIFY_BEGIN_IN_START (src/activities/begin.ts): with it on, the API passes a new run its begin snapshot
 * and the run schedules its opens without a local activity; the mirror's record travels in it (an incident the
 * mirror holds as resolved opens nothing); a tenant the API knows no connector of gets no snapshot. Off (the
 * default): every run reads it itself. The workflow side, malformed snapshots and the rolling deploy are in
 * test/workflow/begin-in-input.test.ts.
 */
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { historyFacts } from '../replay/history-facts';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, pastResolvedIncident, startStack, type TestStack } from '../helpers/stack';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const KEY = 'RKEY-begin-in-start-000000000000';

describe.each([['on', true], ['off', false]] as const)('PROBECTL_NOTIFY_BEGIN_IN_START=%s', (setting, given) => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const tenant = uniqueId('bis');
  const scratch = join(__dirname, '..', '..', 'test-artifacts', `begin-in-start-${process.pid}`);

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    stack = await startStack({ env: { PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${KEY}`, PROBECTL_NOTIFY_BEGIN_IN_START: setting } });
    mkdirSync(scratch, { recursive: true });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
  });

  const open = (inc: ReturnType<typeof incidentFor>) => stack.incidents.openIncident(inc);

  /** The patches a run asked and its local activities, from its history. */
  async function pathOf(id: string) {
    const file = join(scratch, `${id}.json`);
    writeFileSync(file, historyToJSON(await stack.client.workflow.getHandle(`probectl-${id}`).fetchHistory()));
    const f = historyFacts(file);
    return { patches: f.patches, localActivities: f.localActivities.length };
  }

  test(`a new incident ${given ? 'is given its snapshot: no local activity' : 'reads its snapshot itself'}; the page goes out once`, async () => {
    const inc = incidentFor(tenant);
    await open(inc);
    await eventually(() => pd.alerts.some((a) => a.dedupKey === `probectl-${inc.id}`), { what: 'the page' });
    await stack.incidents.resolve(inc.id, { tenantId: tenant, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(inc.id);
    expect(await pathOf(inc.id)).toEqual(given
      ? { patches: ['state-machine-v1', 'begin-in-input-v1'], localActivities: 0 }
      : { patches: ['state-machine-v1'], localActivities: 1 });
    expect(pd.alerts.filter((a) => a.dedupKey === `probectl-${inc.id}`)).toHaveLength(1);
  });

  test('an incident the mirror holds as resolved (a start after retention) opens nothing, whoever read the mirror', async () => {
    const inc = await pastResolvedIncident(stack, tenant);
    await open(inc);
    expect(await stack.incidents.result(inc.id)).toMatchObject({ source: 'pagerduty', actor: 'erin' });
    expect(pd.requests.filter((r) => r.body.includes(`probectl-${inc.id}`))).toHaveLength(0);
    expect((await pathOf(inc.id)).localActivities).toBe(given ? 0 : 1);
  });

  test('a tenant the API knows no connector of: no snapshot (the worker decides); nothing to page', async () => {
    const inc = incidentFor(uniqueId('bisnone'));
    await open(inc);
    await stack.incidents.resolve(inc.id, { tenantId: inc.tenantId, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(inc.id);
    expect(await pathOf(inc.id)).toEqual({ patches: ['state-machine-v1'], localActivities: 1 });
  });
});
