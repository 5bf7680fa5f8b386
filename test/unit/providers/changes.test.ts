/**
 * Per-connector reconciliation's change listings: the pure builders and parsers of ServiceNow, Jira and Opsgenie
 * (tables over states, paging and odd values), and each connector's listing loop against its loopback double
 * (paging through a bound, the double refusing any query it does not understand).
 */
import fc from 'fast-check';
import {
  CHANGES_PAGE_SIZE as SN_PAGE, buildChangedSince as snBuild, changesQuery, fromGlideDateTime, glideDateTime, parseChangedSince as snParse, parsePosition,
} from '../../../src/providers/servicenow/build';
import { listChanges as snList } from '../../../src/providers/servicenow/connector';
import {
  buildChangedSince as jiraBuild, changesJql, fromJiraDateTime, minutesSince, parseChangedSince as jiraParse,
} from '../../../src/providers/jira/build';
import { jira as jiraConnector, listChanges as jiraList } from '../../../src/providers/jira/connector';
import { MAX_LIST_WINDOW, buildChangedSince as ogBuild, parseChangedSince as ogParse } from '../../../src/providers/opsgenie/build';
import { listChanges as ogList } from '../../../src/providers/opsgenie/connector';
import { HttpClient } from '../../../src/http/client';
import { ServiceNowDouble } from '../../../dev/doubles/servicenow';
import { JiraDouble } from '../../../dev/doubles/jira';
import { OpsgenieDouble } from '../../../dev/doubles/opsgenie';
import { connectorFrom, fakeHttp, json } from '../../helpers/retry-table';

const SINCE = '2026-11-30T16:05:07.123Z';

