/**
 * The Temporal part of an accepted delivery, shared by the inline try and the dispatcher: the owner check (one
 * describe: the workflow must belong to the tenant, docs/inbound.md step 3), then the resolve or acknowledge signal.
 * Every row is checked, a mirror match too: the mirror outlives Temporal's retention, so a link row of the tenant
 * may name an incident id that another tenant's run holds now. Every call runs under a deadline; no transaction is
 * open.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { isStillOpen, type IncidentClient } from '../../client';
import type { LeasedRow, OutboxOutcome } from '../../db/inbound-outbox';

export async function signalAccepted(incidents: IncidentClient, row: LeasedRow, deadlineMs: number): Promise<OutboxOutcome> {
  return incidents.withDeadline(
    deadlineMs,
    async () => {
      const owner = await incidents.tenantOf(row.incidentId);
      // Another tenant's incident does not exist for this one.
      if (!owner || owner.tenantId !== row.tenantId) return 'not_owner';
      if (!isStillOpen(owner.status)) return 'closed';
      const signal = { tenantId: row.tenantId, source: row.source, ...(row.actor ? { actor: row.actor } : {}), at: row.receivedAt };
      try {
        if (row.kind === 'resolved') await incidents.resolve(row.incidentId, { ...signal, ...(row.reason ? { reason: row.reason } : {}) });
        else await incidents.acknowledge(row.incidentId, signal);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return 'closed';
        throw err;
      }
      return 'signalled';
    },
  );
}

/** A short, secret-free description of a failure to signal (stored on the row, logged). */
export function failureText(err: unknown): string {
  const e = err as { name?: unknown; code?: unknown; message?: unknown } | undefined;
  const first = typeof e?.message === 'string' ? e.message.split('\n')[0]!.slice(0, 160) : 'unknown error';
  return `${typeof e?.name === 'string' ? e.name : 'Error'}${typeof e?.code === 'number' ? ` (${e.code})` : ''}: ${first}`;
}
