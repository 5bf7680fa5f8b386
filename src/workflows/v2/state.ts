/**
 * The incident as a small state machine (docs/workflow-contract.md). Every function here is a deterministic
 * transition of plain JSON state: no Temporal API, no I/O, unit-tested as plain functions
 * (test/unit/workflow-machine.test.ts). The workflow shell (incident-v2.ts) feeds it signals and activity
 * outcomes and carries out what it asks for: the actions to run, the records it owes Postgres.
 *
 * What the state holds is what a decision needs: the incident, the connector snapshot, the links, the actions
 * in flight, the acknowledgement and resolution, and what it still owes Postgres. The whole timeline lives in
 * Postgres, written by whoever knows each entry (docs/workflow-contract.md, "Who records what").
 */
import type { ConnectorRef } from '../../config/connectors';
import { SEVERITY_RANK } from '../../connectors/spec';
import type {
  AcknowledgeSignal, CorrelateSignal, Incident, IncidentResolution, IncidentStateView, IncidentStatus, Link, LinkStatus,
  Provider, RedriveSignal, ResolveSignal, TimelineEntry, TimelineKind,
} from '../../shared/contract';
import { incidentKey } from '../../shared/ids';
import { CORRELATE_DETAIL_CHARS, NOT_FOUND_YET, correlateKey, outcomeKey, type FollowUpRecord, type KeyedEntry } from '../../shared/records';
import { truncate } from '../../shared/text';
import { isPager, isReadable } from '../capabilities';
import { CARRY_BUDGET_BYTES, encodedSize, fitCarried } from './bounds';
import { localFirstSetting } from './local-first-setting';
import { enqueue, type IncidentRowState, type Outbox } from './records';

export const STATE_VERSION = 2;
// What a connector's provider can do (pager, ticket, readable) comes from its snapshot: ../capabilities.ts.
/** The query returns at most this many recent entries (the whole timeline is in Postgres). */
export const MAX_RECENT = 100;
/** Correlated-signal ids remembered to drop a repeated delivery. */
export const MAX_SEEN_SIGNAL_IDS = 256;
/** Lookup-and-close passes for a ticket whose create may still have been in flight at the resolve. */
export const MAX_TICKET_PASSES = 3;


export interface Settings {
  /** Delay of the follow-ups: a pager's second resolve, a ticket's second lookup-and-close. */
  pagerReResolveDelayMs: number;
  /** 0: never read links back. */
  reconcileIntervalMs: number;
  /** How long a create interrupted by a hand-over may still be running (heartbeat timeout + request timeout). */
  reissueGuardMs: number;
  /** The local first attempt's time limit (local-first.ts); absent: opens are ordinary activities from the start. */
  localFirstOpenMs?: number;
}

/** Without a value from the worker: the 10 s heartbeat timeout, the default 10 s request timeout, a margin. */
export const DEFAULT_REISSUE_GUARD_MS = 25_000;

export type ActionKind = 'open' | 'acknowledge' | 'resolve';

/** A provider call the workflow decided. `running`: scheduled in this run; otherwise still to be scheduled. */
export interface Action {
  id: string;
  kind: ActionKind;
  connectorId: string;
  running: boolean;
  /** Carried over a continue-as-new while in flight: scheduled again in the next run (idempotent calls). */
  reissue?: boolean;
  /** The link's first open: decided at begin when the mirror was read and held no record of the incident (not a redrive's). */
  first?: true;
  /** Cancelled (a resolve overtook this open): waited for, its result only marks the link. */
  cancelled?: boolean;
  /**
   * A create re-issued after a hand-over that interrupted it: not before this time (ISO), when the interrupted
   * attempt has certainly stopped. Kept across further hand-overs while still ahead, so a run that continues-as-new
   * often does not push the create back each time.
   */
  notBefore?: string;
  /**
   * The fallback of this open's local first attempt, cut by its time limit, of a create without a provider-side key (a
   * chat post, a ticket): the cut attempt may still land at the provider until this time (ISO), when the fallback's
   * timer ends (calls.ts settleLocal). Set by the shell; carried. Read only by windowOf (cancelled-creates-wait-v1).
   */
  landsUntil?: string;
}

/** A follow-up the workflow carries out itself because Postgres could not take it (see shared/records.ts). */
export interface OwnFollowUp {
  followUp: FollowUpRecord;
  running: boolean;
}

