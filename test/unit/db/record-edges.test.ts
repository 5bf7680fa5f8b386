/**
 * Whatever /v1 or an inbound parser takes can be recorded (on the run's real Postgres), the class and not one example:
 *
 * - /v1 (the real app, through inject, with the real mirror for what the API records itself): for arbitrary open,
 *   correlate, acknowledge and resolve bodies — seeded with edge dates (years 0000, 0001, 9999, 10000, ±offsets to
 *   ±23:59, leap seconds, days a month lacks), lone surrogates (high and low; first, middle, last), NUL and the other
 *   C0 controls, and lengths at and past each maximum — either the answer is 400 whose every reason names a field of
 *   the body, or what the API hands on (the incident it starts, the signal it sends) goes through the record path
 *   (MirrorStore.record with follow-ups, FollowUpStore.write's jsonb) and is stored as sent: the same text, the same
 *   instant.
 * - The record path alone (what a client starting the workflow directly, or a provider, can put there): any string
 *   in any text field and any date Date.parse reads (`0000-…`, `+010000-…`, `-000001-…`) is stored — strings as
 *   storable() makes them, times held within years 0001–9999 — never refused.
 * - Each inbound parser's actor, ids and references, then the delivery transaction and the records of the signal.
 *
 * Before the fix (storable() replaced NUL only; `openedAt` was any z.iso.datetime; text() refused NUL only) the first
 * and second properties fail: 22008 on `0000-01-01T00:00:00Z`, 22009 on `+16:00`, 22P02 on a lone surrogate in jsonb.
 */
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { buildApp } from '../../../src/api/app';
import { parsePortable } from '../../../src/api/inbound/parsers/portable';
import { TokenAuthenticator } from '../../../src/api/auth';
import type { IncidentClient } from '../../../src/client';
import { parseApiTokens } from '../../../src/config/api-tokens';
import { Secret } from '../../../src/config/secret';
import { FollowUpStore } from '../../../src/db/follow-up-store';
import { MirrorStore, type RecordBatch } from '../../../src/db/mirror-store';
import { createPool } from '../../../src/db/pool';
import { storable } from '../../../src/db/storable';
import { withTenant } from '../../../src/db/tenant-tx';
import { createLogger } from '../../../src/observability/logger';
import { parseJira } from '../../../src/providers/jira/inbound';
import { parseOpsgenie } from '../../../src/providers/opsgenie/inbound';
import { parsePagerDuty } from '../../../src/providers/pagerduty/inbound';
import { parseServiceNow } from '../../../src/providers/servicenow/inbound';
import type { Incident } from '../../../src/shared/contract';
import type { FollowUpRecord } from '../../../src/shared/records';
import { fuzzParams } from '../../faults/fuzz';
import { sharedStack, uniqueId } from '../../helpers/shared';

const TOKEN = 'record-edges-token-0123456789abcdef';
const TENANT = uniqueId('redge');
const FIRST = Date.parse('0001-01-01T00:00:00Z');
const LAST = Date.parse('9999-12-31T23:59:59.999Z');

let pool: Pool;
let mirror: MirrorStore;
let app: FastifyInstance;
/** What the fake Temporal client was handed by the last request. */
let handed: { incident?: Incident; signal?: { kind: string; actor?: string; reason?: string; at: string } } = {};

beforeAll(async () => {
  pool = createPool(new Secret(sharedStack().databaseUrl));
  mirror = new MirrorStore(pool, new FollowUpStore(pool, uniqueId('tq')));
  app = buildApp({
    log: createLogger('silent'),
    auth: new TokenAuthenticator(parseApiTokens(`${TENANT}:${TOKEN}`)),
    incidents: {
      tenantOf: async () => ({ tenantId: TENANT, status: 'RUNNING', runId: 'r1' }),
      openIncident: async (incident: Incident) => ((handed = { incident }), { outcome: 'started', workflowId: `probectl-${incident.id}` }),
      acknowledge: async (_id: string, s: { at: string; actor?: string }) => void (handed = { signal: { kind: 'acknowledge', ...s } }),
      resolve: async (_id: string, s: { at: string; actor?: string; reason?: string }) => void (handed = { signal: { kind: 'resolve', ...s } }),
      correlate: async () => undefined,
    } as unknown as IncidentClient,
    mirror,
    checks: {},
    isAccepting: () => true,
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await pool.end();
});

// ---- values ------------------------------------------------------------------------------------------------------

const EDGE_UNITS = ['\ud83d', '\udca5', '\ud800', '\udfff', '\u0000', '\u0001', '\u0008', '\u001b', '\u001f', '\u007f', '\u0085', '\u2028', '\ufeff', '\ufffd', '\uffff', '😀', 'é', '"', '\\', 'a', ' '];
/** One UTF-16 code unit of any value, often an edge one: pairs, lone halves, controls. */
const unit = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...EDGE_UNITS) }, fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)));
const anyText = (max: number) => fc.oneof(
  { weight: 4, arbitrary: fc.array(unit, { maxLength: 24 }).map((u) => u.join('')) },
  // At and past the maximum, with an edge unit first, in the middle or last.
  fc.tuple(fc.constantFrom(max - 1, max, max + 1), fc.constantFrom(...EDGE_UNITS), fc.constantFrom('start', 'middle', 'end')).map(([n, u, where]) => {
    const fill = 'x'.repeat(Math.max(0, n - u.length));
    return where === 'start' ? u + fill : where === 'end' ? fill + u : fill.slice(0, fill.length >> 1) + u + fill.slice(fill.length >> 1);
  }),
);

