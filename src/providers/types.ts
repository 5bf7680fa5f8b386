import type { ConnectorConfig } from '../config/connectors';
import type { Incident } from '../shared/contract';
import type { HttpClient } from '../http/client';

/**
 * What one connector call gets: the connector's configuration (with its secrets and, as `settings`, its provider's
 * typed options `O`), the client, and the attempt.
 */
export interface CallContext<O = unknown> {
  connector: ConnectorConfig<O>;
  http: HttpClient;
  /** Aborts the request when the activity is cancelled (a resolve overtook an open). */
  signal?: AbortSignal;
  /** Activity attempt, 1-based. */
  attempt: number;
  /** Waits between polls (Opsgenie request status, Jira search); tests pass a fast one. Default: a timer that honours `signal`. */
  sleep?: (ms: number) => Promise<void>;
}

export interface OpenOutcome {
  externalRef: string;
  externalUrl?: string;
}

/** The link as a connector needs it to act on what it opened. */
export interface LinkRef {
  externalRef?: string;
}

export interface ResolutionInfo {
  source: string;
  actor?: string;
  reason?: string;
}

/**
 * What a connector reads back about the object it opened (reconciliation): `gone` when it no longer exists
 * or was cancelled, which is not a resolution of the incident.
 */
export type RemoteState = 'open' | 'acknowledged' | 'resolved' | 'gone';

/** What a resolve found: `found: false` when a ticket looked up by its incident key does not exist (yet). */
export interface ResolveResult {
  found: boolean;
}

/**
 * One provider behind one interface. Implementations build requests with pure functions in build.ts and
 * send them through ctx.http; they throw ApplicationFailures from classify.ts. `O`: the provider's typed options
 * (`ctx.connector.settings`), which its configuration spec's schema made at load.
 */
export interface Connector<O = unknown> {
  /** The provider name (a shipped one, or a test-only provider admitted by the registry). */
  provider: string;
  open(ctx: CallContext<O>, incident: Incident): Promise<OpenOutcome>;
  /** Acknowledge on a pager; chat and ticket connectors have nothing to acknowledge. */
  acknowledge?(ctx: CallContext<O>, incident: Incident, link: LinkRef, actor?: string): Promise<void>;
  /**
   * Resolve what was opened. A ticket connector asked to resolve a link without a reference (its create was
   * cancelled or its answer lost) looks the ticket up, bounded, and answers `{ found: false }` when there is
   * none yet — a create still in flight may land later, so the caller schedules a second lookup-and-close.
   */
  resolve(ctx: CallContext<O>, incident: Incident, link: LinkRef, resolution: ResolutionInfo): Promise<ResolveResult | void>;
  /** Read the object's state, for reconciliation of missed webhooks; absent where the credential cannot read. */
  status?(ctx: CallContext<O>, incident: Incident, link: LinkRef): Promise<RemoteState>;
}

/**
 * Whether a provider's whole URL is a credential (chat webhooks). The registry tells this module when it loads
 * (setUrlIsCredential) instead of being imported here: providers' connectors import this module, and the registry
 * imports the connectors (an import cycle would leave a definition half-built). Until then, and for a provider the
 * registry does not know, every URL counts as a credential: more is scrubbed, never less.
 */
let urlIsCredential: (provider: string) => boolean = () => true;
export function setUrlIsCredential(fn: (provider: string) => boolean): void {
  urlIsCredential = fn;
}

/**
 * The secrets of a connector, for scrubbing: the credential; a chat provider's whole webhook URL (a credential
 * itself, design.md); of any other provider's URL — an API endpoint whose path also appears in ordinary text and
 * links (`/api/now/table/incident`) — only a query it kept (no option of ours, so unknown to us).
 */
export function secretsOf(c: ConnectorConfig): string[] {
  const url = c.url.reveal();
  if (urlIsCredential(c.provider)) return [c.credential.reveal(), url];
  let query = '';
  try {
    query = new URL(url).search.slice(1);
  } catch {
    return [c.credential.reveal(), url];
  }
  return query ? [c.credential.reveal(), query] : [c.credential.reveal()];
}

/**
 * One object a connector-wide "what changed since" read found (per-connector reconciliation, src/reconcile/):
 * the incident it belongs to (from the key the connector stamped on it), its state, and when it last changed
 * (ISO, UTC). `gone` objects (a canceled ticket) are listed too, so the cursor can pass them.
 */
export interface ChangedObject {
  incidentId: string;
  externalRef: string;
  state: RemoteState;
  updatedAt: string;
}

/** One page of a change listing: what it held (only our objects) and how to ask for the next page, if any. */
export interface ChangePage<Next> {
  items: ChangedObject[];
  /** How many records the page held in all (ours or not), for the paging bound and the cursor. */
  seen: number;
  /** The latest change time among every record of the page (ours or not), ISO; undefined when none had one. */
  latest?: string;
  next?: Next;
}

/** What a reconciliation listing covers: changes at or after `since`, oldest first where the API allows. */
export interface ChangeListing {
  items: ChangedObject[];
  /** Requests sent. */
  reads: number;
  /**
   * Every change up to this time was listed (the cursor may move here); undefined when nothing was learned
   * (the cursor stays). A listing cut by its page bound covers up to its last record only.
   */
  coveredUntil?: string;
  /** The page bound ended the listing before its end. */
  truncated: boolean;
  /**
   * Where a truncated listing stopped (opaque to the caller, checked by the lister when it comes back): the next
   * pass continues here instead of starting again from the cursor. Only listers that page in a stable order give a
   * position; Jira's is a larger page bound for the next pass instead (the listing starts again from the cursor).
   */
  resume?: string;
  /**
   * A complete listing that continued a walk begun by an earlier pass (newest-first listers): changes are covered
   * up to when that walk began, not up to this pass's start. Undefined: up to this pass's start.
   */
  completedUntil?: string;
}
