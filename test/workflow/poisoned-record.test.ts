/**
 * Found by review, fixed: one record Postgres refuses for good keeps the workflow from ever completing.
 *
 * The workflow completes only once Postgres holds everything it owed, and its own write takes every owed item no
 * call carries in one transaction. When Postgres refuses an item — not an outage, a value it cannot store — the
 * write fails on every try, the flusher backs off and tries again (at most a minute apart) forever, and every item
 * batched beside the refused one stays unwritten. Provider calls carrying the same item fail to record too.
 *
 * Here the refused value is the incident's `openedAt`: the workflow accepts any string Date.parse understands
 * (shared/validate.ts isIso), e.g. "2026", which Postgres refuses as a timestamptz. The /v1 API validates ISO 8601
 * first, so only a client that starts the workflow directly (the contract's Go client) can send it. Every write of
 * the incident row fails, so nothing of this incident ever reaches the mirror and the run never completes.
 *
 * The fix: the state machine keeps and records openedAt in the one ISO form every store reads
 * (v2/state.ts normalizedIncident); text Postgres cannot hold is made storable for every writer (src/db/storable.ts).
 * (Was, as a direction: the record activity should tell a refused value (SQLSTATE classes 22/23) from an outage and the
 * flusher should then write the rest without it (and say so on the timeline) instead of retrying forever; and new
 * starts should validate timestamps as Postgres reads them (under the patch, so existing runs replay).
 */
import type { ConnectorRef } from '../../src/config/connectors';
import { eventually } from '../helpers/shared';
import { incidentOf, startHarness, type Harness } from './harness';
import { realMirror, resultWithin, type RealMirror } from './records';

jest.setTimeout(120_000);

const PD: ConnectorRef[] = [{ id: 'pagerduty', provider: 'pagerduty' }];

describe('a record Postgres refuses for good', () => {
  let h: Harness;
  let db: RealMirror;
  beforeAll(async () => {
    db = realMirror();
    h = await startHarness({ connectors: PD });
  });
  afterAll(async () => {
    await h?.stop();
    await db?.close();
  });

  test('an incident opened at "2026" (Date.parse reads it, Postgres does not) is mirrored and its run completes', async () => {
    const failures: string[] = [];
    h.script.openConnector = async (c) => ({ externalRef: 'pagerduty-ref', ...(await db.recordCall(c.input as never, 'pagerduty', 'open', 'connector.opened', { externalRef: 'pagerduty-ref' })) });
    h.script.resolveConnector = async (c) => ({ found: true, ...(c.input.record ? await db.recordCall(c.input as never, 'pagerduty', 'resolved', 'connector.resolved') : {}) });
    h.script.recordIncident = (c) => db.recordIncident(c.input as never).catch((err: Error) => {
      failures.push(err.message);
      throw err;
    });
    const inc = incidentOf('acme', { openedAt: '2026' });
    await h.start(inc);
    await eventually(async () => (await h.state(inc.id)).links.some((l: { status: string }) => l.status === 'open'), { what: 'the page out' });
    await h.signal(inc.id, 'resolve', { tenantId: inc.tenantId, source: 'probectl', at: new Date().toISOString() });
    await resultWithin(h.result(inc.id), 30_000, () => `an incident opened at "2026" (${failures.length} record writes failed: ${failures[0] ?? 'none'})`);
    expect((await db.mirror.read(inc.tenantId, inc.id))?.status).toBe('resolved');
  });
});
