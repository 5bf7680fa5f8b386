/**
 * /v1 answers at the edges of what the mirror can store, against a fake Temporal client and a fake mirror:
 * - an id made only of dots (`.`, `..`: path segments a client's URL normalisation removes) is refused on every
 *   route with a 400 naming `id`;
 * - a correlated signal's timeline key is held to the column's 500 characters, so every id and signalId the schema
 *   documents (≤ 128, ≤ 256) is taken (was 300: a 128-character id with a 200-character signalId answered 400);
 * - GET /incidents/{id}/timeline of the caller's own incident whose mirror has no rows yet answers 200 with an empty
 *   list, as GET /incidents/{id} answers its state; a missing and another tenant's incident answer the same 404.
 */
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app';
import { TokenAuthenticator } from '../../src/api/auth';
import { IncidentClient, InvalidIncidentError } from '../../src/client';
import { parseApiTokens } from '../../src/config/api-tokens';
import type { MirrorStore } from '../../src/db/mirror-store';
import { createLogger } from '../../src/observability/logger';
import type { TimelineEntry } from '../../src/shared/contract';

const TOKEN_A = 'tenant-a-token-0123456789abcdef';
const LONG_ID = 'i'.repeat(128);

/** inc-running: A's, no mirror rows yet; inc-rows: A's, rows; inc-b: B's (rows under B only); `.`/`..` exist as runs of A. */
const OWNERS: Record<string, { tenantId: string; status: string }> = {
  'inc-running': { tenantId: 'tenant-a', status: 'RUNNING' },
  'inc-rows': { tenantId: 'tenant-a', status: 'RUNNING' },
  'inc-b': { tenantId: 'tenant-b', status: 'RUNNING' },
  [LONG_ID]: { tenantId: 'tenant-a', status: 'RUNNING' },
  '.': { tenantId: 'tenant-a', status: 'RUNNING' },
  '..': { tenantId: 'tenant-a', status: 'RUNNING' },
};
const ENTRY: TimelineEntry = { seq: 1, at: '2026-01-01T00:00:00.000Z', kind: 'opened' };
const ROWS: Record<string, TimelineEntry[]> = { 'tenant-a/inc-rows': [ENTRY], 'tenant-b/inc-b': [ENTRY] };

