import { SEARCH_RETRIES, jira, listChanges } from '../../../src/providers/jira/connector';
import {
  MAX_SUMMARY, authHeader, buildCreate, buildListTransitions, buildSearch, buildTransition, parseSearch, parseTransitions, siteBase,
} from '../../../src/providers/jira/build';
import { schema } from '../../../src/providers/jira/options';
import type { HttpRequest } from '../../../src/http/types';
import {
  ALL_STATUSES, GOLDEN_INCIDENT, asFixture, callContext, connectorFrom, fakeHttp, genericOutcome, json, loadFixture, outcomeOf,
} from '../../helpers/retry-table';

const URL_ = 'https://acme.atlassian.net/rest/api/2/issue';
const CRED = 'alice@acme.com:ATATT3xGoldenToken';
const fields = (r: HttpRequest) => JSON.parse(r.body!).fields as Record<string, any>;
/** The builders take typed options: raw option strings through the provider's options schema, as at load. */
const typed = (raw: Record<string, string>) => schema.parse(raw);
const path = (r: HttpRequest) => `${r.method} ${new URL(r.url).pathname}`;

describe('Jira builders', () => {
  test('golden search (Cloud and Data Center), create, transitions', () => {
    expect(asFixture(buildSearch(URL_, CRED, GOLDEN_INCIDENT, 'OPS', 'jql'))).toEqual(loadFixture('jira', 'search-jql'));
    expect(asFixture(buildSearch('https://jira.acme.internal/jira/rest/api/2/issue', 'NjM0MDk1OTAxNTQ2OkdvbGRlblBBVA', GOLDEN_INCIDENT, 'OPS', 'classic'))).toEqual(loadFixture('jira', 'search-classic'));
    expect(asFixture(buildCreate(URL_, CRED, GOLDEN_INCIDENT, typed({ project: 'OPS', components: 'network;edge', fields: '{"customfield_10010":"acme-noc"}' })))).toEqual(loadFixture('jira', 'create'));
    expect(asFixture(buildTransition(URL_, CRED, 'OPS-17', '31'))).toEqual(loadFixture('jira', 'transition'));
    expect(asFixture(buildListTransitions(URL_, CRED, 'OPS-17'))).toEqual(loadFixture('jira', 'list-transitions'));
  });

  test('auth: email:token → Basic, a PAT → Bearer; DC context path kept', () => {
    expect(Buffer.from(authHeader(CRED).replace('Basic ', ''), 'base64').toString()).toBe(CRED);
    expect(authHeader('NjM0MDk1OTAxNTQ2OkdvbGRlblBBVA')).toBe('Bearer NjM0MDk1OTAxNTQ2OkdvbGRlblBBVA');
    expect(siteBase('https://jira.acme.internal/jira/rest/api/2/issue')).toBe('https://jira.acme.internal/jira');
  });

  test('summary ≤ 255, single line; priority from severity, a fixed one, or none; our fields win over custom ones', () => {
    const f = fields(buildCreate(URL_, CRED, { ...GOLDEN_INCIDENT, title: `a\nb${'S'.repeat(600)}` }, typed({ project: 'OPS', fields: '{"summary":"x","labels":["y"]}' })));
    expect(Array.from(f.summary as string)).toHaveLength(MAX_SUMMARY);
    expect(f.summary.startsWith('a b')).toBe(true);
    expect(f.labels).toEqual(['probectl', 'probectl-INC-2041']);
    const prio = (severity: 'critical' | 'error' | 'warning' | 'info', o = {}) => fields(buildCreate(URL_, CRED, { ...GOLDEN_INCIDENT, severity }, typed({ project: 'OPS', ...o }))).priority;
    expect([prio('critical'), prio('error'), prio('warning'), prio('info')].map((p) => p?.name)).toEqual(['Highest', 'High', 'Medium', 'Low']);
    expect(prio('info', { priority_map: 'info:Lowest' })).toEqual({ name: 'Lowest' });
    expect(prio('critical', { priority: 'P1' })).toEqual({ name: 'P1' });
    expect(prio('critical', { priority: 'none' })).toBeUndefined();
    expect(fields(buildCreate(URL_, CRED, GOLDEN_INCIDENT, typed({ project: 'OPS', issuetype: 'Incident' }))).issuetype).toEqual({ name: 'Incident' });
  });

  test('answer parsing', () => {
    expect(parseSearch({ issues: [] })).toBeUndefined();
    expect(parseSearch({ issues: [{ key: 'OPS-1', fields: { status: { statusCategory: { key: 'done' } } } }] })).toEqual({ key: 'OPS-1', statusCategory: 'done' });
    expect(parseSearch({ errorMessages: [] })).toBe('malformed');
    expect(parseTransitions({ transitions: [{ id: '5', name: 'Resolve', to: { statusCategory: { key: 'done' } } }, { id: '4', name: 'Start' }] })).toEqual([
      { id: '5', name: 'Resolve', toCategory: 'done' }, { id: '4', name: 'Start' },
    ]);
  });
});

