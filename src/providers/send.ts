/** I/O helpers every connector shares: send through ctx.http, classify, parse, wait. */
import { classify, type ClassifyOptions } from '../http/classify';
import { FailureType, permanent, retryable } from '../http/failures';
import type { HttpRequest, HttpResponse } from '../http/types';
import type { CallTags } from '../observability/tracing';
import type { CallContext } from './types';
import { secretsOf } from './types';

/** Send one request and let classify.ts decide: returns the 2xx response, throws the classified failure otherwise. */
export async function sendChecked(
  ctx: CallContext,
  req: HttpRequest,
  opts: { label: string; action: string; retryStatuses?: readonly number[] },
): Promise<HttpResponse> {
  const secrets = secretsOf(ctx.connector);
  const res = await ctx.http.send(req, secrets, ctx.signal, callTags(ctx));
  classify(res, classifyOptions(ctx, opts));
  return res;
}

/** Send without classifying: for answers a connector interprets itself (a lookup's 404) before classify sees the rest. */
export async function sendRaw(ctx: CallContext, req: HttpRequest): Promise<HttpResponse> {
  return ctx.http.send(req, secretsOf(ctx.connector), ctx.signal, callTags(ctx));
}

/** The connector's identity for the request's trace span (no secret: provider, connector id, tenant). */
export function callTags(ctx: CallContext): CallTags {
  return { provider: ctx.connector.provider, connectorId: ctx.connector.id, tenantId: ctx.connector.tenantId };
}

export function classifyOptions(ctx: CallContext, opts: { label: string; action: string; retryStatuses?: readonly number[] }): ClassifyOptions {
  return {
    label: opts.label,
    action: opts.action,
    secrets: secretsOf(ctx.connector),
    attempt: ctx.attempt,
    ...(opts.retryStatuses ? { retryStatuses: opts.retryStatuses } : {}),
  };
}

/** Parse a JSON answer; an unparseable 2xx body is a retryable MalformedResponse (a proxy's error page, a truncated body). */
export function parseJson(res: HttpResponse, what: string): unknown {
  try {
    return JSON.parse(res.text) as unknown;
  } catch {
    throw retryable(FailureType.MalformedResponse, `${what}: the answer (HTTP ${res.status}) is not JSON`);
  }
}

export function malformed(what: string): never {
  throw permanent(FailureType.MalformedResponse, what);
}

/** Wait `ms`, through ctx.sleep when given, else a timer that an aborted signal cuts short. */
export function pause(ctx: CallContext, ms: number): Promise<void> {
  if (ctx.sleep) return ctx.sleep(ms);
  return new Promise<void>((resolve) => {
    if (ctx.signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      ctx.signal?.removeEventListener('abort', done);
      resolve();
    }
    ctx.signal?.addEventListener('abort', done, { once: true });
  });
}

