import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { documentOnly } from '../openapi';

export type ReadinessCheck = () => Promise<void>;

/**
 * A reason a check gives in its own words, shown as is. Any other error (a client's, which may name internal
 * hosts, users or addresses) is shown as "unreachable" on this public endpoint; the log has the details.
 */
export class NotReady extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotReady';
  }
}

export interface HealthDeps {
  checks: Record<string, ReadinessCheck>;
  /** False once shutdown began: /readyz turns unready before anything stops. */
  isAccepting: () => boolean;
}

const CHECK_TIMEOUT_MS = 2_000;
/** What inbound deliveries need: they are recorded in Postgres and signalled when Temporal takes them. */
const INBOUND_CHECKS = ['postgres'];

async function run(name: string, check: ReadinessCheck, log?: (name: string, message: string) => void): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new NotReady('timed out')), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (err) {
    const message = (err as Error).message.split('\n')[0]!.slice(0, 200);
    log?.(name, message);
    return `failing: ${err instanceof NotReady ? message : 'unreachable (details in the log)'}`;
  } finally {
    clearTimeout(timer);
  }
}

const readiness = z.object({
  status: z.enum(['ready', 'not ready', 'shutting down']),
  checks: z.record(z.string(), z.string()).optional().describe('`ok`, or `failing: <reason>`, by check (temporal, postgres, worker). A client error (which may name internal hosts) reads `failing: unreachable (details in the log)`; the log line `readiness check failing` has it.'),
});
const json = (description: string, schema: z.ZodType) => ({ description, content: { 'application/json': { schema } } });

export function healthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  app.get('/healthz', {
    config: documentOnly({
      operationId: 'healthz', tags: ['operations'], security: [], summary: 'Liveness: the process is up',
      response: { 200: json('up', z.object({ status: z.literal('ok') })) },
    }),
  }, async () => ({ status: 'ok' }));

  const ready = async (reply: FastifyReply, names: readonly string[]) => {
    if (!deps.isAccepting()) return reply.code(503).send({ status: 'shutting down' });
    const log = (name: string, message: string) => app.log.warn({ check: name, reason: message }, 'readiness check failing');
    const results = await Promise.all(names.map((n) => run(n, deps.checks[n]!, log)));
    const checks = Object.fromEntries(names.map((n, i) => [n, results[i]]));
    const ok = results.every((r) => r === 'ok');
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks });
  };

  app.get('/readyz', {
    config: documentOnly({
      operationId: 'readyz', tags: ['operations'], security: [],
      summary: 'Readiness: Temporal, Postgres and a worker polling the task queue',
      response: { 200: json('ready', readiness), 503: json('a check fails, or the process is shutting down', readiness) },
    }),
  }, async (_req, reply) => ready(reply, Object.keys(deps.checks)));

  // A load balancer in front of /ingest checks this one, so a Temporal outage does not take the route away.
  app.get('/readyz/inbound', {
    config: documentOnly({
      operationId: 'readyzInbound', tags: ['operations'], security: [],
      summary: 'Readiness for inbound deliveries: Postgres only (they are recorded there and signalled when Temporal takes them)',
      response: { 200: json('ready', readiness), 503: json('Postgres fails, or the process is shutting down', readiness) },
    }),
  }, async (_req, reply) => ready(reply, INBOUND_CHECKS.filter((n) => n in deps.checks)));
}