export interface IncidentState {
  v: typeof STATE_VERSION;
  incident: Incident;
  /** The first run id of this run chain: the prefix of every key this chain writes (never shared by two runs). */
  chain: string;
  run: number;
  status: IncidentStatus;
  begun: boolean;
  connectors: ConnectorRef[];
  links: Record<string, Link>;
  actions: Action[];
  /** Counter for action ids and entry keys; carried, so keys stay unique across continue-as-new. */
  nextId: number;
  acknowledgement?: { source: string; actor?: string; at: string };
  resolution?: { source: string; actor?: string; reason?: string; at: string };
  /** The resolve fan-out was decided (after the opens had stopped). */
  resolving: boolean;
  /**
   * Opens cancelled by the resolve were still running when the previous run handed over: their attempts may still
   * be under way on some worker until this time (ISO), and the fan-out waits for it (no trigger after its resolve).
   */
  resolveNotBefore?: string;
  /**
   * Opens of non-pager connectors (a chat post, a ticket create: no provider-side key) that the resolve cancelled, or
   * dropped before they were scheduled, while an earlier attempt of theirs may still land at the provider — a create
   * re-issued after a hand-over (`notBefore`) or the fallback of a local first attempt cut by its limit (`landsUntil`) —
   * each connector with the time that window ends (ISO). The fan-out waits until then (no post or ticket after its
   * resolve) under `cancelled-creates-wait-v1`, which planResolve asks only when one of them would move the fan-out
   * later; the wait then becomes `resolveNotBefore`, which every later run honours without asking. Carried; absent in
   * state of earlier releases. Pagers are never here: their second resolve covers a late trigger.
   */
  cancelledWindows?: Record<string, string>;
  correlation: { count: number; seen: string[] };
  /** The latest entries, for the `state` query. */
  recent: TimelineEntry[];
  nextSeq: number;
  outbox: Outbox;
  ownFollowUps: OwnFollowUp[];
  settings: Settings;
  /**
   * Connectors whose link's only open try was refused for good (refusedForGood), each with the `updatedAt` of the
   * failed link that refusal left: nothing was made there, so the resolve fan-out leaves that link alone while it is
   * still that failure (under `refused-opens-v1`, planResolve). Carried; absent in state of earlier releases.
   */
  refused?: Record<string, string>;
  /**
   * Opens this history does not hold may have been sent for the incident: a run of the id existed before this one's
   * start (the start input's `again`: it ended without completing, or retention deleted it after a refused start), or
   * the run was made by a `temporal workflow reset` (what the run before the reset did after the reset point — an
   * open's attempt, a redrive — is gone from this history), or this chain continued from such a run. Then no refusal
   * is known to have made nothing, and the fan-out decided in such a run leaves no refused link alone (the shell's
   * leavesRefused, under `earlier-runs-resolve-v1`). Set by the shell at the start of such a run; carried; absent in
   * state of earlier releases. Only leavesRefused may read it: a replayer cannot tell a reset run (it leaves this unset
   * there), which is harmless only because leavesRefused asks the patch on every replay.
   */
  earlier?: true;
}

/** Failure types by which a provider refused a call for good (src/http/failures.ts REFUSALS; workflows import no activity code). */
export const REFUSALS: readonly string[] = ['ProviderRejected', 'AuthRejected'];

/**
 * Whether an open's failure says that nothing was made at the provider: a refusal (REFUSALS) on the first try of the
 * link's first open. Not after anything that may have landed: an earlier attempt (a retry's refusal, the fallback of a
 * local attempt cut short or answered 5xx, a re-issue after a hand-over, a local attempt made again after its workflow
 * task was retried), an earlier open of the link (a redrive; a previous run of the incident the mirror holds, or a
 * mirror that could not be read), or a refusal whose activity did not name its attempt.
 */
function refusedForGood(action: Action, out: Extract<CallOutcome, { reason: string }>): boolean {
  return action.kind === 'open' && action.first === true && out.firstTry === true && REFUSALS.includes(out.type ?? '');
}

const SEVERITY = SEVERITY_RANK;
const opt = <K extends string, V>(k: K, v: V | undefined): Partial<Record<K, V>> => (v === undefined || v === '' ? {} : ({ [k]: v } as Record<K, V>));

/**
 * The incident as the state machine keeps and records it: `openedAt` in the one form every store reads (the
 * contract accepts anything Date.parse understands — "2026" — which Postgres refuses as a timestamp, and a write
 * refused for good would keep the run from ever completing). The input's own value stays in history.
 */
export function normalizedIncident(incident: Incident): Incident {
  const t = Date.parse(incident.openedAt);
  const year = new Date(t).getUTCFullYear();
  const iso = Number.isNaN(t) || year < 1 || year > 9999 ? new Date(0).toISOString() : new Date(t).toISOString();
  return iso === incident.openedAt ? incident : { ...incident, openedAt: iso };
}

export function initialState(incident: Incident, chain: string): IncidentState {
  return {
    v: STATE_VERSION,
    incident: normalizedIncident(incident),
    chain,
    run: 1,
    status: 'open',
    begun: false,
    connectors: [],
    links: {},
    actions: [],
    nextId: 1,
    resolving: false,
    correlation: { count: 0, seen: [] },
    recent: [],
    nextSeq: 1,
    outbox: [],
    ownFollowUps: [],
    settings: { pagerReResolveDelayMs: 60_000, reconcileIntervalMs: 0, reissueGuardMs: DEFAULT_REISSUE_GUARD_MS },
  };
}

// ---- keys and entries ---------------------------------------------------------------------------------


function connectorOf(s: IncidentState, id: string): ConnectorRef | undefined {
  return s.connectors.find((c) => c.id === id);
}

/** The connector's snapshot; a connector no longer in it answers as a plain post (never a pager or a ticket). */
function refOf(s: IncidentState, id: string): Pick<ConnectorRef, 'provider' | 'caps'> {
  return connectorOf(s, id) ?? { provider: 'slack' };
}

/** Show an entry in the query's recent list. */
function show(s: IncidentState, e: KeyedEntry): void {
  const { key: _key, ...rest } = e;
  s.recent.push({ seq: s.nextSeq++, ...rest });
  if (s.recent.length > MAX_RECENT) s.recent.splice(0, s.recent.length - MAX_RECENT);
}

