/**
 * Every bad inbound delivery is refused in the documented order and leaves the incident untouched: the
 * workflow's state, the PagerDuty double's requests and the delivery-id table are compared before/after.
 */
import { createHmac } from 'node:crypto';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';

const RA = 'R0UT1NGKEYtenantA000000000000001';
const RB = 'R0UT1NGKEYtenantA000000000000002';
const RB2 = 'R0UT1NGKEYtenantB000000000000001';
const SECRET_PD = 'pd-webhook-secret-0123456789abcdef';
const SECRET_JIRA = 'jira-webhook-secret-0123456789:x';
const SECRET_OTHER = 'tenant-b-secret-0123456789abcdef';
const SECRET_STRICT = 'strict-secret-0123456789abcdef,with:commas';

const hmac = (secret: string, body: string | Buffer) => createHmac('sha256', secret).update(body).digest('hex');

describe('inbound deliveries: authentication and refusals, each leaving the incident untouched', () => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const tenantA = uniqueId('acme');
  const tenantB = uniqueId('beta');
  const inc = incidentFor(tenantA);

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: [
          `${tenantA}|pagerduty|${pd.url}/v2/enqueue|${RA}|pd-a`,
          `${tenantA}|pagerduty|${pd.url}/v2/enqueue|${RB}|pd-b`,
          `${tenantB}|pagerduty|${pd.url}/v2/enqueue|${RB2}`,
        ].join(','),
        // The JSON form: per-entry options, and a secret with commas.
        PROBECTL_NOTIFY_INBOUND: JSON.stringify([
          { id: 'pd-a', tenant: tenantA, provider: 'pagerduty', secret: SECRET_PD },
          { id: 'jira-a', tenant: tenantA, provider: 'jira', secret: SECRET_JIRA },
          { id: 'pd-beta', tenant: tenantB, provider: 'pagerduty', secret: SECRET_OTHER },
          { id: 'pd-strict', tenant: tenantA, provider: 'pagerduty', secret: SECRET_STRICT, require_timestamp: true },
        ]),
      },
    });
    await stack.incidents.openIncident(inc);
    await eventually(async () => {
      const rec = await stack.mirror.read(tenantA, inc.id);
      return rec?.links.filter((l) => l.status === 'open').length === 2;
    }, { what: 'both PagerDuty links open in the mirror' });
  });
  afterAll(async () => {
    await stack?.stop();
    await pd?.stop();
  });

  const pdBody = (type: string, incidentId = inc.id, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      event: {
        id: uniqueId('ev'), event_type: type, resource_type: 'incident', occurred_at: new Date().toISOString(),
        agent: { summary: 'Erin', type: 'user_reference' },
        data: { id: 'PGR0VU2', type: 'incident', incident_key: `probectl-${incidentId}`, status: 'resolved', ...extra },
      },
    });

  const send = (path: string, payload: string | Buffer, headers: Record<string, string>) =>
    stack.app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/json', ...headers }, payload });

  async function snapshot() {
    const state = await stack.incidents.getIncident(inc.id);
    const deliveries = await stack.pool.query('SELECT count(*)::int AS n FROM inbound_deliveries WHERE tenant_id = $1', [tenantA]);
    return {
      status: state.status,
      kinds: state.timeline.map((t) => t.kind).filter((k) => k !== 'connector.opened' && k !== 'opened'),
      links: state.links.map((l) => `${l.connectorId}:${l.status}`).sort(),
      pdRequests: pd.requests.length,
      deliveries: deliveries.rows[0].n as number,
    };
  }

  test('bad inputs are refused with the documented status and change nothing', async () => {
    const before = await snapshot();
    expect(before).toEqual({ status: 'open', kinds: [], links: ['pd-a:open', 'pd-b:open'], pdRequests: 2, deliveries: 0 });
    const url = '/ingest/itsm/pagerduty/pd-a';
    const body = pdBody('incident.resolved');
    const goodSig = `v1=${hmac(SECRET_PD, body)}`;

    const cases: Array<[string, () => ReturnType<typeof send>, number]> = [
      ['unsigned (no credential header)', () => send(url, body, {}), 401],
      ['forged PagerDuty signature', () => send(url, body, { 'x-pagerduty-signature': `v1=${hmac('forged-secret-0123456789', body)}` }), 401],
      ['forged X-Probectl-Signature', () => send(url, body, { 'x-probectl-signature': `sha256=${hmac('forged-secret-0123456789', body)}` }), 401],
      ['signature of another body', () => send(url, body.replace('Erin', 'Eve!'), { 'x-pagerduty-signature': goodSig }), 401],
      ['truncated signature', () => send(url, body, { 'x-pagerduty-signature': goodSig.slice(0, 40) }), 401],
      ['wrong token', () => send(url, body, { 'x-probectl-token': 'not-the-secret-0123456789' }), 401],
      ['token of another entry', () => send(url, body, { 'x-probectl-token': SECRET_JIRA }), 401],
      ['wrong token beats a valid signature', () => send(url, body, { 'x-probectl-token': SECRET_JIRA, 'x-pagerduty-signature': goodSig }), 401],
      ['provider mismatch (a valid pd-a token on the jira path)', () => send('/ingest/itsm/jira/pd-a', body, { 'x-probectl-token': SECRET_PD }), 401],
      ['unknown entry', () => send('/ingest/itsm/pagerduty/nope', body, { 'x-probectl-token': SECRET_PD }), 401],
      ['X-Hub-Signature is not a PagerDuty credential', () => send(url, body, { 'x-hub-signature': `sha256=${hmac(SECRET_PD, body)}` }), 401],
      ['1 MiB + 1 byte', () => send(url, Buffer.alloc(1024 * 1024 + 1, 0x20), { 'x-probectl-token': SECRET_PD }), 413],
      ['1 MiB + 1 byte with a wrong token: 401 first', () => send(url, Buffer.alloc(1024 * 1024 + 1, 0x20), { 'x-probectl-token': 'nope-nope-nope-nope' }), 401],
      ['1 MiB + 1 byte, signature only: 413 before the signature', () => send(url, Buffer.alloc(1024 * 1024 + 1, 0x20), { 'x-pagerduty-signature': goodSig }), 413],
      ['malformed JSON', () => send(url, '{"event": ', { 'x-probectl-token': SECRET_PD }), 400],
      ['malformed JSON, correctly signed', () => send(url, '{"event": ', { 'x-pagerduty-signature': `v1=${hmac(SECRET_PD, '{"event": ')}` }), 400],
      ['wrong content type', () => stack.app.inject({ method: 'POST', url, headers: { 'content-type': 'text/plain', 'x-probectl-token': SECRET_PD }, payload: body }), 415],
      ['wrong content type, unauthenticated: 401 first', () => stack.app.inject({ method: 'POST', url, headers: { 'content-type': 'text/plain' }, payload: body }), 401],
      ['valid JSON of the wrong shape', () => send(url, JSON.stringify({ hello: 'world' }), { 'x-probectl-token': SECRET_PD }), 400],
      ['portable contract with an unknown status', () => send(url, JSON.stringify({ external_ref: `probectl-${inc.id}`, status: 'closed' }), { 'x-probectl-token': SECRET_PD }), 400],
    ];
    for (const [what, run, expected] of cases) {
      const res = await run();
      expect({ what, status: res.statusCode }).toEqual({ what, status: expected });
      if (expected === 401) expect(res.json()).toEqual({ error: 'unauthorized', message: expect.any(String) });
      expect(res.body).not.toContain(SECRET_PD);
    }
    expect(await stack.inboundMetrics.get('pagerduty', 'refused_401')).toBeGreaterThanOrEqual(9);
    expect(await stack.inboundMetrics.get('pagerduty', 'refused_413')).toBe(2);
    expect(await stack.inboundMetrics.get('pagerduty', 'refused_415')).toBe(1);
    expect(await snapshot()).toEqual(before);
  });

  test("another tenant's credential with a matching external ref, and an unknown ref, are ignored", async () => {
    const before = await snapshot();
    // tenant B's own entry, correctly signed, naming tenant A's incident key
    const body = pdBody('incident.resolved');
    const other = await send('/ingest/itsm/pagerduty/pd-beta', body, { 'x-pagerduty-signature': `v1=${hmac(SECRET_OTHER, body)}` });
    expect(other.statusCode).toBe(200);
    expect(other.json()).toEqual({ outcome: 'ignored', reason: expect.any(String) });
    expect(other.body).not.toContain(tenantA);
    // the same through the portable contract with tenant B's token
    const portable = await send('/ingest/itsm/pagerduty/pd-beta', JSON.stringify({ external_ref: `probectl-${inc.id}`, status: 'resolved' }), { 'x-probectl-token': SECRET_OTHER });
    expect(portable.json()).toMatchObject({ outcome: 'ignored' });
    // tenant A's own credential, a reference nobody knows
    const unknown = await send('/ingest/itsm/pagerduty/pd-a', JSON.stringify({ external_ref: 'probectl-no-such-incident', status: 'resolved' }), { 'x-probectl-token': SECRET_PD });
    expect(unknown.statusCode).toBe(200);
    expect(unknown.json()).toMatchObject({ outcome: 'ignored' });
    // a PagerDuty incident without our key, and an event type we do not act on
    const foreign = pdBody('incident.resolved', inc.id, { incident_key: 'nagios-4711' });
    expect((await send('/ingest/itsm/pagerduty/pd-a', foreign, { 'x-pagerduty-signature': `v1=${hmac(SECRET_PD, foreign)}` })).json()).toMatchObject({ outcome: 'ignored' });
    // exactly 1 MiB is within the limit (an ignored event padded with whitespace)
    const triggered = pdBody('incident.triggered');
    const padded = Buffer.concat([Buffer.from(triggered), Buffer.alloc(1024 * 1024 - Buffer.byteLength(triggered), 0x20)]);
    expect(padded.length).toBe(1024 * 1024);
    const big = await send('/ingest/itsm/pagerduty/pd-a', padded, { 'x-pagerduty-signature': `v1=${hmac(SECRET_PD, padded)}` });
    expect(big.statusCode).toBe(200);
    expect(big.json()).toMatchObject({ outcome: 'ignored' });

    expect(await stack.inboundMetrics.get('pagerduty', 'ignored_unknown_ref')).toBe(3);
    expect(await stack.inboundMetrics.get('pagerduty', 'ignored_event')).toBe(2);
    expect(stack.logLines.join('\n')).toContain('inbound delivery ignored');
    expect(await snapshot()).toEqual(before);
    const rec = await stack.mirror.read(tenantA, inc.id);
    expect(rec?.status).toBe('open');
  });

  test('an entry with require_timestamp accepts only the timestamped signature', async () => {
    const before = await snapshot();
    const url = '/ingest/itsm/pagerduty/pd-strict';
    const body = JSON.stringify({ external_ref: 'probectl-no-such-incident', status: 'resolved' });
    const now = Math.floor(Date.now() / 1000);
    const stamped = (ts: number, b = body) => ({ 'x-probectl-timestamp': String(ts), 'x-probectl-signature': `sha256=${hmac(SECRET_STRICT, `v1:${ts}:${b}`)}` });
    const cases: Array<[string, Record<string, string>, number]> = [
      ['the right token', { 'x-probectl-token': SECRET_STRICT }, 401],
      ['the right token and a valid timestamped signature', { 'x-probectl-token': SECRET_STRICT, ...stamped(now) }, 401],
      ['a valid body-only signature', { 'x-probectl-signature': `sha256=${hmac(SECRET_STRICT, body)}` }, 401],
      ["a valid PagerDuty signature (it has no timestamp)", { 'x-pagerduty-signature': `v1=${hmac(SECRET_STRICT, body)}` }, 401],
      ['a timestamp header without a signature', { 'x-probectl-timestamp': String(now) }, 401],
      ['a timestamped signature 330 s old', stamped(now - 330), 401],
      ['a timestamped signature 330 s ahead', stamped(now + 330), 401],
      ['the timestamp changed after signing', { ...stamped(now), 'x-probectl-timestamp': String(now - 1) }, 401],
      ['a valid timestamped signature', stamped(now), 200],
      ['a valid timestamped signature 240 s old', stamped(now - 240), 200],
    ];
    for (const [what, headers, expected] of cases) {
      const res = await send(url, body, headers);
      expect({ what, status: res.statusCode }).toEqual({ what, status: expected });
    }
    // The same headers on an entry without the option: the body-only signature and the token still work there.
    expect((await send('/ingest/itsm/pagerduty/pd-a', body, { 'x-probectl-signature': `sha256=${hmac(SECRET_PD, body)}` })).statusCode).toBe(200);
    expect((await send('/ingest/itsm/pagerduty/pd-a', body, { 'x-probectl-token': SECRET_PD })).statusCode).toBe(200);
    expect(await snapshot()).toEqual(before);
  });

  test('no secret reaches a log line', () => {
    const logs = stack.logLines.join('\n');
    for (const s of [SECRET_PD, SECRET_JIRA, SECRET_OTHER, SECRET_STRICT]) expect(logs).not.toContain(s);
  });
});
