/**
 * The per-connector reconciler without Temporal or Postgres: the signal it builds goes through the inbound path's
 * owner check (src/api/inbound/signal.ts), so another tenant's connector never signals an incident (property over
 * tenants, states and owners); the cursor moves only past what was processed; a store outage skips the pass
 * before any read. Reads go to the ServiceNow double over loopback.
 */
import fc from 'fast-check';
import { HttpClient } from '../../src/http/client';
import { Pacer } from '../../src/activities/pacing';
import { signalAccepted } from '../../src/api/inbound/signal';
import type { IncidentClient } from '../../src/client';
import { ConnectorDirectory } from '../../src/config/connectors';
import type { CursorLease } from '../../src/db/reconcile-cursor-store';
import { ConnectorReconciler, mirrorSettles, ownsObject, shuffled, signalRow, type CursorStore, type MirrorReader, type MirrorView, type PassReport } from '../../src/reconcile/connector-reconciler';
import { JiraDouble } from '../../dev/doubles/jira';
import { OpsgenieDouble } from '../../dev/doubles/opsgenie';
import { MAX_CHANGES_PAGES, nextPageBound, pageBoundFrom } from '../../src/providers/jira/build';
import { ServiceNowDouble } from '../../dev/doubles/servicenow';
import type { AcknowledgeSignal, ResolveSignal } from '../../src/shared/contract';
import { connectorFrom } from '../helpers/retry-table';

type Sent = { incidentId: string; kind: 'resolve' | 'acknowledge'; signal: ResolveSignal | AcknowledgeSignal };

/** An IncidentClient over a table of workflows: incident id → (owner tenant, status). */
function fakeIncidents(workflows: Map<string, { tenantId: string; status: string }>, sent: Sent[], failOn?: string): IncidentClient {
  return {
    withDeadline: <T>(_ms: number, fn: () => Promise<T>) => fn(),
    tenantOf: async (id: string) => {
      if (id === failOn) throw new Error('Temporal unavailable');
      const w = workflows.get(id);
      return w ? { tenantId: w.tenantId, status: w.status, runId: 'r' } : undefined;
    },
    resolve: async (incidentId: string, signal: ResolveSignal) => void sent.push({ incidentId, kind: 'resolve', signal }),
    acknowledge: async (incidentId: string, signal: AcknowledgeSignal) => void sent.push({ incidentId, kind: 'acknowledge', signal }),
  } as unknown as IncidentClient;
}

const tenantArb = fc.constantFrom('acme', 'globex', 'initech');

describe('tenancy: a connector signals only its own tenant\'s running incidents', () => {
  test('property: over connector tenants, owners, workflow states and object states', async () => {
    await fc.assert(fc.asyncProperty(
      tenantArb, fc.option(tenantArb, { nil: undefined }), fc.constantFrom('RUNNING', 'COMPLETED'), fc.constantFrom('resolved', 'acknowledged') as fc.Arbitrary<'resolved' | 'acknowledged'>,
      async (connectorTenant, owner, status, state) => {
        const workflows = new Map(owner ? [['INC-1', { tenantId: owner, status }]] : []);
        const sent: Sent[] = [];
        const row = signalRow({ tenantId: connectorTenant, id: 'snow-main', provider: 'servicenow' },
          { incidentId: 'INC-1', externalRef: 'abc', state, updatedAt: '2026-11-30T16:00:00.000Z' });
        const outcome = await signalAccepted(fakeIncidents(workflows, sent), row, 1_000);
        if (owner !== connectorTenant) {
          expect(outcome).toBe('not_owner');
          expect(sent).toHaveLength(0);
        } else if (status !== 'RUNNING') {
          expect(outcome).toBe('closed');
          expect(sent).toHaveLength(0);
        } else {
          expect(outcome).toBe('signalled');
          expect(sent).toEqual([{ incidentId: 'INC-1', kind: state === 'resolved' ? 'resolve' : 'acknowledge', signal: expect.objectContaining({ tenantId: connectorTenant, source: 'snow-main' }) }]);
        }
      },
    ), { numRuns: 200 });
  });

  test.each([
    [undefined, 'resolved', false], [undefined, 'acknowledged', false],
    ['open', 'resolved', false], ['open', 'acknowledged', false],
    ['acknowledged', 'resolved', false], ['acknowledged', 'acknowledged', true],
    ['resolved', 'resolved', true], ['resolved', 'acknowledged', true],
  ] as const)('mirror %p and found %s: settled already = %p', (mirrored, state, settled) => {
    expect(mirrorSettles(mirrored ? { status: mirrored } : undefined, state)).toBe(settled);
  });
});

