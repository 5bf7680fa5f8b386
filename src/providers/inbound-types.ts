/**
 * What every inbound parser returns: a normalized event, or the reason the payload is malformed (400).
 * Parsers are pure: no I/O, no clock, no configuration.
 */
export type InboundKind = 'resolved' | 'acknowledged' | 'ignored';

export interface InboundRefs {
  /** The provider's reference as the mirror stores it (dedup key, alias, sys_id, issue key). */
  externalRef?: string;
  /** Other references of the same object (a Jira issue id beside its key, a ServiceNow number, an Opsgenie alert id). */
  alternateRefs?: string[];
  /** `probectl-<incident-id>` when the payload carries it (correlation id, label, alias, incident key). */
  incidentKey?: string;
}

export interface InboundEvent {
  kind: InboundKind;
  refs: InboundRefs;
  /** The provider's delivery id from the body, when it has one (headers are read by the route). */
  deliveryId?: string;
  actor?: string;
  /** Why the event is ignored; or a short note for the timeline. */
  reason?: string;
}

export type ParseResult = { ok: true; event: InboundEvent } | { ok: false; error: string };

export type Parser = (body: unknown) => ParseResult;

export const MAX_REF_LENGTH = 255;
export const MAX_ACTOR_LENGTH = 256;

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A non-empty string of bounded length without NUL (U+0000, which Postgres's text type cannot hold: a value with it
 * would fail the delivery's transaction), or a finite number as its decimal text.
 */
export function refText(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t.length > 0 && t.length <= MAX_REF_LENGTH && !t.includes('\u0000') ? t : undefined;
}

/**
 * The actor as the signal carries it: at most MAX_ACTOR_LENGTH UTF-16 code units — the unit the workflow's own
 * check counts (src/shared/validate.ts), which drops a signal with a longer actor — cut on a character boundary,
 * with `…` only when something was cut. NUL characters are dropped.
 */
export function actorText(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.split('\u0000').join('').trim();
  if (t.length === 0) return undefined;
  if (t.length <= MAX_ACTOR_LENGTH) return t;
  let out = '';
  for (const ch of t) {
    if (out.length + ch.length > MAX_ACTOR_LENGTH - 1) break;
    out += ch;
  }
  return `${out}…`;
}

export const ignored = (reason: string, refs: InboundRefs = {}): ParseResult => ({ ok: true, event: { kind: 'ignored', refs, reason } });
export const malformed = (error: string): ParseResult => ({ ok: false, error });

/** Drop undefined fields, so events compare cleanly. */
export function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))) as T;
}
