/**
 * `POST /ingest/itsm/{provider}/{id}`: status deliveries from pagers and ticketing tools (docs/inbound.md).
 * An encapsulated Fastify plugin: its raw-body parser and its error handler apply to this route only.
 *
 * Order of checks (design.md, Inbound), nothing looked up or changed before all of them passed:
 *   onRequest   entry exists, matches {provider}, a credential header is present → else 401
 *               X-Probectl-Token (when present), constant time → 401
 *   body        read with a 1 MiB limit → 413 (a larger Content-Length is refused before reading)
 *   handler     signature (when no token authenticated), constant time → 401
 *               Content-Type JSON → 415 · JSON.parse → 400 · payload shape → 400
 *   then        parse → ignored (200) | reverse lookup + outbox row (one short transaction), then the signal
 *               inline → 202 accepted / 200 duplicate / 200 ignored, or Temporal too slow → 202 queued
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { IncidentClient } from '../../client';
import type { ConnectorDirectory } from '../../config/connectors';
import type { InboundDirectory, InboundEntry } from '../../config/inbound';
import type { MirrorStore } from '../../db/mirror-store';
import { definitionOf } from '../../providers/registry';
import type { InboundMetrics, InboundOutcome } from './metrics';
import { inboundRouteDocs } from './openapi';
import { parseDelivery } from './parsers';
import { processDelivery, UnavailableError, type Answer } from './process';
import { TemporalHealth } from './temporal-health';
import { TOKEN_HEADER, hasCredential, header, tokenMatches, verifySignature } from './verify';

export const INBOUND_BODY_LIMIT = 1024 * 1024;
/** Delivery ids older than this are deleted (opportunistically, at most once an hour per tenant). */
export const DELIVERY_RETENTION_DAYS = 30;
const PRUNE_EVERY_MS = 60 * 60_000;

export interface InboundDeps {
  entries: InboundDirectory;
  connectors: ConnectorDirectory;
  incidents: IncidentClient;
  mirror: MirrorStore;
  metrics?: InboundMetrics;
  /** Shared with the outbox dispatcher; absent: the route keeps its own. */
  health?: TemporalHealth;
  /** Deadline of the inline Temporal try (default 300 ms). */
  inlineDeadlineMs?: number;
  /** Clock for the replay window (tests). */
  now?: () => number;
}

declare module 'fastify' {
  interface FastifyRequest {
    inbound?: { entry: InboundEntry; byToken: boolean };
    /** The Content-Type the sender gave, judged by the handler after authentication. */
    inboundContentType?: string;
  }
}

const JSON_TYPE = /^application\/(?:[a-z0-9.+-]*\+)?json\s*(?:;.*)?$/i;

const UNAUTHORIZED = { error: 'unauthorized', message: 'the delivery is not authenticated for this endpoint' };

/** A delivery id as stored: the provider's value, or a digest of an over-long one. */
function normalizeDeliveryId(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  if (t.length === 0) return undefined;
  return t.length <= 255 ? t : `sha256:${createHash('sha256').update(t).digest('hex')}`;
}