class MemoryCursors implements CursorStore {
  readonly rows = new Map<string, { cursor: string; resume?: string; leaseUntil: number; token: string }>();
  down = false;
  async lease(tenantId: string, connectorId: string, leaseMs: number, initial: string): Promise<CursorLease | undefined> {
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    const k = `${tenantId}/${connectorId}`;
    const row = this.rows.get(k) ?? { cursor: initial, leaseUntil: 0, token: '' };
    if (row.leaseUntil > Date.now()) return undefined;
    Object.assign(row, { leaseUntil: Date.now() + leaseMs, token: `t${Math.random()}` });
    this.rows.set(k, row);
    return { tenantId, connectorId, cursor: row.cursor, ...(row.resume ? { resume: row.resume } : {}), leaseToken: row.token };
  }
  async advance(lease: CursorLease, cursor: string, resume?: string): Promise<boolean> {
    const row = this.rows.get(`${lease.tenantId}/${lease.connectorId}`);
    if (!row || row.token !== lease.leaseToken) return false;
    if (cursor > row.cursor) row.cursor = cursor;
    if (resume) row.resume = resume;
    else delete row.resume;
    return true;
  }
  expire(): void {
    for (const r of this.rows.values()) r.leaseUntil = 0;
  }
}

/** The mirror as it is for tickets this connector opened: an open link to the ticket whose correlation id names the incident. */
const linkedMirror: MirrorReader = {
  read: async (_tenant, incidentId) => {
    // the first ticket with its key is the one the connector opened; any later one is someone else's
    const t = sn.tickets.find((x) => x.correlation_id === `probectl-${incidentId}`);
    return t ? { status: 'open', links: [{ connectorId: 'servicenow', status: 'open', externalRef: t.sys_id }] } : undefined;
  },
};
let sn: ServiceNowDouble;

describe('which listed object speaks for its incident', () => {
  const mirror = (links: MirrorView['links'], status = 'open'): MirrorView => ({ status, links });
  test.each([
    ['its own linked ticket', mirror([{ connectorId: 'snow', status: 'open', externalRef: 'S1' }]), true],
    ['its own linked ticket, acknowledged', mirror([{ connectorId: 'snow', status: 'acknowledged', externalRef: 'S1' }]), true],
    ['another ticket carrying the same key (a clone, a forged correlation id)', mirror([{ connectorId: 'snow', status: 'open', externalRef: 'S2' }]), false],
    ['a ticket of another connector on the same instance', mirror([{ connectorId: 'snow-2', status: 'open', externalRef: 'S1' }]), false],
    ['a link without a reference yet', mirror([{ connectorId: 'snow', status: 'pending' }]), false],
    ['a failed link', mirror([{ connectorId: 'snow', status: 'failed', externalRef: 'S1' }]), false],
    ['a link already resolved', mirror([{ connectorId: 'snow', status: 'resolved', externalRef: 'S1' }]), false],
    ['an incident without links', mirror([]), false],
    ['an incident this tenant does not have', undefined, false],
  ] as const)('%s → %p', (_what, mirrored, owns) => {
    expect(ownsObject(mirrored, 'snow', { externalRef: 'S1' })).toBe(owns);
  });
});