/** A decision's entry: shown, and owed to Postgres under a key of this chain. */
export function note(s: IncidentState, at: string, kind: TimelineKind, fields: Omit<KeyedEntry, 'key' | 'at' | 'kind'> = {}, key?: string): KeyedEntry {
  return noteKeyed(s, `${s.chain}:${key ?? `d${s.nextId++}`}`, at, kind, fields);
}

/**
 * An entry under a complete key: a follow-up's outcome, keyed `<follow-up key>:<outcome>` exactly as the follow-up
 * runner keys it (the follow-up key already starts with the chain), so the two writers never record it twice.
 */
function noteKeyed(s: IncidentState, key: string, at: string, kind: TimelineKind, fields: Omit<KeyedEntry, 'key' | 'at' | 'kind'>): KeyedEntry {
  const entry: KeyedEntry = { key, at, kind, ...fields };
  show(s, entry);
  enqueue(s.outbox, `entry:${entry.key}`, { entry });
  return entry;
}

/** Change a link; `owed`: the workflow records it (no activity does). */
export function setLink(s: IncidentState, ref: ConnectorRef, at: string, status: LinkStatus, patch: Partial<Link> = {}, owed = true): Link {
  const prev = s.links[ref.id];
  const link: Link = { ...(prev ?? { connectorId: ref.id, provider: ref.provider }), ...patch, status, updatedAt: at };
  if (status !== 'failed' && patch.error === undefined) delete link.error;
  s.links[ref.id] = link;
  if (owed) enqueue(s.outbox, `link:${ref.id}`, { link });
  return link;
}

/** The incident row as decided now. */
export function incidentRow(s: IncidentState): IncidentRowState {
  return {
    status: s.status,
    ...(s.acknowledgement ? { acknowledgedAt: s.acknowledgement.at } : {}),
    ...(s.resolution ? { resolution: { at: s.resolution.at, source: s.resolution.source, ...opt('actor', s.resolution.actor) } } : {}),
  };
}

function owesIncidentRow(s: IncidentState): void {
  enqueue(s.outbox, 'incident', { incident: incidentRow(s) });
}

function addAction(s: IncidentState, kind: ActionKind, connectorId: string): Action {
  const action: Action = { id: `${kind}:${connectorId}:${s.nextId++}`, kind, connectorId, running: false };
  s.actions.push(action);
  return action;
}

export function actionById(s: IncidentState, id: string): Action | undefined {
  return s.actions.find((a) => a.id === id);
}

function removeAction(s: IncidentState, id: string): void {
  const at = s.actions.findIndex((a) => a.id === id);
  if (at >= 0) s.actions.splice(at, 1);
}

// ---- begin --------------------------------------------------------------------------------------------

export interface BeginInput {
  connectors: ConnectorRef[];
  settings: { pagerReResolveDelayMs: number; reconcileIntervalMs?: number; reissueGuardMs?: number; localFirstOpenMs?: number };
  mirror: {
    available: boolean;
    record?: { status: IncidentStatus; resolvedAt?: string; resolutionSource?: string; resolutionActor?: string; links: Link[] };
  };
}

/**
 * Link states no completed fan-out leaves behind (a resolve ends its link resolved, or failed for good): an incident
 * resolved in the mirror with one of these was left half done. `failed` is not among them: a completed run leaves a link
 * failed on purpose (its open refused for good, so nothing was made there; or its resolve refused for good).
 */
const LEFT_OPEN: readonly string[] = ['open', 'acknowledged', 'pending'];

/**
 * The connector snapshot and what the mirror already holds. Decides: already resolved (nothing opens), links to
 * adopt (a re-started run or a re-open after retention never opens again what exists), connectors below their
 * min_severity, and the opens. An acknowledgement that came before the begin acknowledges the adopted open pagers
 * when `acknowledgesAdopted()` says so — asked at most once, only when such an acknowledge would be added (the shell
 * asks `adopted-links-acknowledged-v1`; the default is this release's behaviour). A mirror that holds the incident
 * resolved while links of configured connectors other than the resolution's origin are still open, acknowledged or
 * pending (an earlier run ended during its resolve fan-out): when `resolvesLeftOpen()` says so — asked once,
 * only then (the shell asks `resolved-left-open-v1`) — the run resolves those links through the ordinary fan-out
 * (planResolve) instead of ending at once.
 */
