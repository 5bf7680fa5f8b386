import type { Incident } from '../../shared/contract';
import { classify } from '../../http/classify';
import { FailureType, permanent, retryable } from '../../http/failures';
import { excerpt } from '../../http/scrub';
import type { HttpRequest, HttpResponse } from '../../http/types';
import { classifyOptions, malformed, parseJson, pause, sendChecked, sendRaw } from '../send';
import { secretsOf, type CallContext, type ChangeListing, type Connector } from '../types';
import {
  browseUrl, buildChangedSince, changesJql, minutesSince, parseChangedSince, type ChangesCursor, buildCreate, buildListTransitions, buildReadStatus, buildSearch, buildTransition,
  nextPageBound, pageBoundFrom, parseCreated, parseSearch, parseStatusCategory, parseTransitions, siteBase, type FoundIssue,
} from './build';
import type { JiraOptions } from './options';

type Ctx = CallContext<JiraOptions>;

const LABEL = 'Jira';
/** On a retried open, a miss is searched again this often, this far apart: Cloud search is eventually consistent. */
export const SEARCH_RETRIES = 3;
export const SEARCH_RETRY_DELAY_MS = 1_500;
const ISSUE_KEY = /^[A-Za-z][A-Za-z0-9_]*-\d+$/;

/** Sites whose `/search/jql` answered 404/410 and whose classic `/search` then answered (Data Center): they get the classic search from then on. */
const classicSites = new Set<string>();

type Flavour = 'jql' | 'classic';

const PATH: Record<Flavour, string> = { jql: '/search/jql', classic: '/search' };

/** A flavour's "I have not got this": `/search/jql` 404/410 (Data Center), the classic `/search` 410 (Gone: Cloud). */
function notHere(flavour: Flavour, status: number): boolean {
  return status === 410 || (flavour === 'jql' && status === 404);
}

/**
 * One search request in the flavour the site is known to answer (or `pinned`: the flavour a listing's page cursor
 * belongs to, whatever another call has learned about the site since), and the other one once when it answers that
 * it has not got this one: Cloud's `/search/jql` 404/410 → the classic `/search` (Data Center); the classic search
 * 410 (Gone: Cloud removed it) → `/search/jql`. `beforeSwitch` runs before the second request. Answers with the
 * flavour that answered.
 *
 * What the site is learned as follows the second answer: the classic search that answers anything but 404/410 makes
 * the site classic; the classic search's 410 makes it jql again (it moved to Cloud, or the address is another Jira's
 * now). When the second answer says "not here" as well (`/search/jql` 404/410 then `/search` 410, or `/search` 410
 * then `/search/jql` 404/410) neither endpoint can be trusted — Cloud's `/search/jql` answers a transient 404 now and
 * then, and its classic `/search` is Gone — so the call fails retryably (ProviderUnavailable, never a refusal: a
 * refused first attempt would say nothing was made) and the site is left as jql.
 */
async function sendSearch(
  ctx: Ctx, action: string, build: (flavour: Flavour) => HttpRequest, beforeSwitch: () => Promise<void> = async () => undefined, pinned?: Flavour,
): Promise<{ res: HttpResponse; flavour: Flavour }> {
  const site = siteBase(ctx.connector.url.reveal());
  const first: Flavour = pinned ?? (classicSites.has(site) ? 'classic' : 'jql');
  const res = await sendRaw(ctx, build(first));
  if (!notHere(first, res.status)) return { res, flavour: first };
  await beforeSwitch();
  const other: Flavour = first === 'jql' ? 'classic' : 'jql';
  const second = await sendRaw(ctx, build(other));
  const neither = notHere(other, second.status);
  // Classic only once the classic search answered as one that exists (a 404 there: no search at this address either).
  if (other === 'classic' && !neither && second.status !== 404) classicSites.add(site);
  else classicSites.delete(site);
  if (neither) {
    const body = excerpt(second.text, secretsOf(ctx.connector));
    throw retryable(FailureType.ProviderUnavailable, `${LABEL} ${action}: neither search endpoint is there: ${PATH[first]} answered HTTP ${res.status}, `
      + `then ${PATH[other]} HTTP ${second.status}${body ? `: ${body}` : ''} (a transient answer, or a site being moved); tried again later`);
  }
  return { res: second, flavour: other };
}

async function search(ctx: Ctx, incident: Incident): Promise<FoundIssue | undefined> {
  const { url, credential, settings } = ctx.connector;
  const { res } = await sendSearch(ctx, 'search', (flavour) => buildSearch(url.reveal(), credential.reveal(), incident, settings.project, flavour));
  classify(res, classifyOptions(ctx, { label: LABEL, action: 'search' }));
  const found = parseSearch(parseJson(res, `${LABEL} search`));
  if (found === 'malformed') malformed(`${LABEL} search: the answer has no issues list`);
  return found;
}

/** done / indeterminate / new of an issue; undefined when the issue does not exist (404). */
async function statusCategory(ctx: Ctx, key: string): Promise<string | undefined | 'gone'> {
  const { url, credential } = ctx.connector;
  const res = await sendRaw(ctx, buildReadStatus(url.reveal(), credential.reveal(), key));
  if (res.status === 404) return 'gone';
  classify(res, classifyOptions(ctx, { label: LABEL, action: 'read status' }));
  return parseStatusCategory(parseJson(res, `${LABEL} read status`));
}