describe('ServiceNow change listing: builder and parser', () => {
  test('the request: encoded query on correlation_id and sys_updated_on, (time, sys_id) order, fields, keyset paging (never an offset)', () => {
    const req = snBuild('https://acme.service-now.com', 'u:p', SINCE);
    const u = new URL(req.url);
    expect(req.method).toBe('GET');
    expect(u.pathname).toBe('/api/now/table/incident');
    expect(u.searchParams.get('sysparm_query')).toBe('correlation_idSTARTSWITHprobectl-^sys_updated_on>=2026-11-30 16:05:07^ORDERBYsys_updated_on^ORDERBYsys_id');
    expect(u.searchParams.get('sysparm_fields')!.split(',')).toEqual(expect.arrayContaining(['sys_id', 'state', 'correlation_id', 'sys_updated_on']));
    expect(u.searchParams.get('sysparm_limit')).toBe(String(SN_PAGE));
    expect(u.searchParams.has('sysparm_offset')).toBe(false);
    expect(changesQuery({ tie: '2026-11-30 16:05:07', afterId: 'abc' })).toBe('correlation_idSTARTSWITHprobectl-^sys_updated_on=2026-11-30 16:05:07^sys_id>abc^ORDERBYsys_id');
    expect(changesQuery({ after: '2026-11-30 16:05:07' })).toBe('correlation_idSTARTSWITHprobectl-^sys_updated_on>2026-11-30 16:05:07^ORDERBYsys_updated_on^ORDERBYsys_id');
    for (const pos of [{ from: '2026-11-30 16:05:07', skip: ['a', 'b'] }, { tie: '2026-11-30 16:05:07', afterId: 'abc' }, { after: '2026-11-30 16:05:07' }]) {
      expect(parsePosition(JSON.stringify(pos))).toEqual(pos);
    }
    for (const bad of [undefined, '', 'x', '{}', '{"from":"2026-11-30 16:05:07","skip":["a^ORx"]}', '{"tie":"2026-11-30 16:05:07","afterId":"a^NQ"}', '{"after":"yesterday"}']) {
      expect(parsePosition(bad)).toBeUndefined();
    }
  });

  test('keyset: the next position follows the last record; a page all at one time walks that time by sys_id', () => {
    const row = (id: string, at: string) => ({ sys_id: id, state: '1', correlation_id: `probectl-${id}`, sys_updated_on: at });
    const t1 = '2026-11-30 16:06:00';
    const t2 = '2026-11-30 16:06:01';
    const mixed = snParse({ result: [row('a', t1), row('b', t2), row('c', t2)] }, undefined, 3) as Exclude<ReturnType<typeof snParse>, 'malformed'>;
    expect(mixed.next).toEqual({ from: t2, skip: ['b', 'c'] });
    // the next `from` page leaves out what was read at its time
    const again = snParse({ result: [row('b', t2), row('c', t2), row('d', t2)] }, mixed.next, 3) as Exclude<ReturnType<typeof snParse>, 'malformed'>;
    expect(again.items.map((i) => i.externalRef)).toEqual(['d']);
    expect(again.next).toEqual({ tie: t2, afterId: 'd' });
    const tie = snParse({ result: [row('e', t2)] }, again.next, 3) as Exclude<ReturnType<typeof snParse>, 'malformed'>;
    expect(tie.next).toEqual({ after: t2 });
    expect((snParse({ result: [row('f', t1)] }, { after: t2 }, 3) as { next?: unknown }).next).toBeUndefined();
  });

  test('glide date-times round-trip to the second (property)', () => {
    fc.assert(fc.property(fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }), (d) => {
      const back = fromGlideDateTime(glideDateTime(d.toISOString()));
      expect(back).toBe(new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString());
    }));
    for (const odd of ['', '2026-11-30T16:05:07Z', '2026-11-30 16:05', 12, null, '2026-13-45 99:99:99']) expect(fromGlideDateTime(odd)).toBeUndefined();
  });

  test.each([
    ['1', 'open'], ['2', 'open'], ['3', 'open'], ['6', 'resolved'], ['7', 'resolved'], ['8', 'gone'], [undefined, 'open'], [6, 'resolved'],
  ])('state %p is %s', (state, expected) => {
    const page = snParse({ result: [{ sys_id: 'a', state, correlation_id: 'probectl-INC-1', sys_updated_on: '2026-11-30 16:06:00' }] });
    expect(page).not.toBe('malformed');
    expect((page as Exclude<typeof page, 'malformed'>).items).toEqual([{ incidentId: 'INC-1', externalRef: 'a', state: expected, updatedAt: '2026-11-30T16:06:00.000Z' }]);
  });

  test('odd records are left out but still count for paging and the latest time', () => {
    const rows = [
      { sys_id: 'a', state: '6', correlation_id: 'someone-else-1', sys_updated_on: '2026-11-30 16:06:00' },
      { sys_id: 'b', state: '6', correlation_id: 'probectl-', sys_updated_on: '2026-11-30 16:06:01' },
      { sys_id: 'c', state: '6', correlation_id: 'probectl-bad id', sys_updated_on: '2026-11-30 16:06:02' },
      { sys_id: '', state: '6', correlation_id: 'probectl-INC-2', sys_updated_on: '2026-11-30 16:06:03' },
      { sys_id: 'e', state: '6', correlation_id: 'probectl-INC-3', sys_updated_on: 'yesterday' },
      null, 'x',
      { sys_id: 'f', state: '7', correlation_id: 'probectl-INC-4', sys_updated_on: '2026-11-30 16:06:04' },
    ];
    const page = snParse({ result: rows }, undefined, rows.length) as Exclude<ReturnType<typeof snParse>, 'malformed'>;
    expect(page.items.map((i) => i.incidentId)).toEqual(['INC-4']);
    expect(page.seen).toBe(rows.length);
    expect(page.latest).toBe('2026-11-30T16:06:04.000Z');
    expect(page.next).toEqual({ from: '2026-11-30 16:06:04', skip: ['f'] }); // a full page: there may be more
    expect((snParse({ result: rows.slice(0, 2) }, undefined, 5) as { next?: unknown }).next).toBeUndefined();
    for (const bad of [null, {}, { result: {} }, { result: 'x' }, []]) expect(snParse(bad)).toBe('malformed');
  });
});