export function begin(
  s: IncidentState,
  b: BeginInput,
  at: string,
  acknowledgesAdopted: () => boolean = () => true,
  resolvesLeftOpen: () => boolean = () => true,
): void {
  s.begun = true;
  s.connectors = b.connectors;
  s.settings = {
    pagerReResolveDelayMs: b.settings.pagerReResolveDelayMs,
    reconcileIntervalMs: b.settings.reconcileIntervalMs ?? 0,
    reissueGuardMs: b.settings.reissueGuardMs ?? DEFAULT_REISSUE_GUARD_MS,
    ...localFirstSetting(b.settings.localFirstOpenMs),
  };
  const mirrored = b.mirror.record;
  if (!b.mirror.available) note(s, at, 'mirror.unavailable', { detail: 'links could not be read; relying on provider-side idempotency keys' });
  if (mirrored?.status === 'resolved' && !s.resolution) {
    // Re-opened after Temporal's retention: the incident was resolved already. Nothing pages.
    s.status = 'resolved';
    s.resolution = { source: mirrored.resolutionSource ?? 'probectl', ...opt('actor', mirrored.resolutionActor), at: mirrored.resolvedAt ?? at };
    for (const l of mirrored.links) s.links[l.connectorId] = l;
    const source = s.resolution.source;
    const leftOpen = mirrored.links.filter((l) => l.connectorId !== source && connectorOf(s, l.connectorId) && LEFT_OPEN.includes(l.status));
    if (leftOpen.length > 0 && resolvesLeftOpen()) {
      // An earlier run ended during its fan-out: the incident row says resolved, these links never were. planResolve
      // resolves them in this task (the origin marked, never called), with their follow-ups and probectl's callback.
      const ids = leftOpen.map((l) => l.connectorId).join(', ');
      note(s, at, 'already.resolved', { detail: truncate(`the mirror holds this incident as resolved; nothing was opened; still open there, resolved now: ${ids}`, 200) });
      owesIncidentRow(s);
      return;
    }
    note(s, at, 'already.resolved', { detail: 'the mirror holds this incident as resolved; nothing was opened' });
    s.resolving = true;
    owesIncidentRow(s);
    return;
  }
  const adopts = (mirrored?.links.length ?? 0) > 0;
  note(s, at, 'opened', { detail: truncate(adopts ? `${s.incident.title} (started again: existing links adopted)` : s.incident.title, 200) }, 'opened');
  for (const l of mirrored?.links ?? []) {
    const ref = connectorOf(s, l.connectorId);
    if (!ref || !['open', 'acknowledged', 'resolved'].includes(l.status)) continue;
    setLink(s, ref, at, l.status, { ...opt('externalRef', l.externalRef), ...opt('externalUrl', l.externalUrl) }, false);
    note(s, at, 'connector.adopted', { connectorId: ref.id, ...opt('detail', l.externalRef) });
  }
  for (const ref of s.connectors) {
    if (s.links[ref.id]) continue;
    if (ref.minSeverity && SEVERITY[s.incident.severity] < SEVERITY[ref.minSeverity]) {
      setLink(s, ref, at, 'skipped');
      note(s, at, 'connector.skipped', { connectorId: ref.id, detail: `severity ${s.incident.severity} is below min_severity ${ref.minSeverity}` });
      continue;
    }
    if (s.resolution) continue; // resolved before anything was opened: never open
    setLink(s, ref, at, 'pending', {}, false);
    // The link's first open only when the mirror was read and holds no record of the incident at all: a run before this
    // one (ended, terminated, reset) may have sent an open whose record or link it never wrote. (After a run that wrote
    // nothing at all, or a reset: the shell's `earlier`, applied at the fan-out under its own patch.)
    const open = addAction(s, 'open', ref.id);
    if (b.mirror.available && mirrored === undefined) open.first = true;
  }
  // Acknowledged before the begin (a signal delivered before the run's first task, or while beginIncident ran), when no
  // link was known yet: the adopted open pagers get the acknowledgement now, the origin's is marked. Under
  // `adopted-links-acknowledged-v1`, asked at most once, only when an acknowledge would be added or the origin marked
  // (opens of this run are acknowledged once they land, as ever: settled).
  if (s.acknowledgement && !s.resolution) {
    let acks: boolean | undefined;
    const gate = () => (acks ??= acknowledgesAdopted());
    for (const ref of s.connectors) acknowledgeLink(s, ref, at, gate);
  }
  owesIncidentRow(s);
}

// ---- signals ------------------------------------------------------------------------------------------

/** A correlated signal: counted once per signalId; `recorded` when the API already wrote its entry. */
export function correlate(s: IncidentState, sig: CorrelateSignal & { recorded?: boolean }, at: string): 'counted' | 'duplicate' {
  if (s.correlation.seen.includes(sig.signalId)) return 'duplicate';
  s.correlation.seen.push(sig.signalId);
  if (s.correlation.seen.length > MAX_SEEN_SIGNAL_IDS) s.correlation.seen.shift();
  s.correlation.count += 1;
  const fields = { detail: truncate(`${sig.signalId}${typeof sig.summary === 'string' && sig.summary ? `: ${sig.summary}` : ''}`, CORRELATE_DETAIL_CHARS) };
  // The same key the API uses for what it recorded: whichever writes first, the entry exists once.
  const entry: KeyedEntry = { key: correlateKey(s.incident.id, sig.signalId), at, kind: 'correlated', ...fields };
  show(s, entry);
  if (sig.recorded !== true) enqueue(s.outbox, `entry:${entry.key}`, { entry });
  return 'counted';
}

export { correlateKey };

/** The first acknowledgement wins: pagers other than the origin are acknowledged, probectl is told. */
export function acknowledge(s: IncidentState, sig: AcknowledgeSignal, at: string): boolean {
  if (s.status !== 'open') return false;
  s.status = 'acknowledged';
  s.acknowledgement = { source: sig.source, ...opt('actor', sig.actor), at };
  note(s, at, 'acknowledged', { source: sig.source, ...opt('actor', sig.actor) });
  owesIncidentRow(s);
  for (const ref of s.connectors) acknowledgeLink(s, ref, at);
  if (sig.source !== 'probectl') followUp(s, { key: `${s.chain}:callback:acknowledged`, kind: 'callback', dueAt: at, event: callbackEvent(s, 'incident.acknowledged') });
  return true;
}

