/**
 * The OpenAPI description of `POST /ingest/itsm/{provider}/{id}` (docs/inbound.md). Documentation only: it is
 * attached as `config.swaggerTransform`, which Fastify never compiles, so the route keeps reading the raw body
 * and authenticating before anything parses it. Examples carry placeholders, never a real-looking secret.
 */
import { z } from 'zod';
import type { InboundSide } from '../../providers/definition';
import { allProviders } from '../../providers/registry';
import { documentOnly } from '../openapi';

/** The providers that take status webhooks, in registry order (a test provider admitted before this module loads included). */
const INBOUND = allProviders().flatMap((d) => (d.inbound ? [{ name: d.spec.name, inbound: d.inbound }] : []));
const INBOUND_PROVIDERS = INBOUND.map((p) => p.name);

const portable = z
  .looseObject({
    external_ref: z.string().describe('`probectl-<incident-id>`, or the provider\'s own reference (a ServiceNow sys_id, a Jira issue key)'),
    status: z.enum(['resolved', 'acknowledged']),
    actor: z.string().optional(),
    delivery_id: z.string().optional().describe('deduplicates repeated deliveries (30 days)'),
  })
  .meta({ id: 'InboundPortable', title: 'the portable contract (every paging and ticketing provider)' });

/**
 * The headers the providers read besides the generic X-Probectl-* ones, as each provider's folder documents them
 * (`inbound.docs.headers`), in registry order; a header two providers read carries both descriptions.
 */
function providerHeaders(sides: ReadonlyArray<{ inbound: InboundSide }>): Record<string, z.ZodOptional<z.ZodString>> {
  const described: Record<string, string[]> = {};
  for (const { inbound } of sides) {
    for (const [name, text] of Object.entries(inbound.docs.headers)) {
      const texts = (described[name] ??= []);
      if (!texts.includes(text)) texts.push(text);
    }
  }
  return Object.fromEntries(Object.entries(described).map(([name, texts]) => [name, z.string().optional().describe(texts.join('; '))]));
}

const failure = z.object({ error: z.string(), message: z.string() }).meta({ id: 'InboundError' });
const json = (description: string, schema: z.ZodType) => ({ description, content: { 'application/json': { schema } } });

export const inboundRouteDocs = documentOnly(
  {
    operationId: 'ingest',
    tags: ['inbound'],
    summary: 'A status delivery from a pager or ticketing tool (resolve / acknowledge)',
    description: [
      'Authenticated per delivery by the entry `{id}` of PROBECTL_NOTIFY_INBOUND, which also fixes the tenant. Checks, in order, before anything is',
      'looked up: the entry exists, matches `{provider}`, and a credential header is present (401); `X-Probectl-Token` if sent (401); the body is at',
      'most 1 MiB (413); the signature over the raw body when no token authenticated (401); `Content-Type` JSON (415); valid JSON (400); a payload',
      'shape we understand (400). Every 401 has the same body. See docs/inbound.md.',
    ].join(' '),
    security: [{ probectlSignature: [] }, { probectlToken: [] }],
    params: z.object({
      provider: z.enum(INBOUND_PROVIDERS).describe('the entry\'s provider'),
      id: z.string().describe('the entry id in PROBECTL_NOTIFY_INBOUND (`id:tenant:provider:secret`)'),
    }),
    headers: z.object({
      'x-probectl-timestamp': z.string().optional().describe('Unix seconds; with it the signature covers `v1:<timestamp>:<body>` and is refused after 300 s'),
      ...providerHeaders(INBOUND),
    }),
    // The portable contract first (it is parsed first), then each provider's own payload, in registry order.
    body: z.union([portable, ...INBOUND.map((p) => p.inbound.docs.payload)]).meta({
      description: 'JSON, at most 1 MiB, read raw: the signature covers the exact bytes sent',
      examples: [{ external_ref: 'probectl-inc-42', status: 'resolved', actor: 'alice' }],
    }),
    response: {
      202: json(
        'recorded in Postgres, and the incident\'s workflow was signalled; with `queued: true`, Temporal did not take the signal within 300 ms and it is sent when Temporal does (at-least-once; docs/inbound.md, "Accepted means recorded")',
        z.object({
          outcome: z.literal('accepted'),
          kind: z.enum(['resolved', 'acknowledged']),
          incidentId: z.string(),
          queued: z.literal(true).optional().describe('recorded, not yet taken by Temporal; no retry is needed'),
        }),
      ),
      200: json(
        '`duplicate`: a repeated delivery, or an incident already resolved (also after its workflow closed) or already acknowledged; `ignored`: the delivery means nothing to us (with the reason)',
        z.union([z.object({ outcome: z.literal('duplicate') }), z.object({ outcome: z.literal('ignored'), reason: z.string() })]),
      ),
      400: json('the body is not JSON, or not a shape we understand', failure),
      401: json('not authenticated for this endpoint (the same answer for every reason)', failure),
      413: json('the body is larger than 1 MiB (1,048,576 bytes)', failure),
      415: json('an authenticated delivery whose Content-Type is not JSON', failure),
      500: json('a bug of ours', failure),
      503: json('Postgres is unavailable: nothing was recorded; retry (Retry-After: 30)', failure),
    },
  },
  { 503: { 'Retry-After': { description: 'seconds; always 30', schema: { type: 'integer' } } } },
);
