import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Is this error "Temporal or Postgres cannot be reached"? The SDK wraps the gRPC status in a ServiceError whose
 * own message names only the call ("Failed to describe workflow"): its causes are read too.
 */
export function backingServiceDown(err: unknown, depth = 0): boolean {
  const e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined;
  if (/UNAVAILABLE|ECONNREFUSED|connect|timeout/i.test(`${String(e?.code ?? '')} ${String(e?.message ?? '')}`)) return true;
  return depth < 3 && e?.cause !== undefined && e.cause !== err ? backingServiceDown(e.cause, depth + 1) : false;
}

/**
 * The app's error answer: a client error keeps its code and reason; our own faults answer a generic 503 (a
 * backing service is down) or 500, logged with the request id, never with more than the message.
 */
export function answerError(err: Error & { statusCode?: number; code?: string }, req: FastifyRequest, reply: FastifyReply) {
  const status = err.statusCode ?? 500;
  if (status < 500) {
    return reply.code(status).send({ error: err.code ?? 'invalid_request', message: err.message });
  }
  const unavailable = backingServiceDown(err);
  req.log.error({ err: { message: err.message, code: err.code } }, 'request failed');
  return reply.code(unavailable ? 503 : 500).send({
    error: unavailable ? 'unavailable' : 'internal_error',
    message: unavailable ? 'a backing service is unavailable; retry later' : 'internal error',
  });
}