/**
 * An open pager link of an acknowledged incident: acknowledged at the provider, or marked if it is the origin.
 * `allowed`: asked only when either would happen (the begin's patch gate: marking the origin changes the state a run
 * recorded before the patch replays to, so it waits for the patch too).
 */
function acknowledgeLink(s: IncidentState, ref: ConnectorRef, at: string, allowed: () => boolean = () => true): void {
  const link = s.links[ref.id];
  if (!s.acknowledgement || s.resolution || !isPager(ref) || link?.status !== 'open') return;
  if (!allowed()) return;
  if (ref.id === s.acknowledgement.source) {
    setLink(s, ref, at, 'acknowledged'); // the origin acknowledged it itself: never echo it back
    return;
  }
  addAction(s, 'acknowledge', ref.id);
}

/** The first resolution wins. Opens still running are cancelled by the shell (cancelOpens). */
export function resolve(s: IncidentState, sig: ResolveSignal, at: string, detail?: string): boolean {
  if (s.resolution) return false;
  s.status = 'resolved';
  s.resolution = { source: sig.source, ...opt('actor', sig.actor), ...opt('reason', typeof sig.reason === 'string' ? truncate(sig.reason, 1000) : undefined), at };
  note(s, at, 'resolved', { source: sig.source, ...opt('actor', sig.actor), ...opt('detail', detail ?? s.resolution.reason) });
  owesIncidentRow(s);
  // Opens not yet scheduled never will be; acknowledgements not yet scheduled are moot. An open dropped here may still
  // have an earlier attempt under way (a create re-issued after a hand-over): the fan-out may wait for it (planResolve).
  for (const a of s.actions) if (a.kind === 'open' && !a.running) noteWindow(s, a);
  s.actions = s.actions.filter((a) => a.running || a.kind === 'resolve');
  for (const a of s.actions) if (a.kind === 'open') a.cancelled = true;
  return true;
}

/** Operator action: re-open one connector whose link is failed; anything else is refused (recorded). */
export function redrive(s: IncidentState, sig: RedriveSignal, at: string): 'queued' | 'repeat' | string {
  const ref = connectorOf(s, sig.connectorId);
  const link = ref ? s.links[ref.id] : undefined;
  const refuse = (why: string) => {
    note(s, at, 'signal.rejected', { detail: `redrive ${truncate(String(sig.connectorId), 64)}: ${why}` });
    return why;
  };
  if (!ref || !link) return refuse('no such connector on this incident');
  if (s.resolution) return refuse('the incident is resolved');
  if (s.actions.some((a) => a.kind === 'open' && a.connectorId === ref.id)) return 'repeat';
  if (link.status !== 'failed') return refuse(`the link is ${link.status}; only a failed link is re-driven`);
  setLink(s, ref, at, 'pending', {}, false);
  markRefused(s, ref.id, undefined);
  addAction(s, 'open', ref.id);
  note(s, at, 'connector.redriven', { connectorId: ref.id, ...opt('actor', sig.actor ? truncate(sig.actor, 256) : undefined) });
  return 'queued';
}

export function rejectSignal(s: IncidentState, at: string, detail: string): void {
  note(s, at, 'signal.rejected', { detail });
}

// ---- outcomes of provider calls -----------------------------------------------------------------------

export type CallOutcome =
  | { ok: true; externalRef?: string; externalUrl?: string; recorded: boolean; followUpsRecorded?: boolean; found?: boolean }
  | { ok: false; cancelled: true }
  | {
    ok: false; cancelled?: false; reason: string; type?: string;
    /** The attempt a refusal came on, when the activity named it (src/http/failures.ts withAttempt). */
    attempt?: number;
    /**
     * Set by the shell (calls.ts) for an open: this outcome is its first try — a local first attempt, or an ordinary
     * activity's attempt 1 — and not a re-issue after a hand-over or the fallback of a local attempt.
     */
    firstTry?: boolean;
  };

/** Details of the entry an action's successful call records (the activity builds the same one). */
export function outcomeEntry(s: IncidentState, action: Action, at: string, detail?: string): KeyedEntry {
  const kind: TimelineKind = action.kind === 'open' ? 'connector.opened' : action.kind === 'acknowledge' ? 'connector.acknowledged' : 'connector.resolved';
  return { key: outcomeKey(s.chain, action.id), at, kind, connectorId: action.connectorId, ...opt('detail', detail) };
}

/**
 * A provider call ended. Updates the link and what is owed: a call that recorded its own outcome owes nothing;
 * one that could not (Postgres down) leaves its link and entry to the workflow. Returns nothing; the shell
 * re-plans after every outcome.
 */
