/**
 * What is recorded in Postgres besides links: keyed timeline entries and follow-ups. Shared by the workflow
 * (which decides some of them), the activities and the API (which record them) and the mirror store. Plain
 * JSON; no secret ever appears here.
 */
import type { IncidentStatus, Link, TimelineEntry } from './contract';
import { incidentKey } from './ids';

/** A timeline entry with its key (migration 004): a repeated write of the same key is a no-op. */
export interface KeyedEntry extends Omit<TimelineEntry, 'seq'> {
  key: string;
}

/** How an incident was resolved, as a connector's resolve call needs it. */
export interface ResolutionRef {
  source: string;
  actor?: string;
  reason?: string;
}

/** An event for probectl's callback (docs/inbound.md, "probectl is told"). */
export interface CallbackEventRecord {
  type: 'incident.resolved' | 'incident.acknowledged';
  eventId: string;
  incidentId: string;
  tenantId: string;
  source: string;
  actor?: string;
  at: string;
  links?: Array<{ connectorId: string; provider: string; status: string; externalRef?: string; externalUrl?: string }>;
}

/**
 * Work that must happen later, after the workflow has decided it: a pager's second, delayed resolve (a trigger
 * still in flight cannot leave a zombie alert), a second lookup-and-close for a ticket whose create was still
 * in flight at the resolve, and the callback to probectl. Recorded in Postgres and carried out by the worker's
 * follow-up runner; while Postgres cannot take it, the workflow carries it out itself.
 */
export type FollowUpRecord =
  | { key: string; kind: 're-resolve'; dueAt: string; connectorId: string; externalRef?: string; resolution: ResolutionRef }
  | { key: string; kind: 'ticket-close'; dueAt: string; connectorId: string; resolution: ResolutionRef; pass: number }
  | { key: string; kind: 'callback'; dueAt: string; event: CallbackEventRecord };

/** The incident row as a writer knows it (its status only ever moves forward). */
export interface IncidentRowState {
  status: IncidentStatus;
  acknowledgedAt?: string;
  resolution?: { at: string; source: string; actor?: string };
}

/** One write's content: what a provider call or the record activity puts in Postgres for the workflow. */
export interface RecordPayload {
  entries: KeyedEntry[];
  links: Link[];
  incident?: IncidentRowState;
  followUps: FollowUpRecord[];
}

/** The key of the outcome entry an action's call records (the activity and a fallback write agree on it). */
export function outcomeKey(chain: string, actionId: string): string {
  return `${chain}:${actionId}`;
}

/** The entry detail of a resolve that found no ticket yet (activity and workflow write the same). */
export const NOT_FOUND_YET = 'no ticket found yet: a second lookup-and-close follows';

/** A correlated signal's entry keeps at most this many characters of `<signalId>: <summary>`. */
export const CORRELATE_DETAIL_CHARS = 500;

/** The key of a correlated signal's entry, for the workflow and the API alike (the signal id dedupes). */
export function correlateKey(incidentId: string, signalId: string): string {
  return `correlate:${incidentKey(incidentId)}:${signalId}`;
}
