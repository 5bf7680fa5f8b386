import type { HttpRequest } from '../../../src/http/types';
import { opsgenie, POLL_TRIES } from '../../../src/providers/opsgenie/connector';
import {
  MAX_DESCRIPTION, MAX_MESSAGE, buildAliasAction, buildCreate, buildRequestStatus, parseAccepted, parseRequestStatus,
} from '../../../src/providers/opsgenie/build';
import { schema } from '../../../src/providers/opsgenie/options';
import {
  ALL_STATUSES, GOLDEN_INCIDENT, asFixture, callContext, connectorFrom, fakeHttp, genericOutcome, json, loadFixture, outcomeOf,
} from '../../helpers/retry-table';

const KEY = 'eb243592-faa2-4ba2-a551-1afdf565c889';
const US = 'https://api.opsgenie.com/v2/alerts';
const JSM = 'https://api.atlassian.com/jsm/ops/integration/v2/alerts';
/** The builders take typed options: raw option strings through the provider's options schema, as at load. */
const typed = (raw: Record<string, string>) => schema.parse(raw);
const body = (r: HttpRequest) => JSON.parse(r.body!) as Record<string, any>;

describe('Opsgenie builders', () => {
  test('golden requests: create, close (EU), acknowledge, JSM create, request status', () => {
    expect(asFixture(buildCreate(US, KEY, GOLDEN_INCIDENT, typed({ tags: 'network;edge', responders: 'team:NOC' })))).toEqual(loadFixture('opsgenie', 'create'));
    const close = buildAliasAction('https://api.eu.opsgenie.com/v2/alerts', KEY, GOLDEN_INCIDENT, 'close', 'Resolved by alice (via api): fixed');
    expect(new URL(close.url).host).toBe('api.eu.opsgenie.com');
    expect(asFixture(close)).toEqual(loadFixture('opsgenie', 'close'));
    expect(asFixture(buildAliasAction(US, KEY, GOLDEN_INCIDENT, 'acknowledge', 'Acknowledged by alice in probectl'))).toEqual(loadFixture('opsgenie', 'acknowledge'));
    const jsm = buildCreate(JSM, KEY, { ...GOLDEN_INCIDENT, severity: 'warning' }, typed({ priority_map: 'warning:P4' }));
    expect(new URL(jsm.url).host).toBe('api.atlassian.com');
    expect(asFixture(jsm)).toEqual(loadFixture('opsgenie', 'jsm-create'));
    expect(asFixture(buildRequestStatus(JSM, KEY, 'ec03dad6-62c8-4c94-b38b-d88b398e1c1a'))).toEqual(loadFixture('opsgenie', 'request-status'));
  });

  test('a bare host means /v2/alerts; JSM paths hang below the JSM base', () => {
    expect(new URL(buildCreate('https://api.opsgenie.com', KEY, GOLDEN_INCIDENT).url).pathname).toBe('/v2/alerts');
    expect(new URL(buildAliasAction(JSM, KEY, GOLDEN_INCIDENT, 'close', 'n').url).pathname).toBe('/jsm/ops/integration/v2/alerts/probectl-INC-2041/close');
  });

  test('message ≤ 130 and description ≤ 15000, cut with an ellipsis', () => {
    const b = body(buildCreate(US, KEY, { ...GOLDEN_INCIDENT, title: 'T'.repeat(400), summary: 'S'.repeat(20_000) }));
    expect(Array.from(b.message as string)).toHaveLength(MAX_MESSAGE);
    expect(b.message.endsWith('…')).toBe(true);
    expect(Array.from(b.description as string)).toHaveLength(MAX_DESCRIPTION);
  });

  test('priority from severity, overridable per severity', () => {
    const p = (severity: 'critical' | 'error' | 'warning' | 'info', map?: string) =>
      body(buildCreate(US, KEY, { ...GOLDEN_INCIDENT, severity }, typed(map ? { priority_map: map } : {}))).priority;
    expect([p('critical'), p('error'), p('warning'), p('info')]).toEqual(['P1', 'P2', 'P3', 'P5']);
    expect([p('critical', 'critical:P2;info:P4'), p('info', 'critical:P2;info:P4'), p('warning', 'critical:P2')]).toEqual(['P2', 'P4', 'P3']);
  });

  test('response parsing', () => {
    expect(parseAccepted({ result: 'Request will be processed', took: 0.2, requestId: 'abc' })).toBe('abc');
    expect(parseAccepted({ result: 'x' })).toBeUndefined();
    expect(parseRequestStatus({ data: { success: true, isSuccess: true, status: 'Created alert', alertId: 'a1' } })).toEqual({ isSuccess: true, status: 'Created alert', alertId: 'a1' });
    expect(parseRequestStatus({ data: { isSuccess: false, status: 'Alert does not exist', alertId: '' } })).toEqual({ isSuccess: false, status: 'Alert does not exist' });
    expect(parseRequestStatus({ message: 'nope' })).toBeUndefined();
  });
});

