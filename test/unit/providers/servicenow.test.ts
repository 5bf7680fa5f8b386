import { servicenow } from '../../../src/providers/servicenow/connector';
import {
  MAX_SHORT_DESCRIPTION, buildCreate, buildLookup, buildResolve, parseResult, tableEndpoint, ticketUrl,
} from '../../../src/providers/servicenow/build';
import { schema } from '../../../src/providers/servicenow/options';
import {
  ALL_STATUSES, GOLDEN_INCIDENT, asFixture, callContext, connectorFrom, fakeHttp, genericOutcome, json, loadFixture, outcomeOf,
} from '../../helpers/retry-table';

const CRED = 'probectl.integration:S3cret!';
const SYS = 'c537bae64f411200adf9f8e18110c76e';
/** The builders take typed options: raw option strings through the provider's options schema, as at load. */
const typed = (raw: Record<string, string>) => schema.parse(raw);
const body = (b?: string) => JSON.parse(b!) as Record<string, string>;

describe('ServiceNow builders', () => {
  test('golden lookup, create and resolve', () => {
    const lookup = buildLookup('https://acme.service-now.com', CRED, GOLDEN_INCIDENT);
    expect(asFixture(lookup)).toEqual(loadFixture('servicenow', 'lookup'));
    expect(new URL(lookup.url).searchParams.get('sysparm_query')).toBe('correlation_id=probectl-INC-2041');
    expect(Buffer.from(lookup.headers.authorization!.slice(6), 'base64').toString()).toBe(CRED);
    const opts = { assignment_group: 'd625dccec0a8016700a222a0f7900d06', caller_id: 'probectl.integration', category: 'network' };
    expect(asFixture(buildCreate('https://acme.service-now.com/api/now/table/incident', CRED, GOLDEN_INCIDENT, typed(opts)))).toEqual(loadFixture('servicenow', 'create'));
    expect(asFixture(buildResolve('https://acme.service-now.com', CRED, SYS, 'Resolved by alice (via api): fixed (probectl incident INC-2041)'))).toEqual(loadFixture('servicenow', 'resolve'));
  });

  test('instance base or table URL; v2 table kept; link for people', () => {
    expect(tableEndpoint('https://acme.service-now.com').pathname).toBe('/api/now/table/incident');
    expect(tableEndpoint('https://acme.service-now.com/').pathname).toBe('/api/now/table/incident');
    expect(tableEndpoint('https://acme.service-now.com/api/now/v2/table/incident').pathname).toBe('/api/now/v2/table/incident');
    expect(ticketUrl('https://acme.service-now.com/api/now/table/incident', SYS)).toBe(`https://acme.service-now.com/nav_to.do?uri=incident.do%3Fsys_id%3D${SYS}`);
  });

  test('short_description ≤ 160; urgency/impact from severity, overridable', () => {
    const b = body(buildCreate('https://x.service-now.com', CRED, { ...GOLDEN_INCIDENT, title: 'W'.repeat(900) }).body);
    expect(Array.from(b.short_description!)).toHaveLength(MAX_SHORT_DESCRIPTION);
    const ui = (severity: 'critical' | 'error' | 'warning' | 'info', o = {}) => {
      const x = body(buildCreate('https://x.service-now.com', CRED, { ...GOLDEN_INCIDENT, severity }, typed(o)).body);
      return `${x.urgency}/${x.impact}`;
    };
    expect([ui('critical'), ui('error'), ui('warning'), ui('info')]).toEqual(['1/1', '1/2', '2/2', '3/3']);
    expect(ui('warning', { urgency_map: 'warning:1', impact_map: 'warning:3' })).toBe('1/3');
    expect(body(buildResolve('https://x.service-now.com', CRED, SYS, 'n', typed({ close_code: 'Solved (Permanently)' })).body).close_code).toBe('Solved (Permanently)');
  });

  test('result parsing', () => {
    expect(parseResult({ result: [] })).toBeUndefined();
    expect(parseResult({ result: [{ sys_id: SYS, number: 'INC0010002', state: '1' }] })).toEqual({ sysId: SYS, number: 'INC0010002', state: '1' });
    expect(parseResult({ result: { sys_id: SYS, state: 6 } })).toEqual({ sysId: SYS, state: '6' });
    expect(parseResult({ error: {} })).toBe('malformed');
  });
});

describe('ServiceNow connector', () => {
  const c = connectorFrom(`acme|servicenow|https://acme.service-now.com|${CRED}`);
  const none = json(200, { result: [] });
  const rec = (state: string) => json(200, { result: { sys_id: SYS, number: 'INC0010002', state } });

  test('a ticket found by correlation_id is adopted, not created again', async () => {
    const f = fakeHttp(() => json(200, { result: [{ sys_id: SYS, number: 'INC0010002', state: '2' }] }));
    const out = await servicenow.open(callContext(c, f.http), GOLDEN_INCIDENT);
    expect(out.externalRef).toBe(SYS);
    expect(f.requests.map((r) => r.method)).toEqual(['GET']);
  });

  test('resolve: already resolved/closed/canceled or deleted is done; unknown sys_id is looked up; not found = nothing to do', async () => {
    for (const state of ['6', '7', '8']) {
      const f = fakeHttp(() => rec(state));
      await servicenow.resolve(callContext(c, f.http), GOLDEN_INCIDENT, { externalRef: SYS }, { source: 'api' });
      expect(f.requests.map((r) => r.method)).toEqual(['GET']);
    }
    const gone = fakeHttp(() => json(404, { error: { message: 'No Record found' }, status: 'failure' }));
    await servicenow.resolve(callContext(c, gone.http), GOLDEN_INCIDENT, { externalRef: SYS }, { source: 'api' });
    const nothing = fakeHttp(() => none);
    await servicenow.resolve(callContext(c, nothing.http), GOLDEN_INCIDENT, {}, { source: 'api' });
    expect(new URL(nothing.requests[0]!.url).searchParams.get('sysparm_query')).toBe('correlation_id=probectl-INC-2041');
    expect(nothing.requests).toHaveLength(1);
    const open = fakeHttp((req) => (req.method === 'GET' ? json(200, { result: [{ sys_id: SYS, state: '2' }] }) : rec('6')));
    await servicenow.resolve(callContext(c, open.http), GOLDEN_INCIDENT, {}, { source: 'api' });
    expect(open.requests.map((r) => r.method)).toEqual(['GET', 'PATCH']);
  });

  test('every status 100–599 on the create (the lookup answers "none")', async () => {
    const got: Record<number, string> = {};
    const want: Record<number, string> = {};
    for (const s of ALL_STATUSES) {
      const f = fakeHttp((req) => (req.method === 'GET' ? none : json(s, s < 300 ? { result: { sys_id: SYS } } : { error: { message: 'x' } })));
      got[s] = (await outcomeOf(() => servicenow.open(callContext(c, f.http), GOLDEN_INCIDENT))).outcome;
      want[s] = genericOutcome(s);
    }
    expect(got).toEqual(want);
  });

  test('every status 100–599 on the resolve PATCH', async () => {
    const got: Record<number, string> = {};
    const want: Record<number, string> = {};
    for (const s of ALL_STATUSES) {
      const f = fakeHttp((req) => (req.method === 'GET' ? rec('2') : json(s, s < 300 ? { result: { sys_id: SYS } } : { error: { message: 'x' } })));
      got[s] = (await outcomeOf(() => servicenow.resolve(callContext(c, f.http), GOLDEN_INCIDENT, { externalRef: SYS }, { source: 'api' }))).outcome;
      want[s] = genericOutcome(s);
    }
    expect(got).toEqual(want);
  });
});
