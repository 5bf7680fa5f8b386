/**
 * From an authenticated, parsed delivery to a signal: the tenant-scoped reverse lookup, the tenant check
 * against the incident's workflow, the duplicate rules, and the signal. Nothing here parses or verifies.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { IncidentClient } from '../../client';
import type { ConnectorDirectory } from '../../config/connectors';
import type { InboundEntry } from '../../config/inbound';
import type { InboundLookup, MirrorStore } from '../../db/mirror-store';
import type { IncidentStatus } from '../../shared/contract';
import { incidentIdFromKey } from '../../shared/ids';
import type { InboundEvent } from './parsers';

export type Answer =
  | { outcome: 'accepted'; kind: 'resolved' | 'acknowledged'; incidentId: string; source: string }
  | { outcome: 'duplicate'; why: string }
  | { outcome: 'ignored'; code: 'event' | 'unknown_ref' | 'no_connector' | 'ambiguous'; reason: string };

export interface ProcessDeps {
  incidents: IncidentClient;
  mirror: MirrorStore;
  connectors: ConnectorDirectory;
}

/** A backing service (Postgres, Temporal) failed: the provider should retry (503). */
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
    if (err instanceof WorkflowNotFoundError) throw err;
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

export async function processDelivery(
  deps: ProcessDeps,
  entry: InboundEntry,
  event: InboundEvent & { kind: 'resolved' | 'acknowledged' },
  deliveryId: string | undefined,
  nowIso: string,
): Promise<Answer> {
  const tenantId = entry.tenantId;
  const run = async (lookup: InboundLookup): Promise<Answer> => {
    // 1. The tenant's mirror, under row-level security: reference → link → incident and origin connector.
    const refs = [event.refs.externalRef, ...(event.refs.alternateRefs ?? [])].filter((r): r is string => !!r);
    const matches = await backing('the mirror', () => lookup.findByExternalRef(entry.provider, refs));
    let incidentId: string;
    let source: string;
    let mirrored: IncidentStatus | undefined;
    if (matches.length > 0) {
      const ids = [...new Set(matches.map((m) => m.incidentId))];
      if (ids.length > 1) return { outcome: 'ignored', code: 'ambiguous', reason: 'the reference matches several incidents' };
      incidentId = ids[0]!;
      source = pickSource(matches.map((m) => m.connectorId), entry.id);
      mirrored = matches.find((m) => m.incidentStatus)?.incidentStatus;
    } else {
      // 2. Not (yet) in the mirror: the probectl-<id> the payload carries, and the tenant's connectors.
      const fromKey = incidentIdFromKey(event.refs.incidentKey);
      if (!fromKey) return UNKNOWN;
      const candidates = deps.connectors.forTenant(tenantId).filter((c) => c.provider === entry.provider).map((c) => c.id);
      if (candidates.length === 0) {
        return { outcome: 'ignored', code: 'no_connector', reason: `this tenant has no ${entry.provider} connector` };
      }
      incidentId = fromKey;
      source = pickSource(candidates, entry.id);
      mirrored = await backing('the mirror', () => lookup.incidentStatus(fromKey));
    }
    if (mirrored === 'resolved') return { outcome: 'duplicate', why: 'the incident is resolved' };
    if (event.kind === 'acknowledged' && mirrored === 'acknowledged') return { outcome: 'duplicate', why: 'the incident is acknowledged' };

    // 3. Found by the payload's key only: the incident's workflow must belong to the credential's tenant (fixed
    // at start), as on /v1. A mirror match needs no such call: the row is under this tenant's row-level
    // security and was written by that very workflow; a closed workflow answers the signal with "not found".
    if (matches.length === 0) {
      const owner = await backing('Temporal', () => deps.incidents.tenantOf(incidentId));
      if (!owner) return UNKNOWN;
      if (owner.tenantId !== tenantId) return UNKNOWN; // another tenant's incident does not exist for this one
      if (owner.status !== 'RUNNING') return { outcome: 'duplicate', why: 'the workflow is closed' };
    }

    const signal = {
      tenantId,
      source,
      ...(event.actor ? { actor: event.actor } : {}),
      at: nowIso,
    };
    try {
      await backing('Temporal', () =>
        event.kind === 'resolved'
          ? deps.incidents.resolve(incidentId, { ...signal, reason: `${event.kind} in ${entry.provider} (inbound ${entry.id})` })
          : deps.incidents.acknowledge(incidentId, signal),
      );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { outcome: 'duplicate', why: 'the workflow is closed' };
      throw err;
    }
    return { outcome: 'accepted', kind: event.kind, incidentId, source };
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
  return out.duplicate ? { outcome: 'duplicate', why: 'this delivery id was processed before' } : out.value;
}