describe('the reconciler\'s pass against the ServiceNow double', () => {
  const http = new HttpClient({ timeoutMs: 5_000 });
  beforeAll(async () => {
    sn = await new ServiceNowDouble({ user: 'u', password: 'p' }).start();
  });
  afterAll(async () => {
    await sn.stop();
    await http.close();
  });

  const glide = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
  const setup = (failOn?: string) => {
    const connector = connectorFrom(`acme|servicenow|${sn.url}?rate_per_min=6000|u:p`);
    const store = new MemoryCursors();
    const sent: Sent[] = [];
    const workflows = new Map<string, { tenantId: string; status: string }>();
    const incidents = fakeIncidents(workflows, sent, failOn);
    const reconciler = new ConnectorReconciler({
      connectors: new ConnectorDirectory([connector]), http, pacer: new Pacer(), store,
      mirror: linkedMirror,
      signal: (row) => signalAccepted(incidents, row, 1_000),
      intervalMs: 60_000, overlapMs: 0,
      log: { info: () => undefined, warn: () => undefined },
    });
    return { connector, store, sent, workflows, reconciler };
  };

  test('one read; resolved tickets of running incidents signalled oldest first; the cursor moves to the pass start', async () => {
    const { connector, store, sent, workflows, reconciler } = setup();
    const now = Date.now();
    sn.tickets.length = 0;
    for (let i = 0; i < 5; i += 1) {
      workflows.set(`A${i}`, { tenantId: 'acme', status: 'RUNNING' });
      sn.tickets.push({ sys_id: `s${i}`, number: `INC${i}`, state: i % 2 ? '1' : '6', short_description: 't', correlation_id: `probectl-A${i}`, sys_updated_on: glide(now - 10_000 + i * 1000), createdAt: 0 });
    }
    const before = sn.changeListings().length;
    const started = new Date().toISOString();
    const report: PassReport = await reconciler.reconcile(connector);
    expect(report).toMatchObject({ outcome: 'done', reads: 1, found: 5, signalled: 3 });
    expect(sn.changeListings().length - before).toBe(1);
    expect(sent.map((s) => s.incidentId)).toEqual(['A0', 'A2', 'A4']);
    expect(store.rows.get('acme/servicenow')!.cursor >= started).toBe(true);
    // the lease holds for the interval: a second pass at once is refused before any read
    expect((await reconciler.reconcile(connector)).outcome).toBe('leased-elsewhere');
    expect(sn.changeListings().length - before).toBe(1);
  });

  test('a signal that fails leaves the cursor at that object; the next pass signals it and what follows', async () => {
    const { connector, store, sent, workflows, reconciler } = setup('B2');
    const now = Date.now();
    sn.tickets.length = 0;
    for (let i = 0; i < 4; i += 1) {
      workflows.set(`B${i}`, { tenantId: 'acme', status: 'RUNNING' });
      sn.tickets.push({ sys_id: `b${i}`, number: `INC${i}`, state: '6', short_description: 't', correlation_id: `probectl-B${i}`, sys_updated_on: glide(now - 30_000 + i * 5000), createdAt: 0 });
    }
    const first = await reconciler.reconcile(connector);
    expect(first).toMatchObject({ outcome: 'signal-failed', signalled: 2 });
    expect(store.rows.get('acme/servicenow')!.cursor).toBe(new Date(Date.parse(`${glide(now - 30_000 + 2 * 5000).replace(' ', 'T')}Z`)).toISOString());
    // the same store, a Temporal that answers again
    store.expire();
    const sent2: Sent[] = [];
    const again = new ConnectorReconciler({
      connectors: new ConnectorDirectory([connector]), http, pacer: new Pacer(), store, mirror: linkedMirror,
      signal: (row) => signalAccepted(fakeIncidents(workflows, sent2), row, 1_000), intervalMs: 60_000, overlapMs: 0,
      log: { info: () => undefined, warn: () => undefined },
    });
    expect(await again.reconcile(connector)).toMatchObject({ outcome: 'done', signalled: 2 });
    expect(sent2.map((s) => s.incidentId)).toEqual(['B2', 'B3']);
    expect(sent.map((s) => s.incidentId)).toEqual(['B0', 'B1']);
  });

  test('a second ticket carrying an incident\'s key (a forged or cloned correlation id), resolved, is never signalled', async () => {
    const { connector, sent, workflows, reconciler } = setup();
    const now = Date.now();
    sn.tickets.length = 0;
    workflows.set('F1', { tenantId: 'acme', status: 'RUNNING' });
    sn.tickets.push({ sys_id: 'linked', number: 'INC1', state: '1', short_description: 't', correlation_id: 'probectl-F1', sys_updated_on: glide(now - 9_000), createdAt: 0 });
    sn.tickets.push({ sys_id: 'forged', number: 'INC2', state: '6', short_description: 't', correlation_id: 'probectl-F1', sys_updated_on: glide(now - 8_000), createdAt: 0 });
    expect(await reconciler.reconcile(connector)).toMatchObject({ outcome: 'done', found: 2, signalled: 0 });
    expect(sent).toEqual([]);
  });

  test('the cursor store down: the pass is skipped before any read', async () => {
    const { connector, store, reconciler } = setup();
    store.down = true;
    const before = sn.requests.length;
    expect((await reconciler.reconcile(connector)).outcome).toBe('store-unavailable');
    expect(sn.requests.length).toBe(before);
  });

  test('every read takes its token at the lowest class; a saturated key defers the pass, and stop() does not wait out the turn', async () => {
    const now = Date.now();
    sn.tickets.length = 0;
    for (let i = 0; i < 150; i += 1) {
      sn.tickets.push({ sys_id: `p${i}`, number: `INC${i}`, state: '1', short_description: 't', correlation_id: `probectl-P${i}`, sys_updated_on: glide(now - 5_000), createdAt: 0 });
    }
    const grants: number[] = [];
    const slow = connectorFrom(`acme|servicenow|${sn.url}?rate_per_min=1|u:p`);
    const reconciler = new ConnectorReconciler({
      connectors: new ConnectorDirectory([slow]), http, pacer: new Pacer({ onGrant: (g) => grants.push(g.cls) }), store: new MemoryCursors(),
      mirror: { read: async () => undefined }, signal: async () => 'signalled',
      intervalMs: 600_000, overlapMs: 0, log: { info: () => undefined, warn: () => undefined },
    });
    // 150 changed tickets need two pages; at 1 call a minute the second page's turn is a minute away (within half
    // the interval, so the pass waits for it) — until the reconciler stops.
    const pass = reconciler.reconcile(slow);
    await new Promise((r) => setTimeout(r, 300));
    const stopping = Date.now();
    await reconciler.stop();
    const report = await pass;
    expect(Date.now() - stopping).toBeLessThan(5_000);
    expect(report.outcome).toBe('read-failed');
    expect(grants).toEqual([3]);
  });
});