/**
 * Jira REST v2. Delivery policy: look up, then create — the issue carries the label probectl-<id> and every
 * open searches for it first, so a create whose answer was lost is adopted on the retry. Cloud's search is
 * eventually consistent, so a retried open that misses searches again (bounded) before it creates.
 */
export const jira: Connector<JiraOptions> = {
  provider: 'jira',

  async open(ctx, incident) {
    const { url, credential, settings } = ctx.connector;
    let found = await search(ctx, incident);
    for (let i = 0; !found && ctx.attempt > 1 && i < SEARCH_RETRIES; i += 1) {
      await pause(ctx, SEARCH_RETRY_DELAY_MS);
      found = await search(ctx, incident);
    }
    if (found) return { externalRef: found.key, externalUrl: browseUrl(url.reveal(), found.key) };
    const res = await sendChecked(ctx, buildCreate(url.reveal(), credential.reveal(), incident, settings), { label: LABEL, action: 'create' });
    const key = parseCreated(parseJson(res, `${LABEL} create`));
    if (!key) malformed(`${LABEL} create: the answer has no issue key`);
    return { externalRef: key, externalUrl: browseUrl(url.reveal(), key) };
  },

  async resolve(ctx, incident, link) {
    const { url, credential, settings } = ctx.connector;
    let key = link.externalRef && ISSUE_KEY.test(link.externalRef) ? link.externalRef : undefined;
    if (!key) {
      // No key: the create was cancelled or its answer lost. Search is eventually consistent, so a miss is
      // searched again (bounded) before answering "not found yet".
      key = (await search(ctx, incident))?.key;
      for (let i = 0; !key && i < SEARCH_RETRIES; i += 1) {
        await pause(ctx, SEARCH_RETRY_DELAY_MS);
        key = (await search(ctx, incident))?.key;
      }
    }
    if (!key) return { found: false };

    const category = await statusCategory(ctx, key);
    if (category === 'gone' || category === 'done') return { found: true }; // deleted, or already done

    const configured = settings.resolveTransition;
    const first = await sendRaw(ctx, buildTransition(url.reveal(), credential.reveal(), key, configured));
    if (first.status >= 200 && first.status < 300) return { found: true };
    if (first.status !== 400) classify(first, classifyOptions(ctx, { label: LABEL, action: 'transition' }));

    // The configured transition is not offered from the current status: take the one that ends in "done".
    const listed = await sendChecked(ctx, buildListTransitions(url.reveal(), credential.reveal(), key), { label: LABEL, action: 'list transitions' });
    const done = parseTransitions(parseJson(listed, `${LABEL} list transitions`)).find((t) => t.toCategory === 'done');
    if (!done) {
      throw permanent(FailureType.ProviderRejected, `${LABEL} transition: neither transition ${configured} nor any transition to a done status is offered for ${key}`);
    }
    await sendChecked(ctx, buildTransition(url.reveal(), credential.reveal(), key, done.id), { label: LABEL, action: `transition ${done.id}` });
    return { found: true };
  },

  async status(ctx, incident, link) {
    let key = link.externalRef && ISSUE_KEY.test(link.externalRef) ? link.externalRef : undefined;
    if (!key) key = (await search(ctx, incident))?.key;
    if (!key) return 'gone';
    const category = await statusCategory(ctx, key);
    return category === 'gone' ? 'gone' : category === 'done' ? 'resolved' : 'open';
  },
};

/**
 * Per-connector reconciliation: every probectl-labelled issue updated since `since` (a relative JQL date,
 * rounded up to whole minutes), oldest first, page by page up to `maxPages` — or the larger bound a cut listing
 * left in `resume` (pageBoundFrom); Cloud's `/search/jql`, or the classic `/search` on a site that answered 404/410
 * to it (as the connector's own search does).
 */
export async function listChanges(
  ctx: Ctx, since: string, maxPages: number, beforeRequest: () => Promise<void>, resume?: string, now = Date.now(),
): Promise<ChangeListing> {
  const bound = pageBoundFrom(resume, maxPages);
  const { url, credential, settings } = ctx.connector;
  const jql = changesJql(minutesSince(since, now), settings.project);
  const items: ChangeListing['items'] = [];
  let latest: string | undefined;
  let page: ChangesCursor | undefined;
  let reads = 0;
  // The flavour of the first answer: the cursor is its own (a token or an offset), so later pages keep it even when
  // another call flips the site memo meanwhile; only this listing's own 404/410 switches, and starts it again.
  let flavour: Flavour | undefined;
  for (;;) {
    await beforeRequest();
    reads += 1;
    const sent = await sendSearch(ctx, 'list changes', (f) => buildChangedSince(url.reveal(), credential.reveal(), jql, f, f === flavour ? page : undefined), async () => {
      page = undefined;
      items.length = 0;
      latest = undefined;
      await beforeRequest();
      reads += 1;
    }, flavour);
    const res = sent.res;
    flavour = sent.flavour;
    classify(res, classifyOptions(ctx, { label: LABEL, action: 'list changes' }));
    const parsed = parseChangedSince(parseJson(res, `${LABEL} list changes`), page);
    if (parsed === 'malformed') malformed(`${LABEL} list changes: the answer has no issues list`);
    items.push(...parsed.items);
    if (parsed.latest) latest = parsed.latest;
    if (parsed.next === undefined || reads >= bound) {
      const truncated = parsed.next !== undefined;
      return { items, reads, ...(latest ? { coveredUntil: latest } : {}), truncated, ...(truncated ? { resume: nextPageBound(bound) } : {}) };
    }
    page = parsed.next;
  }
}