let app: FastifyInstance;
const calls: string[] = [];
const recorded: Array<{ key: string }> = [];
beforeAll(async () => {
  const note = (what: string) => async (id: string) => void calls.push(`${what} ${id}`);
  app = buildApp({
    log: createLogger('silent'),
    auth: new TokenAuthenticator(parseApiTokens(`tenant-a:${TOKEN_A}`)),
    incidents: {
      tenantOf: async (id: string) => (OWNERS[id] ? { ...OWNERS[id], runId: 'r1' } : undefined),
      openIncident: async (inc: { id: string }) => (calls.push(`open ${inc.id}`), { outcome: 'started', workflowId: `probectl-${inc.id}` }),
      acknowledge: note('acknowledge'), resolve: note('resolve'), correlate: note('correlate'),
      getIncident: async (id: string) => (calls.push(`get ${id}`), {
        incident: { id, tenantId: 'tenant-a', title: 't', severity: 'critical', openedAt: ENTRY.at }, status: 'open', links: [], timeline: [],
      }),
    } as unknown as IncidentClient,
    mirror: {
      timeline: async (tenantId: string, id: string) => ROWS[`${tenantId}/${id}`] ?? [],
      recordEntries: async (_t: string, _i: string, entries: Array<{ key: string }>) => void recorded.push(...entries),
    } as unknown as MirrorStore,
    checks: {},
    isAccepting: () => true,
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
});
beforeEach(() => {
  calls.length = 0;
  recorded.length = 0;
});

const auth = { authorization: `Bearer ${TOKEN_A}` };
const get = (url: string) => app.inject({ method: 'GET', url, headers: auth });
const post = (url: string, payload: object) => app.inject({ method: 'POST', url, headers: auth, payload });

describe('ids made only of dots', () => {
  test.each(['.', '..', '...', '....'])('%s: POST /v1/incidents answers 400 naming id; nothing is started', async (id) => {
    const res = await post('/v1/incidents', { id, title: 't', severity: 'critical' });
    expect({ status: res.statusCode, body: res.json() }).toEqual({ status: 400, body: { error: 'invalid_request', reasons: ['id: must not be made only of dots'] } });
    expect(calls).toEqual([]);
  });

  // `.` and `..` as a path segment are removed by URL normalisation (here, or by the client) before any route is
  // matched; `...` and longer reach the route and its parameter schema.
  test.each(['...', '....', '%2E%2E%2E'])('/v1/incidents/%s on every route: 400 naming id, nothing reaches Temporal', async (seg) => {
    const answers = [
      await get(`/v1/incidents/${seg}`),
      await get(`/v1/incidents/${seg}/timeline`),
      await post(`/v1/incidents/${seg}/correlate`, { signalId: 's' }),
      await post(`/v1/incidents/${seg}/acknowledge`, {}),
      await post(`/v1/incidents/${seg}/resolve`, {}),
    ];
    for (const res of answers) {
      expect({ status: res.statusCode, body: res.json() }).toEqual({ status: 400, body: { error: 'invalid_request', reasons: ['id: must not be made only of dots'] } });
    }
    expect(calls).toEqual([]);
  });

  test.each(['.', '..', '%2E', '%2E%2E', '.%2E'])('/v1/incidents/%s/…: no handler is reached with a dot segment as the id', async (seg) => {
    for (const res of [await get(`/v1/incidents/${seg}/timeline`), await post(`/v1/incidents/${seg}/resolve`, {}), await get(`/v1/incidents/${seg}`)]) {
      expect([400, 404]).toContain(res.statusCode);
    }
    expect(calls).toEqual([]);
  });

  // The CLI (`incident open --incident ..`) and any other caller of the TypeScript client start through
  // IncidentClient.openIncident: refused there too, before Temporal is asked.
  test.each(['.', '..', '...'])('IncidentClient.openIncident refuses %s before any Temporal call', async (id) => {
    const temporal: string[] = [];
    const client = { workflow: { start: async () => void temporal.push('start'), getHandle: () => ({ describe: async () => void temporal.push('describe') }) } } as unknown as Client;
    const incidents = new IncidentClient({ client, taskQueue: 'q' });
    const err = await incidents.openIncident({ id, tenantId: 'tenant-a', title: 't', severity: 'critical', openedAt: ENTRY.at }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidIncidentError);
    expect((err as InvalidIncidentError).problems).toEqual(['incident.id must not be made only of dots']);
    expect(temporal).toEqual([]);
  });

  test.each(['.a', 'a.', '.-', '_.', 'a..b', '..a'])('%s (not only dots) is still an id', async (id) => {
    expect((await post('/v1/incidents', { id, title: 't', severity: 'critical' })).statusCode).toBe(201);
  });
});

describe('a correlated signal\'s timeline key: the column\'s 500 characters', () => {
  test.each([1, 200, 255, 256])('a 128-character id with a %i-character signalId is taken, and its key recorded whole', async (n) => {
    const signalId = 's'.repeat(n);
    const res = await post(`/v1/incidents/${LONG_ID}/correlate`, { signalId });
    expect(res.statusCode).toBe(202);
    expect(recorded.map((e) => e.key)).toEqual([`correlate:probectl-${LONG_ID}:${signalId}`]);
    expect(recorded[0]!.key.length).toBeLessThanOrEqual(500);
  });

  test('a 257-character signalId is refused by the schema (400 naming signalId)', async () => {
    const res = await post(`/v1/incidents/${LONG_ID}/correlate`, { signalId: 's'.repeat(257) });
    expect({ status: res.statusCode, reasons: res.json().reasons }).toEqual({ status: 400, reasons: [expect.stringMatching(/^signalId: /)] });
  });
});

describe('GET /incidents/{id}/timeline agrees with GET /incidents/{id}', () => {
  test('the caller\'s running incident without mirror rows yet: 200 with an empty list (the state route: 200)', async () => {
    expect((await get('/v1/incidents/inc-running')).statusCode).toBe(200);
    const res = await get('/v1/incidents/inc-running/timeline');
    expect({ status: res.statusCode, body: res.json() }).toEqual({ status: 200, body: { incidentId: 'inc-running', timeline: [] } });
  });

  test('with rows: 200 with them (Temporal is not asked)', async () => {
    const res = await get('/v1/incidents/inc-rows/timeline');
    expect({ status: res.statusCode, body: res.json() }).toEqual({ status: 200, body: { incidentId: 'inc-rows', timeline: [ENTRY] } });
  });

  test('a missing incident and another tenant\'s one (rows under that tenant) answer the same 404, as the state route does', async () => {
    const answers = [];
    for (const url of ['/v1/incidents/inc-none/timeline', '/v1/incidents/inc-b/timeline', '/v1/incidents/inc-none', '/v1/incidents/inc-b']) {
      const res = await get(url);
      answers.push({ status: res.statusCode, body: res.body, type: res.headers['content-type'] });
    }
    expect(answers[0]!.status).toBe(404);
    for (const a of answers) expect(a).toEqual(answers[0]);
  });
});

// A rejected label key is the rejected value: it never comes back in a reason (a plain short key still names the field).
describe('label keys in 400 reasons', () => {
  const bad = { long: 'k'.repeat(200), nul: 'SECRET\u0000KEY', control: 'tok\u001b[2Jen', html: '<script>x</script>', spaced: 'has space' };
  // Each key with a valid value, and with a value too long (then the key is in the failing path).
  const cases = Object.entries(bad).flatMap(([what, key]) => [[what, key, 'v'], [what, key, 'v'.repeat(2000)]] as const).filter(([, key, value]) => value !== 'v' || key.length > 128 || key.includes('\u0000'));
  test.each(cases)('a %s key: 400, the key not echoed', async (_what, key, value) => {
    const res = await post('/v1/incidents', { id: 'inc-label', title: 't', severity: 'critical', labels: { [key]: value } });
    expect(res.statusCode).toBe(400);
    const reasons = (res.json() as { reasons: string[] }).reasons;
    expect(reasons.length).toBeGreaterThan(0);
    for (const r of reasons) {
      expect(r).not.toContain(key);
      for (let i = 0; i + 6 <= key.length; i++) expect(r).not.toContain(key.slice(i, i + 6));
    }
    expect(calls).toEqual([]);
  });

  test('a plain key with a value too long: named, so the caller knows which label', async () => {
    const res = await post('/v1/incidents', { id: 'inc-label', title: 't', severity: 'critical', labels: { team: 'v'.repeat(2000) } });
    expect(res.statusCode).toBe(400);
    expect((res.json() as { reasons: string[] }).reasons.some((r) => r.startsWith('labels.team:'))).toBe(true);
  });
});
