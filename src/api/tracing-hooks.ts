/**
 * A server span per API request while tracing is on (src/observability/tracing.ts). Named and tagged by the
 * route template (`POST /v1/incidents/:id/resolve`), never the raw URL: no incident id, no query string, no
 * header, no body. A `traceparent` sent by the caller is honoured (W3C trace context), so a traced probectl
 * continues its own trace here.
 *
 * The span starts in onRequest and is made the active context again in preHandler: the body is read between the
 * two, from stream events that run outside it, and the handler (which calls Temporal through the traced client)
 * must run inside it. Health checks and /metrics are not traced (a probe every few seconds is noise). A request
 * that arrives after tracing stopped (shutdown flushed it) is simply not traced.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Context, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { activeTracer } from '../observability/tracing';

const UNTRACED = new Set(['/healthz', '/readyz', '/readyz/inbound', '/metrics', '/openapi.json']);

interface Traced {
  span: Span;
  ctx: Context;
  ended: boolean;
}

/** Installs the hooks only while tracing is on (started before the app is built): otherwise not even a hook runs. */
export function traceRequests(app: FastifyInstance): void {
  if (!activeTracer()) return;
  const traced = new WeakMap<FastifyRequest, Traced>();
  app.addHook('onRequest', (req, _reply, done) => {
    const tracer = activeTracer();
    const route = req.routeOptions.url;
    if (!tracer || (route !== undefined && UNTRACED.has(route))) return done();
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer.startSpan(
      route === undefined ? req.method : `${req.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method, ...(route !== undefined ? { 'http.route': route } : {}), 'url.scheme': req.protocol },
      },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    traced.set(req, { span, ctx, ended: false });
    context.with(ctx, done);
  });
  app.addHook('preHandler', (req, _reply, done) => {
    const t = traced.get(req);
    if (!t) return done();
    context.with(t.ctx, done);
  });
  app.addHook('onResponse', (req, reply, done) => {
    const t = traced.get(req);
    if (t && !t.ended) {
      t.ended = true;
      t.span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) {
        t.span.setAttribute('error.type', String(reply.statusCode));
        t.span.setStatus({ code: SpanStatusCode.ERROR });
      }
      t.span.end();
    }
    done();
  });
  app.addHook('onRequestAbort', (req, done) => {
    const t = traced.get(req);
    if (t && !t.ended) {
      t.ended = true;
      t.span.setAttribute('error.type', 'aborted');
      t.span.setStatus({ code: SpanStatusCode.ERROR });
      t.span.end();
    }
    done();
  });
}
