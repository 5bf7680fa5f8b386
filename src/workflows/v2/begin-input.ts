/**
 * The begin snapshot a starter passed in the start input (IncidentWorkflowInput.begin; the service's API does,
 * src/activities/begin.ts). Used only when its shape is right: anything else is ignored and the run reads the
 * snapshot itself with its local activity, as a run started without one does. Pure.
 *
 * Frozen once shipped: whether a snapshot is accepted decides whether the run asks `begin-in-input-v1`, so a check
 * made stricter or looser later would replay a recorded run down the other path. A new check needs a new patch id.
 */
import type { BeginInput } from './state';

const INCIDENT_STATUSES = ['open', 'acknowledged', 'resolved'];
/** The severities as shipped with the patch (not the contract's list, which may grow: this check is frozen). */
const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const LINK_STATUSES = ['pending', 'open', 'acknowledged', 'resolved', 'failed', 'skipped', 'orphaned'];
/** More connectors than any tenant is configured with: a snapshot beyond it is not ours. */
const MAX_CONNECTORS = 256;
const MAX_LINKS = 256;

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isText = (x: unknown, max = 512): x is string => typeof x === 'string' && x.length > 0 && x.length <= max;
const optional = (x: unknown, ok: (v: unknown) => boolean) => x === undefined || ok(x);
/** Every index, holes included (`every` skips a hole; a decoded payload has none, a test's input may). */
const all = (xs: unknown[], ok: (x: unknown) => boolean): boolean => {
  for (let i = 0; i < xs.length; i += 1) if (!ok(xs[i])) return false;
  return true;
};
const isMs = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 366 * 24 * 3_600_000;

const KINDS = ['pager', 'chat', 'ticket'];

/** Every field the workflow reads from caps (ProviderCaps), so an accepted snapshot never fails a task later. */
function isCaps(x: unknown): boolean {
  return isObject(x) && KINDS.includes(x.kind as string) && typeof x.readable === 'boolean' && isText(x.name, 128) && isText(x.open, 256);
}

function isConnectorRef(x: unknown): boolean {
  return isObject(x) && isText(x.id, 128) && isText(x.provider, 64)
    && optional(x.minSeverity, (v) => SEVERITIES.includes(v as never)) && optional(x.caps, isCaps);
}

function isLink(x: unknown): boolean {
  return isObject(x) && isText(x.connectorId, 128) && isText(x.provider, 64) && LINK_STATUSES.includes(x.status as string)
    && isText(x.updatedAt, 64) && optional(x.externalRef, (v) => isText(v, 1024)) && optional(x.externalUrl, (v) => isText(v, 2048))
    && optional(x.error, (v) => typeof v === 'string');
}

function isRecord(x: unknown): boolean {
  return isObject(x) && INCIDENT_STATUSES.includes(x.status as string) && Array.isArray(x.links) && x.links.length <= MAX_LINKS
    && all(x.links, isLink) && optional(x.resolvedAt, (v) => isText(v, 64))
    && optional(x.resolutionSource, (v) => isText(v, 256)) && optional(x.resolutionActor, (v) => typeof v === 'string');
}

/** The snapshot, when `x` has its shape; undefined otherwise. */
export function beginFromInput(x: unknown): BeginInput | undefined {
  if (!isObject(x) || !isObject(x.settings) || !isObject(x.mirror) || !Array.isArray(x.connectors)) return undefined;
  const { connectors, settings, mirror } = x;
  if (connectors.length > MAX_CONNECTORS || !all(connectors, isConnectorRef)) return undefined;
  if (!isMs(settings.pagerReResolveDelayMs) || !optional(settings.reconcileIntervalMs, isMs) || !optional(settings.reissueGuardMs, isMs)) return undefined;
  if (typeof mirror.available !== 'boolean' || !optional(mirror.record, isRecord)) return undefined;
  return x as unknown as BeginInput;
}