/**
 * A burst of changes larger than the page bound: the pass stops at its bound and the next one continues where it
 * stopped (the resume position) instead of starting again from the cursor — ServiceNow ties within one overlap
 * window, Opsgenie's newest-first walk — so an older (or later) resolve is found after a few passes, never lost.
 */
describe('a burst larger than the page bound: the next pass continues where the last one stopped', () => {
  const http = new HttpClient({ timeoutMs: 5_000 });
  let og: OpsgenieDouble;
  let snow: ServiceNowDouble;
  beforeAll(async () => {
    og = await new OpsgenieDouble({ apiKey: 'k' }).start();
    snow = await new ServiceNowDouble({ user: 'u', password: 'p' }).start();
  });
  afterAll(async () => {
    await og.stop();
    await snow.stop();
    await http.close();
  });
  const log = { info: () => undefined, warn: () => undefined };
  const glide = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

  test.each([[250, 2], [450, 2], [120, 1]])('ServiceNow: %i changes within one second, bound %i pages: the later resolve is found', async (n, maxPages) => {
    const c = connectorFrom(`acme|servicenow|${snow.url}?rate_per_min=6000|u:p`);
    const store = new MemoryCursors();
    const signalled: string[] = [];
    const mirror: MirrorReader = { read: async (_t, id) => ({ status: 'open', links: [{ connectorId: c.id, status: 'open', externalRef: snow.byCorrelation(`probectl-${id}`)[0]?.sys_id }] }) };
    const r = new ConnectorReconciler({ connectors: new ConnectorDirectory([c]), http, pacer: new Pacer(), store, mirror,
      signal: async (row) => { signalled.push(row.incidentId); return 'signalled'; }, intervalMs: 60_000, overlapMs: 60_000, maxPages, log });
    const t0 = Date.now() - 20_000;
    snow.tickets.length = 0;
    for (let i = 0; i < n; i += 1) snow.tickets.push({ sys_id: `s${String(i).padStart(4, '0')}`, number: `I${i}`, state: i % 7 ? '1' : '6', short_description: '', correlation_id: `probectl-X${i}`, sys_updated_on: glide(t0), createdAt: 0 });
    snow.tickets.push({ sys_id: 'late', number: 'L', state: '6', short_description: '', correlation_id: 'probectl-LATE', sys_updated_on: glide(t0 + 5_000), createdAt: 0 });
    store.rows.set(`acme/${c.id}`, { cursor: new Date(t0 - 1_000).toISOString(), leaseUntil: 0, token: '' });
    const outcomes: string[] = [];
    for (let pass = 0; pass < Math.ceil((n + 1) / (100 * maxPages)) + 2 && !outcomes.includes('done'); pass += 1) {
      store.expire();
      outcomes.push((await r.reconcile(c)).outcome);
    }
    expect(outcomes[outcomes.length - 1]).toBe('done');
    expect(signalled).toContain('LATE');
    expect(new Set(signalled)).toEqual(new Set(snow.tickets.filter((t) => t.state === '6').map((t) => t.correlation_id!.slice('probectl-'.length))));
    expect(store.rows.get(`acme/${c.id}`)!.resume).toBeUndefined();
  });

  const mkAlert = (alias: string, at: number, status: 'open' | 'closed') => og.alerts.push({ id: alias, alias, message: 'm', priority: 'P3', tags: ['probectl'], details: {}, status, acknowledged: false, count: 1, basePath: '/v2/alerts', createdAt: at, updatedAt: at });
  const ogSetup = (maxPages: number, failOn?: string) => {
    const c = connectorFrom(`acme|opsgenie|${og.url}/v2/alerts?rate_per_min=6000|k`);
    const store = new MemoryCursors();
    const signalled: string[] = [];
    const mirror: MirrorReader = { read: async (_t, id) => ({ status: 'open', links: [{ connectorId: c.id, status: 'open', externalRef: `probectl-${id}` }] }) };
    const r = new ConnectorReconciler({ connectors: new ConnectorDirectory([c]), http, pacer: new Pacer(), store, mirror,
      signal: async (row) => {
        if (row.incidentId === failOn) throw new Error('Temporal unavailable');
        signalled.push(row.incidentId);
        return 'signalled';
      }, intervalMs: 60_000, overlapMs: 0, maxPages, log });
    return { c, store, signalled, r };
  };

  test.each([[250, 2], [999, 3], [150, 1]])('Opsgenie: %i alerts changed since the cursor, bound %i pages: the oldest resolve is found, then the cursor moves', async (n, maxPages) => {
    const { c, store, signalled, r } = ogSetup(maxPages);
    const t0 = Date.now() - 50_000;
    og.alerts.length = 0;
    mkAlert('probectl-OLDEST', t0, 'closed');
    for (let i = 0; i < n; i += 1) mkAlert(`probectl-Z${i}`, t0 + 1000 + i, i % 9 ? 'open' : 'closed');
    const cursor0 = new Date(t0 - 1000).toISOString();
    store.rows.set(`acme/${c.id}`, { cursor: cursor0, leaseUntil: 0, token: '' });
    const outcomes: string[] = [];
    for (let pass = 0; pass < Math.ceil((n + 1) / (100 * maxPages)) + 2 && !outcomes.includes('done'); pass += 1) {
      store.expire();
      const started = new Date().toISOString();
      outcomes.push((await r.reconcile(c)).outcome);
      // while the walk is cut, the cursor stays: the alerts not reached yet are older than any listed
      if (outcomes[outcomes.length - 1] === 'truncated') expect(store.rows.get(`acme/${c.id}`)!.cursor).toBe(cursor0);
      else expect(store.rows.get(`acme/${c.id}`)!.cursor < started).toBe(true); // up to when the walk began, not this pass
    }
    expect(outcomes[outcomes.length - 1]).toBe('done');
    expect(signalled).toContain('OLDEST');
    expect(new Set(signalled)).toEqual(new Set(og.alerts.filter((a) => a.status === 'closed').map((a) => a.alias.slice('probectl-'.length))));
    expect(store.rows.get(`acme/${c.id}`)!.cursor > cursor0).toBe(true);
    expect(store.rows.get(`acme/${c.id}`)!.resume).toBeUndefined();
  });

  // Jira has no resume position: a cut listing starts again from its last record minus the overlap. Before the
  // page bound grew, more changes than the bound within one overlap (a storm's ~1,000 creations within a minute)
  // froze the cursor: every pass re-read the same first pages and never reached what changed after them.
  test.each([
    ['cloud', 250, 1], ['datacenter', 250, 1], ['cloud', 1_050, 2], ['datacenter', 330, 1],
  ] as const)('Jira %s: %i changes within one second, bound %i pages: the later resolve is found, then the bound resets', async (flavour, n, maxPages) => {
    const jira = await new JiraDouble({ email: 'a@b.c', apiToken: 'tok', pat: 'pat', flavour }).start();
    try {
      const c = connectorFrom(`acme|jira|${jira.url}/rest/api/2/issue?project=OPS&rate_per_min=6000|${flavour === 'cloud' ? 'a@b.c:tok' : 'pat'}`);
      const store = new MemoryCursors();
      const signalled: string[] = [];
      const mirror: MirrorReader = { read: async (_t, id) => ({ status: 'open', links: [{ connectorId: c.id, status: 'open', externalRef: jira.issues.find((i) => i.labels.includes(`probectl-${id}`))?.key }] }) };
      const r = new ConnectorReconciler({ connectors: new ConnectorDirectory([c]), http, pacer: new Pacer(), store, mirror,
        signal: async (row) => { signalled.push(row.incidentId); return 'signalled'; }, intervalMs: 60_000, overlapMs: 60_000, maxPages, log });
      const t0 = Date.now() - 20_000;
      const issue = (key: string, id: string, done: boolean, at: number) => jira.issues.push({ id: key, key, project: 'OPS', summary: 's', issuetype: 'Task', labels: ['probectl', `probectl-${id}`], fields: {},
        status: done ? { id: '3', name: 'Done', category: 'done' } : { id: '1', name: 'To Do', category: 'new' }, createdAt: at, updatedAt: at });
      for (let i = 0; i < n; i += 1) issue(`OPS-${i}`, `X${i}`, i % 7 === 0, t0 + (i % 1_000));
      issue('OPS-LATE', 'LATE', true, t0 + 5_000);
      store.rows.set(`acme/${c.id}`, { cursor: new Date(t0 - 1_000).toISOString(), leaseUntil: 0, token: '' });
      const outcomes: string[] = [];
      const bounds: Array<string | undefined> = [];
      for (let pass = 0; pass < 8 && !outcomes.includes('done'); pass += 1) {
        store.expire();
        outcomes.push((await r.reconcile(c)).outcome);
        bounds.push(store.rows.get(`acme/${c.id}`)!.resume);
      }
      expect(outcomes[outcomes.length - 1]).toBe('done');
      // Each cut pass doubles the next pass's bound, until one reads the burst through.
      expect(bounds.slice(0, -1)).toEqual(bounds.slice(0, -1).map((_, i) => `bound:${Math.min(maxPages * 2 ** (i + 1), MAX_CHANGES_PAGES)}`));
      expect(signalled).toContain('LATE');
      expect(new Set(signalled)).toEqual(new Set(jira.issues.filter((i) => i.status.category === 'done').map((i) => i.labels[1]!.slice('probectl-'.length))));
      expect(bounds[bounds.length - 1]).toBeUndefined();
    } finally {
      await jira.stop();
    }
  });

  test.each([
    [undefined, 10, 10], ['bound:20', 10, 20], ['bound:3', 10, 10], ['bound:9999', 10, MAX_CHANGES_PAGES], ['bound:-1', 10, 10],
    ['offset:500', 10, 10], ['bound:20 ', 10, 10], ['', 10, 10], ['bound:', 10, 10],
  ])('Jira page bound from resume %p with bound %i: %i pages', (resume, maxPages, pages) => {
    expect(pageBoundFrom(resume, maxPages)).toBe(pages);
  });

  test('Jira: the next bound doubles up to its cap, and reads back as itself (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 20 }), (bound, maxPages) => {
      const next = pageBoundFrom(nextPageBound(bound), maxPages);
      expect(next).toBe(Math.max(maxPages, Math.min(bound * 2, MAX_CHANGES_PAGES)));
      expect(next).toBeLessThanOrEqual(Math.max(maxPages, MAX_CHANGES_PAGES));
    }));
  });

  test('Opsgenie: a signal that fails after a newest-first listing cut by its bound leaves the cursor before the alerts not reached', async () => {
    const { c, store, signalled, r } = ogSetup(1, 'Z140');
    const t0 = Date.now() - 50_000;
    og.alerts.length = 0;
    mkAlert('probectl-OLDEST', t0, 'closed');
    for (let i = 0; i < 150; i += 1) mkAlert(`probectl-Z${i}`, t0 + 1000 + i, i === 140 ? 'closed' : 'open');
    const cursor0 = new Date(t0 - 1000).toISOString();
    store.rows.set(`acme/${c.id}`, { cursor: cursor0, leaseUntil: 0, token: '' });
    expect(await r.reconcile(c)).toMatchObject({ outcome: 'signal-failed' });
    expect(store.rows.get(`acme/${c.id}`)!.cursor).toBe(cursor0);
    // Temporal answers again: the same walk is read again, the failed alert and the older resolve are signalled
    const again = ogSetup(1);
    again.store.rows.set(`acme/${c.id}`, { ...store.rows.get(`acme/${c.id}`)!, leaseUntil: 0 });
    for (let pass = 0; pass < 4; pass += 1) {
      again.store.expire();
      if ((await again.r.reconcile(c)).outcome === 'done') break;
    }
    expect(again.signalled).toEqual(expect.arrayContaining(['Z140', 'OLDEST']));
    expect(signalled).toEqual([]);
  });
});

