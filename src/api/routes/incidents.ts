import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { InvalidIncidentError, TenantConflictError, type IncidentClient } from '../../client';
import type { MirrorStore } from '../../db/mirror-store';
import type { Incident } from '../../shared/contract';
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

function parse<T extends z.ZodType>(schema: T, value: unknown, reply: FastifyReply): z.infer<T> | undefined {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  void reply.code(400).send({ error: 'invalid_request', reasons: reasons(r.error) });
  return undefined;
}

/**
 * The tenant-scoped /v1 API. A token of tenant A never sees or changes tenant B's incident: the incident's
 * tenant (fixed at start) is checked before every signal and query, and a mismatch answers 404 exactly as
 * a missing incident does.
 */
export function incidentRoutes(app: FastifyInstance, deps: IncidentRouteDeps): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1/')) return;
    const tenantId = deps.auth.tenantFor(req.headers.authorization);
    if (!tenantId) return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'a valid bearer token is required' });
    req.tenantId = tenantId;
  });

  /** The incident id, once it is known to belong to the caller's tenant (running or closed workflow). */
  async function owned(req: FastifyRequest, reply: FastifyReply): Promise<{ id: string; status: string } | undefined> {
    const params = parse(incidentIdParam, req.params, reply);
    if (!params) return undefined;
    const owner = await deps.incidents.tenantOf(params.id);
    if (!owner || owner.tenantId !== req.tenantId) {
      void reply.code(404).send(NOT_FOUND);
      return undefined;
    }
    return { id: params.id, status: owner.status };
  }

  app.post('/v1/incidents', async (req, reply) => {
    const body = parse(openBody, req.body, reply);
    if (!body) return reply;
    if (body.tenantId !== undefined && body.tenantId !== req.tenantId) {
      return reply.code(400).send({ error: 'invalid_request', reasons: ['tenantId: does not match the token; omit it'] });
    }
    const { tenantId: _ignored, openedAt, ...rest } = body;
    const incident: Incident = { ...rest, tenantId: req.tenantId!, openedAt: openedAt ?? new Date().toISOString() };
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

  app.get('/v1/incidents/:id', async (req, reply) => {
    const inc = await owned(req, reply);
    if (!inc) return reply;
    return reply.send(await deps.incidents.getIncident(inc.id));
  });

  app.get('/v1/incidents/:id/timeline', async (req, reply) => {
    const params = parse(incidentIdParam, req.params, reply);
    if (!params) return reply;
    // The mirror outlives Temporal's retention; row-level security scopes it to the caller's tenant.
    const timeline = await deps.mirror.timeline(req.tenantId!, params.id);
    if (timeline.length === 0) return reply.code(404).send(NOT_FOUND);
    return reply.send({ incidentId: params.id, timeline });
  });

  /** Signal a running incident; a closed one answers 200 with noop (a duplicate resolve after the close). */
  async function signal(req: FastifyRequest, reply: FastifyReply, send: (id: string) => Promise<void>) {
    const inc = await owned(req, reply);
    if (!inc) return reply;
    if (inc.status !== 'RUNNING') return reply.code(200).send({ incidentId: inc.id, accepted: false, noop: true, status: inc.status });
    try {
      await send(inc.id);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return reply.code(200).send({ incidentId: inc.id, accepted: false, noop: true, status: 'CLOSED' });
      throw err;
    }
    return reply.code(202).send({ incidentId: inc.id, accepted: true });
  }

  app.post('/v1/incidents/:id/correlate', async (req, reply) => {
    const body = parse(correlateBody, req.body, reply);
    if (!body) return reply;
    return signal(req, reply, (id) => deps.incidents.correlate(id, { tenantId: req.tenantId!, ...body, at: new Date().toISOString() }));
  });

  app.post('/v1/incidents/:id/acknowledge', async (req, reply) => {
    const body = parse(acknowledgeBody, req.body, reply);
    if (!body) return reply;
    return signal(req, reply, (id) => deps.incidents.acknowledge(id, { tenantId: req.tenantId!, source: 'api', ...body, at: new Date().toISOString() }));
  });

  app.post('/v1/incidents/:id/resolve', async (req, reply) => {
    const body = parse(resolveBody, req.body, reply);
    if (!body) return reply;
    return signal(req, reply, (id) => deps.incidents.resolve(id, { tenantId: req.tenantId!, source: 'api', ...body, at: new Date().toISOString() }));
  });
}
