/**
 * From an authenticated, parsed delivery to a signal: the tenant-scoped reverse lookup, the duplicate rules,
 * and the outbox row — all in one short tenant transaction, committed before Temporal is called — then the
 * Temporal part (owner check after a fallback, the signal) tried inline under a short deadline. Whatever
 * Temporal does not take in time stays in the outbox for the dispatcher: an accepted delivery is durably
 * recorded, and signalled at least once. Nothing here parses or verifies.
 */
import { isTemporalUnreachable, type IncidentClient } from '../../client';
import type { ConnectorDirectory } from '../../config/connectors';
import type { InboundEntry } from '../../config/inbound';
import type { LeasedRow, OutboxOutcome } from '../../db/inbound-outbox';
import type { InboundLookup, MirrorStore } from '../../db/mirror-store';
import type { IncidentStatus } from '../../shared/contract';
import { incidentIdFromKey } from '../../shared/ids';
import type { InboundEvent } from './parsers';
import { failureText, signalAccepted } from './signal';
import type { TemporalHealth } from './temporal-health';

export type Answer =
  /** `queued`: recorded, Temporal did not take the signal in time; the dispatcher sends it. */
  | { outcome: 'accepted'; kind: 'resolved' | 'acknowledged'; incidentId: string; source: string; queued?: { why: string } }
  | { outcome: 'duplicate'; why: string }
  | { outcome: 'ignored'; code: 'event' | 'unknown_ref' | 'no_connector' | 'ambiguous'; reason: string };

export interface ProcessDeps {
  incidents: IncidentClient;
  mirror: MirrorStore;
  connectors: ConnectorDirectory;
  health: TemporalHealth;
  /** Deadline of the inline Temporal try (default INLINE_DEADLINE_MS). */
  inlineDeadlineMs?: number;
  /** A best-effort outbox write after the answer was decided failed (the lease expiry covers it). */
  onWriteFailure?: (what: string, err: unknown) => void;
}

/**
 * How long a request waits for Temporal before it answers `queued`. A signal took 4–90 ms here (p99 82 ms
 * on two loaded cores), so this is several times that, and the answer still comes well within a second.
 */
export const INLINE_DEADLINE_MS = 300;
/** The request's lease on its own row: well past the inline try, so no dispatcher sends it meanwhile. */
const INLINE_LEASE_MS = 10_000;

/** Postgres failed before the delivery was recorded: the provider should retry (503). */
export class UnavailableError extends Error {
  constructor(readonly what: string, cause: unknown) {
    super(`${what} unavailable: ${cause instanceof Error ? cause.message.split('\n')[0]!.slice(0, 200) : 'unknown error'}`);
    this.name = 'UnavailableError';
  }
}

async function backing<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new UnavailableError(what, err);
  }
}

const UNKNOWN: Answer = { outcome: 'ignored', code: 'unknown_ref', reason: 'no incident of this tenant matches the reference' };

/**
 * The signal source for a delivery on `entry`, given the connectors that may be its origin. One candidate:
 * that connector. Several (a tenant with two connectors of the provider): the one whose id equals the
 * entry id, else `inbound:<entry-id>`, which is no connector id, so the fan-out skips nothing — an echo to
 * the real origin is harmless, a skipped connector would be left open.
 */
export function pickSource(candidates: readonly string[], entryId: string): string {
  const unique = [...new Set(candidates)];
  if (unique.length === 1) return unique[0]!;
  if (unique.includes(entryId)) return entryId;
  return `inbound:${entryId}`;
}

type Decision = { answer: Answer } | { row: LeasedRow };

