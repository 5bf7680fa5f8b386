import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ConnectorDirectory } from '../config/connectors';
import { InboundDirectory } from '../config/inbound';
import type { Logger } from '../observability/logger';
import type { NotifyMetrics } from '../observability/metrics';
import { recordAnswers } from './answer-log';
import { answerError } from './errors';
import { inboundPlugin, type InboundMetrics, type TemporalHealth } from './inbound';
import { documentOnly, openApiRoute, registerOpenApi } from './openapi';
import { healthRoutes, type HealthDeps } from './routes/health';
import { incidentRoutes, type IncidentRouteDeps } from './routes/incidents';
import { traceRequests } from './tracing-hooks';

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

/** A route as Fastify registered it: what the route table holds (tests check every one of them). */
export interface RouteEntry {
  method: string;
  url: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered on this app, in order (filled by an onRoute hook; complete once ready). */
    routeTable: RouteEntry[];
  }
}

/** Body limit for the /v1 API (inbound webhooks have their own, 1 MiB). */
const API_BODY_LIMIT = 256 * 1024;

/**
 * The HTTP app, without listening: server.ts listens, tests use inject(). One error handler (errors.ts): client
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
    // Path parameters beyond the longest valid incident id (128, src/shared/ids.ts), so a valid id reaches its route
    // and a slightly longer one is a 400 with a reason; Fastify's default (100) answered 414 for valid ids.
    routerOptions: { maxParamLength: 256 },
  });
  // The route table as Fastify itself sees it (HEAD routes it adds included): the authentication class test
  // walks every entry rather than a hand-written list.
  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routeTable.push({ method: String(method), url: r.url });
  });

  app.setErrorHandler(answerError);
  // A server span per request while tracing is on (no hook at all otherwise); before the routes, so every one inherits it.
  traceRequests(app);

  recordAnswers(app);
  // The OpenAPI document collects routes as they are added: every route is declared once it is registered.
  registerOpenApi(app);
  app.after(() => {
    healthRoutes(app, deps);
    openApiRoute(app);
    const metrics = deps.metrics;
    if (metrics) {
      app.get('/metrics', {
        config: documentOnly({
          operationId: 'metrics', tags: ['operations'], security: [], summary: 'Prometheus metrics (text format; docs/configuration.md lists them)',
          response: { 200: { description: 'the metrics', content: { 'text/plain': { schema: z.string() } } } },
        }),
      }, async (_req, reply) => reply.header('content-type', metrics.contentType()).send(await metrics.text()));
    }
    // Encapsulated under /v1: the bearer-token hook is the plugin's own and runs for every route it declares.
    void app.register(incidentRoutes, { prefix: '/v1', auth: deps.auth, incidents: deps.incidents, mirror: deps.mirror });
    void app.register(inboundPlugin, {
      entries: deps.inbound?.entries ?? new InboundDirectory([]),
      connectors: deps.inbound?.connectors ?? new ConnectorDirectory([]),
      incidents: deps.incidents,
      mirror: deps.mirror,
      ...(deps.inbound?.metrics ? { metrics: deps.inbound.metrics } : {}),
      ...(deps.inbound?.health ? { health: deps.inbound.health } : {}),
      ...(deps.inbound?.inlineDeadlineMs !== undefined ? { inlineDeadlineMs: deps.inbound.inlineDeadlineMs } : {}),
    });
  });
  return app;
}
