import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { InvalidIncidentError, TenantConflictError, isStillOpen, type IncidentClient } from '../../client';
import type { MirrorStore } from '../../db/mirror-store';
import type { Incident } from '../../shared/contract';
import { CORRELATE_DETAIL_CHARS, correlateKey } from '../../shared/records';
import { truncate } from '../../shared/text';
import type { TokenAuthenticator } from '../auth';
import { answerError } from '../errors';
import {
  BODY_REFUSALS, NOT_FOUND_ANSWER, REFUSALS, answer, errorSchema, incidentStateSchema, openedSchema, signalAcceptedSchema, signalNoopSchema, timelineSchema,
} from '../responses';
import { acknowledgeBody, correlateBody, incidentIdParam, openBody, resolveBody, validationReasons } from '../schemas';

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

/** The longest timeline entry key the mirror stores (migrations/004_timeline_keys.sql, incident_timeline_key_length). */
const MAX_ENTRY_KEY_LENGTH = 500;

const NOT_FOUND = { error: 'not_found', message: 'no such incident' };
const UNAUTHORIZED = { error: 'unauthorized', message: 'a valid bearer token is required' };

const BEARER = [{ bearerAuth: [] }];
const TAGS = ['incidents'];
const signalAnswers = {
  202: answer('the signal was sent to the running incident', signalAcceptedSchema),
  200: answer('the incident is closed: nothing was sent (`noop`)', signalNoopSchema),
  ...REFUSALS,
  404: NOT_FOUND_ANSWER,
  ...BODY_REFUSALS,
};
/** An acknowledge or resolve from the API: the caller's tenant, source `api`, the body's fields, stamped now. */
type ApiSignal = { tenantId: string; source: 'api'; at: string } & z.output<typeof acknowledgeBody | typeof resolveBody>;

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
export const incidentRoutes: FastifyPluginAsync<IncidentRouteDeps> = async (plugin: FastifyInstance, deps: IncidentRouteDeps) => {
  plugin.addHook('onRequest', async (req, reply) => {
    const tenantId = deps.auth.tenantFor(req.headers.authorization);
    if (!tenantId) return reply.code(401).header('www-authenticate', 'Bearer').send(UNAUTHORIZED);
    req.tenantId = tenantId;
  });

  // Params and bodies are validated by their zod schemas (after the onRequest hook above: 401 before 400),
  // answers serialized through the schema of their status. A validation failure answers 400 with the
  // reasons as `path: rule`; every other error is answered as the app answers it (errors.ts).
  plugin.setValidatorCompiler(validatorCompiler);
  plugin.setSerializerCompiler(serializerCompiler);
  plugin.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) return reply.code(400).send({ error: 'invalid_request', reasons: validationReasons(err.validation) });
    return answerError(err, req, reply);
  });
  // A POST without a body is an empty object, as it always was (acknowledge and resolve need no field).
  plugin.addHook('preValidation', async (req) => {
    if (req.method === 'POST' && (req.body === undefined || req.body === null)) req.body = {};
  });
  const app = plugin.withTypeProvider<ZodTypeProvider>();

  /** The incident id, once it is known to belong to the caller's tenant (running or closed workflow). */
  async function owned(req: FastifyRequest, reply: FastifyReply, id: string): Promise<{ id: string; status: string; tenantId: string } | undefined> {
    const tenantId = callerTenant(req);
    if (!tenantId) {
      void reply.code(401).header('www-authenticate', 'Bearer').send(UNAUTHORIZED);
      return undefined;
    }
    const owner = await deps.incidents.tenantOf(id);
    if (!owner || !sameTenant(owner.tenantId, tenantId)) {
      void reply.code(404).send(NOT_FOUND);
      return undefined;
    }
    return { id, status: owner.status, tenantId };
  }

  app.post('/incidents', {
    schema: {
      operationId: 'openIncident', tags: TAGS, security: BEARER,
      summary: 'Open an incident (start its workflow); idempotent on the incident id',
      body: openBody,
      response: {
        201: answer('started', openedSchema),
        200: answer('already running (`outcome: running`) or already closed (`outcome: already_closed`): nothing started, `noop: true`', openedSchema),
        ...REFUSALS,
        409: answer('this incident id belongs to another tenant', errorSchema),
        ...BODY_REFUSALS,
      },
    },
  }, async (req, reply) => {
    const tenantId = callerTenant(req);
    if (!tenantId) return reply.code(401).header('www-authenticate', 'Bearer').send(UNAUTHORIZED);
    const body = req.body;
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

  app.get('/incidents/:id', {
    schema: {
      operationId: 'getIncident', tags: TAGS, security: BEARER,
      summary: 'The incident\'s state: status, links and the latest timeline (the workflow\'s `state` query)',
      params: incidentIdParam,
      response: { 200: answer('the state', incidentStateSchema), ...REFUSALS, 404: NOT_FOUND_ANSWER },
    },
  }, async (req, reply) => {
    const inc = await owned(req, reply, req.params.id);
    if (!inc) return reply;
    return reply.send((await deps.incidents.getIncident(inc.id)) as z.output<typeof incidentStateSchema>);
  });

  app.get('/incidents/:id/timeline', {
    schema: {
      operationId: 'getTimeline', tags: TAGS, security: BEARER,
      summary: 'The whole timeline, from Postgres (also after Temporal\'s retention)',
      params: incidentIdParam,
      response: { 200: answer('the timeline (empty while a running incident\'s first records are on their way)', timelineSchema), ...REFUSALS, 404: NOT_FOUND_ANSWER },
    },
  }, async (req, reply) => {
    const tenantId = callerTenant(req);
    if (!tenantId) return reply.code(401).header('www-authenticate', 'Bearer').send(UNAUTHORIZED);
    const params = req.params;
    // The mirror outlives Temporal's retention; row-level security scopes it to the caller's tenant. No rows yet (a
    // run whose first records are still on their way): the caller's own incident answers an empty timeline, as
    // GET /incidents/{id} answers its state; a missing or another tenant's one answers 404, the same way (owned()).
    const timeline = await deps.mirror.timeline(tenantId, params.id);
    if (timeline.length === 0 && !(await owned(req, reply, params.id))) return reply;
    return reply.send({ incidentId: params.id, timeline: timeline as z.output<typeof timelineSchema>['timeline'] });
  });

  /** Signal a running incident; a closed one answers 200 with noop (a duplicate resolve after the close). */
  async function signal(req: FastifyRequest, reply: FastifyReply, id: string, send: (id: string, tenantId: string) => Promise<void>) {
    const inc = await owned(req, reply, id);
    if (!inc) return reply;
    if (!isStillOpen(inc.status)) return reply.code(200).send({ incidentId: inc.id, accepted: false, noop: true, status: inc.status });
    try {
      await send(inc.id, inc.tenantId);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return reply.code(200).send({ incidentId: inc.id, accepted: false, noop: true, status: 'CLOSED' });
      throw err;
    }
    return reply.code(202).send({ incidentId: inc.id, accepted: true });
  }

  app.post('/incidents/:id/correlate', {
    schema: {
      operationId: 'correlate', tags: TAGS, security: BEARER,
      summary: 'Record a correlated probectl signal on the timeline (never re-pages)',
      params: incidentIdParam, body: correlateBody, response: signalAnswers,
    },
  }, async (req, reply) => {
    const body = req.body;
    // Its timeline key must fit the column (a longer one is refused by Postgres: the entry would never be recorded).
    if (correlateKey(req.params.id, body.signalId).length > MAX_ENTRY_KEY_LENGTH) {
      return reply.code(400).send({ error: 'invalid_request', reasons: [`signalId: too long for this incident id (the timeline key correlate:probectl-<id>:<signalId> is at most ${MAX_ENTRY_KEY_LENGTH} characters)`] });
    }
    return signal(req, reply, req.params.id, async (id, tenantId) => {
      const at = new Date().toISOString();
      // The API records what it receives (the workflow only counts it); Postgres down: the workflow records it.
      let recorded = false;
      try {
        const detail = truncate(`${body.signalId}${body.summary ? `: ${body.summary}` : ''}`, CORRELATE_DETAIL_CHARS);
        await deps.mirror.recordEntries(tenantId, id, [{ key: correlateKey(id, body.signalId), at, kind: 'correlated', detail }]);
        recorded = true;
      } catch (err) {
        req.log.warn({ err: { message: (err as Error).message.split('\n')[0]!.slice(0, 200) } }, 'recording a correlated signal failed; the workflow records it');
      }
      await deps.incidents.correlate(id, { tenantId, ...body, at, recorded });
    });
  });

  /**
   * A route that passes its body on to the running incident as the caller's signal (source `api`, stamped now):
   * acknowledge and resolve. Each keeps its own path, operationId, summary and body schema; the params and answers
   * are every signal route's.
   */
  function apiSignalRoute(
    path: string,
    route: { operationId: string; summary: string; body: typeof acknowledgeBody | typeof resolveBody },
    send: (id: string, s: ApiSignal) => Promise<void>,
  ): void {
    app.post(path, {
      schema: {
        operationId: route.operationId, tags: TAGS, security: BEARER,
        summary: route.summary,
        params: incidentIdParam, body: route.body, response: signalAnswers,
      },
    }, async (req, reply) => {
      const body = req.body;
      return signal(req, reply, req.params.id, (id, tenantId) => send(id, { tenantId, source: 'api', ...body, at: new Date().toISOString() }));
    });
  }

  apiSignalRoute('/incidents/:id/acknowledge', {
    operationId: 'acknowledge', summary: 'Acknowledge: every paging connector is acknowledged (source `api`)', body: acknowledgeBody,
  }, (id, s) => deps.incidents.acknowledge(id, s));

  apiSignalRoute('/incidents/:id/resolve', {
    operationId: 'resolve', summary: 'Resolve: every connector is resolved (source `api`); a duplicate after the close is a 200 no-op', body: resolveBody,
  }, (id, s) => deps.incidents.resolve(id, s));
};