const EDGE_DATES = [
  '0000-01-01T00:00:00Z', '0000-12-31T23:00:00-02:00', '0001-01-01T00:00:00Z', '0001-01-01T00:00:00+01:00', '0001-01-01T00:00:00-01:00',
  '9999-12-31T23:59:59Z', '9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59-01:00', '9999-12-31T23:59:59+14:00', '10000-01-01T00:00:00Z',
  '+010000-01-01T00:00:00Z', '-000001-01-01T00:00:00Z', '2016-12-31T23:59:60Z', '2015-06-30T23:59:60+00:00', '2024-02-29T12:00:00Z',
  '2023-02-29T12:00:00Z', '2024-04-31T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T00:00:00+15:59', '2024-01-01T00:00:00-15:59',
  '2024-01-01T00:00:00+16:00', '2024-01-01T00:00:00+23:59', '2024-01-01T00:00:00-23:59', '2024-01-01T00:00:00.123456789Z',
  '2024-01-01T00:00Z', '2024-01-01T00:00:00+0530', '2024-01-01', '1970-01-01T00:00:00Z', '2024-06-01T12:00:00.5+05:45',
];
const pad = (n: number, w: number) => String(n).padStart(w, '0');
/** A date-time of any year 0–10000, any month/day/hour/minute/second a little past their ranges, any offset. */
const anyDate = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...EDGE_DATES) },
  fc.record({
    y: fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(0, 1, 9999, 10_000)), mo: fc.integer({ min: 0, max: 13 }), d: fc.integer({ min: 0, max: 32 }),
    h: fc.integer({ min: 0, max: 24 }), mi: fc.integer({ min: 0, max: 60 }), s: fc.integer({ min: 0, max: 61 }),
    off: fc.oneof(fc.constant(undefined), fc.integer({ min: -24 * 60 + 1, max: 24 * 60 - 1 })),
  }).map(({ y, mo, d, h, mi, s, off }) => {
    const zone = off === undefined ? 'Z' : `${off < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(off) / 60), 2)}:${pad(Math.abs(off) % 60, 2)}`;
    return `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${zone}`;
  }),
);
const anyId = fc.oneof(fc.constantFrom('.', '..', '...', 'a', 'i'.repeat(128), 'i'.repeat(129)), fc.stringMatching(/^[A-Za-z0-9._-]{1,16}$/));

const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const defined = (b: Record<string, unknown>) => Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined));
/** Every field from its whole class: each field has its own refusals, so a body with all of them valid is rare (a few %). */
const anyFields = {
  id: anyId, title: anyText(4096), severity: fc.constantFrom('critical', 'warning', 'bogus'),
  summary: opt(anyText(65_536)), source: opt(anyText(255)), url: opt(anyText(40).map((t) => `https://x.example/${t}`)),
  openedAt: opt(anyDate), labels: opt(fc.dictionary(anyText(128), anyText(1024), { maxKeys: 3 })),
};
/** Every field valid: printable text (non-ASCII included), dates inside 0001–9999. */
const safeText = (min: number, max: number) => fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '-', 'é', '😀', '"', '\\', '<', '&'), minLength: min, maxLength: max });
const validFields = {
  id: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,16}$/), fc.constant('i'.repeat(128))),
  title: fc.oneof(safeText(1, 40).map((t) => `t${t}`), fc.constant('t'.repeat(4096))), severity: fc.constantFrom('critical', 'warning'),
  // At each maximum too: accepted there, and stored as sent.
  summary: opt(fc.oneof(safeText(0, 200), fc.constant('s'.repeat(65_536)))), source: opt(fc.oneof(safeText(1, 40), fc.constant('p'.repeat(255)))), url: opt(fc.webUrl()),
  openedAt: opt(fc.date({ min: new Date(FIRST), max: new Date(LAST), noInvalidDate: true }).map((d) => d.toISOString())),
  labels: opt(fc.dictionary(safeText(1, 20).map((k) => `k${k}`), safeText(0, 40), { maxKeys: 3 })),
};
type Field = keyof typeof anyFields;
/**
 * Whole bodies from three shapes, so both sides of the property are reached by the distribution and never by luck of
 * the seed (a run of 150 bodies drawn only from `anyFields` once had no 201 at all): any value in every field; every
 * field valid; every field valid but one, taken from its whole class (the refusal of each field alone, named).
 */
