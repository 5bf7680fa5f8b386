import type { FastifyInstance } from 'fastify';

export type ReadinessCheck = () => Promise<void>;

export interface HealthDeps {
  checks: Record<string, ReadinessCheck>;
  /** False once shutdown began: /readyz turns unready before anything stops. */
  isAccepting: () => boolean;
}

const CHECK_TIMEOUT_MS = 2_000;

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

  app.get('/readyz', async (_req, reply) => {
    if (!deps.isAccepting()) return reply.code(503).send({ status: 'shutting down' });
    const names = Object.keys(deps.checks);
    const results = await Promise.all(names.map((n) => run(deps.checks[n]!)));
    const checks = Object.fromEntries(names.map((n, i) => [n, results[i]]));
    const ready = results.every((r) => r === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
}
