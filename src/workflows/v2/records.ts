/**
 * What the workflow owes Postgres: decisions nobody else knows (its own timeline entries, link states it
 * decided, the incident row's status, follow-ups). Each item waits here until a write confirms it. Items ride
 * along with the provider calls scheduled next (the activity records them with its own outcome, in one
 * transaction); what no call carries is written by the workflow's record activity. Every item is idempotent
 * (keyed entries, monotonic rows), so several writers carrying the same item is harmless.
 *
 * Pure: plain JSON, carried across continue-as-new.
 */
import type { FollowUpRecord, IncidentRowState, KeyedEntry, RecordPayload } from '../../shared/records';
import type { Link } from '../../shared/contract';

export type { IncidentRowState, RecordPayload };

export type ItemBody = { entry: KeyedEntry } | { link: Link } | { incident: IncidentRowState } | { followUp: FollowUpRecord };
/** `carriers`: the ids of the running calls that will write this item with their own outcome. */
export type RecordItem = { key: string; carriers: string[] } & ItemBody;


export type Outbox = RecordItem[];

/** Add or supersede an item (a newer link or incident snapshot replaces the older one, carriers dropped). */
export function enqueue(outbox: Outbox, key: string, body: ItemBody): void {
  const fresh: RecordItem = { key, carriers: [], ...body };
  // Entries are immutable and their keys unique: no search (a stream of correlated signals stays linear).
  if ('entry' in body) {
    outbox.push(fresh);
    return;
  }
  const at = outbox.findIndex((i) => i.key === key);
  if (at >= 0) outbox[at] = fresh;
  else outbox.push(fresh);
}

/**
 * What a provider call takes along: everything still owed but the entries a signal stream feeds (those are written
 * in batches by the workflow's own write, so a call's input — recorded in history — stays small). The items are
 * marked as carried by `carrier` (an action id).
 */
export function attach(outbox: Outbox, carrier: string): RecordPayload {
  const taken = outbox.filter((i) => !isStreamItem(i));
  for (const i of taken) if (!i.carriers.includes(carrier)) i.carriers.push(carrier);
  return payloadOf(taken);
}

/**
 * The carrier wrote what it carried: those items are done (unless superseded since, which dropped it). Where
 * Postgres took everything but the follow-ups, those are returned to the caller (the workflow then carries them
 * out itself) and leave the outbox too.
 */
export function confirm(outbox: Outbox, carrier: string, followUpsTaken = true): FollowUpRecord[] {
  const untaken: FollowUpRecord[] = [];
  for (let i = outbox.length - 1; i >= 0; i--) {
    const item = outbox[i]!;
    if (!item.carriers.includes(carrier)) continue;
    if ('followUp' in item && !followUpsTaken) untaken.unshift(item.followUp);
    outbox.splice(i, 1);
  }
  return untaken;
}

/**
 * The carrier could not write (Postgres down): the follow-ups only it carried leave the outbox and are returned, for
 * the workflow to carry out itself (Postgres cannot take them now). Call before `release`.
 */
export function takeFollowUps(outbox: Outbox, carrier: string): FollowUpRecord[] {
  const taken: FollowUpRecord[] = [];
  for (let i = outbox.length - 1; i >= 0; i--) {
    const item = outbox[i]!;
    if (!('followUp' in item) || item.carriers.length !== 1 || item.carriers[0] !== carrier) continue;
    taken.unshift(item.followUp);
    outbox.splice(i, 1);
  }
  return taken;
}

/** The carrier could not write: its items are owed again (another carrier or the record activity takes them). */
export function release(outbox: Outbox, carrier: string): void {
  for (const i of outbox) i.carriers = i.carriers.filter((c) => c !== carrier);
}

/** Items no running call carries: the record activity must write them. */
export function unattached(outbox: Outbox): Outbox {
  return outbox.filter((i) => i.carriers.length === 0);
}

/** Entries a stream of signals feeds (correlated, refused): written in batches, never one write per signal. */
export function isStreamItem(i: RecordItem): boolean {
  return 'entry' in i && (i.entry.kind === 'correlated' || i.entry.kind === 'signal.rejected');
}

export function payloadOf(items: readonly RecordItem[]): RecordPayload {
  const p: RecordPayload = { entries: [], links: [], followUps: [] };
  for (const i of items) {
    if ('entry' in i) p.entries.push(i.entry);
    else if ('link' in i) p.links.push(i.link);
    else if ('incident' in i) p.incident = i.incident;
    else p.followUps.push(i.followUp);
  }
  return p;
}

export function isEmpty(p: RecordPayload): boolean {
  return p.entries.length === 0 && p.links.length === 0 && !p.incident && p.followUps.length === 0;
}