describe('Opsgenie connector', () => {
  const c = connectorFrom(`acme|opsgenie|${US}|${KEY}`);
  const accepted = json(202, { result: 'Request will be processed', took: 0.1, requestId: 'req-1' });
  const status = (isSuccess: boolean, s: string) => json(200, { data: { success: isSuccess, isSuccess, status: s, alertId: 'a1' } });

  test('create is confirmed through the request status, after "not processed yet" answers', async () => {
    const f = fakeHttp((req, n) => (req.method === 'POST' ? accepted : n < 4 ? json(404, { message: 'Request not found' }) : status(true, 'Created alert')));
    const out = await opsgenie.open(callContext(c, f.http), GOLDEN_INCIDENT);
    expect(out.externalRef).toBe('probectl-INC-2041');
    expect(f.requests.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      'POST /v2/alerts', 'GET /v2/alerts/requests/req-1', 'GET /v2/alerts/requests/req-1', 'GET /v2/alerts/requests/req-1',
    ]);
  });

  test('a request never processed within the bounded poll is retried (re-sent by alias)', async () => {
    const f = fakeHttp((req) => (req.method === 'POST' ? accepted : json(404, { message: 'Request not found' })));
    const r = await outcomeOf(() => opsgenie.open(callContext(c, f.http), GOLDEN_INCIDENT));
    expect(r.outcome).toBe('retried');
    expect(f.requests.filter((q) => q.method === 'GET')).toHaveLength(POLL_TRIES);
  });

  test('a failed create in the request status is permanent; "Alert does not exist" on close/ack is done', async () => {
    const bad = fakeHttp((req) => (req.method === 'POST' ? accepted : status(false, 'Priority should be one of P1..P5')));
    const r = await outcomeOf(() => opsgenie.open(callContext(c, bad.http), GOLDEN_INCIDENT));
    expect(r.outcome).toBe('permanent');
    expect(r.failure?.message).toContain('Priority should be one of');
    const gone = fakeHttp((req) => (req.method === 'POST' ? accepted : status(false, 'Alert does not exist')));
    await expect(opsgenie.resolve(callContext(c, gone.http), GOLDEN_INCIDENT, {}, { source: 'api' })).resolves.toBeUndefined();
    await expect(opsgenie.acknowledge!(callContext(c, gone.http), GOLDEN_INCIDENT, {}, 'alice')).resolves.toBeUndefined();
    expect(new URL(gone.requests[0]!.url).search).toBe('?identifierType=alias');
  });

  test('a key without read rights (403 on the status read) keeps the 202', async () => {
    const f = fakeHttp((req) => (req.method === 'POST' ? accepted : json(403, { message: 'forbidden' })));
    await expect(opsgenie.open(callContext(c, f.http), GOLDEN_INCIDENT)).resolves.toEqual({ externalRef: 'probectl-INC-2041' });
  });

  // The request was accepted (202): a status read answered with anything but a 2xx, 408, 429 or 5xx cannot say it failed, so the open
  // keeps the 202 — never a refusal, which would leave the alert without its close (a refused open gets no resolve).
  test('every status 100–599 on the status read after an accepted create', async () => {
    const got: Record<number, string> = {};
    const want: Record<number, string> = {};
    for (const s of ALL_STATUSES) {
      if (s === 404) continue; // "not processed yet": read again (above)
      const f = fakeHttp((req) => (req.method === 'POST' ? accepted : s < 300 ? status(true, 'Created alert') : json(s, { message: 'x' })));
      const r = await outcomeOf(() => opsgenie.open(callContext(c, f.http), GOLDEN_INCIDENT));
      got[s] = `${r.outcome}${r.failure?.type ? ` ${r.failure.type}` : ''}`;
      want[s] = s < 300 || (s < 500 && s !== 408 && s !== 429) ? 'ok' : s === 429 ? 'retried RateLimited' : 'retried ProviderUnavailable';
    }
    expect(got).toEqual(want);
    for (const v of Object.values(got)) expect(v).not.toMatch(/ProviderRejected|AuthRejected/);
  });

  test.each(['open', 'resolve', 'acknowledge'] as const)('every status 100–599 on %s', async (op) => {
    const got: Record<number, string> = {};
    const want: Record<number, string> = {};
    for (const s of ALL_STATUSES) {
      const f = fakeHttp((req) => (req.method === 'POST' ? json(s, s < 300 ? { requestId: 'r' } : { message: 'x' }) : status(true, 'ok')));
      const ctx = callContext(c, f.http);
      const run = op === 'open' ? () => opsgenie.open(ctx, GOLDEN_INCIDENT)
        : op === 'resolve' ? () => opsgenie.resolve(ctx, GOLDEN_INCIDENT, {}, { source: 'api' })
        : () => opsgenie.acknowledge!(ctx, GOLDEN_INCIDENT, {}, 'alice');
      got[s] = (await outcomeOf(run)).outcome;
      want[s] = genericOutcome(s);
    }
    expect(got).toEqual(want);
  });
});