describe('Jira change listing: builder and parser', () => {
  test('the JQL: the probectl label, a relative updated date, oldest first; the project when configured', () => {
    expect(changesJql(7, undefined)).toBe('labels = probectl AND updated >= "-7m" ORDER BY updated ASC');
    expect(changesJql(0.2, 'O"PS')).toBe('project = "O\\"PS" AND labels = probectl AND updated >= "-1m" ORDER BY updated ASC');
    const now = Date.parse(SINCE);
    expect(minutesSince(SINCE, now)).toBe(1);
    expect(minutesSince(SINCE, now + 60_000)).toBe(1);
    expect(minutesSince(SINCE, now + 60_001)).toBe(2);
    const cloud = new URL(jiraBuild('https://acme.atlassian.net/rest/api/2/issue', 'a@b.c:tok', 'JQL', 'jql', { token: 'T1' }).url);
    expect(cloud.pathname).toBe('/rest/api/2/search/jql');
    expect(cloud.searchParams.get('nextPageToken')).toBe('T1');
    expect(cloud.searchParams.get('fields')).toBe('labels,status,updated');
    const dc = new URL(jiraBuild('https://jira.example.com/ctx/rest/api/2/issue', 'pat', 'JQL', 'classic', { startAt: 100 }).url);
    expect(dc.pathname).toBe('/ctx/rest/api/2/search');
    expect(dc.searchParams.get('startAt')).toBe('100');
  });

  test.each([
    ['2026-11-30T16:05:07.123+0000', '2026-11-30T16:05:07.123Z'],
    ['2026-11-30T17:05:07.123+0100', '2026-11-30T16:05:07.123Z'],
    ['2026-11-30T11:05:07.000-05:00', '2026-11-30T16:05:07.000Z'],
    ['2026-11-30T16:05:07Z', '2026-11-30T16:05:07.000Z'],
    ['2026-11-30 16:05:07', undefined], ['', undefined], [null, undefined], ['soon', undefined],
  ])('updated %p is %p', (raw, iso) => expect(fromJiraDateTime(raw)).toBe(iso));

  const issue = (key: string, labels: unknown, category: string, updated = '2026-11-30T16:06:00.000+0000') =>
    ({ key, fields: { labels, updated, status: { statusCategory: { key: category } } } });

  test.each([
    ['done', 'resolved'], ['indeterminate', 'open'], ['new', 'open'], ['', 'open'],
  ])('status category %p is %s', (category, state) => {
    const page = jiraParse({ issues: [issue('OPS-1', ['probectl', 'probectl-INC-9'], category)], isLast: true });
    expect((page as Exclude<typeof page, 'malformed'>).items).toEqual([{ incidentId: 'INC-9', externalRef: 'OPS-1', state, updatedAt: '2026-11-30T16:06:00.000Z' }]);
  });

  test('labels: exactly one probectl-<id> makes it ours; none, two, or malformed are left out', () => {
    const page = jiraParse({
      issues: [
        issue('OPS-1', ['probectl'], 'done'),
        issue('OPS-2', ['probectl', 'probectl-A', 'probectl-B'], 'done'),
        issue('OPS-3', 'probectl-A', 'done'),
        issue('OPS-4', ['probectl', 'probectl-A', 'probectl-A'], 'done'),
        issue('OPS-5', ['probectl', 'probectl-C'], 'done', 'later'),
        { fields: {} },
      ],
    }) as Exclude<ReturnType<typeof jiraParse>, 'malformed'>;
    expect(page.items.map((i) => i.externalRef)).toEqual(['OPS-4']);
    expect(page.seen).toBe(6);
  });

  test('paging: Cloud nextPageToken unless isLast; Data Center startAt + count < total', () => {
    expect((jiraParse({ issues: [issue('OPS-1', [], 'new')], nextPageToken: 'N' }) as { next?: unknown }).next).toEqual({ token: 'N' });
    expect((jiraParse({ issues: [issue('OPS-1', [], 'new')], nextPageToken: 'N', isLast: true }) as { next?: unknown }).next).toBeUndefined();
    expect((jiraParse({ issues: [], isLast: true }) as { next?: unknown }).next).toBeUndefined();
    expect((jiraParse({ issues: [issue('OPS-1', [], 'new'), issue('OPS-2', [], 'new')], startAt: 4, total: 10 }) as { next?: unknown }).next).toEqual({ startAt: 6 });
    expect((jiraParse({ issues: [issue('OPS-1', [], 'new')], startAt: 9, total: 10 }) as { next?: unknown }).next).toBeUndefined();
    expect((jiraParse({ issues: [], startAt: 0, total: 10 }) as { next?: unknown }).next).toBeUndefined(); // no progress: stop
    for (const bad of [null, {}, { issues: {} }]) expect(jiraParse(bad)).toBe('malformed');
  });
});

