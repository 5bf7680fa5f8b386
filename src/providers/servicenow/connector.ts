import { classify } from '../../http/classify';
import type { HttpRequest } from '../../http/types';
import { classifyOptions, malformed, parseJson, sendChecked, sendRaw } from '../send';
import { resolvedBy } from '../format';
import type { CallContext, ChangeListing, Connector, OpenOutcome, RemoteState } from '../types';
import {
  DONE_STATES, buildChangedSince, buildCreate, firstPosition, parseChangedSince, parsePosition, remoteStateOf, buildLookup, buildRead, buildResolve, parseResult, ticketUrl,
  type ChangesPosition, type TicketRecord,
} from './build';
import type { ServiceNowOptions } from './options';

const LABEL = 'ServiceNow';

/** A query or record read: the record, or undefined when there is none (404 on a record read counts as none). */
async function read(ctx: CallContext, req: HttpRequest, action: string): Promise<TicketRecord | undefined> {
  const res = await sendRaw(ctx, req);
  if (res.status === 404 && req.url.includes('/incident/')) return undefined;
  classify(res, classifyOptions(ctx, { label: LABEL, action }));
  const rec = parseResult(parseJson(res, `${LABEL} ${action}`));
  if (rec === 'malformed') malformed(`${LABEL} ${action}: the answer has no result.sys_id`);
  return rec;
}

function outcome(ctx: CallContext, rec: TicketRecord): OpenOutcome {
  return { externalRef: rec.sysId, externalUrl: ticketUrl(ctx.connector.url.reveal(), rec.sysId) };
}

/**
 * ServiceNow Table API on `incident`. Delivery policy: look up, then create — the ticket carries
 * correlation_id = probectl-<id>, and every open first queries it, so a create whose answer was lost
 * (a crash, a timeout) is adopted on the retry instead of being created twice.
 */
export const servicenow: Connector<ServiceNowOptions> = {
  provider: 'servicenow',

  async open(ctx, incident) {
    const { url, credential, settings } = ctx.connector;
    const existing = await read(ctx, buildLookup(url.reveal(), credential.reveal(), incident), 'lookup');
    if (existing) return outcome(ctx, existing);
    const res = await sendChecked(ctx, buildCreate(url.reveal(), credential.reveal(), incident, settings), { label: LABEL, action: 'create' });
    const created = parseResult(parseJson(res, `${LABEL} create`));
    if (!created || created === 'malformed') malformed(`${LABEL} create: the answer has no result.sys_id`);
    return outcome(ctx, created);
  },

  async resolve(ctx, incident, link, resolution) {
    const { url, credential, settings } = ctx.connector;
    // Without a sys_id (the open was cancelled or its answer lost) the ticket is found by correlation_id.
    const rec = link.externalRef
      ? await read(ctx, buildRead(url.reveal(), credential.reveal(), link.externalRef), 'read')
      : await read(ctx, buildLookup(url.reveal(), credential.reveal(), incident), 'lookup');
    if (!rec) return { found: link.externalRef !== undefined }; // deleted (a known sys_id), or not created (yet)
    if (rec.state && DONE_STATES.has(rec.state)) return { found: true }; // already resolved, closed or canceled
    const notes = `${resolvedBy(resolution)} (probectl incident ${incident.id})`;
    await sendChecked(ctx, buildResolve(url.reveal(), credential.reveal(), rec.sysId, notes, settings), { label: LABEL, action: 'resolve' });
    return { found: true };
  },

  async status(ctx, incident, link) {
    const { url, credential } = ctx.connector;
    const rec = link.externalRef
      ? await read(ctx, buildRead(url.reveal(), credential.reveal(), link.externalRef), 'read')
      : await read(ctx, buildLookup(url.reveal(), credential.reveal(), incident), 'lookup');
    return remoteState(rec?.state, rec !== undefined);
  },
};

/** 6 Resolved and 7 Closed resolve the incident; 8 Canceled or a deleted ticket do not. */
export function remoteState(state: string | undefined, exists: boolean): RemoteState {
  return exists ? remoteStateOf(state) : 'gone';
}

/**
 * Per-connector reconciliation: every probectl ticket updated at or after `since` (or, when `resume` holds the
 * position a truncated listing stopped at, from there), oldest first in (sys_updated_on, sys_id) order, page by page
 * up to `maxPages` (each request after `beforeRequest`, the caller's pacing). Keyset paging, never an offset (see
 * ChangesPosition). One request when little changed. A truncated listing returns the position of its next page.
 */
export async function listChanges(ctx: CallContext, since: string, maxPages: number, beforeRequest: () => Promise<void>, resume?: string): Promise<ChangeListing> {
  const { url, credential } = ctx.connector;
  const items: ChangeListing['items'] = [];
  let pos: ChangesPosition = parsePosition(resume) ?? firstPosition(since);
  let latest: string | undefined;
  for (let reads = 1; ; reads += 1) {
    await beforeRequest();
    const res = await sendRaw(ctx, buildChangedSince(url.reveal(), credential.reveal(), pos));
    classify(res, classifyOptions(ctx, { label: LABEL, action: 'list changes' }));
    const page = parseChangedSince(parseJson(res, `${LABEL} list changes`), pos);
    if (page === 'malformed') malformed(`${LABEL} list changes: the answer has no result list, or a full page without a last sys_id and time`);
    items.push(...page.items);
    if (page.latest) latest = page.latest;
    if (page.next === undefined || reads >= maxPages) {
      const truncated = page.next !== undefined;
      return { items, reads, ...(latest ? { coveredUntil: latest } : {}), truncated, ...(truncated ? { resume: JSON.stringify(page.next) } : {}) };
    }
    pos = page.next;
  }
}
