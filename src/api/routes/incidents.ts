import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { InvalidIncidentError, TenantConflictError, type IncidentClient } from '../../client';
import type { MirrorStore } from '../../db/mirror-store';
import type { Incident } from '../../shared/contract';
import { correlateKey } from '../../shared/records';
import { truncate } from '../../shared/text';
import type { TokenAuthenticator } from '../auth';
import { acknowledgeBody, correlateBody, incidentIdParam, openBody, reasons, resolveBody } from '../schemas';

export interface IncidentRouteDeps {
  auth: TokenAuthenticator;
  incidents: IncidentClient;
  mirror: MirrorStore;
}

declare module 'fastify' {
  interface FastifyRequest {
    tenantId?: string;
  }
}

const NOT_FOUND = { error: 'not_found', message: 'no such incident' };
const UNAUTHORIZED = { error: 'unauthorized', message: 'a valid bearer token is required' };

function parse<T extends z.ZodType>(schema: T, value: unknown, reply: FastifyReply): z.infer<T> | undefined {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  void reply.code(400).send({ error: 'invalid_request', reasons: reasons(r.error) });
  return undefined;
}

/**
 * The caller's tenant, set by the plugin's own onRequest hook. A handler that finds none refuses: this can only
 * happen if a route were ever reached without the hook, and then it must fail closed, never compare
 * `undefined` with `undefined`.
 */
function callerTenant(req: FastifyRequest): string | undefined {
  return typeof req.tenantId === 'string' && req.tenantId.length > 0 ? req.tenantId : undefined;
}

/** Same tenant, and both really known: a missing tenant on either side is never a match. */
export function sameTenant(a: string | undefined, b: string | undefined): boolean {
  return typeof a === 'string' && a.length > 0 && typeof b === 'string' && b.length > 0 && a === b;
}

/**
 * The tenant-scoped /v1 API, as an encapsulated plugin registered under the `/v1` prefix. Its bearer-token
 * hook belongs to the plugin, so Fastify runs it for every route the plugin declares, whatever spelling of
 * the request target the router matched (percent-escapes, absolute form, …): authentication is decided by
 * the matched route, never by the raw URL. A token of tenant A never sees or changes tenant B's incident: the
 * incident's tenant (fixed at start) is checked before every signal and query, and a mismatch answers 404
 * exactly as a missing incident does.
 */
