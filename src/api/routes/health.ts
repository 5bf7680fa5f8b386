import type { FastifyInstance, FastifyReply } from 'fastify';

export type ReadinessCheck = () => Promise<void>;

export interface HealthDeps {
  checks: Record<string, ReadinessCheck>;
  /** False once shutdown began: /readyz turns unready before anything stops. */
  isAccepting: () => boolean;
}

const CHECK_TIMEOUT_MS = 2_000;
const INBOUND_CHECKS = ['postgres'];

async function run(check: ReadinessCheck): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (err) {
    return `failing: ${(err as Error).message.split('\n')[0]!.slice(0, 200)}`;
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  const ready = async (reply: FastifyReply, names: readonly string[]) => {
    if (!deps.isAccepting()) return reply.code(503).send({ status: 'shutting down' });
    const results = await Promise.all(names.map((n) => run(deps.checks[n]!)));
    const checks = Object.fromEntries(names.map((n, i) => [n, results[i]]));
    const ok = results.every((r) => r === 'ok');
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks });
  };

  app.get('/readyz', async (_req, reply) => ready(reply, Object.keys(deps.checks)));
  // Inbound deliveries need only Postgres (they are recorded there, and signalled when Temporal takes them):
  // a load balancer in front of /ingest checks this one, so a Temporal outage does not take the route away.
  app.get('/readyz/inbound', async (_req, reply) => ready(reply, INBOUND_CHECKS.filter((n) => n in deps.checks)));
}
