import { incidentKey } from '../../shared/ids';
import { classify } from '../../http/classify';
import { FailureType, permanent, retryable } from '../../http/failures';
import { excerpt } from '../../http/scrub';
import { classifyOptions, malformed, parseJson, pause, sendChecked, sendRaw } from '../send';
import { resolvedBy } from '../format';
import type { CallContext, ChangeListing, Connector } from '../types';
import { secretsOf } from '../types';
import {
  MAX_LIST_WINDOW, buildAliasAction, buildChangedSince, buildCreate, parseChangedSince, buildGetAlert, buildRequestStatus, isNothingToDo, parseAccepted, parseAlertState, parseRequestStatus,
  type RequestStatus,
} from './build';
import type { OpsgenieOptions } from './options';

const LABEL = 'Opsgenie';
/** Request-status poll: at most this many reads, this far apart (Opsgenie processes requests within seconds). */
export const POLL_TRIES = 5;
export const POLL_DELAY_MS = 400;

type Confirmation = RequestStatus | 'unconfirmable' | 'pending';

/**
 * Read the outcome of an accepted (202) request. 404 means "not processed yet": poll again. A key without
 * read rights (401/403 on the status read, after the write was accepted) cannot confirm; we keep the 202.
 */
async function confirm(ctx: CallContext, requestId: string, action: string): Promise<Confirmation> {
  const { url, credential } = ctx.connector;
  for (let i = 0; i < POLL_TRIES; i += 1) {
    await pause(ctx, POLL_DELAY_MS * (i === 0 ? 0.5 : 1));
    const res = await sendRaw(ctx, buildRequestStatus(url.reveal(), credential.reveal(), requestId));
    if (res.status === 404) continue;
    // The request itself was accepted: a status read answered with anything but a 2xx or a retryable status (408,
    // 429, 5xx) cannot say it failed, and must never turn the accepted request into a refusal (a refused open gets
    // no resolve: docs/workflow-contract.md, "Links").
    if ((res.status < 200 || res.status >= 300) && res.status !== 408 && res.status !== 429 && res.status < 500) return 'unconfirmable';
    classify(res, classifyOptions(ctx, { label: LABEL, action: `${action} status` }));
    const status = parseRequestStatus(parseJson(res, `${LABEL} ${action} status`));
    if (status) return status;
  }
  return 'pending';
}

/**
 * Send an alert request, then confirm it through the request-status API. Delivery policy: re-send. An
 * unconfirmed request is retried, which is safe: a create with the alias of an open alert only raises its
 * count, and close/acknowledge by alias are idempotent.
 */
async function sendAndConfirm(ctx: CallContext, req: Parameters<typeof sendChecked>[1], action: string, nothingToDoIsOk: boolean): Promise<void> {
  const res = await sendChecked(ctx, req, { label: LABEL, action });
  const requestId = parseAccepted(parseJson(res, `${LABEL} ${action}`));
  if (!requestId) return; // a 2xx without a request id: accepted, nothing to poll
  const outcome = await confirm(ctx, requestId, action);
  if (outcome === 'unconfirmable') return;
  if (outcome === 'pending') {
    throw retryable(FailureType.ProviderUnavailable, `${LABEL} ${action}: accepted but not processed after ${POLL_TRIES} status reads; re-sending by alias`);
  }
  if (outcome.isSuccess) return;
  if (nothingToDoIsOk && isNothingToDo(outcome.status)) return;
  throw permanent(FailureType.ProviderRejected, `${LABEL} ${action}: ${excerpt(outcome.status, secretsOf(ctx.connector)) || 'request failed'}`);
}

