/**
 * The OpenAPI document against the server: every status the document lists for every route is produced by a
 * real request to a real app (the real dev server, the test Postgres, the PagerDuty double), and every answer
 * given here has a status the document lists. The matched route and the status of each answer are collected
 * by an onResponse hook on the apps, not from what the test meant to call.
 *
 * Three apps share one stack: the normal one; one whose Temporal and Postgres are unreachable (a closed port,
 * no client retries), for the 503s; and one whose mirror fails with a TypeError on an inbound delivery (a bug
 * of ours, injected), for the inbound 500.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from '../../src/api/app';
import { TokenAuthenticator } from '../../src/api/auth';
import { IncidentClient } from '../../src/client';
import { Secret } from '../../src/config/secret';
import { MirrorStore } from '../../src/db/mirror-store';
import { createPool } from '../../src/db/pool';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { documentedStatuses } from '../setup/answer-contract';
import { startStack, type TestStack } from '../helpers/stack';
import { eventually, uniqueId } from '../helpers/shared';

const TENANT = 'acme-oa';
const OTHER = 'globex-oa';
const TOKEN = 'acme-openapi-token-0123456789';
const OTHER_TOKEN = 'globex-openapi-token-0123456789';
const INBOUND_SECRET = 'inbound-openapi-secret-0123456789';
const doc = JSON.parse(readFileSync(join(__dirname, '..', '..', 'docs', 'openapi.json'), 'utf8')) as { paths: Record<string, Record<string, unknown>> };

type Answer = { method: string; route: string; status: number };

describe('every documented status of every route is produced by a real request', () => {
  let pd: PagerDutyDouble;
  let stack: TestStack;
  const answers: Answer[] = [];
  const apps: FastifyInstance[] = [];
  let main: FastifyInstance;
  let down: FastifyInstance;
  let buggy: FastifyInstance;
  const deadPool = createPool(new Secret('postgres://postgres@127.0.0.1:1/none'), { connectionTimeoutMillis: 1000 });
  const deadTemporal = Connection.lazy({ address: '127.0.0.1:1', interceptors: [], connectTimeout: 1000 });

  async function recordingApp(overrides: Partial<AppDeps>): Promise<FastifyInstance> {
    const app = buildApp({
      log: stack.log,
      auth: new TokenAuthenticator(stack.config.apiTokens),
      incidents: stack.incidents,
      mirror: stack.mirror,
      checks: { postgres: () => stack.mirror.ping() },
      isAccepting: () => true,
      inbound: { entries: stack.config.inbound, connectors: stack.config.connectors, metrics: stack.inboundMetrics },
      metrics: stack.metrics,
      ...overrides,
    });
    app.addHook('onResponse', async (req, reply) => {
      if (req.routeOptions.url !== undefined) answers.push({ method: req.method, route: req.routeOptions.url, status: reply.statusCode });
    });
    await app.ready();
    apps.push(app);
    return app;
  }

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    stack = await startStack({
      env: {
        PROBECTL_NOTIFY_CONNECTORS: `${TENANT}|pagerduty|${pd.url}/v2/enqueue|rk-openapi-0123456789`,
        PROBECTL_NOTIFY_API_TOKENS: `${TENANT}:${TOKEN},${OTHER}:${OTHER_TOKEN}`,
        PROBECTL_NOTIFY_INBOUND: `pd-oa:${TENANT}:pagerduty:${INBOUND_SECRET}`,
      },
    });
    main = await recordingApp({});
    const unreachable = new IncidentClient({ client: new Client({ connection: deadTemporal }), taskQueue: stack.config.temporal.taskQueue });
    down = await recordingApp({ incidents: unreachable, mirror: new MirrorStore(deadPool), isAccepting: () => false });
    const mirror = Object.create(stack.mirror) as MirrorStore;
    mirror.inboundDelivery = async () => {
      throw new TypeError('injected bug');
    };
    buggy = await recordingApp({ mirror });
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await stack?.stop();
    await pd?.stop();
    await deadPool.end();
    await deadTemporal.close();
  });

  const bearer = (t = TOKEN) => ({ authorization: `Bearer ${t}` });
  const json = (payload: unknown, headers: Record<string, string> = {}) => ({ payload: JSON.stringify(payload), headers: { 'content-type': 'application/json', ...headers } });
  const big = (bytes: number) => ({ payload: `{"pad":"${'x'.repeat(bytes)}"}`, headers: { 'content-type': 'application/json' } });
  const inject = async (app: FastifyInstance, method: 'GET' | 'POST', url: string, opts: { payload?: string; headers?: Record<string, string> } = {}) =>
    app.inject({ method, url, ...(opts.payload !== undefined ? { payload: opts.payload } : {}), headers: opts.headers ?? {} });

  test('drive every case; the collected (method, route, status) set covers the document', async () => {
    const x = uniqueId('oa-x');
    const y = uniqueId('oa-y');
    const open = (id: string, t = TOKEN) => inject(main, 'POST', '/v1/incidents', { ...json({ id, title: 'Packet loss on edge-3', severity: 'critical' }), headers: { ...json({}).headers, ...bearer(t) } });

    // open: 201, 200 (running), 409 (another tenant's id), 400, 401, 413, 415, 503
    expect((await open(x)).statusCode).toBe(201);
    expect((await open(x)).json()).toMatchObject({ outcome: 'running', noop: true });
    expect((await open(x, OTHER_TOKEN)).statusCode).toBe(409);
    const invalid = await inject(main, 'POST', '/v1/incidents', { ...json({ id: x, severity: 'loud-value-7Qz' }), headers: { ...json({}).headers, ...bearer() } });
    expect(invalid.statusCode).toBe(400);
    const body = invalid.json() as { error: string; reasons: string[] };
    expect(Object.keys(body).sort()).toEqual(['error', 'reasons']);
    expect(body.error).toBe('invalid_request');
    expect(body.reasons).toEqual(expect.arrayContaining([expect.stringMatching(/^title: /), expect.stringMatching(/^severity: /)]));
    expect(invalid.body).not.toContain('loud-value-7Qz');
    // 401 before 400: an invalid body without a token is refused for the token
    expect((await inject(main, 'POST', '/v1/incidents', json({ nonsense: true }))).statusCode).toBe(401);
    expect((await inject(main, 'POST', '/v1/incidents', { ...big(300 * 1024), headers: { ...big(1).headers, ...bearer() } })).statusCode).toBe(413);
    expect((await inject(main, 'POST', '/v1/incidents', { payload: 'id=x', headers: { 'content-type': 'application/xml', ...bearer() } })).statusCode).toBe(415);
    expect((await inject(down, 'POST', '/v1/incidents', { ...json({ id: x, title: 't', severity: 'info' }), headers: { ...json({}).headers, ...bearer() } })).statusCode).toBe(503);

    // show and timeline: 200, 400, 401, 404, 503
    for (const suffix of ['', '/timeline']) {
      const path = (id: string) => `/v1/incidents/${id}${suffix}`;
      await eventually(async () => (await inject(main, 'GET', path(x), { headers: bearer() })).statusCode === 200, { what: `GET ${path(x)} 200`, timeoutMs: 30_000 });
      const badId = await inject(main, 'GET', path('bad!id'), { headers: bearer() });
      expect(badId.json()).toEqual({ error: 'invalid_request', reasons: ['id: incident id must match [A-Za-z0-9._-]{1,128}'] });
      expect((await inject(main, 'GET', path('bad!id'))).statusCode).toBe(401);
      expect((await inject(main, 'GET', path(uniqueId('missing')), { headers: bearer() })).statusCode).toBe(404);
      expect((await inject(main, 'GET', path(x), { headers: bearer(OTHER_TOKEN) })).statusCode).toBe(404);
      expect((await inject(down, 'GET', path(x), { headers: bearer() })).statusCode).toBe(503);
    }

    // signals on a running incident: 202; refusals 400, 401, 404, 413, 415, 503
    const signal = (app: FastifyInstance, id: string, verb: string, payload: unknown, t: string | null = TOKEN) =>
      inject(app, 'POST', `/v1/incidents/${id}/${verb}`, { ...json(payload), headers: { ...json({}).headers, ...(t !== null ? bearer(t) : {}) } });
    const valid: Record<string, unknown> = { correlate: { signalId: 'sig-1' }, acknowledge: { actor: 'alice' }, resolve: { actor: 'alice', reason: 'fixed' } };
    for (const verb of ['correlate', 'acknowledge']) expect((await signal(main, x, verb, valid[verb])).statusCode).toBe(202);
    for (const verb of ['correlate', 'acknowledge', 'resolve']) {
      const bad = await signal(main, x, verb, { unexpected: 'field-value-9Xk' });
      expect(bad.statusCode).toBe(400);
      expect(bad.body).not.toContain('field-value-9Xk');
      expect((await signal(main, x, verb, valid[verb], null)).statusCode).toBe(401);
      expect((await signal(main, uniqueId('missing'), verb, valid[verb])).statusCode).toBe(404);
      expect((await inject(main, 'POST', `/v1/incidents/${x}/${verb}`, { ...big(300 * 1024), headers: { ...big(1).headers, ...bearer() } })).statusCode).toBe(413);
      expect((await inject(main, 'POST', `/v1/incidents/${x}/${verb}`, { payload: 'x', headers: { 'content-type': 'application/xml', ...bearer() } })).statusCode).toBe(415);
      expect((await signal(down, x, verb, valid[verb])).statusCode).toBe(503);
    }
    // acknowledge and resolve take a POST without a body
    expect((await inject(main, 'POST', `/v1/incidents/${x}/acknowledge`, { headers: bearer() })).statusCode).toBe(202);
    expect((await signal(main, x, 'resolve', valid.resolve)).statusCode).toBe(202);

    // once closed: 200 no-op for every signal, 200 already_closed for an open
    await eventually(async () => (await stack.incidents.tenantOf(x))?.status === 'COMPLETED', { what: 'the resolved incident closes', timeoutMs: 60_000 });
    for (const verb of ['correlate', 'acknowledge', 'resolve']) {
      const noop = await signal(main, x, verb, valid[verb]);
      expect([noop.statusCode, noop.json()]).toEqual([200, { incidentId: x, accepted: false, noop: true, status: 'COMPLETED' }]);
    }
    expect((await open(x)).json()).toMatchObject({ outcome: 'already_closed', noop: true });

    // inbound: 202, 200 (duplicate, ignored), 400, 401, 413, 415, 500, 503
    expect((await open(y)).statusCode).toBe(201);
    const ingest = (app: FastifyInstance, payload: string, headers: Record<string, string>) => inject(app, 'POST', '/ingest/itsm/pagerduty/pd-oa', { payload, headers });
    const token = { 'x-probectl-token': INBOUND_SECRET, 'content-type': 'application/json' };
    const resolveY = JSON.stringify({ external_ref: `probectl-${y}`, status: 'resolved', delivery_id: uniqueId('d') });
    const accepted = await ingest(main, resolveY, token);
    expect([accepted.statusCode, accepted.json()]).toEqual([202, { outcome: 'accepted', kind: 'resolved', incidentId: y }]);
    expect((await ingest(main, resolveY, token)).json()).toEqual({ outcome: 'duplicate' });
    expect((await ingest(main, JSON.stringify({ event: { event_type: 'incident.annotated', data: {} } }), token)).json()).toMatchObject({ outcome: 'ignored' });
    expect((await ingest(main, '{not json', token)).statusCode).toBe(400);
    expect((await ingest(main, resolveY, { ...token, 'x-probectl-token': 'wrong-token-0123456789abcdef' })).statusCode).toBe(401);
    expect((await ingest(main, `{"pad":"${'x'.repeat(1024 * 1024)}"}`, token)).statusCode).toBe(413);
    expect((await ingest(main, resolveY, { ...token, 'content-type': 'text/plain' })).statusCode).toBe(415);
    expect((await ingest(buggy, JSON.stringify({ external_ref: `probectl-${y}`, status: 'acknowledged' }), token)).statusCode).toBe(500);
    const unavailable = await ingest(down, JSON.stringify({ external_ref: `probectl-${y}`, status: 'acknowledged' }), token);
    expect([unavailable.statusCode, unavailable.headers['retry-after']]).toEqual([503, '30']);

    // operations: healthz, readyz and readyz/inbound (200 and 503), metrics, the document itself
    expect((await inject(main, 'GET', '/healthz')).statusCode).toBe(200);
    expect((await inject(main, 'GET', '/readyz')).statusCode).toBe(200);
    expect((await inject(down, 'GET', '/readyz')).statusCode).toBe(503);
    expect((await inject(main, 'GET', '/readyz/inbound')).statusCode).toBe(200);
    expect((await inject(down, 'GET', '/readyz/inbound')).statusCode).toBe(503);
    expect((await inject(main, 'GET', '/metrics')).statusCode).toBe(200);
    expect((await inject(main, 'GET', '/openapi.json')).statusCode).toBe(200);

    // The comparison: documented (method, route, status) ⊆ produced, and produced ⊆ documented.
    const documented = documentedStatuses(doc);
    const produced = new Set(answers.map((a) => `${a.method} ${a.route} ${a.status}`));
    const missing: string[] = [];
    for (const [key, statuses] of documented) for (const s of statuses) if (!produced.has(`${key} ${s}`)) missing.push(`${key} ${s}`);
    expect(missing).toEqual([]);
    const undocumented = [...produced].filter((p) => {
      const [method, route, status] = p.split(' ');
      return !documented.get(`${method} ${route}`)?.has(status!);
    });
    expect(undocumented).toEqual([]);
    expect(documented.size).toBe(12);
  });
});
