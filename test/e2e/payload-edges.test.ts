/**
 * Payloads that pass every check must reach the workflow and the mirror as what they say, on the real dev server
 * and Postgres. Written as a review of the inbound route and /v1 against the workflow's own signal checks and
 * Postgres's text type: a delivery answered 202 "accepted" must not be dropped later, a malformed one must not be
 * answered as our own fault, and an incident that was opened must be recordable.
 */
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';

const ROUTING = 'R0UT1NGKEYedgeA00000000000000001';
const SECRET = 'pd-webhook-secret-edges-0123456789';
const TOKEN = 'api-token-edges-0123456789abcdef';

describe('payload edges (inbound portable contract with X-Probectl-Token, /v1)', () => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const tenant = uniqueId('acme');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: `${tenant}|pagerduty|${pd.url}/v2/enqueue|${ROUTING}`,
        PROBECTL_NOTIFY_INBOUND: `pd:${tenant}:pagerduty:${SECRET}`,
        PROBECTL_NOTIFY_API_TOKENS: `${tenant}:${TOKEN}`,
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

  // Postgres's text type cannot hold U+0000. JSON can ("\u0000"), and every check before the mirror let it through:
  // the inbound route then failed inside its transaction and answered 503 "a backing service is unavailable"
  // (counted failed_503, logged as an outage, retried by PagerDuty for 48 hours) for a delivery that is simply
  // malformed; and /v1 started the incident (it paged) whose every mirror write then failed — no incident row, no
  // link, no timeline (GET …/timeline 404) for as long as it lives.
  test('a NUL in an inbound reference, delivery id or actor: answered as the client\'s problem (or stripped), never 503', async () => {
    const id = await openOne();
    const ref = await deliver({ external_ref: `probectl-${id}\u0000`, status: 'acknowledged' });
    const delivery = await deliver({ external_ref: `probectl-${id}`, status: 'acknowledged', delivery_id: 'd-1\u0000' });
    expect([ref.statusCode, delivery.statusCode]).toEqual([400, 400]);
    const actor = await deliver({ external_ref: `probectl-${id}`, status: 'acknowledged', actor: 'Erin\u0000 Oncall' });
    expect(actor.statusCode).toBe(202);
    await eventually(async () => (await stack.mirror.read(tenant, id))?.status === 'acknowledged', { what: 'the acknowledgement recorded' });
  });

  test('a NUL in a /v1 body is a 400: nothing is started, signalled or recorded that the mirror cannot hold', async () => {
    const v1 = (url: string, payload: Record<string, unknown>) =>
      stack.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${TOKEN}` }, payload });
    const fresh = uniqueId('nul');
    const bodies: Array<Record<string, unknown>> = [
      { id: fresh, title: 'Packet loss\u0000', severity: 'critical' },
      { id: fresh, title: 't', summary: 'x\u0000', severity: 'critical' },
      { id: fresh, title: 't', source: 'p\u0000', severity: 'critical' },
      { id: fresh, title: 't', labels: { 'team\u0000': 'net' }, severity: 'critical' },
      { id: fresh, title: 't', labels: { team: 'net\u0000' }, severity: 'critical' },
    ];
    for (const body of bodies) expect({ body, status: (await v1('/v1/incidents', body)).statusCode }).toEqual({ body, status: 400 });
    expect(await stack.incidents.tenantOf(fresh)).toBeUndefined();

    const id = await openOne();
    for (const [path, body] of [
      ['correlate', { signalId: 's\u0000' }], ['correlate', { signalId: 's', summary: '\u0000' }],
      ['acknowledge', { actor: 'a\u0000' }], ['resolve', { actor: 'a\u0000' }], ['resolve', { reason: 'r\u0000' }],
    ] as const) {
      expect({ path, body, status: (await v1(`/v1/incidents/${id}/${path}`, body)).statusCode }).toEqual({ path, body, status: 400 });
    }
    expect((await stack.incidents.getIncident(id)).status).toBe('open');
  });

  // The timeline key of a correlated signal is `correlate:probectl-<id>:<signalId>`; migration 004 allows keys of
  // at most 300 characters, /v1 allowed a 128-character id and a 256-character signal id (404 characters). The
  // API's write failed on the check constraint ("recording a correlated signal failed") and the signal was
  // answered 202, but no `correlated` entry for it ever reached the Postgres timeline (the one that outlives
  // Temporal's retention), while the workflow's own state showed it.
  test('a correlated signal /v1 accepts is on the Postgres timeline (or refused with 400)', async () => {
    const id = `${uniqueId('long')}-${'x'.repeat(128)}`.slice(0, 128);
    const v1 = (url: string, payload: Record<string, unknown>) =>
      stack.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${TOKEN}` }, payload });
    expect((await v1('/v1/incidents', { id, title: 't', severity: 'critical' })).statusCode).toBe(201);
    await eventually(async () => (await stack.mirror.read(tenant, id))?.links[0]?.status === 'open', { what: 'the link open' });
    const signalId = `sig-${'s'.repeat(252)}`;
    const res = await v1(`/v1/incidents/${id}/correlate`, { signalId });
    if (res.statusCode === 400) {
      expect(res.json()).toMatchObject({ error: 'invalid_request', reasons: [expect.stringMatching(/^signalId: /)] });
      return;
    }
    expect(res.statusCode).toBe(202);
    const entry = await eventually(async () => (await stack.mirror.timeline(tenant, id)).find((t) => t.kind === 'correlated'), { what: 'the correlated entry in Postgres', timeoutMs: 15_000 });
    expect(entry.detail).toContain(signalId.slice(0, 40));
  });
});
