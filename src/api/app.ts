import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { ConnectorDirectory } from '../config/connectors';
import { InboundDirectory } from '../config/inbound';
import type { Logger } from '../observability/logger';
import type { NotifyMetrics } from '../observability/metrics';
import { inboundPlugin, type InboundMetrics, type TemporalHealth } from './inbound';
import { healthRoutes, type HealthDeps } from './routes/health';
import { incidentRoutes, type IncidentRouteDeps } from './routes/incidents';

export interface AppDeps extends IncidentRouteDeps, HealthDeps {
  log: Logger;
  /** Inbound entries (PROBECTL_NOTIFY_INBOUND); absent or empty: every inbound delivery is refused. */
  inbound?: {
    entries: InboundDirectory;
    connectors: ConnectorDirectory;
    metrics?: InboundMetrics;
    /** Shared with the process's outbox dispatcher (what it last learned about reaching Temporal). */
    health?: TemporalHealth;
    /** Deadline of the inline Temporal try (default 300 ms). */
    inlineDeadlineMs?: number;
  };
  /** Served on GET /metrics (Prometheus text format); absent: no /metrics route. */
  metrics?: NotifyMetrics;
}

/** Body limit for the /v1 API (inbound webhooks have their own, 1 MiB). */
const API_BODY_LIMIT = 256 * 1024;

/**
 * The HTTP app, without listening: server.ts listens, tests use inject(). One error handler: client
 * errors keep their reason, our own faults answer a generic 5xx and are logged with the request id.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.log as unknown as FastifyBaseLogger,
    bodyLimit: API_BODY_LIMIT,
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    keepAliveTimeout: 10_000,
    return503OnClosing: true,
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status < 500) {
      return reply.code(status).send({ error: err.code ?? 'invalid_request', message: err.message });
    }
    const unavailable = /UNAVAILABLE|ECONNREFUSED|connect|timeout/i.test(`${err.code ?? ''} ${err.message}`);
    req.log.error({ err: { message: err.message, code: err.code } }, 'request failed');
    return reply.code(unavailable ? 503 : 500).send({
      error: unavailable ? 'unavailable' : 'internal_error',
      message: unavailable ? 'a backing service is unavailable; retry later' : 'internal error',
    });
  });

  healthRoutes(app, deps);
  const metrics = deps.metrics;
  if (metrics) {
    app.get('/metrics', async (_req, reply) => reply.header('content-type', metrics.contentType()).send(await metrics.text()));
  }
  incidentRoutes(app, deps);
  void app.register(inboundPlugin, {
    entries: deps.inbound?.entries ?? new InboundDirectory([]),
    connectors: deps.inbound?.connectors ?? new ConnectorDirectory([]),
    incidents: deps.incidents,
    mirror: deps.mirror,
    ...(deps.inbound?.metrics ? { metrics: deps.inbound.metrics } : {}),
    ...(deps.inbound?.health ? { health: deps.inbound.health } : {}),
    ...(deps.inbound?.inlineDeadlineMs !== undefined ? { inlineDeadlineMs: deps.inbound.inlineDeadlineMs } : {}),
  });
  return app;
}
