/**
 * The answers of the /v1 API as zod schemas: the zod type provider serializes each answer through the schema
 * of its status, and the OpenAPI document (GET /openapi.json, docs/openapi.json) is generated from them.
 * Objects that carry workflow state are loose: a field added to the state reaches callers without a schema
 * change; the documented fields are checked.
 */
import { z } from 'zod';
import { providerNames } from '../providers/registry';
import { SEVERITIES } from '../shared/contract';

const INCIDENT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
const LINK_STATUSES = ['pending', 'open', 'acknowledged', 'resolved', 'failed', 'skipped', 'orphaned'] as const;

export const incidentSchema = z
  .looseObject({
    id: z.string(),
    tenantId: z.string(),
    title: z.string(),
    severity: z.enum(SEVERITIES),
    summary: z.string().optional(),
    source: z.string().optional(),
    url: z.string().optional(),
    openedAt: z.string().describe('ISO 8601'),
    labels: z.record(z.string(), z.string()).optional(),
  })
  .meta({ id: 'Incident' });

export const linkSchema = z
  .looseObject({
    connectorId: z.string(),
    // The shipped providers (and, in tests, a provider admitted before this module loads).
    provider: z.enum(providerNames()),
    status: z.enum(LINK_STATUSES),
    externalRef: z.string().optional().describe('the provider-side reference (dedup key, alias, sys_id, issue key, channel/ts); never a secret'),
    externalUrl: z.string().optional(),
    error: z.string().optional().describe('why the last operation failed, scrubbed of secrets'),
    updatedAt: z.string(),
  })
  .meta({ id: 'Link' });

export const timelineEntrySchema = z
  .looseObject({
    seq: z.number().int(),
    at: z.string().describe('ISO 8601'),
    kind: z.string().describe('opened, connector.opened, connector.failed, correlated, acknowledged, resolved, origin.skipped, … (docs/workflow-contract.md)'),
    connectorId: z.string().optional(),
    source: z.string().optional(),
    actor: z.string().optional(),
    detail: z.string().optional(),
  })
  .meta({ id: 'TimelineEntry' });

export const incidentStateSchema = z
  .looseObject({
    incident: incidentSchema,
    status: z.enum(INCIDENT_STATUSES),
    links: z.array(linkSchema),
    timeline: z.array(timelineEntrySchema).describe('the latest entries; the whole timeline is GET /v1/incidents/{id}/timeline'),
    correlationCount: z.number().int().optional().describe('correlated probectl signals recorded so far'),
  })
  .meta({ id: 'IncidentState', description: 'the workflow\'s `state` query' });

export const timelineSchema = z.object({ incidentId: z.string(), timeline: z.array(timelineEntrySchema) }).meta({ id: 'Timeline' });

export const openedSchema = z
  .object({
    incidentId: z.string(),
    workflowId: z.string().describe('probectl-<incidentId>'),
    outcome: z.enum(['started', 'running', 'already_closed']),
    noop: z.boolean().describe('true when nothing was started'),
    status: z.string().optional().describe('the closed workflow\'s status (already_closed)'),
  })
  .meta({ id: 'OpenResult' });

export const signalAcceptedSchema = z.object({ incidentId: z.string(), accepted: z.literal(true) }).meta({ id: 'SignalAccepted' });
export const signalNoopSchema = z
  .object({ incidentId: z.string(), accepted: z.literal(false), noop: z.literal(true), status: z.string().describe('the closed workflow\'s status') })
  .meta({ id: 'SignalNoop' });

/** Every refusal: a code, and either a message or the reasons (`path: rule`, never the rejected value). */
export const errorSchema = z
  .object({
    error: z.string().describe('invalid_request, unauthorized, not_found, conflict, unavailable, or the code of a refused body'),
    message: z.string().optional(),
    reasons: z.array(z.string()).optional().describe('`path: rule` per problem; the rejected value is never repeated'),
  })
  .meta({ id: 'Error' });

/** A response with a description (the OpenAPI document shows it) and one JSON schema. */
export function answer<T extends z.ZodType>(description: string, schema: T) {
  return { description, content: { 'application/json': { schema } } };
}

export const REFUSALS = {
  400: answer('the request is invalid: `reasons` lists `path: rule` for each problem (or `message` for a body that is not JSON)', errorSchema),
  401: answer('no valid bearer token (`WWW-Authenticate: Bearer`); checked before anything else', errorSchema),
  503: answer('Temporal or Postgres is unavailable; retry later', errorSchema),
} as const;
export const NOT_FOUND_ANSWER = answer('no such incident for this token\'s tenant (another tenant\'s incident answers the same)', errorSchema);
export const BODY_REFUSALS = {
  413: answer('the body is larger than 256 KiB', errorSchema),
  415: answer('a Content-Type the API does not read: send `application/json`', errorSchema),
} as const;
