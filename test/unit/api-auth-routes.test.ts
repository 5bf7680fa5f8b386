/**
 * Authentication is decided by the route Fastify matched, for every route in its own route table and every
 * spelling of the request-target an attacker can send (percent-escapes, absolute form, doubled slashes, case,
 * trailing slash, dot segments, query, HEAD/OPTIONS). For each request without a valid credential the test
 * asserts three things, not only the status: the answer is 401 or 404, no handler ran (a root preHandler spy,
 * which Fastify runs right before every handler, never fired), and no backing call (Temporal or Postgres) was
 * made. A 404 from a handler that ran is exactly the bug this guards against.
 *
 * Written against the defect found on main at 528100c, where the bearer hook looked at the raw `req.url`:
 * `GET /%761/incidents/<id>` and `GET http://x/v1/incidents/<id>` reached the handlers without a token
 * (the spelling table below fails there: the preHandler spy fires and tenantOf is called).
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app';
import { TokenAuthenticator } from '../../src/api/auth';
import { sameTenant } from '../../src/api/routes/incidents';
import { TenantConflictError, type IncidentClient } from '../../src/client';
import { parseApiTokens } from '../../src/config/api-tokens';
import { ConnectorDirectory } from '../../src/config/connectors';
import { InboundDirectory, parseInbound } from '../../src/config/inbound';
import type { MirrorStore } from '../../src/db/mirror-store';
import { createLogger } from '../../src/observability/logger';
import { rawRequest } from '../helpers/raw-http';

const TOKEN_A = 'tenant-a-token-0123456789abcdef';
const TOKEN_B = 'tenant-b-token-0123456789abcdef';
const INBOUND_SECRET = 'inbound-secret-0123456789abcdef';
const INCIDENT = 'inc-A1';
/** Routes anyone may call: liveness, readiness (also the inbound one a load balancer checks), the metrics scrape and the OpenAPI document. Every other route must authenticate. */
const PUBLIC = new Set(['/healthz', '/readyz', '/readyz/inbound', '/metrics', '/openapi.json']);

type Call = { what: string; args: unknown[] };

/** Fakes of the two backing services that record every call; the incident belongs to tenant A. */
function backing(calls: Call[]) {
  const rec = (what: string) => (...args: unknown[]) => {
    calls.push({ what, args });
  };
  const owner = async (id: string) => (id === INCIDENT ? { tenantId: 'tenant-a', status: 'RUNNING', runId: 'r1' } : undefined);
  const incidents = {
    tenantOf: async (id: string) => {
      calls.push({ what: 'temporal.tenantOf', args: [id] });
      return owner(id);
    },
    openIncident: async (inc: { id: string; tenantId: string }) => {
      const o = await owner(inc.id);
      calls.push({ what: 'temporal.tenantOf', args: [inc.id] });
      if (o && o.tenantId !== inc.tenantId) throw new TenantConflictError();
      rec('temporal.start')(inc);
      return { outcome: 'started', workflowId: `probectl-${inc.id}`, runId: 'r2' };
    },
    getIncident: async (id: string) => {
      rec('temporal.query')(id);
      // A state as the workflow's query returns it (answers are serialized through the documented schema).
      return { incident: { id, tenantId: 'tenant-a', title: 't', severity: 'critical', openedAt: new Date().toISOString() }, status: 'open', links: [], timeline: [] };
    },
    correlate: async (...a: unknown[]) => rec('temporal.signal.correlate')(...a),
    acknowledge: async (...a: unknown[]) => rec('temporal.signal.acknowledge')(...a),
    resolve: async (...a: unknown[]) => rec('temporal.signal.resolve')(...a),
  } as unknown as IncidentClient;
  const mirror = {
    timeline: async (tenantId: string, id: string) => {
      calls.push({ what: 'postgres.timeline', args: [tenantId, id] });
      return tenantId === 'tenant-a' && id === INCIDENT ? [{ seq: 1, at: new Date().toISOString(), kind: 'opened' }] : [];
    },
    inboundDelivery: async (...a: unknown[]) => {
      rec('postgres.inboundDelivery')(...a);
      return { duplicate: true };
    },
    findByExternalRef: async (...a: unknown[]) => {
      rec('postgres.findByExternalRef')(...a);
      return [];
    },
    pruneDeliveries: async () => 0,
    ping: async () => rec('postgres.ping')(),
  } as unknown as MirrorStore;
  return { incidents, mirror };
}

