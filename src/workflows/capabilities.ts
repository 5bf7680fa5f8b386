/**
 * What the workflow knows about a connector's provider: what its snapshot carries (`ConnectorRef.caps`, from the
 * provider's folder, src/providers/<name>/spec.ts). Snapshots recorded before `caps` existed carry none: for them
 * BEFORE_CAPS gives exactly the answers those runs were decided with. Pure; no import but types.
 */
import type { ConnectorRef } from '../config/connectors';
import type { ProviderCaps } from '../providers/spec';

/**
 * Frozen: the answers of every run recorded before snapshots carried caps. Never edit; a new provider needs no line.
 * Frozen at run time too: every workflow of a worker shares this module (src/runtime/workflow-preload.ts) and
 * `capsOfRef` hands out these objects.
 */
const BEFORE_CAPS: Readonly<Record<string, Readonly<ProviderCaps>>> = Object.freeze({
  pagerduty: Object.freeze({ kind: 'pager', readable: false, name: 'PagerDuty', open: 'trigger {key}' }),
  opsgenie: Object.freeze({ kind: 'pager', readable: true, name: 'Opsgenie', open: 'create alert {key}' }),
  slack: Object.freeze({ kind: 'chat', readable: false, name: 'Slack', open: 'post the incident' }),
  teams: Object.freeze({ kind: 'chat', readable: false, name: 'Microsoft Teams', open: 'post the incident card' }),
  servicenow: Object.freeze({ kind: 'ticket', readable: true, name: 'ServiceNow', open: 'create incident (correlation {key})' }),
  jira: Object.freeze({ kind: 'ticket', readable: true, name: 'Jira', open: 'create issue (label {key})' }),
});

type Ref = Pick<ConnectorRef, 'provider' | 'caps'>;

/** The snapshot's caps; else (an older snapshot) the frozen answers; else an unknown provider: a plain post. */
export function capsOfRef(ref: Ref): ProviderCaps {
  return ref.caps ?? (Object.hasOwn(BEFORE_CAPS, ref.provider) ? BEFORE_CAPS[ref.provider] : undefined) ?? { kind: 'chat', readable: false, name: ref.provider, open: 'open' };
}

/** A pager: acknowledged, resolved a second time, its create idempotent at the provider (dedup key, alias). */
export const isPager = (ref: Ref): boolean => capsOfRef(ref).kind === 'pager';
/** A ticket: a create without a provider-side key (looked up before creating), closed in passes. */
export const isTicket = (ref: Ref): boolean => capsOfRef(ref).kind === 'ticket';
/** Its objects can be read back for reconciliation (PagerDuty's Events key cannot read). */
export const isReadable = (ref: Ref): boolean => capsOfRef(ref).readable;
