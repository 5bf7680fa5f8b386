/**
 * OpenTelemetry tracing (docs/configuration.md, "Traces"). Started by the process entry only when an OTLP
 * endpoint is configured (src/config/tracing.ts); otherwise the SDK is not even loaded, `activeTracer()` is
 * undefined and every instrumented place skips its span (no span objects, no context switches).
 *
 * What is traced, and where:
 *   - the API's requests: a server span per request (src/api/tracing-hooks.ts), route template only;
 *   - Temporal client calls (start, signal, query): @temporalio/interceptors-opentelemetry's client interceptor,
 *     which also writes the trace context into the start/signal headers;
 *   - activities: our activity interceptor (one span per attempt, a failure recorded by its type only), parented
 *     as described at `RunTraceParents`;
 *   - every provider (and callback) HTTP request: a client span in src/http/client.ts.
 *
 * No workflow interceptors: they add spans and yield points inside workflow code, which would change how the
 * recorded histories in test/replay/histories replay. The price is that Temporal does not carry the trace from
 * the workflow to its activities; `RunTraceParents` recovers it from the run's history instead.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, diag, propagation, trace, DiagLogLevel, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import type { ClientInterceptors } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { TracingSettings } from '../config/tracing';
import type { Logger } from './logger';
import { scrub } from '../http/scrub';
import { isProvider } from '../providers/registry';
import { TraceParentOnlyPropagator } from './propagation';
import { TRACE_HEADER, type RunTraceParents } from './trace-parents';

export { RunTraceParents } from './trace-parents';

const TRACER_NAME = 'probectl-notify';

let tracer: Tracer | undefined;

/** The tracer while tracing is on; undefined (nothing to record) otherwise. */
export function activeTracer(): Tracer | undefined {
  return tracer;
}

export interface Tracing {
  /** Flush what is buffered and stop exporting (bounded by the export timeout). */
  shutdown(): Promise<void>;
}

/**
 * Start the SDK: a batch processor exporting over OTLP/HTTP (protobuf or JSON), the W3C `traceparent`
 * propagator alone (no baggage, no tracestate) and an AsyncLocalStorage context manager, registered globally. Export failures are logged as
 * warnings (scrubbed of the export headers); they never affect the service.
 */
export function startTracing(settings: TracingSettings, log: Logger, role: string): Tracing {
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only when tracing is on */
  const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { OTLPTraceExporter } =
    settings.protocol === 'http/json'
      ? (require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http'))
      : (require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto'));
  /* eslint-enable @typescript-eslint/no-require-imports */
  const headers = settings.headers ? (JSON.parse(settings.headers.reveal()) as Record<string, string>) : undefined;
  const secrets = headers ? Object.values(headers) : [];
  diag.setLogger(
    {
      error: (msg) => log.warn({ component: 'opentelemetry' }, scrub(String(msg), secrets).slice(0, 300)),
      warn: (msg) => log.warn({ component: 'opentelemetry' }, scrub(String(msg), secrets).slice(0, 300)),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  // The exporter would also read OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_TRACES_HEADERS itself, when it is
  // built, and merge both under ours (the general one included when the TRACES_ one is set, neither validated nor
  // scrubbed): it is built without them, with the headers src/config/tracing.ts chose given explicitly.
  const exporter = withoutEnv(OTLP_HEADER_VARIABLES, () => new OTLPTraceExporter({ url: settings.url, timeoutMillis: settings.timeoutMs, ...(headers ? { headers } : {}) }));
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName, 'probectl_notify.role': role }),
    spanProcessors: [withoutDiscarded(new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1_000 }))],
  });
  // traceparent only: no baggage, no tracestate (src/observability/propagation.ts).
  provider.register({ propagator: new TraceParentOnlyPropagator() });
  tracer = trace.getTracer(TRACER_NAME);
  log.info({ from: settings.endpointSetting, protocol: settings.protocol }, 'tracing: exporting spans over OTLP/HTTP');
  let stopped: Promise<void> | undefined;
  return {
    shutdown() {
      stopped ??= (async () => {
        tracer = undefined;
        try {
          await provider.shutdown();
        } catch (err) {
          log.warn({ component: 'opentelemetry' }, `flushing spans at shutdown failed: ${scrub(err instanceof Error ? err.message : String(err), secrets).slice(0, 200)}`);
        }
      })();
      return stopped;
    },
  };
}