export function settled(s: IncidentState, actionId: string, out: CallOutcome, at: string, openedDetail?: string): void {
  const action = actionById(s, actionId);
  if (!action) return;
  removeAction(s, actionId);
  const ref = connectorOf(s, action.connectorId);
  if (!ref) return;
  if (!out.ok && out.cancelled) {
    if (action.kind === 'open') {
      note(s, at, 'connector.failed', { connectorId: ref.id, detail: 'open cancelled: the incident was resolved first' });
      noteWindow(s, action); // an earlier attempt of it may still land: the fan-out may wait for it (planResolve)
    }
    return; // the link stays pending; the resolve fan-out covers it
  }
  if (!out.ok) {
    const removed = out.type === 'ConnectorRemoved';
    const what = action.kind === 'open' ? 'open' : action.kind;
    if (action.kind === 'open') markRefused(s, ref.id, refusedForGood(action, out) ? at : undefined);
    if (action.kind === 'open' || action.kind === 'resolve') {
      setLink(s, ref, at, removed ? 'orphaned' : 'failed', { error: removed ? 'the connector was removed from the configuration' : `${action.kind === 'resolve' ? 'resolve: ' : ''}${out.reason}` });
    }
    if (removed) note(s, at, 'connector.orphaned', { connectorId: ref.id, detail: `removed from the configuration before the ${what}` }, `${action.id}:orphaned`);
    else note(s, at, 'connector.failed', { connectorId: ref.id, detail: `${what}: ${out.reason}` }, `${action.id}:failed`);
    return;
  }
  if (action.kind === 'open') {
    if (action.cancelled && s.links[ref.id]?.status !== 'pending') return;
    markRefused(s, ref.id, undefined);
    setLink(s, ref, at, 'open', { ...opt('externalRef', out.externalRef), ...opt('externalUrl', out.externalUrl) }, !out.recorded);
    const entry = outcomeEntry(s, action, at, openedDetail);
    show(s, entry);
    if (!out.recorded) enqueue(s.outbox, `entry:${entry.key}`, { entry });
    if (!action.cancelled) acknowledgeLink(s, ref, at); // acknowledged while the page was going out
    return;
  }
  if (action.kind === 'acknowledge') {
    if (s.links[ref.id]?.status === 'open') setLink(s, ref, at, 'acknowledged', {}, !out.recorded);
    const entry = outcomeEntry(s, action, at);
    show(s, entry);
    if (!out.recorded) enqueue(s.outbox, `entry:${entry.key}`, { entry });
    return;
  }
  // resolve
  const link = s.links[ref.id];
  const missing = out.found === false; // a ticket whose create may still have been in flight: not found yet
  if (!missing) setLink(s, ref, at, 'resolved', {}, !out.recorded);
  const entry = outcomeEntry(s, action, at, missing ? NOT_FOUND_YET : undefined);
  show(s, entry);
  if (!out.recorded) enqueue(s.outbox, `entry:${entry.key}`, { entry });
  const delay = s.settings.pagerReResolveDelayMs;
  if (isPager(ref) && delay > 0 && out.followUpsRecorded !== true) {
    followUp(s, { key: reResolveKey(s, ref.id), kind: 're-resolve', dueAt: addMs(at, delay), connectorId: ref.id, ...opt('externalRef', link?.externalRef), resolution: resolutionRef(s) });
  }
  if (missing && out.followUpsRecorded !== true) {
    followUp(s, { key: ticketCloseKey(s, ref.id, 2), kind: 'ticket-close', dueAt: addMs(at, Math.max(delay, 1_000)), connectorId: ref.id, resolution: resolutionRef(s), pass: 2 });
  }
}

/** The failed link's `updatedAt` when the provider refused the connector's only open try for good (refusedForGood), else nothing. */
function markRefused(s: IncidentState, connectorId: string, failedAt: string | undefined): void {
  const rest = { ...s.refused };
  delete rest[connectorId];
  if (failedAt !== undefined) rest[connectorId] = failedAt;
  if (Object.keys(rest).length > 0) s.refused = rest;
  else delete s.refused;
}

export const reResolveKey = (s: IncidentState, connectorId: string) => `${s.chain}:re-resolve:${connectorId}`;
export const ticketCloseKey = (s: IncidentState, connectorId: string, pass: number) => `${s.chain}:ticket-close:${connectorId}:${pass}`;

export function resolutionRef(s: IncidentState): { source: string; actor?: string; reason?: string } {
  const r = s.resolution!;
  return { source: r.source, ...opt('actor', r.actor), ...opt('reason', r.reason) };
}

function addMs(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString();
}

/** A follow-up: owed to Postgres (the runner carries it out); the shell takes it over if it cannot be recorded. */
export function followUp(s: IncidentState, f: FollowUpRecord): void {
  enqueue(s.outbox, `follow-up:${f.key}`, { followUp: f });
}

/** Postgres could not take these follow-ups: the workflow carries them out itself. */
export function ownFollowUps(s: IncidentState, fs: readonly FollowUpRecord[]): void {
  for (const f of fs) {
    if (s.ownFollowUps.some((o) => o.followUp.key === f.key)) continue;
    s.ownFollowUps.push({ followUp: f, running: false });
  }
}