const openBodyArb = fc.oneof(
  fc.record(anyFields),
  fc.record(validFields),
  fc.constantFrom(...(Object.keys(anyFields) as Field[])).chain((field) => fc.record({ ...validFields, [field]: anyFields[field] })),
).map(defined);

// ---- helpers -----------------------------------------------------------------------------------------------------

const send = (url: string, body: object) =>
  // JSON.stringify writes a lone surrogate as a \udXXX escape: the raw JSON a client sends.
  app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });

/** A 400's every reason names a field of the body (or the id of the path). */
function expectNamedRefusal(res: { statusCode: number; json: () => { reasons?: string[] } }, body: object): void {
  const reasons = res.json().reasons ?? [];
  expect(reasons.length).toBeGreaterThan(0);
  for (const r of reasons) expect([...Object.keys(body), 'id']).toContain(r.split(/[.:]/)[0]);
}

const baseIncident = (): Incident => ({ id: uniqueId('inc'), tenantId: TENANT, title: 'Packet loss', severity: 'critical', openedAt: '2026-01-01T00:00:00Z' });
const followUpsFor = (inc: Incident, at: string, actor?: string): FollowUpRecord[] => [
  { key: `chain:callback:${at}`, kind: 'callback', dueAt: at, event: { type: 'incident.resolved', eventId: `probectl-${inc.id}/incident.resolved`, incidentId: inc.id, tenantId: inc.tenantId, source: 'api', ...(actor !== undefined ? { actor } : {}), at } },
  { key: 'chain:re-resolve:pagerduty', kind: 're-resolve', dueAt: at, connectorId: 'pagerduty', externalRef: 'probectl-x', resolution: { source: 'api', ...(actor !== undefined ? { actor } : {}) } },
];

/** Every writer's shape at once: the incident row raised to resolved, a link, keyed entries, follow-ups (jsonb). */
function everything(inc: Incident, at: string, actor?: string, detail?: string, ref?: string): RecordBatch {
  return {
    incident: inc, status: 'resolved', acknowledgedAt: at, resolution: { at, source: 'api', ...(actor !== undefined ? { actor } : {}) },
    links: [{ connectorId: 'pagerduty', provider: 'pagerduty', status: 'resolved', ...(ref !== undefined ? { externalRef: ref } : {}), ...(detail !== undefined ? { error: detail } : {}), updatedAt: at }],
    entries: [{ key: `resolved:${at}`, at, kind: 'resolved', source: 'api', ...(actor !== undefined ? { actor } : {}), ...(detail !== undefined ? { detail } : {}) }],
    followUps: followUpsFor(inc, at, actor),
  };
}

async function stored(inc: Incident) {
  return withTenant(pool, TENANT, async (c) => {
    const row = (await c.query<{ title: string; opened_at: Date; resolved_at: Date; resolution_actor: string | null }>(
      'SELECT title, opened_at, resolved_at, resolution_actor FROM incidents WHERE tenant_id = $1 AND incident_id = $2', [TENANT, inc.id])).rows[0];
    const follow = (await c.query<{ incident: Incident; payload: Record<string, unknown> }>('SELECT incident, payload FROM follow_ups WHERE tenant_id = $1 AND incident_id = $2 ORDER BY id', [TENANT, inc.id])).rows;
    return { row, follow };
  });
}

const runs = (n: number) => ({ ...fuzzParams(n), interruptAfterTimeLimit: 60_000 });

// ---- properties --------------------------------------------------------------------------------------------------

