/**
 * A pager's second, delayed resolve (PagerDuty, Opsgenie): a trigger still in flight at the first resolve cannot
 * leave a zombie alert. Nothing is recorded when it succeeds (the first resolve recorded the link); a failure is
 * recorded as the workflow's own fallback records it (same entry, same key).
 */
import { FailureType } from '../http/failures';
import type { KeyedEntry } from '../shared/records';
import { connectorCall, paced, resolveHandlerBase } from './connector-call';
import type { FollowUpHandler } from './types';

export const reResolve: FollowUpHandler = {
  ...resolveHandlerBase('re-resolve'),

  async run(row, deps, signal) {
    const f = row.followUp;
    if (f.kind !== 're-resolve') throw new Error('not a re-resolve');
    const call = connectorCall(deps, row.tenantId, f.connectorId, signal, row.attempts);
    const link = f.externalRef ? { externalRef: f.externalRef } : {};
    await paced(deps, call, row.incident, () => call.connector.resolve(call.ctx, row.incident, link, f.resolution));
    return { outcome: 'ok', sent: true };
  },

  failed(row, failure, at) {
    const f = row.followUp;
    if (f.kind !== 're-resolve') throw new Error('not a re-resolve');
    const removed = failure.type === FailureType.ConnectorRemoved;
    const entry: KeyedEntry = removed
      ? { key: `${f.key}:orphaned`, at, kind: 'connector.orphaned', connectorId: f.connectorId, detail: 'removed from the configuration before the second resolve' }
      : { key: `${f.key}:failed`, at, kind: 'connector.failed', connectorId: f.connectorId, detail: `second resolve: ${failure.reason}` };
    return { outcome: removed ? 'orphaned' : failure.expired ? 'expired' : 'failed', record: { entries: [entry] }, sent: false };
  },
};
