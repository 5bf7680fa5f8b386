/**
 * Inbound payloads that pass every check must reach the workflow as what they say, on the real dev server and
 * Postgres. Written as a review of the inbound route against the workflow's own signal checks and Postgres's text
 * type: a delivery answered 202 "accepted" must not be dropped later, and a malformed one must not be answered as
 * our own fault.
 */
import { PagerDutyDouble } from '../../src/sandbox/doubles/pagerduty';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';

const ROUTING = 'R0UT1NGKEYedgeA00000000000000001';
const SECRET = 'pd-webhook-secret-edges-0123456789';

describe('inbound payload edges (portable contract, X-Probectl-Token)', () => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const tenant = uniqueId('acme');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${ROUTING}`,
        PROBECTL_NOTIFY_INBOUND: `pd:${tenant}:pagerduty:${SECRET}`,
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
  });

  const deliver = (body: Record<string, unknown>) =>
    stack.app.inject({
      method: 'POST', url: '/ingest/itsm/pagerduty/pd', payload: JSON.stringify(body),
      headers: { 'content-type': 'application/json', 'x-probectl-token': SECRET },
    });

  async function openOne(): Promise<string> {
    const inc = incidentFor(tenant);
    await stack.incidents.openIncident(inc);
    await eventually(async () => (await stack.mirror.read(tenant, inc.id))?.links[0]?.status === 'open', { what: 'the PagerDuty link open' });
    return inc.id;
  }

  // A resolution by someone whose display name is long and holds emoji (257+ UTF-16 code units, fewer than 256
  // characters): before the fix the route answered 202 accepted and the workflow dropped the signal as
  // "actor is malformed" (its limit is 256 code units) — the incident stayed open, the resolution was lost.
  test('a long display name with emoji: accepted, and the incident really resolves', async () => {
    const id = await openOne();
    const actor = `${'a'.repeat(250)}😀😀😀😀`;
    const res = await deliver({ external_ref: `probectl-${id}`, status: 'resolved', actor });
    expect(res.statusCode).toBe(202);
    // What the workflow made of the signal: a rejection is on the timeline at once.
    const outcome = await eventually(async () => {
      const s = await stack.incidents.getIncident(id);
      return s.status === 'resolved' ? 'resolved' : s.timeline.find((t) => t.kind === 'signal.rejected')?.detail;
    }, { what: 'the resolution, or its rejection' });
    expect(outcome).toBe('resolved');
    const result = await stack.incidents.result(id);
    expect(result.source).toBe('pagerduty');
    expect(actor.startsWith((result.actor ?? '').replace(/…$/, ''))).toBe(true);
    const timeline = await stack.mirror.timeline(tenant, id);
    expect(timeline.filter((t) => t.kind === 'signal.rejected')).toEqual([]);
  });
});