describe('/v1: refused with a 400 naming the field, or recorded as sent', () => {
  test('the edge dates, one by one: 201 only for what Postgres stores as the same instant', async () => {
    const answers: Record<string, number> = {};
    for (const openedAt of EDGE_DATES) {
      handed = {};
      const body = { id: uniqueId('d'), title: 't', severity: 'critical', openedAt };
      const res = await send('/v1/incidents', body);
      answers[openedAt] = res.statusCode;
      if (res.statusCode === 400) {
        expect(res.json().reasons).toEqual([expect.stringMatching(/^openedAt: /)]);
        continue;
      }
      const inc = handed.incident!;
      await mirror.record(everything(inc, openedAt));
      expect((await stored(inc)).row!.opened_at.getTime()).toBe(Date.parse(openedAt));
    }
    // The class's corners, written out: what Postgres refuses as written, or could store only as another instant.
    expect(answers).toMatchObject({
      '0000-01-01T00:00:00Z': 400, '0000-12-31T23:00:00-02:00': 400, '10000-01-01T00:00:00Z': 400, '+010000-01-01T00:00:00Z': 400,
      '9999-12-31T23:59:59-01:00': 400, '2024-01-01T00:00:00+16:00': 400, '2024-01-01T00:00:00+23:59': 400, '2016-12-31T23:59:60Z': 400,
      '2023-02-29T12:00:00Z': 400, '2024-04-31T00:00:00Z': 400,
      '0001-01-01T00:00:00Z': 201, '0001-01-01T00:00:00-01:00': 201, '9999-12-31T23:59:59.999Z': 201, '9999-12-31T23:59:59+14:00': 201,
      '2024-01-01T00:00:00+15:59': 201, '2024-02-29T12:00:00Z': 201,
    });
  });

  test('open: any body', async () => {
    const seen = { refused: 0, taken: 0 };
    await fc.assert(fc.asyncProperty(openBodyArb, async (body) => {
      handed = {};
      const res = await send('/v1/incidents', body);
      if (res.statusCode === 400) return void (seen.refused += 1, expectNamedRefusal(res, body));
      expect(res.statusCode).toBe(201);
      seen.taken += 1;
      // Recorded under a fresh id (generated ids repeat across runs); everything else as the API handed it on.
      const inc = { ...handed.incident!, id: uniqueId('o') };
      await mirror.record(everything(inc, inc.openedAt, inc.title, inc.summary, inc.url));
      const { row, follow } = await stored(inc);
      expect(row!.title).toBe(inc.title);
      expect(row!.opened_at.getTime()).toBe(Date.parse(inc.openedAt));
      expect(follow[0]!.incident).toEqual(JSON.parse(JSON.stringify({ ...inc, openedAt: inc.openedAt })));
    }), runs(150));
    // Both sides of the property were exercised.
    expect(seen.refused).toBeGreaterThan(0);
    expect(seen.taken).toBeGreaterThan(0);
  });

  test.each(['correlate', 'acknowledge', 'resolve'])('%s: any body', async (route) => {
    const bodyArb = route === 'correlate'
      ? fc.record({ signalId: anyText(256), summary: opt(anyText(4096)) })
      : fc.record({ actor: opt(anyText(256)), reason: route === 'resolve' ? opt(anyText(1000)) : fc.constant(undefined) });
    const seen = { refused: 0, taken: 0 };
    await fc.assert(fc.asyncProperty(bodyArb.map(defined), async (body) => {
      handed = {};
      const inc = baseIncident();
      const res = await send(`/v1/incidents/${inc.id}/${route}`, body);
      if (res.statusCode === 400) return void (seen.refused += 1, expectNamedRefusal(res, body));
      expect(res.statusCode).toBe(202);
      seen.taken += 1;
      if (route === 'correlate') {
        // The API records the entry itself, on the real mirror: it is there.
        const timeline = await mirror.timeline(TENANT, inc.id);
        expect(timeline.map((t) => t.kind)).toEqual(['correlated']);
        return;
      }
      const s = handed.signal!;
      await mirror.record(everything(inc, s.at, s.actor, s.reason));
      const { row, follow } = await stored(inc);
      expect(row!.resolution_actor).toBe(s.actor ?? null);
      expect(follow.map((f) => (f.payload.event as { actor?: string } | undefined)?.actor)).toEqual([s.actor, undefined]);
    }), runs(100));
    expect(seen.refused).toBeGreaterThan(0);
    expect(seen.taken).toBeGreaterThan(0);
  });
});

