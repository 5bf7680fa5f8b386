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

/** An error's code when it is a bare identifier (an errno name, a SQLSTATE, a gRPC status): it names no host. */
function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  if (typeof code === 'number' && Number.isInteger(code)) return `code ${code}`;
  return typeof code === 'string' && /^[A-Z0-9_]{1,32}$/i.test(code) ? code : undefined;
}

/** What a failing check shows on the public endpoint: its own NotReady reason, else "unreachable" and a bare code. */
export function publicReason(err: unknown): string {
  if (err instanceof NotReady) return err.message.split('\n')[0]!.slice(0, 200);
  const code = codeOf(err);
  return `unreachable (${code ? `${code}; ` : ''}details in the log)`;
}

/** The full first line of a failure, for the log only. Anything may be thrown, not only an Error. */
function logReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0]!.slice(0, 500);
}

async function run(name: string, check: ReadinessCheck, log?: (name: string, reason: string | undefined) => void): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new NotReady('timed out')), CHECK_TIMEOUT_MS);
      }),
    ]);
    log?.(name, undefined);
    return 'ok';
  } catch (err) {
    log?.(name, logReason(err));
    return `failing: ${publicReason(err)}`;
  } finally {
    clearTimeout(timer);
  }
}

const readiness = z.object({
  status: z.enum(['ready', 'not ready', 'shutting down']),
  checks: z.record(z.string(), z.string()).optional().describe('`ok`, or `failing: <reason>`, by check (temporal, postgres, worker). A client error (which may name internal hosts) reads `failing: unreachable (<code>; details in the log)`, the code being a bare errno name, SQLSTATE or gRPC status when there is one; the log line `readiness check failing` has the error.'),
});
const json = (description: string, schema: z.ZodType) => ({ description, content: { 'application/json': { schema } } });

export function healthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  app.get('/healthz', {
    config: documentOnly({
      operationId: 'healthz', tags: ['operations'], security: [], summary: 'Liveness: the process is up',
      response: { 200: json('up', z.object({ status: z.literal('ok') })) },
    }),
  }, async () => ({ status: 'ok' }));

  const lastReason = new Map<string, string | undefined>();
  const ready = async (reply: FastifyReply, names: readonly string[]) => {
    if (!deps.isAccepting()) return reply.code(503).send({ status: 'shutting down' });
    const log = (name: string, reason: string | undefined) => {
      // One line when a check starts failing or its reason changes, one when it recovers; not one per probe.
      if (lastReason.get(name) === reason) return;
      lastReason.set(name, reason);
      if (reason === undefined) app.log.info({ check: name }, 'readiness check ok again');
      else app.log.warn({ check: name, reason }, 'readiness check failing');
    };
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