describe('Jira connector', () => {
  const c = connectorFrom(`acme|jira|${URL_}?project=OPS&resolve_transition=31|${CRED}`);
  const none = json(200, { issues: [], isLast: true });
  const created = json(201, { id: '10001', key: 'OPS-7', self: 'x' });

  test('Cloud search miss → create; the issue key and browse URL come back', async () => {
    const f = fakeHttp((req) => (req.method === 'GET' ? none : created));
    expect(await jira.open(callContext(c, f.http), GOLDEN_INCIDENT)).toEqual({ externalRef: 'OPS-7', externalUrl: 'https://acme.atlassian.net/browse/OPS-7' });
    expect(f.requests.map(path)).toEqual(['GET /rest/api/2/search/jql', 'POST /rest/api/2/issue']);
  });

  test('Data Center: /search/jql 404 → classic /search', async () => {
    const dc = connectorFrom(`acme|jira|https://jira.dc.example/rest/api/2/issue?project=OPS|NjM0MDk1OTAxNTQ2OkdvbGRlblBBVA`);
    const f = fakeHttp((req) => (req.url.includes('/search/jql') ? json(404, {}) : req.method === 'GET' ? json(200, { issues: [{ key: 'OPS-3' }] }) : created));
    expect((await jira.open(callContext(dc, f.http), GOLDEN_INCIDENT)).externalRef).toBe('OPS-3');
    expect(f.requests.map(path)).toEqual(['GET /rest/api/2/search/jql', 'GET /rest/api/2/search']);
  });

  test('a retried open that misses searches again (bounded) before creating; a first attempt does not wait', async () => {
    const sleeps: number[] = [];
    const f = fakeHttp((req, n) => (req.method === 'GET' ? (n < 3 ? none : json(200, { issues: [{ key: 'OPS-9' }] })) : created));
    expect((await jira.open(callContext(c, f.http, 2, sleeps), GOLDEN_INCIDENT)).externalRef).toBe('OPS-9');
    expect(sleeps).toHaveLength(2);
    const g = fakeHttp((req) => (req.method === 'GET' ? none : created));
    const s2: number[] = [];
    await jira.open(callContext(c, g.http, 3, s2), GOLDEN_INCIDENT);
    expect(g.requests.filter((r) => r.method === 'GET')).toHaveLength(1 + SEARCH_RETRIES);
    const h = fakeHttp((req) => (req.method === 'GET' ? none : created));
    await jira.open(callContext(c, h.http, 1, []), GOLDEN_INCIDENT);
    expect(h.requests.map((r) => r.method)).toEqual(['GET', 'POST']);
  });

  test('resolve: transition 31; when not offered, the one to a done category; already done = success; none offered = permanent', async () => {
    const status = (cat: string) => json(200, { key: 'OPS-7', fields: { status: { statusCategory: { key: cat } } } });
    const simple = fakeHttp((req) => (req.method === 'GET' ? status('new') : json(204, undefined)));
    await jira.resolve(callContext(c, simple.http), GOLDEN_INCIDENT, { externalRef: 'OPS-7' }, { source: 'api' });
    expect(JSON.parse(simple.requests[1]!.body!)).toEqual({ transition: { id: '31' } });

    const classic = fakeHttp((req) => {
      if (req.method === 'GET' && req.url.endsWith('/transitions')) return json(200, { transitions: [{ id: '4', to: { statusCategory: { key: 'indeterminate' } } }, { id: '5', to: { statusCategory: { key: 'done' } } }] });
      if (req.method === 'GET') return status('new');
      return JSON.parse(req.body!).transition.id === '31' ? json(400, { errorMessages: ["Transition id '31' is not valid for this issue."] }) : json(204, undefined);
    });
    await jira.resolve(callContext(c, classic.http), GOLDEN_INCIDENT, { externalRef: 'OPS-7' }, { source: 'api' });
    expect(classic.requests.filter((r) => r.method === 'POST').map((r) => JSON.parse(r.body!).transition.id)).toEqual(['31', '5']);

    const done = fakeHttp(() => status('done'));
    await jira.resolve(callContext(c, done.http), GOLDEN_INCIDENT, { externalRef: 'OPS-7' }, { source: 'api' });
    expect(done.requests.map((r) => r.method)).toEqual(['GET']);

    const stuck = fakeHttp((req) => (req.url.endsWith('/transitions') && req.method === 'GET' ? json(200, { transitions: [{ id: '4', to: { statusCategory: { key: 'indeterminate' } } }] }) : req.method === 'GET' ? status('new') : json(400, {})));
    expect((await outcomeOf(() => jira.resolve(callContext(c, stuck.http), GOLDEN_INCIDENT, { externalRef: 'OPS-7' }, { source: 'api' }))).outcome).toBe('permanent');

    // Never created (or not searchable yet): the search is repeated, bounded, then "not found" — a second
    // lookup-and-close follows (the workflow or the follow-up runner schedules it).
    const never = fakeHttp(() => none);
    expect(await jira.resolve({ ...callContext(c, never.http), sleep: async () => undefined }, GOLDEN_INCIDENT, {}, { source: 'api' })).toEqual({ found: false });
    expect(never.requests.map(path)).toEqual(Array(1 + SEARCH_RETRIES).fill('GET /rest/api/2/search/jql'));
  });

  test('every status 100–599 on the create (the search answers "none")', async () => {
    const got: Record<number, string> = {};
    const want: Record<number, string> = {};
    for (const s of ALL_STATUSES) {
      const f = fakeHttp((req) => (req.method === 'GET' ? none : json(s, s < 300 ? { key: 'OPS-1' } : { errorMessages: ['x'] })));
      got[s] = (await outcomeOf(() => jira.open(callContext(c, f.http), GOLDEN_INCIDENT))).outcome;
      want[s] = genericOutcome(s);
    }
    expect(got).toEqual(want);
  });

  test('every status 100–599 on the configured transition (400 → the done fallback)', async () => {
    const got: Record<number, string> = {};
    const want: Record<number, string> = {};
    for (const s of ALL_STATUSES) {
      const f = fakeHttp((req) => {
        if (req.method === 'GET' && req.url.endsWith('/transitions')) return json(200, { transitions: [{ id: '41', to: { statusCategory: { key: 'done' } } }] });
        if (req.method === 'GET') return json(200, { fields: { status: { statusCategory: { key: 'new' } } } });
        return JSON.parse(req.body!).transition.id === '31' ? json(s, s < 300 ? undefined : { errorMessages: ['x'] }) : json(204, undefined);
      });
      got[s] = (await outcomeOf(() => jira.resolve(callContext(c, f.http), GOLDEN_INCIDENT, { externalRef: 'OPS-7' }, { source: 'api' }))).outcome;
      want[s] = s === 400 ? 'ok' : genericOutcome(s);
    }
    expect(got).toEqual(want);
  });
});

