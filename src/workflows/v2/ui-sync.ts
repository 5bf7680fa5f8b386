/**
 * The Temporal UI's view of the incident: search attributes (one upsert when a value changed — the status at
 * once, providers and references once no open is running, so a fan-out costs one upsert, not one per link) and
 * the current-details table (metadata served by a query: no history event). Continue-as-new carries the
 * search attributes over.
 */
import { setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { IncidentStatus, Severity } from '../../shared/contract';
import { EXTERNAL_REFS, PROVIDERS, SEVERITY, STATUS, TENANT, indexedValues, signature } from '../search-attributes';
import { currentDetails } from '../ui';
import type { IncidentState } from './state';

export class UiSync {
  #indexed: string;
  #status: string;
  #details = '';

  constructor(private readonly s: IncidentState) {
    const at = workflowInfo().typedSearchAttributes;
    this.#status = at.get(STATUS) ?? '';
    this.#indexed = signature({
      tenant: at.get(TENANT) ?? '',
      status: (at.get(STATUS) ?? '') as IncidentStatus,
      severity: (at.get(SEVERITY) ?? '') as Severity,
      providers: [...(at.get(PROVIDERS) ?? [])].sort(),
      externalRefs: [...(at.get(EXTERNAL_REFS) ?? [])].sort(),
    });
  }

  sync(opensRunning: boolean): void {
    const s = this.s;
    const v = indexedValues({ tenantId: s.incident.tenantId, status: s.status, severity: s.incident.severity, links: Object.values(s.links) });
    const sig = signature(v);
    if (sig !== this.#indexed && (!opensRunning || v.status !== this.#status)) {
      upsertSearchAttributes([
        { key: TENANT, value: v.tenant },
        { key: STATUS, value: v.status },
        { key: SEVERITY, value: v.severity },
        { key: PROVIDERS, value: v.providers.length > 0 ? v.providers : null },
        { key: EXTERNAL_REFS, value: v.externalRefs.length > 0 ? v.externalRefs : null },
      ]);
      this.#indexed = sig;
      this.#status = v.status;
    }
    const d = currentDetails({
      incident: s.incident, status: s.status, connectors: s.connectors, links: s.links, correlationCount: s.correlation.count,
      ...(s.resolution ? { resolution: s.resolution } : {}), ...(s.acknowledgement ? { acknowledgement: s.acknowledgement } : {}), run: s.run,
    });
    if (d !== this.#details) {
      setCurrentDetails(d);
      this.#details = d;
    }
  }
}