describe('Opsgenie change listing: builder and parser', () => {
  test('the request: tag:probectl, most recently updated first, paged', () => {
    const u = new URL(ogBuild('https://api.eu.opsgenie.com/v2/alerts', 'key', 300).url);
    expect(u.pathname).toBe('/v2/alerts');
    expect(Object.fromEntries(u.searchParams)).toEqual({ query: 'tag:probectl', sort: 'updatedAt', order: 'desc', limit: '100', offset: '300' });
    expect(new URL(ogBuild('https://api.atlassian.com/jsm/ops/integration/v2/alerts', 'key').url).pathname).toBe('/jsm/ops/integration/v2/alerts');
  });

  const alert = (alias: string, status: string, acknowledged: boolean, updatedAt: string) => ({ id: alias, alias, status, acknowledged, updatedAt });

  test.each([
    ['closed', false, 'resolved'], ['closed', true, 'resolved'], ['open', true, 'acknowledged'], ['open', false, 'open'],
  ])('status %s, acknowledged %p is %s', (status, acked, state) => {
    const page = ogParse({ data: [alert('probectl-INC-1', status as string, acked as boolean, '2026-11-30T16:06:00Z')] }, SINCE);
    expect((page as Exclude<typeof page, 'malformed'>).items).toEqual([{ incidentId: 'INC-1', externalRef: 'probectl-INC-1', state, updatedAt: '2026-11-30T16:06:00.000Z' }]);
  });

  test('the listing stops at the cursor; older records, other aliases and odd values are left out', () => {
    const data = [
      alert('probectl-A', 'closed', false, '2026-11-30T16:07:00Z'),
      alert('someone-else', 'closed', false, '2026-11-30T16:06:30Z'),
      alert('probectl-B', 'closed', false, 'whenever'),
      { alias: 'probectl-C', updatedAt: '2026-11-30T16:06:20Z' }, // no status
      alert('probectl-D', 'closed', false, '2026-11-30T16:00:00Z'), // older than the cursor
    ];
    const page = ogParse({ data }, SINCE, 0, data.length) as Exclude<ReturnType<typeof ogParse>, 'malformed'>;
    expect(page.items.map((i) => i.incidentId)).toEqual(['A']);
    expect(page.done).toBe(true);
    expect(page.next).toBeUndefined();
    expect(page.latest).toBe('2026-11-30T16:07:00.000Z');
  });

  test('paging: a full page not yet past the cursor asks for the next, within the 20,000 window', () => {
    const data = Array.from({ length: 100 }, (_, i) => alert(`probectl-X${i}`, 'open', false, '2026-11-30T16:10:00Z'));
    expect((ogParse({ data }, SINCE, 0) as { next?: number; done: boolean })).toMatchObject({ next: 100, done: false });
    expect((ogParse({ data }, SINCE, MAX_LIST_WINDOW - 100) as { next?: number }).next).toBeUndefined();
    expect((ogParse({ data: data.slice(0, 5) }, SINCE, 0) as { done: boolean }).done).toBe(true);
    for (const bad of [null, {}, { data: {} }]) expect(ogParse(bad, SINCE)).toBe('malformed');
  });
});