const OTLP_HEADER_VARIABLES = ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'];

/** `fn()` with these variables absent from process.env, put back afterwards. */
function withoutEnv<T>(names: readonly string[], fn: () => T): T {
  const saved = names.map((n) => [n, process.env[n]] as const);
  for (const n of names) delete process.env[n];
  try {
    return fn();
  } finally {
    for (const [n, v] of saved) if (v !== undefined) process.env[n] = v;
  }
}

const discarded = new WeakSet<object>();

/**
 * Mark a span as not to be exported (it still ends normally). For answers to requests nobody authenticated
 * (401, 404): an outsider must not be able to fill the trace backend by sending requests.
 */
export function discardSpan(span: Span): void {
  discarded.add(span);
}

type Processor = import('@opentelemetry/sdk-trace-base').SpanProcessor;

/** `inner`, except that spans marked by `discardSpan` are never handed to it when they end. */
function withoutDiscarded(inner: Processor): Processor {
  return {
    onStart: (span, parent) => inner.onStart(span, parent),
    onEnd: (span) => {
      if (!discarded.has(span)) inner.onEnd(span);
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
  };
}

/** The Temporal client interceptors while tracing is on (start/signal/query spans, context in the headers). */
export function clientTracingInterceptors(): ClientInterceptors | undefined {
  if (!tracer) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { OpenTelemetryWorkflowClientInterceptor } = require('@temporalio/interceptors-opentelemetry/lib/client') as typeof import('@temporalio/interceptors-opentelemetry/lib/client');
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

/**
 * What a span says about a failure: its type only — an ApplicationFailure's `type` (the closed set of
 * src/activities/failures.ts), else the error's class name — never its message. A provider failure's message
 * holds a (scrubbed) excerpt of the provider's answer, which can echo the incident's title or description.
 */
export function failureType(err: unknown): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ApplicationFailure } = require('@temporalio/common') as typeof import('@temporalio/common');
  const raw = err instanceof ApplicationFailure ? err.type ?? err.name : err instanceof Error ? err.name : typeof err;
  return typeof raw === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(raw) ? raw : 'error';
}

/** The fixed status message of a failed activity span (the type is in `error.type`). */
export const ACTIVITY_FAILED = 'activity failed';

/**
 * The worker's activity interceptors while tracing is on: one span per attempt (`RunActivity:<type>`, as the
 * @temporalio/interceptors-opentelemetry package names it), parented by `RunTraceParents`. Our own rather than
 * the package's, whose failure handling exports the error's message (a provider's answer) as the span status
 * and an exception event: here a failure is its type and a fixed message.
 */