interface Harness {
  app: FastifyInstance;
  port: number;
  calls: Call[];
  /** Routes whose preHandler ran (Fastify's own not-found route included, as "(not found)"). */
  handled: string[];
  /** Route each request matched when it reached routing ("(not found)" when none did). */
  routed: string[];
}

async function start(): Promise<Harness> {
  const calls: Call[] = [];
  const { incidents, mirror } = backing(calls);
  const app = buildApp({
    log: createLogger('silent'),
    auth: new TokenAuthenticator(parseApiTokens(`tenant-a:${TOKEN_A},tenant-b:${TOKEN_B}`)),
    incidents,
    mirror,
    checks: {},
    isAccepting: () => true,
    inbound: { entries: new InboundDirectory(parseInbound(`sn:tenant-a:servicenow:${INBOUND_SECRET}`)), connectors: new ConnectorDirectory([]) },
  });
  const h: Harness = { app, port: 0, calls, handled: [], routed: [] };
  // Fastify runs preHandler hooks immediately before the handler: a request that never reaches one never ran
  // a handler. onRequest counts requests that reached routing at all (the HTTP parser refuses some spellings).
  app.addHook('onRequest', async (req) => {
    h.routed.push(req.routeOptions.url ?? '(not found)');
  });
  app.addHook('preHandler', async (req) => {
    h.handled.push(`${req.method} ${req.routeOptions.url ?? '(not found)'}`);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  h.port = (app.server.address() as AddressInfo).port;
  return h;
}

/** `/v1/incidents/:id/resolve` → a concrete path for the incident of tenant A (or the inbound entry). */
function concrete(url: string): string {
  return url.replace(':id', url.startsWith('/ingest') ? 'sn' : INCIDENT).replace(':provider', 'servicenow');
}

/** Every spelling of one path a router or proxy might take to mean it; the first one is the plain path. */
export function spellings(path: string): string[] {
  const out = new Set<string>([path]);
  const segs = path.split('/').slice(1);
  // each character of the path percent-encoded on its own, upper and lower hex
  for (let i = 1; i < path.length; i++) {
    const ch = path[i]!;
    const hex = ch.charCodeAt(0).toString(16).padStart(2, '0');
    out.add(`${path.slice(0, i)}%${hex.toUpperCase()}${path.slice(i + 1)}`);
    out.add(`${path.slice(0, i)}%${hex.toLowerCase()}${path.slice(i + 1)}`);
  }
  // the whole path percent-encoded, slashes kept
  out.add(`/${segs.map((s) => [...s].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).join('')).join('/')}`);
  // absolute form
  for (const origin of ['http://x', 'https://x', 'http://127.0.0.1:1', 'HTTP://X', 'http://user@x']) out.add(`${origin}${path}`);
  // doubled slashes, at each position, and everywhere
  for (let i = 0; i < path.length; i++) if (path[i] === '/') out.add(`${path.slice(0, i)}/${path.slice(i)}`);
  out.add(path.replace(/\//g, '//'));
  // case
  out.add(path.toUpperCase());
  out.add(`/${segs.map((s) => s.charAt(0).toUpperCase() + s.slice(1)).join('/')}`);
  // trailing slash, query, fragment
  for (const tail of ['/', '/.', '?', '?a=b', '?v1', '#x', '?x#y', '%3F', '%23', ';a=b', '%00', '%2F']) out.add(`${path}${tail}`);
  // dot segments and their encodings
  out.add(`/.${path}`);
  out.add(`/x/..${path}`);
  out.add(`/%2e${path}`);
  out.add(`/x/%2e%2e${path}`);
  out.add(`/${segs[0]}/.${path.slice(segs[0]!.length + 1)}`);
  out.add(`/${segs[0]}/x/..${path.slice(segs[0]!.length + 1)}`);
  // separators spelled another way
  out.add(path.replace(/\//g, '%2F'));
  out.add(path.replace(/\//g, '\\'));
  out.add(`/${segs[0]};x/${segs.slice(1).join('/')}`);
  return [...out];
}

const BODIES: Record<string, string> = {
  '/v1/incidents': JSON.stringify({ id: INCIDENT, title: 't', severity: 'critical' }),
  '/v1/incidents/:id/correlate': JSON.stringify({ signalId: 's1' }),
};

describe('every route × every request-target spelling × no or wrong credential', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await start();
  });
  afterAll(async () => {
    await h?.app.close();
  });

  test('the route table is Fastify\'s own and every non-public route is covered below', () => {
    const urls = new Set(h.app.routeTable.map((r) => r.url));
    // The table really is the registered one: it holds the /v1 routes under their prefix and the inbound route.
    expect(urls.has('/v1/incidents/:id/resolve')).toBe(true);
    expect(urls.has('/ingest/itsm/:provider/:id')).toBe(true);
    expect(h.app.routeTable.some((r) => r.method === 'HEAD')).toBe(true);
    for (const r of h.app.routeTable) {
      if (PUBLIC.has(r.url)) continue;
      expect({ route: r.url, guarded: r.url.startsWith('/v1/') || r.url.startsWith('/ingest/') }).toEqual({ route: r.url, guarded: true });
    }
  });

  // [label, headers, every spelling (true) or the first dozen]
  const credentials: Array<[string, Record<string, string>, boolean]> = [
    ['no credential', {}, true],
    ['a wrong bearer token', { authorization: 'Bearer not-a-valid-token-0123456789' }, true],
    ['a wrong inbound token', { 'x-probectl-token': 'not-the-inbound-secret-0123', 'content-type': 'application/json' }, true],
    ['a token as Basic', { authorization: `Basic ${Buffer.from(`x:${TOKEN_A}`).toString('base64')}` }, false],
    ['a token without the scheme', { authorization: TOKEN_A }, false],
    ['a token with a trailing character', { authorization: `Bearer ${TOKEN_A}x` }, false],
    ['an inbound secret as bearer', { authorization: `Bearer ${INBOUND_SECRET}` }, false],
  ];

  test.each(credentials)('%s: 401 or 404, no handler ran, no backing call, for every route and spelling', async (_label, headers, every) => {
    const failures: string[] = [];
    let requests = 0;
    for (const route of h.app.routeTable) {
      if (PUBLIC.has(route.url)) continue;
      const path = concrete(route.url);
      const methods = every ? [...new Set([route.method, 'HEAD', 'OPTIONS', 'GET', 'POST'])] : [route.method];
      const targets = spellings(path);
      for (const target of every ? targets : targets.slice(0, 12)) {
        for (const method of methods) {
          h.calls.length = 0;
          h.handled.length = 0;
          h.routed.length = 0;
          const body = method === 'POST' ? BODIES[route.url] ?? '{}' : undefined;
          const res = await rawRequest(h.port, method, target, { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body);
          requests += 1;
          // A route handler of ours ran (Fastify's not-found route is not one).
          const ours = h.handled.filter((x) => !x.endsWith('(not found)'));
          // 400 only where no route matched (Node's HTTP parser, or the body parser of Fastify's not-found route).
          const matched = h.routed.some((r) => r !== '(not found)');
          const okStatus = res.status === 401 || res.status === 404 || (res.status === 400 && !matched);
          if (!okStatus || ours.length > 0 || h.calls.length > 0) {
            failures.push(`${method} ${target} → ${res.status}; handlers: ${JSON.stringify(ours)}; calls: ${JSON.stringify(h.calls.map((c) => c.what))}`);
          }
        }
      }
    }
    expect(requests).toBeGreaterThan(every ? 1000 : 50);
    expect(failures).toEqual([]);
  });

  // Not in the table above: methods no route declares (WebDAV, TRACE, a lower-case method the HTTP parser refuses)
  // and headers that some frameworks or proxies honour to rewrite the method or the path.
  test('other methods and rewrite headers: no handler, no backing call, for every guarded route', async () => {
    const failures: string[] = [];
    let requests = 0;
    const tricks: Array<Record<string, string>> = [
      {}, { 'x-http-method-override': 'GET' }, { 'x-http-method': 'POST' }, { 'x-original-url': '/healthz' }, { 'x-rewrite-url': '/healthz' },
      { 'x-forwarded-prefix': '/healthz' }, { authorization: `Bearer ${TOKEN_A}, Bearer x` }, { authorization: `Bearer x ${TOKEN_A}` },
    ];
    for (const route of h.app.routeTable) {
      if (PUBLIC.has(route.url)) continue;
      for (const method of ['PUT', 'DELETE', 'PATCH', 'TRACE', 'PROPFIND', 'SEARCH', 'LOCK', 'get', 'post']) {
        for (const headers of tricks) {
          h.calls.length = 0;
          h.handled.length = 0;
          const res = await rawRequest(h.port, method, concrete(route.url), { ...headers, 'content-type': 'application/json' }, '{}');
          requests += 1;
          const ours = h.handled.filter((x) => !x.endsWith('(not found)'));
          if (![400, 401, 404].includes(res.status) || ours.length > 0 || h.calls.length > 0) failures.push(`${method} ${route.url} ${JSON.stringify(headers)} → ${res.status}`);
        }
      }
      // The rewrite headers on the route's own method, without a credential: still refused.
      for (const headers of tricks.slice(1)) {
        h.calls.length = 0;
        const res = await rawRequest(h.port, route.method, concrete(route.url), { ...headers, 'content-type': 'application/json' }, route.method === 'POST' ? BODIES[route.url] ?? '{}' : undefined);
        requests += 1;
        if (![401, 404].includes(res.status) || h.calls.length > 0) failures.push(`${route.method} ${route.url} ${JSON.stringify(headers)} → ${res.status}`);
      }
    }
    expect(requests).toBeGreaterThan(500);
    expect(failures).toEqual([]);
  });

  test('the plain spelling with a valid token really reaches the handlers (the table above is not vacuous)', async () => {
    h.calls.length = 0;
    h.handled.length = 0;
    const res = await rawRequest(h.port, 'GET', `/v1/incidents/${INCIDENT}`, { authorization: `Bearer ${TOKEN_A}` });
    expect(res.status).toBe(200);
    expect(h.handled).toEqual(['GET /v1/incidents/:id']);
    expect(h.calls.map((c) => c.what)).toEqual(['temporal.tenantOf', 'temporal.query']);
    // and a percent-encoded spelling that the router matches is authenticated the same way
    const encoded = await rawRequest(h.port, 'GET', `/%761/incidents/${INCIDENT}`, { authorization: `Bearer ${TOKEN_A}` });
    const bare = await rawRequest(h.port, 'GET', `/%761/incidents/${INCIDENT}`);
    expect([encoded.status, bare.status]).toEqual([200, 401]);
  });

  test('another tenant\'s token: 404 (409 for an open of the same id); only the ownership lookup is made', async () => {
    const failures: string[] = [];
    for (const route of h.app.routeTable) {
      if (!route.url.startsWith('/v1/') || route.method === 'HEAD') continue;
      for (const target of spellings(concrete(route.url)).slice(0, 12)) {
        h.calls.length = 0;
        const body = route.method === 'POST' ? BODIES[route.url] ?? '{}' : undefined;
        const res = await rawRequest(h.port, route.method, target, {
          authorization: `Bearer ${TOKEN_B}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        }, body);
        const expected = route.url === '/v1/incidents' ? [409, 404] : [404];
        // Ownership lookups only: Temporal's describe (tenantOf), or the timeline read under tenant B's own RLS.
        const other = h.calls.filter((c) => c.what !== 'temporal.tenantOf' && !(c.what === 'postgres.timeline' && c.args[0] === 'tenant-b'));
        if (!expected.includes(res.status) || other.length > 0) failures.push(`${route.method} ${target} → ${res.status}; calls ${JSON.stringify(h.calls.map((c) => c.what))}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

/**
 * Incident ids are valid up to 128 characters ([A-Za-z0-9._-]{1,128}, design.md), and POST /v1/incidents opens
 * one. Fastify refuses a path parameter over its maxParamLength (100 by default) with 414 before any route runs:
 * an incident opened with a 101–128 character id could then never be shown, acknowledged or resolved over /v1
 * (and 414 is no answer the OpenAPI document lists).
 */
describe('the longest valid incident id', () => {
  test('reaches every /v1 route that takes an id', async () => {
    const id = `inc-${'x'.repeat(124)}`;
    const calls: Call[] = [];
    const { mirror } = backing(calls);
    const incidents = {
      tenantOf: async () => ({ tenantId: 'tenant-a', status: 'COMPLETED', runId: 'r' }),
      getIncident: async () => ({ incident: { id, tenantId: 'tenant-a', title: 't', severity: 'critical', openedAt: new Date().toISOString() }, status: 'resolved', links: [], timeline: [] }),
    } as unknown as IncidentClient;
    const app = buildApp({
      log: createLogger('silent'), auth: new TokenAuthenticator(parseApiTokens(`tenant-a:${TOKEN_A}`)), incidents, mirror, checks: {}, isAccepting: () => true,
    });
    const headers = { authorization: `Bearer ${TOKEN_A}` };
    const statuses = [
      (await app.inject({ method: 'GET', url: `/v1/incidents/${id}`, headers })).statusCode,
      (await app.inject({ method: 'GET', url: `/v1/incidents/${id}/timeline`, headers })).statusCode,
      (await app.inject({ method: 'POST', url: `/v1/incidents/${id}/resolve`, headers, payload: {} })).statusCode,
    ];
    // 200 state; 200 timeline (the fake mirror has none for this id: the caller's own incident answers an empty one,
    // as its state route answers); 200 no-op resolve of a closed incident
    expect(statuses).toEqual([200, 200, 200]);
    await app.close();
  });
});

describe('ownership checks refuse when either tenant is missing', () => {
  test.each([
    ['tenant-a', 'tenant-a', true],
    ['tenant-a', 'tenant-b', false],
    [undefined, undefined, false],
    [undefined, 'tenant-a', false],
    ['tenant-a', undefined, false],
    ['', '', false],
    ['', 'tenant-a', false],
  ] as const)('sameTenant(%p, %p) is %p', (a, b, expected) => {
    expect(sameTenant(a, b)).toBe(expected);
  });

  test('an incident started without the tenantId memo is invisible to every token', async () => {
    const calls: Call[] = [];
    const { mirror } = backing(calls);
    const incidents = {
      tenantOf: async () => ({ tenantId: undefined, status: 'RUNNING', runId: 'r' }),
      getIncident: async () => {
        calls.push({ what: 'temporal.query', args: [] });
        return {};
      },
      resolve: async () => void calls.push({ what: 'temporal.signal.resolve', args: [] }),
    } as unknown as IncidentClient;
    const app = buildApp({
      log: createLogger('silent'),
      auth: new TokenAuthenticator(parseApiTokens(`tenant-a:${TOKEN_A}`)),
      incidents, mirror, checks: {}, isAccepting: () => true,
    });
    const get = await app.inject({ method: 'GET', url: '/v1/incidents/no-memo', headers: { authorization: `Bearer ${TOKEN_A}` } });
    const resolve = await app.inject({ method: 'POST', url: '/v1/incidents/no-memo/resolve', headers: { authorization: `Bearer ${TOKEN_A}` }, payload: {} });
    expect([get.statusCode, resolve.statusCode]).toEqual([404, 404]);
    expect(calls).toEqual([]);
    await app.close();
  });
});
