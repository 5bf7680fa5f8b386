import { WORKFLOW_ID_PREFIX, incidentIdFromKey } from '../shared/ids';

/** `probectl-<id>` when `v` is a well-formed incident key, else undefined. */
export function asIncidentKey(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return incidentIdFromKey(t) !== undefined ? t : undefined;
}

/** The first well-formed `probectl-<id>` label; the bare `probectl` label is not one. */
export function incidentKeyFromLabels(labels: unknown): string | undefined {
  if (!Array.isArray(labels)) return undefined;
  for (const l of labels) {
    if (typeof l === 'string' && l.startsWith(WORKFLOW_ID_PREFIX)) {
      const key = asIncidentKey(l);
      if (key) return key;
    }
  }
  return undefined;
}