/** A follow-up the workflow carried out itself ended (see shell). A ticket not found yet gets another pass. */
export function ownFollowUpDone(s: IncidentState, key: string, out: { ok: boolean; found?: boolean; reason?: string }, at: string): void {
  const at_ = s.ownFollowUps.findIndex((o) => o.followUp.key === key);
  if (at_ < 0) return;
  const f = s.ownFollowUps[at_]!.followUp;
  s.ownFollowUps.splice(at_, 1);
  if (f.kind === 'callback') {
    // Not delivered: owed to Postgres again, where the runner takes it (or, Postgres still down, the workflow
    // tries again after its write's back-off). The run is never held open by probectl.
    if (!out.ok) followUp(s, { ...f, dueAt: at });
    return;
  }
  const ref = connectorOf(s, f.connectorId);
  if (!ref) return;
  if (!out.ok) {
    noteKeyed(s, `${f.key}:failed`, at, 'connector.failed', { connectorId: ref.id, detail: `${f.kind === 're-resolve' ? 'second resolve' : `lookup-and-close pass ${f.pass}`}: ${out.reason ?? 'failed'}` });
    return;
  }
  if (f.kind === 'ticket-close') {
    if (out.found === false) {
      if (f.pass < MAX_TICKET_PASSES) {
        s.ownFollowUps.push({ followUp: { ...f, key: ticketCloseKey(s, ref.id, f.pass + 1), pass: f.pass + 1, dueAt: addMs(at, Math.max(s.settings.pagerReResolveDelayMs, 1_000)) }, running: false });
      } else {
        noteKeyed(s, `${f.key}:none`, at, 'connector.resolved', { connectorId: ref.id, detail: `no ticket found after ${f.pass} lookups: the cancelled create did not land` });
        setLink(s, ref, at, 'resolved');
      }
      return;
    }
    setLink(s, ref, at, 'resolved');
    noteKeyed(s, `${f.key}:closed`, at, 'connector.resolved', { connectorId: ref.id, detail: `closed by lookup-and-close pass ${f.pass}` });
  }
}

// ---- the resolve fan-out --------------------------------------------------------------------------------

const later = (a: string | undefined, b: string | undefined): string | undefined => (a === undefined ? b : b === undefined ? a : Date.parse(b) > Date.parse(a) ? b : a);

/**
 * Until when an earlier attempt of this open may still land at its provider, for a create without a provider-side key
 * (a chat post, a ticket): re-issued after a hand-over that interrupted it (`notBefore`: the interrupted attempt has
 * certainly stopped then), or the fallback of a local first attempt cut by its limit (`landsUntil`). Pagers: never
 * (a late trigger is covered by their second resolve).
 */
function windowOf(s: IncidentState, a: Action): string | undefined {
  if (a.kind !== 'open' || isPager(refOf(s, a.connectorId))) return undefined;
  return later(a.notBefore, a.landsUntil);
}

/** An open the resolve cancelled or dropped: remember the end of its window, if any (cancelledWindows). */
function noteWindow(s: IncidentState, a: Action): void {
  const until = windowOf(s, a);
  if (until === undefined) return;
  s.cancelledWindows = { ...s.cancelledWindows, [a.connectorId]: later(s.cancelledWindows?.[a.connectorId], until)! };
}

/** Opens or acknowledgements still running: the resolve fan-out waits for them (no trigger after its resolve). */
export function blockingResolve(s: IncidentState): boolean {
  return s.actions.some((a) => a.running && (a.kind === 'open' || a.kind === 'acknowledge'));
}

/**
 * Once resolved and nothing is in flight that the resolve must wait for: the origin is marked, never called;
 * every other link whose open was attempted is resolved — except, when `leavesRefused()` says so, a failed link
 * whose open the provider refused for good (nothing landed: no resolve, a `connector.skipped` entry says why).
 * `leavesRefused` is asked at most once, and only when such a link would otherwise get a resolve (the shell asks
 * the patch `refused-opens-v1` there, so runs without a refused link carry no marker). Before that, when an open the
 * resolve cancelled may still land at its provider after now (cancelledWindows, not the origin's), `waitsForCancelled()`
 * is asked, once (the shell asks `cancelled-creates-wait-v1`; the default is this release's behaviour): yes, and the
 * fan-out waits until the last such window has ended (`resolveNotBefore`, which the shell wakes for and a continued run
 * carries); no (a run recorded before the patch), and it goes on as it did. Returns whether it decided the fan-out now.
 */
