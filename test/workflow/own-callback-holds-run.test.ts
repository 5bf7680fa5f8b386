/**
 * Found by review, fixed: a callback the workflow carries out itself keeps the run open for as long as probectl
 * refuses it — forever if it always does (e.g. a rotated callback secret) — even after Postgres takes writes again.
 *
 * The contract says the workflow never waits for probectl (docs/workflow-contract.md, "Completion"): the callback is
 * a follow-up, recorded in Postgres and sent by the runner, which gives up after 7 days. When Postgres could not
 * take it at the resolve, the workflow runs it as `reportToProbectl` itself (own-follow-ups.ts) — an activity with
 * no schedule-to-close timeout and no attempt limit (activity-options.ts `reporting`) — and `finished()` waits for
 * it. Postgres coming back changes nothing: the follow-up is never handed back to the runner.
 *
 * The fix: the workflow's own callback has a few tries only (activity-options.ts reportingOnce); undelivered, it is
 * owed to Postgres again, where the runner takes it (with its 7-day window) as soon as a write succeeds
 * (v2/state.ts ownFollowUpDone).
 */
import type { ConnectorRef } from '../../src/config/connectors';
import { eventually } from '../helpers/shared';
import { incidentOf, startHarness, type Harness } from './harness';
import { resultWithin } from './records';

jest.setTimeout(120_000);

const PD: ConnectorRef[] = [{ id: 'pagerduty', provider: 'pagerduty' }];

describe('a callback the workflow carries out itself', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ connectors: PD, settings: { pagerReResolveDelayMs: 0 } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  test('does not keep the run open once Postgres takes follow-ups again, while probectl refuses it', async () => {
    let postgresDown = true;
    // Postgres is down at the resolve: the resolve call cannot record, nor can the workflow's first write.
    h.script.resolveConnector = (c) => (c.input.record ? { recorded: !postgresDown, followUpsRecorded: !postgresDown, found: true } : { found: true });
    h.script.recordIncident = () => {
      if (postgresDown) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      return { followUpsRecorded: true };
    };
    h.script.reportToProbectl = () => {
      throw new Error('probectl callback: HTTP 401: bad signature');
    };
    const inc = incidentOf();
    await h.start(inc);
    await eventually(async () => (await h.state(inc.id)).links.some((l: { status: string }) => l.status === 'open'), { what: 'the page out' });
    await h.signal(inc.id, 'resolve', { tenantId: inc.tenantId, source: 'api', at: new Date().toISOString() });
    await eventually(() => h.calls.some((c) => c.name === 'reportToProbectl' && c.input.incidentId === inc.id), { what: 'the workflow sending the callback itself', timeoutMs: 30_000 });
    postgresDown = false; // Postgres is back; probectl still refuses
    await resultWithin(h.result(inc.id), 45_000, () => `the resolved incident (${h.calls.filter((c) => c.name === 'reportToProbectl' && c.input.incidentId === inc.id).length} callback attempts by the workflow, Postgres back)`);
  });
});
