/**
 * /readyz is public (load balancers probe it without credentials): a failing check shows its own NotReady
 * reason, or "unreachable" with a bare error code — never a client's message, which can name internal hosts,
 * users or addresses. The log has the message, once per change of state, not once per probe.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { NotReady, healthRoutes, publicReason, type ReadinessCheck } from '../../src/api/routes/health';
import { createLogger } from '../../src/observability/logger';

const HIDDEN = ['db.internal.example', '10.1.2.3', 'probectl_owner', 'S3cretPw', 'tq-secret-name'];

const withCode = (message: string, code: unknown) => Object.assign(new Error(message), { code });

/** What may be thrown by a check, and what the public answer says about it. */
const CASES: Array<[string, () => unknown, string]> = [
  ['an errno error naming a host', () => withCode('connect ECONNREFUSED 10.1.2.3:7233', 'ECONNREFUSED'), 'unreachable (ECONNREFUSED; details in the log)'],
  ['a DNS error naming a host', () => withCode('getaddrinfo ENOTFOUND db.internal.example', 'ENOTFOUND'), 'unreachable (ENOTFOUND; details in the log)'],
  ['a Postgres error naming a user', () => withCode('password authentication failed for user "probectl_owner"', '28P01'), 'unreachable (28P01; details in the log)'],
  ['a gRPC status as a number', () => withCode('14 UNAVAILABLE: No connection established to 10.1.2.3', 14), 'unreachable (code 14; details in the log)'],
  ['a code that is not a bare identifier', () => withCode('failed at db.internal.example', 'db.internal.example:5432'), 'unreachable (details in the log)'],
  ['an Error without a code', () => new Error('postgres://probectl:S3cretPw@db.internal.example/x refused'), 'unreachable (details in the log)'],
  ['a thrown string', () => 'db.internal.example is down', 'unreachable (details in the log)'],
  ['a thrown undefined', () => undefined, 'unreachable (details in the log)'],
  ['a thrown null', () => null, 'unreachable (details in the log)'],
  ['a thrown plain object', () => ({ message: 'S3cretPw' }), 'unreachable (details in the log)'],
  ['the check\'s own reason', () => new NotReady('no worker is polling task queue probectl-notify'), 'no worker is polling task queue probectl-notify'],
];

async function appWith(checks: Record<string, ReadinessCheck>, lines: string[]): Promise<FastifyInstance> {
  const log = createLogger('info', { write: (l: string) => void lines.push(l) });
  const app = Fastify({ loggerInstance: log }) as unknown as FastifyInstance;
  healthRoutes(app, { checks, isAccepting: () => true });
  await app.ready();
  return app;
}

describe('/readyz shows what a check may say in public, and logs the rest', () => {
  test.each(CASES)('%s', async (_what, thrown, expected) => {
    expect(publicReason(thrown())).toBe(expected);
    const lines: string[] = [];
    const app = await appWith({ postgres: async () => { throw thrown(); }, temporal: async () => undefined }, lines);
    try {
      const answer = await app.inject({ method: 'GET', url: '/readyz' });
      expect(answer.statusCode).toBe(503);
      expect(answer.json()).toEqual({ status: 'not ready', checks: { postgres: `failing: ${expected}`, temporal: 'ok' } });
      const inbound = await app.inject({ method: 'GET', url: '/readyz/inbound' });
      expect(inbound.statusCode).toBe(503);
      for (const h of HIDDEN) expect({ h, body: answer.body.includes(h) || inbound.body.includes(h) }).toEqual({ h, body: false });
      // Two probes, one log line naming the check.
      const failing = lines.filter((l) => l.includes('readiness check failing'));
      expect(failing).toHaveLength(1);
      expect(JSON.parse(failing[0]!)).toMatchObject({ check: 'postgres' });
    } finally {
      await app.close();
    }
  });

  test('the log has the error a public answer hides; a recovery and a new failure are logged once each', async () => {
    const lines: string[] = [];
    let state: unknown = withCode('getaddrinfo ENOTFOUND db.internal.example', 'ENOTFOUND');
    const app = await appWith({ postgres: async () => { if (state) throw state; } }, lines);
    try {
      for (let i = 0; i < 3; i++) expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
      state = undefined;
      for (let i = 0; i < 3; i++) expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      state = new Error('connect ECONNREFUSED 10.1.2.3:5432');
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
      const events = lines.map((l) => JSON.parse(l) as { msg: string; reason?: string }).filter((l) => l.msg.startsWith('readiness check'));
      expect(events.map((e) => [e.msg, e.reason])).toEqual([
        ['readiness check failing', 'getaddrinfo ENOTFOUND db.internal.example'],
        ['readiness check ok again', undefined],
        ['readiness check failing', 'connect ECONNREFUSED 10.1.2.3:5432'],
      ]);
    } finally {
      await app.close();
    }
  });
});