export const opsgenie: Connector<OpsgenieOptions> = {
  provider: 'opsgenie',

  async open(ctx, incident) {
    const { url, credential, settings } = ctx.connector;
    await sendAndConfirm(ctx, buildCreate(url.reveal(), credential.reveal(), incident, settings), 'create', false);
    return { externalRef: incidentKey(incident.id) };
  },

  async acknowledge(ctx, incident, _link, actor) {
    const { url, credential } = ctx.connector;
    const note = `Acknowledged${actor ? ` by ${actor}` : ''} in probectl`;
    await sendAndConfirm(ctx, buildAliasAction(url.reveal(), credential.reveal(), incident, 'acknowledge', note), 'acknowledge', true);
  },

  async resolve(ctx, incident, _link, resolution) {
    const { url, credential } = ctx.connector;
    await sendAndConfirm(ctx, buildAliasAction(url.reveal(), credential.reveal(), incident, 'close', resolvedBy(resolution)), 'close', true);
  },

  async status(ctx, incident) {
    const { url, credential } = ctx.connector;
    const res = await sendRaw(ctx, buildGetAlert(url.reveal(), credential.reveal(), incident));
    if (res.status === 404) return 'gone';
    classify(res, classifyOptions(ctx, { label: LABEL, action: 'read alert' }));
    return parseAlertState(parseJson(res, `${LABEL} read alert`)) ?? 'open';
  },
};

/**
 * Where a newest-first walk cut by its page bound stopped: the offset of its next page, and when the walk began
 * (`top`): every alert updated since then sits above that offset, for the next walk from the cursor.
 */
interface OpsgenieResume { offset: number; top: string }

function parseResume(raw: string | undefined): OpsgenieResume | undefined {
  if (!raw) return undefined;
  try {
    const o = JSON.parse(raw) as Record<string, unknown> | null;
    if (o && Number.isInteger(o.offset) && (o.offset as number) > 0 && (o.offset as number) < MAX_LIST_WINDOW && typeof o.top === 'string' && !Number.isNaN(Date.parse(o.top))) {
      return { offset: o.offset as number, top: new Date(o.top).toISOString() };
    }
  } catch { /* not ours: start again from the top */ }
  return undefined;
}

/**
 * Per-connector reconciliation: the probectl alerts most recently updated first, page by page until the listing
 * passes `since` (or ends), up to `maxPages`. Opsgenie lists newest first only, so a listing cut by the bound learned
 * nothing it can move a cursor past (the alerts it did not reach are older, not newer): `coveredUntil` is then
 * undefined, and `resume` names the offset it stopped at and when its walk began. Given back (`resume`), the next
 * pass continues the walk at that offset (older alerts; an alert updated meanwhile moves to the top and shifts the
 * rest down, so a few rows are read twice, never skipped — unless alerts above the offset are deleted meanwhile)
 * and, once it passes `since`, reports the walk complete up to when it began (`completedUntil`).
 */
export async function listChanges(ctx: CallContext, since: string, maxPages: number, beforeRequest: () => Promise<void>, resume?: string): Promise<ChangeListing> {
  const { url, credential } = ctx.connector;
  const items: ChangeListing['items'] = [];
  let latest: string | undefined;
  const continued = parseResume(resume);
  const top = continued?.top ?? new Date().toISOString();
  let offset = continued?.offset ?? 0;
  for (let reads = 1; ; reads += 1) {
    await beforeRequest();
    const res = await sendRaw(ctx, buildChangedSince(url.reveal(), credential.reveal(), offset));
    classify(res, classifyOptions(ctx, { label: LABEL, action: 'list alerts' }));
    const page = parseChangedSince(parseJson(res, `${LABEL} list alerts`), since, offset);
    if (page === 'malformed') malformed(`${LABEL} list alerts: the answer has no data list`);
    items.push(...page.items);
    if (page.latest && (!latest || page.latest > latest)) latest = page.latest;
    if (page.done) return { items, reads, ...(latest ? { coveredUntil: latest } : {}), truncated: false, ...(continued ? { completedUntil: continued.top } : {}) };
    if (page.next === undefined || reads >= maxPages) {
      return { items, reads, truncated: true, ...(page.next !== undefined ? { resume: JSON.stringify({ offset: page.next, top } satisfies OpsgenieResume) } : {}) };
    }
    offset = page.next;
  }
}