export function planResolve(s: IncidentState, at: string, leavesRefused: () => boolean = () => false, waitsForCancelled: () => boolean = () => true): boolean {
  if (!s.resolution || s.resolving || blockingResolve(s)) return false;
  if (s.resolveNotBefore && Date.parse(at) < Date.parse(s.resolveNotBefore)) return false;
  if (s.cancelledWindows) {
    const source = s.resolution.source;
    const until = Object.entries(s.cancelledWindows).filter(([id, t]) => id !== source && Date.parse(t) > Date.parse(at)).map(([, t]) => t).reduce<string | undefined>(later, undefined);
    delete s.cancelledWindows;
    if (until !== undefined && waitsForCancelled()) {
      s.resolveNotBefore = until;
      return false;
    }
  }
  s.resolving = true;
  s.actions = s.actions.filter((a) => a.kind === 'resolve');
  const origin = connectorOf(s, s.resolution.source);
  if (origin) {
    if (s.links[origin.id] && s.links[origin.id]!.status !== 'skipped') setLink(s, origin, at, 'resolved');
    note(s, at, 'origin.skipped', { connectorId: origin.id, detail: 'resolved at the origin; not called back' });
  }
  let leaves: boolean | undefined;
  for (const ref of s.connectors) {
    if (ref.id === origin?.id) continue;
    const status = s.links[ref.id]?.status;
    // Still the failure the refusal left (a redrive, or a worker of an earlier release, moves the link on).
    const refused = status === 'failed' && s.refused?.[ref.id] !== undefined && s.refused[ref.id] === s.links[ref.id]?.updatedAt;
    if (refused && (leaves ??= leavesRefused())) {
      note(s, at, 'connector.skipped', { connectorId: ref.id, detail: 'not resolved: the provider refused the open, so nothing was made there' });
      continue;
    }
    if (status === 'open' || status === 'acknowledged' || status === 'pending' || status === 'failed') addAction(s, 'resolve', ref.id);
  }
  // probectl is told (unless it resolved it itself), decided now so the record rides with the resolve calls. The
  // event's links are those of the moment it is sent: whoever sends it waits until the fan-out has settled
  // and takes the links as they are then (the runner from Postgres, the workflow from its state).
  if (s.resolution.source !== 'probectl') {
    followUp(s, { key: `${s.chain}:callback:resolved`, kind: 'callback', dueAt: at, event: callbackEvent(s, 'incident.resolved') });
  }
  return true;
}

export function callbackEvent(s: IncidentState, type: 'incident.resolved' | 'incident.acknowledged') {
  const what = type === 'incident.resolved' ? s.resolution! : s.acknowledgement!;
  return {
    type, eventId: `${incidentKey(s.incident.id)}/${type}`, incidentId: s.incident.id, tenantId: s.incident.tenantId,
    source: what.source, ...opt('actor', what.actor), at: what.at,
    ...(type === 'incident.resolved'
      ? { links: Object.values(s.links).map(({ connectorId, provider, status, externalRef, externalUrl }) => ({ connectorId, provider, status, ...opt('externalRef', externalRef), ...opt('externalUrl', externalUrl) })) }
      : {}),
  };
}

/** Nothing left to do: resolved, fanned out, every record and follow-up handed over. */
export function finished(s: IncidentState): boolean {
  return s.resolving && s.actions.length === 0 && s.ownFollowUps.length === 0 && s.outbox.length === 0;
}

// ---- reconciliation -------------------------------------------------------------------------------------

/** Links that can be read back for reconciliation. */
export function readableLinks(s: IncidentState): ConnectorRef[] {
  return s.connectors.filter((ref) => isReadable(ref) && ['open', 'acknowledged'].includes(s.links[ref.id]?.status ?? ''));
}

/** What the read-back found: a link resolved (or acknowledged) at its provider counts as that connector's signal. */
export function reconciled(s: IncidentState, results: ReadonlyArray<{ connectorId: string; provider: Provider; state: string }>, at: string): void {
  if (s.resolution) return;
  const resolved = results.find((r) => r.state === 'resolved');
  if (resolved) {
    resolve(s, { tenantId: s.incident.tenantId, source: resolved.connectorId, reason: 'resolved at the provider (reconciliation)', at }, at,
      `found resolved at ${resolved.provider} by reconciliation; its webhook did not arrive`);
    return;
  }
  const acked = results.find((r) => r.state === 'acknowledged');
  if (acked && s.status === 'open') acknowledge(s, { tenantId: s.incident.tenantId, source: acked.connectorId, at }, at);
}

// ---- continue-as-new --------------------------------------------------------------------------------------

/**
 * The state handed to the next run: calls in flight are marked to be scheduled again there (every call is
 * idempotent at its provider), follow-ups the workflow was carrying out itself likewise. Nothing waits.
 */
export function handover(s: IncidentState, at: string): IncidentState {
  const next: IncidentState = JSON.parse(JSON.stringify(s)) as IncidentState;
  const guard = new Date(Date.parse(at) + s.settings.reissueGuardMs).toISOString();
  for (const a of next.actions) {
    if (a.running) {
      a.reissue = true;
      // An interrupted create waits for the interrupted attempt to stop — unless it was still waiting for an
      // earlier interruption's guard (it has not started since).
      if (a.kind === 'open' && !isPager(refOf(s, a.connectorId)) && !(a.notBefore && a.notBefore > at)) a.notBefore = guard;
      // A cancelled open still running: the next run resolves only once its attempt has certainly stopped.
      if (a.kind === 'open' && a.cancelled) next.resolveNotBefore = guard;
    }
    a.running = false;
  }
  for (const o of next.ownFollowUps) o.running = false;
  for (const i of next.outbox) i.carriers = [];
  next.run = s.run + 1;
  // The continue-as-new input is `{ incident, carried }`: the incident travels twice, and the budget is for both.
  return fitCarried(next, CARRY_BUDGET_BYTES - encodedSize(next.incident));
}

// ---- views ----------------------------------------------------------------------------------------------

export function view(s: IncidentState): IncidentStateView & { correlationCount: number } {
  return { incident: s.incident, status: s.status, links: Object.values(s.links), timeline: s.recent, correlationCount: s.correlation.count };
}

export function resolutionResult(s: IncidentState): IncidentResolution {
  const r = s.resolution!;
  return { resolvedAt: r.at, source: r.source, ...opt('actor', r.actor), ...opt('reason', r.reason), links: Object.values(s.links) };
}