describe('Jira search: the switch between /search/jql and the classic /search, and what the site is learned as', () => {
  type Flavour = 'jql' | 'classic';
  const flavourOf = (r: HttpRequest): Flavour => (new URL(r.url).pathname.endsWith('/search/jql') ? 'jql' : 'classic');
  const isSearch = (r: HttpRequest) => r.method === 'GET' && /\/search(\/jql)?$/.test(new URL(r.url).pathname);
  const found = json(200, { issues: [], isLast: true, startAt: 0, maxResults: 50, total: 0 });
  const created = json(201, { id: '10001', key: 'OPS-7', self: 'x' });
  /** An answer of `status` that names the credential (a provider echoing it): no failure message may carry it. */
  const answer = (status: number) => (status === 200 ? found : json(status, { errorMessages: [`status ${status} for ${CRED}`] }));
  let sites = 0;
  /** A site no other test has taught the connector anything about. */
  const freshSite = () => connectorFrom(`acme|jira|https://site-${(sites += 1)}.atlassian.net/rest/api/2/issue?project=OPS|${CRED}`);
  /** What the connector will ask a site first: a search answered 200. */
  const learned = async (c: ReturnType<typeof connectorFrom>): Promise<Flavour> => {
    const f = fakeHttp(() => found);
    await jira.status!(callContext(c, f.http), GOLDEN_INCIDENT, {});
    return flavourOf(f.requests[0]!);
  };
  /** A site the connector has learned as `start`: classic by a /search/jql 404 that the classic search answered. */
  const siteLearnedAs = async (start: Flavour) => {
    const c = freshSite();
    if (start === 'classic') {
      const f = fakeHttp((req) => (flavourOf(req) === 'jql' ? json(404, {}) : found));
      await jira.status!(callContext(c, f.http), GOLDEN_INCIDENT, {});
    }
    expect(await learned(c)).toBe(start);
    return c;
  };

  type Outcome = 'ok' | 'retried' | 'permanent';
  /**
   * [first flavour, its answer, the other flavour's answer, outcome, failure type, the site learned as afterwards].
   * A first answer that is not "not here" (jql: 404/410; classic: 410) is the answer: no switch, nothing learned.
   */
  const TABLE: [Flavour, number, number, Outcome, string | undefined, Flavour][] = [
    ['jql', 200, 200, 'ok', undefined, 'jql'], ['jql', 200, 404, 'ok', undefined, 'jql'], ['jql', 200, 410, 'ok', undefined, 'jql'], ['jql', 200, 500, 'ok', undefined, 'jql'],
    ['jql', 500, 200, 'retried', 'ProviderUnavailable', 'jql'], ['jql', 500, 404, 'retried', 'ProviderUnavailable', 'jql'],
    ['jql', 500, 410, 'retried', 'ProviderUnavailable', 'jql'], ['jql', 500, 500, 'retried', 'ProviderUnavailable', 'jql'],
    // Data Center: /search/jql is not there, the classic search is.
    ['jql', 404, 200, 'ok', undefined, 'classic'], ['jql', 410, 200, 'ok', undefined, 'classic'],
    ['jql', 404, 500, 'retried', 'ProviderUnavailable', 'classic'], ['jql', 410, 500, 'retried', 'ProviderUnavailable', 'classic'],
    // No search at this address at all (a wrong URL): refused, and not learned as classic.
    ['jql', 404, 404, 'permanent', 'ProviderRejected', 'jql'], ['jql', 410, 404, 'permanent', 'ProviderRejected', 'jql'],
    // Cloud's transient 404 on /search/jql, then its classic search's Gone: neither can be trusted — retried, still jql.
    ['jql', 404, 410, 'retried', 'ProviderUnavailable', 'jql'], ['jql', 410, 410, 'retried', 'ProviderUnavailable', 'jql'],
    ['classic', 200, 200, 'ok', undefined, 'classic'], ['classic', 200, 404, 'ok', undefined, 'classic'],
    ['classic', 200, 410, 'ok', undefined, 'classic'], ['classic', 200, 500, 'ok', undefined, 'classic'],
    ['classic', 404, 200, 'permanent', 'ProviderRejected', 'classic'], ['classic', 404, 404, 'permanent', 'ProviderRejected', 'classic'],
    ['classic', 404, 410, 'permanent', 'ProviderRejected', 'classic'], ['classic', 404, 500, 'permanent', 'ProviderRejected', 'classic'],
    ['classic', 500, 200, 'retried', 'ProviderUnavailable', 'classic'], ['classic', 500, 404, 'retried', 'ProviderUnavailable', 'classic'],
    ['classic', 500, 410, 'retried', 'ProviderUnavailable', 'classic'], ['classic', 500, 500, 'retried', 'ProviderUnavailable', 'classic'],
    // The classic search is Gone (the site moved to Cloud): /search/jql from then on, whatever it answers now.
    ['classic', 410, 200, 'ok', undefined, 'jql'], ['classic', 410, 500, 'retried', 'ProviderUnavailable', 'jql'],
    // ... and when /search/jql is not there either (Cloud's transient 404): retried, never a refusal.
    ['classic', 410, 404, 'retried', 'ProviderUnavailable', 'jql'], ['classic', 410, 410, 'retried', 'ProviderUnavailable', 'jql'],
  ];

  const OPERATIONS: Record<string, (c: ReturnType<typeof connectorFrom>, f: ReturnType<typeof fakeHttp>) => Promise<unknown>> = {
    // A first attempt: a refusal here would be taken as "nothing was made" — no issue, and no resolve later.
    'open (first attempt)': (c, f) => jira.open(callContext(c, f.http, 1), GOLDEN_INCIDENT),
    'resolve without a key': (c, f) => jira.resolve({ ...callContext(c, f.http), sleep: async () => undefined }, GOLDEN_INCIDENT, {}, { source: 'api' }),
    'status read-back': (c, f) => jira.status!(callContext(c, f.http), GOLDEN_INCIDENT, {}),
    'change listing': (c, f) => listChanges(callContext(c, f.http), new Date(Date.now() - 60_000).toISOString(), 3, async () => undefined),
  };
  const cases = Object.keys(OPERATIONS).flatMap((op) => TABLE.map((row) => [op, ...row] as const));

  test.each(cases)('%s: %s answers %i, the other %i → %s (%s); learned: %s', async (op, start, first, second, outcome, type, learnedAs) => {
    const c = await siteLearnedAs(start);
    let searches = 0;
    const f = fakeHttp((req) => {
      if (!isSearch(req)) return created;
      searches += 1;
      // The other flavour's answer goes to the switch only; later searches (a resolve's repeated lookup) find nothing.
      return searches === 1 ? answer(first) : searches === 2 && flavourOf(req) !== start ? answer(second) : found;
    });
    const got = await outcomeOf(() => OPERATIONS[op]!(c, f));
    expect({ outcome: got.outcome, type: got.failure?.type }).toEqual({ outcome, type });
    const asked = f.requests.filter(isSearch).map(flavourOf);
    expect(asked[0]).toBe(start);
    const switched = first === 410 || (start === 'jql' && first === 404);
    if (switched) expect(asked.slice(0, 2)).toEqual([start, start === 'jql' ? 'classic' : 'jql']);
    if (!switched && outcome !== 'ok') expect(asked).toEqual([start]);
    if (got.failure) {
      expect(got.failure.message).not.toContain(CRED.split(':')[1]);
      if (switched && type === 'ProviderUnavailable' && [404, 410].includes(second)) {
        expect(got.failure.message).toMatch(/^Jira (search|list changes): neither search endpoint is there: /);
        expect(got.failure.message).toContain(`HTTP ${first}`);
        expect(got.failure.message).toContain(`HTTP ${second}`);
        expect(got.failure.message).toContain('<secret>');
      }
    }
    expect(await learned(c)).toBe(learnedAs);
  });

  test.each([[404, 'retried', 'jql'], [410, 'retried', 'jql'], [200, 'ok', 'jql'], [500, 'retried', 'jql']] as const)(
    'a listing between classic pages: the classic search turns 410, /search/jql answers %i → %s; learned: %s', async (jqlStatus, outcome, learnedAs) => {
      const c = await siteLearnedAs('classic');
      const f = fakeHttp((req) => {
        if (flavourOf(req) === 'jql') return answer(jqlStatus);
        const startAt = Number(new URL(req.url).searchParams.get('startAt') ?? 0);
        return startAt === 0 ? json(200, { startAt: 0, maxResults: 1, total: 2, issues: [{ key: 'OPS-1', fields: { labels: ['probectl', 'probectl-I1'], updated: '2026-03-01T11:59:00.000+0000' } }] })
          : json(410, { errorMessages: ['Gone'] });
      });
      const got = await outcomeOf(() => listChanges(callContext(c, f.http), new Date(Date.now() - 60_000).toISOString(), 3, async () => undefined));
      expect(got.outcome).toBe(outcome);
      expect(f.requests.filter(isSearch).map(flavourOf)).toEqual(['classic', 'classic', 'jql']);
      expect(await learned(c)).toBe(learnedAs);
    });

  test('Cloud: a transient /search/jql 404 on the first attempt is retried, and the retry creates exactly one issue', async () => {
    const c = await siteLearnedAs('jql');
    let jqlCalls = 0;
    const f = fakeHttp((req) => {
      if (!isSearch(req)) return created;
      if (flavourOf(req) === 'classic') return json(410, { errorMessages: ['The requested API has been removed.'] });
      jqlCalls += 1;
      return jqlCalls === 1 ? json(404, { errorMessages: ['null for uri'] }) : found;
    });
    const first = await outcomeOf(() => jira.open(callContext(c, f.http, 1), GOLDEN_INCIDENT));
    expect(first.failure).toMatchObject({ type: 'ProviderUnavailable', nonRetryable: false });
    expect(f.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
    expect(await jira.open(callContext(c, f.http, 2, []), GOLDEN_INCIDENT)).toEqual({ externalRef: 'OPS-7', externalUrl: 'https://' + new URL(c.url.reveal()).host + '/browse/OPS-7' });
    expect(f.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(f.requests.filter(isSearch).map(flavourOf)).toEqual(['jql', 'classic', ...Array(1 + SEARCH_RETRIES).fill('jql')]);
    expect(await learned(c)).toBe('jql');
  });
});