export const incidentRoutes: FastifyPluginAsync<IncidentRouteDeps> = async (app: FastifyInstance, deps: IncidentRouteDeps) => {
  app.addHook('onRequest', async (req, reply) => {
    const tenantId = deps.auth.tenantFor(req.headers.authorization);
    if (!tenantId) return reply.code(401).header('www-authenticate', 'Bearer').send(UNAUTHORIZED);
    req.tenantId = tenantId;
  });

  /** The incident id, once it is known to belong to the caller's tenant (running or closed workflow). */
  async function owned(req: FastifyRequest, reply: FastifyReply): Promise<{ id: string; status: string; tenantId: string } | undefined> {
    const tenantId = callerTenant(req);
    if (!tenantId) {
      void reply.code(401).header('www-authenticate', 'Bearer').send(UNAUTHORIZED);
      return undefined;
    }
    const params = parse(incidentIdParam, req.params, reply);
    if (!params) return undefined;
    const owner = await deps.incidents.tenantOf(params.id);
    if (!owner || !sameTenant(owner.tenantId, tenantId)) {
      void reply.code(404).send(NOT_FOUND);
      return undefined;
    }
    return { id: params.id, status: owner.status, tenantId };
  }

  app.post('/incidents', async (req, reply) => {
    const tenantId = callerTenant(req);
    if (!tenantId) return reply.code(401).header('www-authenticate', 'Bearer').send(UNAUTHORIZED);
    const body = parse(openBody, req.body, reply);
    if (!body) return reply;
    if (body.tenantId !== undefined && body.tenantId !== tenantId) {
      return reply.code(400).send({ error: 'invalid_request', reasons: ['tenantId: does not match the token; omit it'] });
    }
    const { tenantId: _ignored, openedAt, ...rest } = body;
    const incident: Incident = { ...rest, tenantId, openedAt: openedAt ?? new Date().toISOString() };
    try {
      const out = await deps.incidents.openIncident(incident);
      if (out.outcome === 'closed') {
        return reply.code(200).send({ incidentId: incident.id, workflowId: out.workflowId, outcome: 'already_closed', noop: true, status: out.status });
      }
      return reply.code(out.outcome === 'started' ? 201 : 200).send({
        incidentId: incident.id, workflowId: out.workflowId, outcome: out.outcome, noop: out.outcome === 'running',
      });
    } catch (err) {
      if (err instanceof TenantConflictError) return reply.code(409).send({ error: 'conflict', message: 'this incident id is already in use' });
      if (err instanceof InvalidIncidentError) return reply.code(400).send({ error: 'invalid_request', reasons: err.problems });
      throw err;
    }
  });

  app.get('/incidents/:id', async (req, reply) => {
    const inc = await owned(req, reply);
    if (!inc) return reply;
    return reply.send(await deps.incidents.getIncident(inc.id));
  });

  app.get('/incidents/:id/timeline', async (req, reply) => {
    const tenantId = callerTenant(req);
    if (!tenantId) return reply.code(401).header('www-authenticate', 'Bearer').send(UNAUTHORIZED);
    const params = parse(incidentIdParam, req.params, reply);
    if (!params) return reply;
    // The mirror outlives Temporal's retention; row-level security scopes it to the caller's tenant.
    const timeline = await deps.mirror.timeline(tenantId, params.id);
    if (timeline.length === 0) return reply.code(404).send(NOT_FOUND);
    return reply.send({ incidentId: params.id, timeline });
  });

  /** Signal a running incident; a closed one answers 200 with noop (a duplicate resolve after the close). */
  async function signal(req: FastifyRequest, reply: FastifyReply, send: (id: string, tenantId: string) => Promise<void>) {
    const inc = await owned(req, reply);
    if (!inc) return reply;
    if (inc.status !== 'RUNNING') return reply.code(200).send({ incidentId: inc.id, accepted: false, noop: true, status: inc.status });
    try {
      await send(inc.id, inc.tenantId);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return reply.code(200).send({ incidentId: inc.id, accepted: false, noop: true, status: 'CLOSED' });
      throw err;
    }
    return reply.code(202).send({ incidentId: inc.id, accepted: true });
  }

  app.post('/incidents/:id/correlate', async (req, reply) => {
    const body = parse(correlateBody, req.body, reply);
    if (!body) return reply;
    return signal(req, reply, async (id, tenantId) => {
      const at = new Date().toISOString();
      // The API records what it receives (the workflow only counts it); Postgres down: the workflow records it.
      let recorded = false;
      try {
        const detail = truncate(`${body.signalId}${body.summary ? `: ${body.summary}` : ''}`, 500);
        await deps.mirror.recordEntries(tenantId, id, [{ key: correlateKey(id, body.signalId), at, kind: 'correlated', detail }]);
        recorded = true;
      } catch (err) {
        req.log.warn({ err: { message: (err as Error).message.split('\n')[0]!.slice(0, 200) } }, 'recording a correlated signal failed; the workflow records it');
      }
      await deps.incidents.correlate(id, { tenantId, ...body, at, recorded });
    });
  });

  app.post('/incidents/:id/acknowledge', async (req, reply) => {
    const body = parse(acknowledgeBody, req.body, reply);
    if (!body) return reply;
    return signal(req, reply, (id, tenantId) => deps.incidents.acknowledge(id, { tenantId, source: 'api', ...body, at: new Date().toISOString() }));
  });

  app.post('/incidents/:id/resolve', async (req, reply) => {
    const body = parse(resolveBody, req.body, reply);
    if (!body) return reply;
    return signal(req, reply, (id, tenantId) => deps.incidents.resolve(id, { tenantId, source: 'api', ...body, at: new Date().toISOString() }));
  });
};
