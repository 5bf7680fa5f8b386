/**
 * A server span per API request while tracing is on (src/observability/tracing.ts). Named and tagged by the
 * route template (`POST /v1/incidents/:id/resolve`), never the raw URL: no incident id, no query string, no
 * header, no body.
 *
 * Who may continue a trace here. Only a caller the /v1 bearer-token hook authenticated (probectl) has its W3C
 * `traceparent` honoured as the span's parent, so a traced probectl continues its own trace. Every other request
 * — an inbound webhook (its sender is a provider, authenticated inside the route), an unknown route, a 401 — gets
 * a new root span (our trace id, our sampler's decision) and the caller's trace context, if any, only as a link:
 * an outsider can choose neither the trace id nor the sampling of our work, nor put anything of its own into the
 * trace context the Temporal client writes into workflow history (the propagator reads `traceparent` only:
 * no baggage, no tracestate; src/observability/propagation.ts).
 *
 * Answers 401 and 404 to requests no token authenticated are not exported at all (discardSpan): outsiders
 * cannot inflate the span volume.
 *
 * The span starts once authentication is decided: in preParsing, which runs after every onRequest hook (the
 * /v1 plugin's token check, the inbound route's credential check), with the request's arrival as its start time;
 * or, for a request answered in onRequest (a 401), at onResponse. It is made the active context again in
 * preHandler: the body is read between the two, from stream events that run outside it, and the handler (which
 * calls Temporal through the traced client) must run inside it. Health checks and /metrics are not traced (a
 * probe every few seconds is noise). A request that arrives after tracing stopped (shutdown flushed it) is
 * simply not traced.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Context, type Link, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { activeTracer, discardSpan } from '../observability/tracing';

const UNTRACED = new Set(['/healthz', '/readyz', '/readyz/inbound', '/metrics', '/openapi.json']);

interface Traced {
  /** When the request arrived (the span's start time). */
  startTime: number;
  span?: Span;
  ctx?: Context;
  ended: boolean;
}

/** Authenticated by the /v1 bearer-token hook: the only callers whose trace context may be our parent. */
function tokenAuthenticated(req: FastifyRequest): boolean {
  return typeof req.tenantId === 'string' && req.tenantId.length > 0;
}

function startSpan(req: FastifyRequest, t: Traced): boolean {
  const tracer = activeTracer();
  if (!tracer) return false;
  const route = req.routeOptions.url;
  const remote = propagation.extract(ROOT_CONTEXT, req.headers);
  const trusted = tokenAuthenticated(req);
  const remoteSpan = trace.getSpanContext(remote);
  const links: Link[] = !trusted && remoteSpan && trace.isSpanContextValid(remoteSpan) ? [{ context: remoteSpan }] : [];
  const parent = trusted ? remote : ROOT_CONTEXT;
  const span = tracer.startSpan(
    route === undefined ? req.method : `${req.method} ${route}`,
    {
      kind: SpanKind.SERVER,
      startTime: t.startTime,
      ...(trusted ? {} : { root: true }),
      links,
      attributes: { 'http.request.method': req.method, ...(route !== undefined ? { 'http.route': route } : {}), 'url.scheme': req.protocol },
    },
    parent,
  );
  t.span = span;
  t.ctx = trace.setSpan(parent, span);
  return true;
}

/** Installs the hooks only while tracing is on (started before the app is built): otherwise not even a hook runs. */
export function traceRequests(app: FastifyInstance): void {
  if (!activeTracer()) return;
  const traced = new WeakMap<FastifyRequest, Traced>();
  app.addHook('onRequest', (req, _reply, done) => {
    const route = req.routeOptions.url;
    if (activeTracer() && !(route !== undefined && UNTRACED.has(route))) traced.set(req, { startTime: Date.now(), ended: false });
    done();
  });
  app.addHook('preParsing', (req, _reply, payload, done) => {
    const t = traced.get(req);
    if (!t || t.span || !startSpan(req, t)) return done(null, payload);
    context.with(t.ctx!, () => done(null, payload));
  });
  app.addHook('preHandler', (req, _reply, done) => {
    const t = traced.get(req);
    if (!t?.ctx) return done();
    context.with(t.ctx, done);
  });
  app.addHook('onResponse', (req, reply, done) => {
    const t = traced.get(req);
    const refusedOutsider = (reply.statusCode === 401 || reply.statusCode === 404) && !tokenAuthenticated(req);
    // Answered in onRequest (a 401 before the body): no span at all when it would be discarded anyway.
    if (t && !t.span && refusedOutsider) t.ended = true;
    if (t && !t.ended && (t.span || startSpan(req, t))) {
      t.ended = true;
      const span = t.span!;
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) {
        span.setAttribute('error.type', String(reply.statusCode));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      if (refusedOutsider) discardSpan(span);
      span.end();
    }
    done();
  });
  app.addHook('onRequestAbort', (req, done) => {
    const t = traced.get(req);
    if (t && !t.ended && t.span) {
      t.ended = true;
      t.span.setAttribute('error.type', 'aborted');
      t.span.setStatus({ code: SpanStatusCode.ERROR });
      t.span.end();
    }
    done();
  });
}