describe('listing loops against the doubles (paging, bound, queries the doubles accept)', () => {
  const http = new HttpClient({ timeoutMs: 5_000 });
  afterAll(() => http.close());
  const noPacing = async () => undefined;

  test('ServiceNow: 250 changed tickets in pages of 100, 3 reads; a bound of 2 is truncated and covers its last record', async () => {
    const sn = await new ServiceNowDouble({ user: 'u', password: 'p' }).start();
    try {
      for (let i = 0; i < 250; i += 1) {
        sn.tickets.push({ sys_id: `s${i}`, number: `INC${i}`, state: i % 3 === 0 ? '6' : '1', short_description: 't', correlation_id: `probectl-I${i}`,
          sys_updated_on: `2026-11-30 16:${String(10 + Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`, createdAt: 0 });
      }
      sn.tickets.push({ sys_id: 'old', number: 'INC0', state: '6', short_description: 't', correlation_id: 'probectl-OLD', sys_updated_on: '2026-11-30 15:00:00', createdAt: 0 });
      sn.tickets.push({ sys_id: 'other', number: 'INC1', state: '6', short_description: 't', correlation_id: 'other-1', sys_updated_on: '2026-11-30 16:20:00', createdAt: 0 });
      const ctx = { connector: connectorFrom(`t1|servicenow|${sn.url}|u:p`), http, attempt: 1 };
      const all = await snList(ctx, SINCE, 10, noPacing);
      expect(all.reads).toBe(3);
      expect(all.truncated).toBe(false);
      expect(all.items).toHaveLength(250);
      expect(all.items.filter((i) => i.state === 'resolved')).toHaveLength(Math.ceil(250 / 3));
      expect(all.coveredUntil).toBe(all.items[all.items.length - 1]!.updatedAt);
      const cut = await snList(ctx, SINCE, 2, noPacing);
      expect(cut).toMatchObject({ reads: 2, truncated: true });
      // the second page starts at the first one's last time, leaving out the record it already read there
      expect(cut.items).toHaveLength(199);
      expect(new Set(cut.items.map((i) => i.externalRef)).size).toBe(199);
      expect(cut.coveredUntil).toBe(cut.items[198]!.updatedAt);
      expect(sn.changeListings()).toHaveLength(5);
      // a query the double does not understand is refused
      const res = await http.send({ method: 'GET', url: `${sn.url}/api/now/table/incident?sysparm_query=correlation_idLIKEprobectl`, headers: { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` } }, []);
      expect(res.status).toBe(400);
    } finally {
      await sn.stop();
    }
  });

  // Offset paging on a changing order lost the row at a page boundary: a ticket on page 1 updated before page 2 is
  // read moves to the end, every later row shifts back by one, and the first row of page 2 was never returned.
  test.each([0, 1, 50, 98, 99])('ServiceNow: ticket %i of page 1 updated between page reads: every ticket is still listed, none twice', async (moved) => {
    const sn = await new ServiceNowDouble({ user: 'u', password: 'p' }).start();
    try {
      const t0 = Date.parse('2026-11-30T16:10:00Z');
      const glide = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
      for (let i = 0; i < 150; i += 1) {
        sn.tickets.push({ sys_id: `s${String(i).padStart(3, '0')}`, number: `INC${i}`, state: '1', short_description: 't', correlation_id: `probectl-I${i}`, sys_updated_on: glide(t0 + i * 1000), createdAt: 0 });
      }
      let sent = 0;
      const moving = { send: async (...a: Parameters<HttpClient['send']>) => {
        const res = await http.send(...a);
        sent += 1;
        if (sent === 1) sn.setState(`s${String(moved).padStart(3, '0')}`, '6'); // resolved in ServiceNow between the two reads
        return res;
      } } as unknown as HttpClient;
      const ctx = { connector: connectorFrom(`t1|servicenow|${sn.url}|u:p`), http: moving, attempt: 1 };
      const listing = await snList(ctx, new Date(t0).toISOString(), 10, noPacing);
      expect(listing.truncated).toBe(false);
      const refs = listing.items.map((i) => i.externalRef);
      expect(new Set(refs)).toEqual(new Set(sn.tickets.map((t) => t.sys_id)));
      const movedRef = `s${String(moved).padStart(3, '0')}`;
      // listed once before its change (page 1) and once after it, resolved (the end of the order); nothing else twice
      expect(refs.filter((r) => r !== movedRef)).toHaveLength(149);
      expect(listing.items.filter((i) => i.externalRef === movedRef).map((i) => i.state)).toContain('resolved');
    } finally {
      await sn.stop();
    }
  });

  test.each([[250, 10], [250, 1], [100, 10], [101, 2]])('ServiceNow: %i tickets changed within one second, bound %i: resumed pass after pass, every one is listed once', async (n, bound) => {
    const sn = await new ServiceNowDouble({ user: 'u', password: 'p' }).start();
    try {
      for (let i = 0; i < n; i += 1) {
        sn.tickets.push({ sys_id: `s${String(i).padStart(4, '0')}`, number: `INC${i}`, state: '6', short_description: 't', correlation_id: `probectl-I${i}`, sys_updated_on: '2026-11-30 16:10:00', createdAt: 0 });
      }
      sn.tickets.push({ sys_id: 'late', number: 'INCL', state: '6', short_description: 't', correlation_id: 'probectl-LATE', sys_updated_on: '2026-11-30 16:10:05', createdAt: 0 });
      const ctx = { connector: connectorFrom(`t1|servicenow|${sn.url}|u:p`), http, attempt: 1 };
      const seen: string[] = [];
      let resume: string | undefined;
      for (let pass = 0; pass < 20; pass += 1) {
        const l = await snList(ctx, '2026-11-30T16:09:00Z', bound, noPacing, resume);
        seen.push(...l.items.map((i) => i.externalRef));
        resume = l.resume;
        if (!l.truncated) break;
        expect(resume).toBeDefined();
      }
      expect(resume).toBeUndefined();
      expect(seen.sort()).toEqual(sn.tickets.map((t) => t.sys_id).sort());
    } finally {
      await sn.stop();
    }
  });

  test.each(['cloud', 'datacenter'] as const)('Jira %s: 230 changed issues in pages of 100, oldest first', async (flavour) => {
    const jira = await new JiraDouble({ email: 'a@b.c', apiToken: 'tok', pat: 'pat', flavour }).start();
    try {
      const now = Date.now();
      for (let i = 0; i < 230; i += 1) {
        jira.issues.push({ id: String(i), key: `OPS-${i}`, project: 'OPS', summary: 's', issuetype: 'Task', labels: ['probectl', `probectl-I${i}`], fields: {},
          status: { id: '1', name: i % 2 ? 'Done' : 'To Do', category: i % 2 ? 'done' : 'new' }, createdAt: now, updatedAt: now - 60_000 + i });
      }
      jira.issues.push({ id: 'x', key: 'OPS-X', project: 'OPS', summary: 's', issuetype: 'Task', labels: ['probectl', 'probectl-OLD'], fields: {},
        status: { id: '1', name: 'Done', category: 'done' }, createdAt: now, updatedAt: now - 3_600_000 });
      const ctx = { connector: connectorFrom(`t1|jira|${jira.url}/rest/api/2/issue?project=OPS|${flavour === "cloud" ? "a@b.c:tok" : "pat"}`), http, attempt: 1 };
      const listing = await jiraList(ctx, new Date(now - 5 * 60_000).toISOString(), 10, noPacing);
      expect(listing.items).toHaveLength(230);
      expect(listing.items.map((i) => i.externalRef)).toEqual(Array.from({ length: 230 }, (_, i) => `OPS-${i}`));
      expect(listing.items.filter((i) => i.state === 'resolved')).toHaveLength(115);
      // Data Center: the first /search/jql is answered 404 and the classic search follows (one more read)
      expect(listing.reads).toBe(flavour === 'cloud' ? 3 : 4);
      expect(listing.truncated).toBe(false);
    } finally {
      await jira.stop();
    }
  });

  // The site memo is shared by every call to the site: another call's search may flip it while a listing is between
  // pages. The listing keeps the flavour its cursor belongs to, so no flip, at any page, in either direction, restarts
  // it or repeats a page.
  test.each([
    // Cloud: calls 2 and 3 come before pages 2 and 3. Data Center: call 2 is the classic page 1 after the 404 on
    // /search/jql, calls 3 and 4 come before classic pages 2 and 3.
    ['cloud', 2], ['cloud', 3], ['datacenter', 2], ['datacenter', 3], ['datacenter', 4],
  ] as const)('Jira %s: the site memo flipped by another call at pacing call %i changes nothing in a listing under way', async (flavour, flipBefore) => {
    const jira = await new JiraDouble({ email: 'a@b.c', apiToken: 'tok', pat: 'pat', flavour }).start();
    try {
      const now = Date.now();
      for (let i = 0; i < 230; i += 1) {
        jira.issues.push({ id: String(i), key: `OPS-${i}`, project: 'OPS', summary: 's', issuetype: 'Task', labels: ['probectl', `probectl-I${i}`], fields: {},
          status: { id: '1', name: 'To Do', category: 'new' }, createdAt: now, updatedAt: now - 60_000 + i });
      }
      const entry = `t1|jira|${jira.url}/rest/api/2/issue?project=OPS|${flavour === 'cloud' ? 'a@b.c:tok' : 'pat'}`;
      // The other call: its search at the same site is answered as the other flavour would be (Cloud → 404 on
      // /search/jql, so the site is learned as Data Center; Data Center → 410 on the classic search, so it is unlearned).
      const other = fakeHttp((req) => {
        const path = new URL(req.url).pathname;
        if (flavour === 'cloud') return path.endsWith('/search/jql') ? json(404, { errorMessages: ['null for uri'] }) : json(200, { startAt: 0, maxResults: 50, total: 0, issues: [] });
        return path.endsWith('/search/jql') ? json(200, { issues: [], isLast: true }) : json(410, { errorMessages: ['Gone'] });
      });
      const incident = { id: 'INC-OTHER', tenantId: 't1', title: 't', severity: 'critical' as const, summary: 's', source: 'probectl', openedAt: new Date().toISOString() };
      let calls = 0;
      const beforeRequest = async () => {
        calls += 1;
        if (calls === flipBefore) await jiraConnector.status!({ connector: connectorFrom(entry), http: other.http, attempt: 1 }, incident, {});
      };
      const listing = await jiraList({ connector: connectorFrom(entry), http, attempt: 1 }, new Date(now - 5 * 60_000).toISOString(), 10, beforeRequest);
      expect(other.requests.length).toBeGreaterThan(0);
      expect(listing.items.map((i) => i.externalRef)).toEqual(Array.from({ length: 230 }, (_, i) => `OPS-${i}`));
      expect(listing.reads).toBe(flavour === 'cloud' ? 3 : 4);
      expect(listing.truncated).toBe(false);
    } finally {
      await jira.stop();
    }
  });

  // The connector learns that a site answers only the classic search (Data Center). When the same address later
  // answers the classic search 410 (Cloud's Gone: the site moved, or the address is another Jira's now), both the
  // open's lookup-before-create and the change listing switch back to /search/jql instead of failing for good.
  test('Jira: a site learned as Data Center that answers as Cloud is unlearned, by the open\'s lookup and by the listing', async () => {
    const dc = await new JiraDouble({ email: 'a@b.c', apiToken: 'tok', pat: 'pat', flavour: 'datacenter' }).start();
    const port = Number(new URL(dc.url).port);
    const conn = connectorFrom(`t1|jira|${dc.url}/rest/api/2/issue?project=OPS|a@b.c:tok`);
    const ctx = { connector: conn, http, attempt: 1 };
    const incident = { id: 'INC-MOVED', tenantId: 't1', title: 't', severity: 'critical' as const, summary: 's', source: 'probectl', openedAt: new Date().toISOString() };
    await jiraConnector.open(ctx, incident); // learns: classic
    expect(dc.issues).toHaveLength(1);
    await dc.stop();
    const cloud = await new JiraDouble({ email: 'a@b.c', apiToken: 'tok', pat: 'pat', flavour: 'cloud' }).start(port);
    // A new client: the old one's kept-alive socket went with the old server (a transport error Temporal would retry).
    const http2 = new HttpClient({ timeoutMs: 5_000 });
    const ctx2 = { ...ctx, http: http2 };
    try {
      cloud.issues.push({ ...dc.issues[0]!, updatedAt: Date.now() });
      // The open again (a retry): the lookup finds the issue through /search/jql, so no second issue is created.
      const again = await jiraConnector.open(ctx2, incident);
      expect(again.externalRef).toBe(dc.issues[0]!.key);
      expect(cloud.issues).toHaveLength(1);
      const listing = await jiraList(ctx2, new Date(Date.now() - 60_000).toISOString(), 10, noPacing);
      expect(listing.items.map((i) => i.externalRef)).toEqual([dc.issues[0]!.key]);
      expect(listing.truncated).toBe(false);
      const paths = cloud.requests.map((r) => r.path);
      expect(paths.filter((p) => p === '/rest/api/2/search')).toHaveLength(1); // the one 410, then never again
    } finally {
      await http2.close();
      await cloud.stop();
    }
  });

  test('Opsgenie: reads until it passes the cursor; a bound that stops before it leaves the cursor where it was', async () => {
    const og = await new OpsgenieDouble({ apiKey: 'k' }).start();
    try {
      const now = Date.now();
      const since = new Date(now - 60_000).toISOString();
      for (let i = 0; i < 250; i += 1) {
        og.alerts.push({ id: `a${i}`, alias: `probectl-I${i}`, message: 'm', priority: 'P3', tags: ['probectl'], details: {}, status: i % 2 ? 'closed' : 'open',
          acknowledged: i % 5 === 0, count: 1, basePath: '/v2/alerts', createdAt: now - 7_200_000, updatedAt: i < 150 ? now - 1_000 - i : now - 3_600_000 - i });
      }
      og.alerts.push({ id: 'u', alias: 'probectl-UNTAGGED', message: 'm', priority: 'P3', tags: [], details: {}, status: 'closed', acknowledged: false, count: 1, basePath: '/v2/alerts', createdAt: now, updatedAt: now });
      const ctx = { connector: connectorFrom(`t1|opsgenie|${og.url}/v2/alerts|k`), http, attempt: 1 };
      const listing = await ogList(ctx, since, 10, noPacing);
      expect(listing).toMatchObject({ reads: 2, truncated: false });
      expect(listing.items).toHaveLength(150);
      expect(listing.coveredUntil).toBe(new Date(now - 1_000).toISOString());
      const cut = await ogList(ctx, since, 1, noPacing);
      expect(cut).toMatchObject({ reads: 1, truncated: true });
      expect(cut.coveredUntil).toBeUndefined();
      const res = await http.send({ method: 'GET', url: `${og.url}/v2/alerts?query=${encodeURIComponent('tag:probectl OR status:open')}`, headers: { authorization: 'GenieKey k' } }, []);
      expect(res.status).toBe(400);
    } finally {
      await og.stop();
    }
  });
});
