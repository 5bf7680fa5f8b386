/**
 * A ticket's next lookup-and-close (ServiceNow, Jira): the create was still in flight at the resolve, so the
 * resolve found no ticket. Pass 2 and up to MAX_TICKET_PASSES look the ticket up by its incident key and close it.
 * What it records is what the workflow's own fallback records (ownFollowUpDone in src/workflows/v2/state.ts):
 * the same entries under the same keys, so the two never write a row twice.
 */
import { FailureType } from '../http/failures';
import type { Link } from '../shared/contract';
import type { FollowUpRecord, KeyedEntry } from '../shared/records';
import { MAX_TICKET_PASSES } from '../workflows/v2/state';
import { connectorCall, paced, resolveHandlerBase } from './connector-call';
import type { FollowUpHandler } from './types';

type TicketClose = Extract<FollowUpRecord, { kind: 'ticket-close' }>;

/**
 * The key of pass `next`, from the key of the current pass (`${chain}:ticket-close:${connectorId}:${pass}`, as
 * ticketCloseKey in state.ts builds it): the same chain prefix. Pure.
 */
export function nextPassKey(f: Pick<TicketClose, 'key' | 'connectorId' | 'pass'>, next: number): string {
  const suffix = `:ticket-close:${f.connectorId}:${f.pass}`;
  if (!f.key.endsWith(suffix)) throw new Error('a ticket-close key that does not follow the key scheme');
  return `${f.key.slice(0, -suffix.length)}:ticket-close:${f.connectorId}:${next}`;
}

function asTicketClose(f: FollowUpRecord): TicketClose {
  if (f.kind !== 'ticket-close') throw new Error('not a ticket-close');
  return f;
}

export const ticketClose: FollowUpHandler = {
  ...resolveHandlerBase('ticket-close'),

  async run(row, deps, signal) {
    const f = asTicketClose(row.followUp);
    const call = connectorCall(deps, row.tenantId, f.connectorId, signal, row.attempts);
    const result = await paced(deps, call, row.incident, () => call.connector.resolve(call.ctx, row.incident, {}, f.resolution));
    const found = result ? result.found : true;
    const at = new Date().toISOString();
    const resolvedLink: Link = { connectorId: call.config.id, provider: call.config.provider, status: 'resolved', updatedAt: at };
    if (found) {
      const entry: KeyedEntry = { key: `${f.key}:closed`, at, kind: 'connector.resolved', connectorId: f.connectorId, detail: `closed by lookup-and-close pass ${f.pass}` };
      return { outcome: 'ok', record: { links: [resolvedLink], entries: [entry] }, sent: true };
    }
    if (f.pass < MAX_TICKET_PASSES) {
      const next: TicketClose = {
        ...f, key: nextPassKey(f, f.pass + 1), pass: f.pass + 1, dueAt: new Date(Date.parse(at) + Math.max(deps.pagerReResolveDelayMs, 1_000)).toISOString(),
      };
      return { outcome: 'not_found', record: { followUps: [next] }, sent: true };
    }
    const entry: KeyedEntry = {
      key: `${f.key}:none`, at, kind: 'connector.resolved', connectorId: f.connectorId, detail: `no ticket found after ${f.pass} lookups: the cancelled create did not land`,
    };
    return { outcome: 'not_found', record: { links: [resolvedLink], entries: [entry] }, sent: true };
  },

  failed(row, failure, at) {
    const f = asTicketClose(row.followUp);
    const removed = failure.type === FailureType.ConnectorRemoved;
    const entry: KeyedEntry = removed
      ? { key: `${f.key}:orphaned`, at, kind: 'connector.orphaned', connectorId: f.connectorId, detail: `removed from the configuration before lookup-and-close pass ${f.pass}` }
      : { key: `${f.key}:failed`, at, kind: 'connector.failed', connectorId: f.connectorId, detail: `lookup-and-close pass ${f.pass}: ${failure.reason}` };
    return { outcome: removed ? 'orphaned' : failure.expired ? 'expired' : 'failed', record: { entries: [entry] }, sent: false };
  },
};