export async function processDelivery(
  deps: ProcessDeps,
  entry: InboundEntry,
  event: InboundEvent & { kind: 'resolved' | 'acknowledged' },
  deliveryId: string | undefined,
): Promise<Answer> {
  const tenantId = entry.tenantId;
  // Decided before the transaction: a row the request will try at once is leased to it; otherwise (Temporal
  // was just seen unreachable) it is the dispatcher's from the start.
  const inline = deps.health.worthTrying();
  const run = async (lookup: InboundLookup): Promise<Decision> => {
    // 1. The tenant's mirror, under row-level security: reference → link → incident and origin connector.
    const refs = [event.refs.externalRef, ...(event.refs.alternateRefs ?? [])].filter((r): r is string => !!r);
    const matches = await backing('the mirror', () => lookup.findByExternalRef(entry.provider, refs));
    let incidentId: string;
    let source: string;
    let mirrored: IncidentStatus | undefined;
    if (matches.length > 0) {
      const ids = [...new Set(matches.map((m) => m.incidentId))];
      if (ids.length > 1) return { answer: { outcome: 'ignored', code: 'ambiguous', reason: 'the reference matches several incidents' } };
      incidentId = ids[0]!;
      source = pickSource(matches.map((m) => m.connectorId), entry.id);
      mirrored = matches.find((m) => m.incidentStatus)?.incidentStatus;
    } else {
      // 2. Not (yet) in the mirror: the probectl-<id> the payload carries, and the tenant's connectors.
      const fromKey = incidentIdFromKey(event.refs.incidentKey);
      if (!fromKey) return { answer: UNKNOWN };
      const candidates = deps.connectors.forTenant(tenantId).filter((c) => c.provider === entry.provider).map((c) => c.id);
      if (candidates.length === 0) {
        return { answer: { outcome: 'ignored', code: 'no_connector', reason: `this tenant has no ${entry.provider} connector` } };
      }
      incidentId = fromKey;
      source = pickSource(candidates, entry.id);
      mirrored = await backing('the mirror', () => lookup.incidentStatus(fromKey));
    }
    if (mirrored === 'resolved') return { answer: { outcome: 'duplicate', why: 'the incident is resolved' } };
    if (event.kind === 'acknowledged' && mirrored === 'acknowledged') return { answer: { outcome: 'duplicate', why: 'the incident is acknowledged' } };

    // 3. Accepted: recorded with the delivery id, or not at all. Before it is signalled, the incident's workflow
    // must be shown to belong to the credential's tenant (fixed at start), as on /v1 (signal.ts): also after a
    // mirror match, whose link row may be older than the run that holds the id now.
    const row = await backing('the mirror', () =>
      lookup.enqueue(
        {
          incidentId,
          kind: event.kind,
          source,
          ...(event.actor ? { actor: event.actor } : {}),
          ...(event.kind === 'resolved' ? { reason: `${event.kind} in ${entry.provider} (inbound ${entry.id})` } : {}),
          entryId: entry.id,
          provider: entry.provider,
        },
        inline ? INLINE_LEASE_MS : undefined,
      ),
    );
    return { row };
  };

  const delivery = deliveryId ? { provider: entry.provider, deliveryId, entryId: entry.id } : undefined;
  let out;
  try {
    out = await deps.mirror.inboundDelivery(tenantId, delivery, run);
  } catch (err) {
    if (err instanceof UnavailableError || !(err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError)) {
      throw err instanceof UnavailableError ? err : new UnavailableError('the mirror', err);
    }
    throw err;
  }
  if (out.duplicate) return { outcome: 'duplicate', why: 'this delivery id was processed before' };
  if ('answer' in out.value) return out.value.answer;

  // 4. Committed. Temporal, outside any transaction, under a short deadline.
  const row = out.value.row;
  const accepted = { outcome: 'accepted' as const, kind: row.kind, incidentId: row.incidentId, source: row.source };
  if (!inline) return { ...accepted, queued: { why: 'Temporal was just seen unreachable' } };
  let outcome: OutboxOutcome;
  try {
    outcome = await signalAccepted(deps.incidents, row, deps.inlineDeadlineMs ?? INLINE_DEADLINE_MS);
  } catch (err) {
    const unreachable = isTemporalUnreachable(err);
    if (unreachable) deps.health.unreachable();
    // Due again at once after an outage (the dispatcher waits for Temporal as a whole); after a refusal of
    // this one call, after a second.
    deps.mirror.outbox.release(row, unreachable ? 0 : 1_000, failureText(err)).catch((e: unknown) => deps.onWriteFailure?.('release', e));
    return { ...accepted, queued: { why: failureText(err) } };
  }
  deps.health.reachable();
  deps.mirror.outbox.markDone(row, outcome).catch((e: unknown) => deps.onWriteFailure?.('done', e));
  if (outcome === 'closed') return { outcome: 'duplicate', why: 'the workflow is closed' };
  if (outcome === 'not_owner') return UNKNOWN;
  return accepted;
}
