/**
 * The search attributes incidentWorkflow needs (src/workflows/search-attributes.ts), for real clusters:
 * `registerSearchAttributes` adds the missing ones through the operator service (the `setup-temporal`
 * command calls it), and `checkSearchAttributes` runs at worker start and fails with the command to run.
 * The dev server gets them from scripts/search-attributes.txt instead (--search-attribute flags).
 * Temporal Cloud does not offer the operator service's add call to API keys without admin rights; create
 * them there with `tcld namespace search-attributes add` or the Cloud UI.
 */
import type { SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

/** temporal.api.enums.v1.IndexedValueType, by SDK type name. */
const INDEXED_VALUE_TYPE: Record<SearchAttributeType, number> = {
  TEXT: 1, KEYWORD: 2, INT: 3, DOUBLE: 4, BOOL: 5, DATETIME: 6, KEYWORD_LIST: 7,
};
const TYPE_NAMES: Record<number, string> = {
  1: 'Text', 2: 'Keyword', 3: 'Int', 4: 'Double', 5: 'Bool', 6: 'Datetime', 7: 'KeywordList',
};

/** The part of a client Connection or a worker NativeConnection these functions use. */
export interface OperatorConnection {
  operatorService: {
    listSearchAttributes(req: { namespace: string }): Promise<{ customAttributes?: Record<string, unknown> | null }>;
    addSearchAttributes(req: { namespace: string; searchAttributes: Record<string, number> }): Promise<unknown>;
  };
}

export const SETUP_COMMAND = 'probectl-notify setup-temporal';

export class SearchAttributesMissingError extends Error {
  constructor(readonly namespace: string, readonly missing: string[], readonly wrongType: string[]) {
    const lines = [
      ...(missing.length ? [`missing: ${missing.join(', ')}`] : []),
      ...(wrongType.length ? [`registered with another type: ${wrongType.join(', ')}`] : []),
    ];
    super(
      `Temporal namespace ${JSON.stringify(namespace)} lacks the search attributes incidentWorkflow needs (${lines.join('; ')}). ` +
        `Run \`${SETUP_COMMAND}\` once against this cluster, or create them with ` +
        SEARCH_ATTRIBUTES.map((a) => `\`temporal operator search-attribute create --namespace ${namespace} --name ${a.name} --type ${TYPE_NAMES[INDEXED_VALUE_TYPE[a.type]]}\``).join(', ') +
        '.',
    );
    this.name = 'SearchAttributesMissingError';
  }
}

export interface SearchAttributeStatus {
  present: string[];
  missing: string[];
  wrongType: string[];
}

export async function searchAttributeStatus(connection: OperatorConnection, namespace: string): Promise<SearchAttributeStatus> {
  const res = await connection.operatorService.listSearchAttributes({ namespace });
  const existing = res.customAttributes ?? {};
  const out: SearchAttributeStatus = { present: [], missing: [], wrongType: [] };
  for (const a of SEARCH_ATTRIBUTES) {
    const have = existing[a.name];
    if (have === undefined || have === null) out.missing.push(a.name);
    else if (Number(have) !== INDEXED_VALUE_TYPE[a.type]) out.wrongType.push(`${a.name} (is ${TYPE_NAMES[Number(have)] ?? String(have)}, needs ${TYPE_NAMES[INDEXED_VALUE_TYPE[a.type]]})`);
    else out.present.push(a.name);
  }
  return out;
}

/** Throws SearchAttributesMissingError, naming the command to run, when an attribute is missing or mistyped. */
export async function checkSearchAttributes(connection: OperatorConnection, namespace: string): Promise<void> {
  const s = await searchAttributeStatus(connection, namespace);
  if (s.missing.length > 0 || s.wrongType.length > 0) throw new SearchAttributesMissingError(namespace, s.missing, s.wrongType);
}

/**
 * Register the missing search attributes in `namespace` (idempotent: present ones are left alone). An
 * attribute registered with another type cannot be fixed here and is an error.
 */
export async function registerSearchAttributes(connection: OperatorConnection, namespace: string): Promise<{ added: string[]; present: string[] }> {
  const s = await searchAttributeStatus(connection, namespace);
  if (s.wrongType.length > 0) throw new SearchAttributesMissingError(namespace, [], s.wrongType);
  if (s.missing.length > 0) {
    const searchAttributes = Object.fromEntries(
      SEARCH_ATTRIBUTES.filter((a) => s.missing.includes(a.name)).map((a) => [a.name, INDEXED_VALUE_TYPE[a.type]]),
    );
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  }
  return { added: s.missing, present: s.present };
}
