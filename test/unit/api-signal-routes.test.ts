/**
 * The acknowledge and resolve routes (apiSignalRoute in src/api/routes/incidents.ts), against a fake Temporal
 * client: the body goes to the running incident of the caller's tenant as its signal (the tenant, source `api`,
 * the body's fields, stamped now) and answers 202; a closed incident, or one that closes under the signal, is a
 * 200 no-op; another tenant's incident is a 404; a body the route's schema refuses is a 400. Nothing is sent in
 * any of those.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app';
import { TokenAuthenticator } from '../../src/api/auth';
import type { IncidentClient } from '../../src/client';
import { parseApiTokens } from '../../src/config/api-tokens';
import type { MirrorStore } from '../../src/db/mirror-store';
import { createLogger } from '../../src/observability/logger';

const TOKEN_A = 'tenant-a-token-0123456789abcdef';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** inc-running: tenant A, running; inc-closed: tenant A, completed; inc-paused: paused (it takes signals); inc-terminated; inc-gone: tenant A, closes under the signal; inc-b: tenant B's. */
const OWNERS: Record<string, { tenantId: string; status: string }> = {
  'inc-running': { tenantId: 'tenant-a', status: 'RUNNING' },
  'inc-closed': { tenantId: 'tenant-a', status: 'COMPLETED' },
  'inc-paused': { tenantId: 'tenant-a', status: 'PAUSED' },
  'inc-terminated': { tenantId: 'tenant-a', status: 'TERMINATED' },
  'inc-gone': { tenantId: 'tenant-a', status: 'RUNNING' },
  'inc-b': { tenantId: 'tenant-b', status: 'RUNNING' },
};

let app: FastifyInstance;
const sent: Array<{ signal: string; id: string; s: Record<string, unknown> }> = [];
beforeAll(async () => {
  const send = (signal: string) => async (id: string, s: Record<string, unknown>) => {
    if (id === 'inc-gone') throw new WorkflowNotFoundError('workflow closed', `probectl-${id}`, undefined);
    sent.push({ signal, id, s });
  };
  app = buildApp({
    log: createLogger('silent'),
    auth: new TokenAuthenticator(parseApiTokens(`tenant-a:${TOKEN_A}`)),
    incidents: { tenantOf: async (id: string) => (OWNERS[id] ? { ...OWNERS[id], runId: 'r1' } : undefined), acknowledge: send('acknowledge'), resolve: send('resolve') } as unknown as IncidentClient,
    mirror: {} as MirrorStore,
    checks: {},
    isAccepting: () => true,
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
});
beforeEach(() => {
  sent.length = 0;
});

describe('acknowledge and resolve', () => {
  test.each([
    // route, incident, body (undefined: none), status, answer, what the incident is sent
    ['acknowledge', 'inc-running', undefined, 202, { incidentId: 'inc-running', accepted: true }, {}],
    ['acknowledge', 'inc-running', { actor: 'alice' }, 202, { incidentId: 'inc-running', accepted: true }, { actor: 'alice' }],
    ['resolve', 'inc-running', undefined, 202, { incidentId: 'inc-running', accepted: true }, {}],
    ['resolve', 'inc-running', { actor: 'alice', reason: 'fixed upstream' }, 202, { incidentId: 'inc-running', accepted: true }, { actor: 'alice', reason: 'fixed upstream' }],
    ['acknowledge', 'inc-closed', {}, 200, { incidentId: 'inc-closed', accepted: false, noop: true, status: 'COMPLETED' }, undefined],
    ['resolve', 'inc-closed', {}, 200, { incidentId: 'inc-closed', accepted: false, noop: true, status: 'COMPLETED' }, undefined],
    ['acknowledge', 'inc-paused', {}, 202, { incidentId: 'inc-paused', accepted: true }, {}],
    ['resolve', 'inc-paused', {}, 202, { incidentId: 'inc-paused', accepted: true }, {}],
    ['resolve', 'inc-terminated', {}, 200, { incidentId: 'inc-terminated', accepted: false, noop: true, status: 'TERMINATED' }, undefined],
    ['acknowledge', 'inc-gone', {}, 200, { incidentId: 'inc-gone', accepted: false, noop: true, status: 'CLOSED' }, undefined],
    ['resolve', 'inc-gone', {}, 200, { incidentId: 'inc-gone', accepted: false, noop: true, status: 'CLOSED' }, undefined],
    ['acknowledge', 'inc-b', {}, 404, { error: 'not_found', message: 'no such incident' }, undefined],
    ['resolve', 'inc-b', {}, 404, { error: 'not_found', message: 'no such incident' }, undefined],
    ['resolve', 'inc-missing', {}, 404, { error: 'not_found', message: 'no such incident' }, undefined],
    // each route's own body schema: acknowledge has no reason; neither takes a source
    ['acknowledge', 'inc-running', { reason: 'x' }, 400, undefined, undefined],
    ['resolve', 'inc-running', { source: 'probectl' }, 400, undefined, undefined],
  ] as const)('%s %s with %j: %i', async (route, id, body, status, answer, signal) => {
    const res = await app.inject({
      method: 'POST', url: `/v1/incidents/${id}/${route}`,
      headers: { authorization: `Bearer ${TOKEN_A}` }, ...(body !== undefined ? { payload: body } : {}),
    });
    expect(res.statusCode).toBe(status);
    if (answer) expect(res.json()).toEqual(answer);
    else expect(res.json()).toMatchObject({ error: 'invalid_request' });
    if (signal === undefined) {
      expect(sent).toEqual([]);
      return;
    }
    expect(sent).toEqual([{ signal: route, id, s: { tenantId: 'tenant-a', source: 'api', ...signal, at: expect.stringMatching(ISO) } }]);
  });
});