/** A pass: connectors in a shuffled order each pass, a time bound on the whole pass, stop() heard between objects. */
describe('a pass over many connectors', () => {
  const http = new HttpClient({ timeoutMs: 5_000 });
  let dbl: ServiceNowDouble;
  beforeAll(async () => {
    dbl = await new ServiceNowDouble({ user: 'u', password: 'p' }).start();
  });
  afterAll(async () => {
    await dbl.stop();
    await http.close();
  });
  const log = { info: () => undefined, warn: () => undefined };
  const tenants = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];
  const glide = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
  /** A small seeded generator, so the test is the same on every run. */
  const seeded = (seed: number) => () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
  const mirror: MirrorReader = { read: async (_t, id) => ({ status: 'open', links: [{ connectorId: 'servicenow', status: 'open', externalRef: dbl.byCorrelation(`probectl-${id}`)[0]?.sys_id }] }) };

  test('shuffled is a permutation (property)', () => {
    fc.assert(fc.property(fc.array(fc.integer()), fc.integer({ min: 1, max: 1_000_000 }), (xs, seed) => {
      expect([...shuffled(xs, seeded(seed))].sort()).toEqual([...xs].sort());
    }));
  });

  test('over passes, every connector has its turn first (the order is not the configuration\'s on every pass)', async () => {
    dbl.tickets.length = 0;
    const connectors = tenants.map((t) => connectorFrom(`${t}|servicenow|${dbl.url}?rate_per_min=6000|u:p`));
    const r = new ConnectorReconciler({ connectors: new ConnectorDirectory(connectors), http, pacer: new Pacer(), store: new MemoryCursors(), mirror,
      signal: async () => 'signalled', intervalMs: 1_000, overlapMs: 0, log, random: seeded(7) });
    const firsts = new Set<string>();
    for (let pass = 0; pass < 40; pass += 1) {
      const reports = await r.runOnce();
      expect(reports.map((x) => x.tenantId).sort()).toEqual([...tenants].sort());
      firsts.add(reports[0]!.tenantId);
    }
    expect(firsts).toEqual(new Set(tenants));
  });

  test('a pass that used its time leaves the connectors not begun to the next pass, without a read or a lease', async () => {
    const now = Date.now();
    dbl.tickets.length = 0;
    dbl.tickets.push({ sys_id: 'slow', number: 'INC1', state: '6', short_description: 't', correlation_id: 'probectl-SLOW', sys_updated_on: glide(now - 5_000), createdAt: 0 });
    const connectors = tenants.map((t) => connectorFrom(`${t}|servicenow|${dbl.url}?rate_per_min=6000|u:p`));
    const store = new MemoryCursors();
    const r = new ConnectorReconciler({ connectors: new ConnectorDirectory(connectors), http, pacer: new Pacer(), store, mirror,
      // every tenant's connector sees the ticket; its signal takes longer than the whole pass may
      signal: async () => { await new Promise((res) => setTimeout(res, 1_200)); return 'signalled'; },
      intervalMs: 1_000, overlapMs: 0, log, random: seeded(3) });
    for (const t of tenants) store.rows.set(`${t}/servicenow`, { cursor: new Date(now - 60_000).toISOString(), leaseUntil: 0, token: '' });
    const before = dbl.changeListings().length;
    const reports = await r.runOnce();
    expect(reports).toHaveLength(tenants.length);
    const late = reports.filter((x) => x.outcome === 'out-of-time');
    expect(late.length).toBe(tenants.length - 1);
    expect(late.every((x) => x.reads === 0)).toBe(true);
    expect(dbl.changeListings().length - before).toBe(1);
    for (const x of late) expect(store.rows.get(`${x.tenantId}/${x.connectorId}`)!.leaseUntil).toBe(0);
  });

  test('stop() within a pass is heard between objects: the cursor stays before the first object not processed', async () => {
    const now = Date.now();
    dbl.tickets.length = 0;
    for (let i = 0; i < 5; i += 1) {
      dbl.tickets.push({ sys_id: `st${i}`, number: `INC${i}`, state: '6', short_description: 't', correlation_id: `probectl-ST${i}`, sys_updated_on: glide(now - 30_000 + i * 5_000), createdAt: 0 });
    }
    const c = connectorFrom(`acme|servicenow|${dbl.url}?rate_per_min=6000|u:p`);
    const store = new MemoryCursors();
    const signalled: string[] = [];
    const r: ConnectorReconciler = new ConnectorReconciler({ connectors: new ConnectorDirectory([c]), http, pacer: new Pacer(), store, mirror,
      signal: async (row) => { signalled.push(row.incidentId); void r.stop(); return 'signalled'; },
      intervalMs: 60_000, overlapMs: 0, log });
    store.rows.set(`acme/${c.id}`, { cursor: new Date(now - 60_000).toISOString(), leaseUntil: 0, token: '' });
    expect(await r.reconcile(c)).toMatchObject({ outcome: 'stopped', signalled: 1 });
    expect(signalled).toEqual(['ST0']);
    expect(store.rows.get(`acme/${c.id}`)!.cursor).toBe(new Date(`${glide(now - 25_000).replace(' ', 'T')}Z`).toISOString());
  });
});