export function activityTracingInterceptors(parents: RunTraceParents): ActivityInterceptorsFactory[] | undefined {
  if (!tracer) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const otel = require('@temporalio/interceptors-opentelemetry/lib/worker') as typeof import('@temporalio/interceptors-opentelemetry/lib/worker');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { CompleteAsyncError } = require('@temporalio/activity') as typeof import('@temporalio/activity');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ApplicationFailure, ApplicationFailureCategory } = require('@temporalio/common') as typeof import('@temporalio/common');
  return [
    (ctx) => ({
      inbound: {
        async execute(input, next) {
          const t = tracer;
          if (!t) return next(input);
          let headers = input.headers;
          const info = ctx.info;
          if (headers[TRACE_HEADER] === undefined && info.inWorkflow && info.workflowExecution) {
            const parent = await parents.forActivity({
              activityType: info.activityType, isLocal: info.isLocal, workflowId: info.workflowExecution.workflowId, runId: info.workflowExecution.runId,
              ...(info.workflowType !== undefined ? { workflowType: info.workflowType } : {}),
            });
            if (parent) headers = { ...headers, [TRACE_HEADER]: parent };
          }
          const parentCtx = contextFromHeader(headers[TRACE_HEADER]) ?? context.active();
          const attributes: Attributes = {
            temporalActivityId: info.activityId,
            ...(info.inWorkflow && info.workflowExecution ? { temporalWorkflowId: info.workflowExecution.workflowId, run_id: info.workflowExecution.runId } : {}),
          };
          return t.startActiveSpan(`RunActivity:${info.activityType}`, { attributes }, parentCtx, async (span) => {
            try {
              const result = await next({ ...input, headers });
              span.setStatus({ code: SpanStatusCode.OK });
              return result;
            } catch (err) {
              if (err instanceof CompleteAsyncError) {
                span.setStatus({ code: SpanStatusCode.OK });
              } else {
                span.setAttribute('error.type', failureType(err));
                const benign = err instanceof ApplicationFailure && err.category === ApplicationFailureCategory.BENIGN;
                span.setStatus(benign ? { code: SpanStatusCode.UNSET } : { code: SpanStatusCode.ERROR, message: ACTIVITY_FAILED });
              }
              throw err;
            } finally {
              span.end();
            }
          });
        },
      },
      outbound: new otel.OpenTelemetryActivityOutboundInterceptor(ctx),
    }),
  ];
}

/**
 * The trace context in a `_tracer-data` header (traceparent only), or undefined when there is none or it cannot
 * be decoded (another encoding, not JSON, not an object, …): a header any client may write never fails an activity.
 */
export function contextFromHeader(header: Payload | undefined) {
  if (header === undefined) return undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { defaultPayloadConverter } = require('@temporalio/common') as typeof import('@temporalio/common');
    const carrier: unknown = defaultPayloadConverter.fromPayload(header);
    if (carrier === null || typeof carrier !== 'object' || Array.isArray(carrier)) return undefined;
    const traceparent = (carrier as Record<string, unknown>).traceparent;
    if (typeof traceparent !== 'string') return undefined;
    return propagation.extract(ROOT_CONTEXT, { traceparent });
  } catch {
    return undefined;
  }
}

/** What a provider request span says about its call: closed sets and identifiers, never a secret. */
export interface CallTags {
  provider: string;
  connectorId?: string;
  tenantId?: string;
}

/**
 * Run `fn` (one outbound HTTP request) inside a client span when tracing is on. The span holds the method, the
 * server's host and port (connector providers only), the provider, connector and tenant, and the outcome: the HTTP status, or the transport
 * error's code. Never the URL's path or query, a header, the body or an error message.
 */
export async function withClientSpan<T extends { status: number }>(
  method: string,
  url: URL,
  tags: CallTags | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const t = tracer;
  if (!t) return fn();
  // The server's host and port only for the connectors' providers, whose hosts are not secret (operators see them
  // in `connectors list`; a webhook URL's secret part is its path and query, src/http/scrub.ts). Every
  // other call — the probectl callback, the heartbeat ping — goes to a URL that is a secret as a whole.
  const publicHost = tags !== undefined && isProvider(tags.provider);
  const attributes: Attributes = {
    'http.request.method': method,
    ...(publicHost ? { 'server.address': url.hostname, 'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)) } : {}),
    'probectl.provider': tags?.provider ?? 'unknown',
    ...(tags?.connectorId ? { 'probectl.connector_id': tags.connectorId } : {}),
    ...(tags?.tenantId ? { 'probectl.tenant_id': tags.tenantId } : {}),
  };
  return t.startActiveSpan(`${method} ${tags?.provider ?? 'provider'}`, { kind: SpanKind.CLIENT, attributes }, async (span: Span) => {
    try {
      const res = await fn();
      span.setAttribute('http.response.status_code', res.status);
      span.setAttribute('probectl.outcome', res.status < 400 ? 'ok' : `http_${res.status}`);
      if (res.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
      return res;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const type = typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : 'error';
      span.setAttribute('error.type', type);
      span.setAttribute('probectl.outcome', type);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  });
}

export { context, trace, SpanKind, SpanStatusCode };