describe('the record path alone: anything a writer is handed is stored', () => {
  test('any text in every field, any date Date.parse reads', async () => {
    const parseable = anyDate.filter((d) => Number.isFinite(Date.parse(d)));
    await fc.assert(fc.asyncProperty(
      fc.record({ title: anyText(64), summary: anyText(64), label: anyText(16), actor: anyText(64), detail: anyText(64), ref: anyText(32), openedAt: parseable, at: parseable }),
      async (v) => {
        const inc: Incident = { ...baseIncident(), title: v.title, summary: v.summary, labels: { [v.label]: v.label }, openedAt: v.openedAt };
        await mirror.record(everything(inc, v.at, v.actor, v.detail, v.ref));
        const { row, follow } = await stored(inc);
        expect(row!.title).toBe(storable(v.title));
        expect(row!.resolution_actor).toBe(storable(v.actor));
        for (const [t, written] of [[row!.opened_at.getTime(), Date.parse(v.openedAt)], [row!.resolved_at.getTime(), Date.parse(v.at)]] as const) {
          expect(t).toBe(Math.min(LAST, Math.max(FIRST, written)));
        }
        expect(follow).toHaveLength(2);
        expect(follow[0]!.incident.title).toBe(storable(v.title));
        const timeline = await mirror.timeline(TENANT, inc.id);
        expect(timeline.map((t) => [t.actor, t.detail])).toEqual([[storable(v.actor) || undefined, storable(v.detail) || undefined]]);
      },
    ), runs(150));
  });
});

describe('inbound parsers: the actor, ids and references they hand on can be recorded', () => {
  const KEY = 'probectl-inc-inbound';
  /** Each parser's payload with its actor, delivery id and references taken from the generated values. */
  const PAYLOADS: Record<string, { parse: (b: unknown) => ReturnType<typeof parsePortable>; body: (v: { actor: string; id: string; ref: string }) => unknown }> = {
    pagerduty: { parse: parsePagerDuty, body: (v) => ({ event: { id: v.id, event_type: 'incident.resolved', resource_type: 'incident', agent: { summary: v.actor, type: 'user_reference' }, data: { id: v.ref, type: 'incident', incident_key: KEY, status: 'resolved' } } }) },
    opsgenie: { parse: parseOpsgenie, body: (v) => ({ action: 'Close', alert: { alertId: v.ref, alias: KEY, username: v.actor }, source: { name: v.actor, type: 'web' } }) },
    servicenow: { parse: parseServiceNow, body: (v) => ({ sys_id: v.ref, state: '6', correlation_id: KEY, number: v.id, actor: v.actor }) },
    jira: { parse: parseJira, body: (v) => ({ webhookEvent: 'jira:issue_updated', user: { displayName: v.actor }, issue: { id: v.id, key: v.ref, fields: { labels: ['probectl', KEY], status: { name: 'Done', statusCategory: { key: 'done' } } } }, changelog: { items: [{ field: 'status', fromString: 'To Do', toString: 'Done' }] } }) },
    portable: { parse: parsePortable, body: (v) => ({ external_ref: v.ref, status: 'resolved', actor: v.actor, delivery_id: v.id }) },
  };

  test.each(Object.keys(PAYLOADS))('%s', async (provider) => {
    const { parse, body } = PAYLOADS[provider]!;
    let parsed = 0;
    await fc.assert(fc.asyncProperty(fc.record({ actor: anyText(256), id: anyText(255), ref: anyText(255) }), async (v) => {
      const r = parse(body(v));
      if (!r.ok || r.event.kind === 'ignored') return;
      parsed += 1;
      const inc = baseIncident();
      const refs = [r.event.refs.externalRef, ...(r.event.refs.alternateRefs ?? [])].filter((x): x is string => !!x);
      // The delivery transaction: the delivery id claimed, the reverse lookup, the outbox row.
      // (Under a tenant of its own each time: generated delivery ids repeat across runs.)
      const outcome = await mirror.inboundDelivery(uniqueId('ib'), r.event.deliveryId ? { provider: 'servicenow', deliveryId: r.event.deliveryId, entryId: 'e' } : undefined, async (lookup) => {
        await lookup.findByExternalRef('servicenow', refs);
        return lookup.enqueue({ incidentId: inc.id, kind: 'resolved', source: 'inbound:e', ...(r.event.actor ? { actor: r.event.actor } : {}), reason: 'resolved in servicenow', entryId: 'e', provider: 'servicenow' }, 30_000);
      });
      expect(outcome.duplicate).toBe(false);
      // The signal's records: the actor on the incident row, the timeline, the follow-ups; a reference on the link.
      await mirror.record(everything(inc, new Date().toISOString(), r.event.actor, r.event.reason, refs[0]));
      expect((await stored(inc)).row!.resolution_actor).toBe(r.event.actor === undefined ? null : storable(r.event.actor));
    }), runs(60));
    expect(parsed).toBeGreaterThan(0);
  });
});
