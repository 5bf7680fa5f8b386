/**
 * The search attributes of incidentWorkflow (docs/workflow-contract.md). The client sets them at start, the
 * workflow keeps them current with batched upserts, continue-as-new carries them over. They are never
 * encoded by a payload codec, so they hold identities and external references only, never a secret.
 * scripts/search-attributes.txt lists the same names for the dev server; a unit test keeps both in step.
 */
import { defineSearchAttributeKey, type SearchAttributeType } from '@temporalio/common';
import type { IncidentStatus, Severity } from '../shared/contract';

export const TENANT = defineSearchAttributeKey('ProbectlTenant', 'KEYWORD');
export const STATUS = defineSearchAttributeKey('ProbectlStatus', 'KEYWORD');
export const SEVERITY = defineSearchAttributeKey('ProbectlSeverity', 'KEYWORD');
export const PROVIDERS = defineSearchAttributeKey('ProbectlProviders', 'KEYWORD_LIST');
export const EXTERNAL_REFS = defineSearchAttributeKey('ProbectlExternalRefs', 'KEYWORD_LIST');

/** Name → type, in the spelling of `temporal operator search-attribute create --type`. */
export const SEARCH_ATTRIBUTES: ReadonlyArray<{ name: string; type: SearchAttributeType }> = [TENANT, STATUS, SEVERITY, PROVIDERS, EXTERNAL_REFS]
  .map((k) => ({ name: k.name, type: k.type }));

/** At most this many external references are indexed (the newest links win); each at most 200 characters. */
export const MAX_INDEXED_REFS = 32;
const MAX_REF_LENGTH = 200;

export interface IndexedValues {
  tenant: string;
  status: IncidentStatus;
  severity: Severity;
  providers: string[];
  externalRefs: string[];
}

export function indexedValues(v: {
  tenantId: string;
  status: IncidentStatus;
  severity: Severity;
  links: ReadonlyArray<{ provider: string; status: string; externalRef?: string }>;
}): IndexedValues {
  const providers = [...new Set(v.links.filter((l) => l.status !== 'skipped').map((l) => l.provider))].sort();
  const refs = [...new Set(v.links.map((l) => l.externalRef).filter((r): r is string => !!r && r.length <= MAX_REF_LENGTH))];
  return { tenant: v.tenantId, status: v.status, severity: v.severity, providers, externalRefs: refs.slice(-MAX_INDEXED_REFS).sort() };
}

/** A stable signature: the workflow upserts only when it changed. */
export function signature(v: IndexedValues): string {
  return JSON.stringify([v.tenant, v.status, v.severity, v.providers, v.externalRefs]);
}