export const inboundPlugin: FastifyPluginAsync<InboundDeps> = async (app: FastifyInstance, deps: InboundDeps) => {
  const now = deps.now ?? Date.now;
  const lastPrune = new Map<string, number>();
  const count = (provider: string, outcome: InboundOutcome) => deps.metrics?.inc(provider, outcome);
  const health = deps.health ?? new TemporalHealth();

  // Every content type arrives as the raw bytes, so authentication runs before the type is judged (415)
  // and signatures are computed over exactly what was sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: INBOUND_BODY_LIMIT }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const provider = (req.params as { provider?: string } | undefined)?.provider ?? 'other';
    const status = err.statusCode ?? 500;
    if (status === 413) {
      count(provider, 'refused_413');
      return reply.code(413).send({ error: 'payload_too_large', message: `the body is larger than ${INBOUND_BODY_LIMIT} bytes` });
    }
    if (status < 500) {
      count(provider, 'refused_400');
      return reply.code(status).send({ error: 'invalid_request', message: err.message });
    }
    req.log.error({ err: { message: err.message, code: err.code } }, 'inbound delivery failed');
    count(provider, 'failed_500');
    return reply.code(500).send({ error: 'internal_error', message: 'internal error' });
  });

  const refuse = (req: FastifyRequest, reply: FastifyReply, provider: string, why: string) => {
    req.log.warn({ provider, entry: (req.params as { id?: string }).id?.slice(0, 64), why }, 'inbound delivery refused');
    count(provider, 'refused_401');
    return reply.code(401).send(UNAUTHORIZED);
  };

  /** Before the body is read: the entry, the provider, a credential header, and the token if one is sent. */
  async function authenticate(req: FastifyRequest<{ Params: { provider: string; id: string } }>, reply: FastifyReply) {
    // Fastify judges the Content-Type itself (415 for one it cannot parse, e.g. an empty header) before the
    // handler runs, which would answer an unauthenticated delivery before its credential is checked. Keep the
    // sender's value for the handler's own 415 and give Fastify one it always hands to the raw-body parser.
    const sentType = req.headers['content-type'];
    if (sentType !== undefined) {
      req.inboundContentType = sentType;
      req.raw.headers['content-type'] = 'application/octet-stream';
    }
    const { provider, id } = req.params;
    const entry = deps.entries.find(id);
    if (!entry) return refuse(req, reply, provider, 'unknown entry');
    if (entry.provider !== provider) return refuse(req, reply, provider, 'provider does not match the entry');
    if (!hasCredential(entry.provider, req.headers)) return refuse(req, reply, provider, 'no credential header');
    const token = req.headers[TOKEN_HEADER];
    // An entry that requires timestamped signatures takes no token: a token is the same on every delivery.
    if (entry.requireTimestamp && token !== undefined) return refuse(req, reply, provider, 'this entry requires a timestamped signature; a token is refused');
    if (token !== undefined) {
      const value = typeof token === 'string' ? token : undefined;
      if (value === undefined || !tokenMatches(value, entry.secrets.map((s) => s.reveal()))) {
        return refuse(req, reply, provider, 'wrong token');
      }
    }
    req.inbound = { entry, byToken: token !== undefined };
  }

  app.post<{ Params: { provider: string; id: string } }>(
    '/ingest/itsm/:provider/:id',
    { bodyLimit: INBOUND_BODY_LIMIT, onRequest: authenticate, config: inboundRouteDocs },
    async (req, reply) => {
      const { entry, byToken } = req.inbound!;
      const provider = entry.provider;
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);

      if (!byToken) {
        const v = verifySignature(provider, req.headers, raw, entry.secrets.map((s) => s.reveal()), now(), { requireTimestamp: entry.requireTimestamp });
        if (!v.ok) return refuse(req, reply, provider, v.reason);
      }
      const type = req.inboundContentType;
      if (typeof type !== 'string' || !JSON_TYPE.test(type)) {
        count(provider, 'refused_415');
        return reply.code(415).send({ error: 'unsupported_media_type', message: 'send the body as application/json' });
      }
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        count(provider, 'refused_400');
        return reply.code(400).send({ error: 'invalid_request', message: 'the body is not valid JSON' });
      }
      const parsed = parseDelivery(provider, body);
      if (!parsed.ok) {
        count(provider, 'refused_400');
        return reply.code(400).send({ error: 'invalid_request', message: parsed.error });
      }
      const event = parsed.event;
      if (event.kind === 'ignored') return ignoredAnswer(req, reply, entry, { outcome: 'ignored', code: 'event', reason: event.reason ?? 'nothing to do' });

      // The provider's delivery id header (its folder's inbound side); the body's own id is the fallback.
      const deliveryHeader = definitionOf(provider).inbound?.deliveryHeader;
      const deliveryId = normalizeDeliveryId((deliveryHeader ? header(req.headers, deliveryHeader) : undefined) ?? event.deliveryId);
      let answer: Answer;
      try {
        answer = await processDelivery(
          { ...deps, health, onWriteFailure: (what, err) => req.log.warn({ provider, entry: entry.id, what, err: { message: (err as Error).message } }, 'inbound outbox write failed; the row is retried after its lease') },
          entry, { ...event, kind: event.kind }, deliveryId,
        );
      } catch (err) {
        if (!(err instanceof UnavailableError)) throw err;
        req.log.error({ provider, entry: entry.id, err: { message: err.message } }, 'inbound delivery: backing service unavailable');
        count(provider, 'failed_503');
        return reply.code(503).header('retry-after', '30').send({ error: 'unavailable', message: 'a backing service is unavailable; retry later' });
      }
      maybePrune(entry.tenantId, req);

      if (answer.outcome === 'accepted' && answer.queued) {
        count(provider, answer.kind === 'resolved' ? 'queued_resolved' : 'queued_acknowledged');
        req.log.warn({ provider, entry: entry.id, incidentId: answer.incidentId, kind: answer.kind, source: answer.source, why: answer.queued.why }, 'inbound delivery accepted and queued: Temporal did not take it in time');
        return reply.code(202).send({ outcome: 'accepted', kind: answer.kind, incidentId: answer.incidentId, queued: true });
      }
      if (answer.outcome === 'accepted') {
        count(provider, answer.kind === 'resolved' ? 'accepted_resolved' : 'accepted_acknowledged');
        req.log.info({ provider, entry: entry.id, incidentId: answer.incidentId, kind: answer.kind, source: answer.source }, 'inbound delivery accepted');
        return reply.code(202).send({ outcome: 'accepted', kind: answer.kind, incidentId: answer.incidentId });
      }
      if (answer.outcome === 'duplicate') {
        count(provider, 'duplicate');
        req.log.info({ provider, entry: entry.id, why: answer.why }, 'inbound delivery is a duplicate');
        return reply.code(200).send({ outcome: 'duplicate' });
      }
      return ignoredAnswer(req, reply, entry, answer);
    },
  );

  function ignoredAnswer(req: FastifyRequest, reply: FastifyReply, entry: InboundEntry, answer: Extract<Answer, { outcome: 'ignored' }>) {
    count(entry.provider, answer.code === 'event' ? 'ignored_event' : answer.code === 'unknown_ref' ? 'ignored_unknown_ref' : answer.code === 'no_connector' ? 'ignored_no_connector' : 'ignored_ambiguous');
    req.log.info({ provider: entry.provider, entry: entry.id, code: answer.code, reason: answer.reason }, 'inbound delivery ignored');
    return reply.code(200).send({ outcome: 'ignored', reason: answer.reason });
  }

  /** Keep inbound_deliveries and done outbox rows bounded: at most once an hour per tenant, in the background. */
  function maybePrune(tenantId: string, req: FastifyRequest): void {
    const t = now();
    if (t - (lastPrune.get(tenantId) ?? 0) < PRUNE_EVERY_MS) return;
    lastPrune.set(tenantId, t);
    deps.mirror.pruneDeliveries(tenantId, DELIVERY_RETENTION_DAYS).catch((err: unknown) => {
      req.log.warn({ err: { message: (err as Error).message } }, 'pruning old inbound delivery ids failed');
    });
  }
};
