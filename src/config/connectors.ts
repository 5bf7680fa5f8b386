import { COMMON_OPTION_KEYS } from '../connectors/spec';
import { capsOf, type ProviderCaps } from '../providers/spec';
import { optionProblems } from '../providers/option-schemas';
import { findProvider, providerNames } from '../providers/registry';
import { SEVERITIES, type Provider, type Severity } from '../shared/contract';
import { CONNECTOR_NAME_PATTERN, TENANT_ID_PATTERN } from '../shared/ids';
import { z } from 'zod';
import { ConfigError } from './errors';
import { entryLabel, mayQuote, readList, validateEntries, withHint, type ListForm } from './list-setting';
import { Secret } from './secret';
import { urlSchemeProblem } from './url-policy';

export const CONNECTORS_SETTING = 'PROBECTL_NOTIFY_CONNECTORS';

/**
 * One connector entry, loaded: worker-side only (it holds the secrets; a workflow gets `toRef`'s ConnectorRef and
 * the activities find this again by tenant and connector id). `O`: its provider's typed options.
 */
export interface ConnectorConfig<O = unknown> {
  /** 1-based position of the entry in the setting, for error messages. */
  position: number;
  /** Which form the entry came from (error messages quote its tenant only where that is safe). */
  form: ListForm;
  tenantId: string;
  provider: Provider;
  /** The provider name when the tenant has one connector of it, else the entry's name. */
  id: string;
  name?: string;
  /** Endpoint with our option keys removed. A secret: Slack and Teams URLs are credentials. */
  url: Secret;
  credential: Secret;
  /** Our option keys as the URL gave them (what `connectors list` shows). Connectors and the pace key read the typed forms below. */
  options: Readonly<Record<string, string>>;
  minSeverity?: Severity;
  /** `rate_per_min`, typed at load; absent: the provider's default. */
  ratePerMin?: number;
  /** The provider's own options, typed once at load by its options schema (src/providers/<name>/options.ts). */
  settings: O;
}

/**
 * Connector as the workflow sees it: identity and what its provider can do, no secret. Snapshots recorded before
 * `caps` existed have none: the workflow then answers from its frozen table (src/workflows/capabilities.ts).
 */
export interface ConnectorRef {
  id: string;
  provider: Provider;
  minSeverity?: Severity;
  caps?: ProviderCaps;
}

export function toRef(c: ConnectorConfig): ConnectorRef {
  const caps = capsOf(findProvider(c.provider)!.spec);
  return c.minSeverity ? { id: c.id, provider: c.provider, minSeverity: c.minSeverity, caps } : { id: c.id, provider: c.provider, caps };
}

/** One entry's fields, from `tenant|provider|url|credential[|name]` or the JSON form's object. */
const entrySchema = z.strictObject({
  tenant: z.string().trim().regex(TENANT_ID_PATTERN, `the tenant must match ${TENANT_ID_PATTERN.source}`),
  provider: z.string().trim(),
  url: z.string().trim(),
  credential: z.string().trim(),
  name: z.string().trim().regex(CONNECTOR_NAME_PATTERN, `the name must match ${CONNECTOR_NAME_PATTERN.source}`).optional(),
});

function fields(text: string): Record<string, string> | string {
  const f = text.split('|');
  if (f.length !== 4 && f.length !== 5) return `expected tenant|provider|url|credential[|name] (4 or 5 fields separated by |), found ${f.length}`;
  const [tenant, provider, url, credential, name] = f as [string, string, string, string, string | undefined];
  return { tenant, provider, url, credential, ...(name !== undefined ? { name } : {}) };
}

/**
 * Parse `tenant|provider|url|credential[|name]` entries separated by commas or newlines, or the JSON form (an
 * array of `{"tenant","provider","url","credential","name"?}`, which no separator can break: use it when a
 * credential contains `,` or `|`). Unset or blank means no connector at all. Every problem names the entry's
 * position (and, where it cannot be the tail of another entry's credential, its tenant and provider), never
 * its URL or credential.
 */
export function parseConnectors(raw: string | undefined): ConnectorConfig[] {
  const problems: string[] = [];
  const parsed: Array<Omit<ConnectorConfig, 'id'>> = [];
  const { form, entries } = readList(raw, fields, problems);
  const valid = validateEntries(entries, entrySchema, (v) => [['tenant', typeof v.tenant === 'string' ? v.tenant : undefined]], problems);

  for (const entry of valid) {
    const { position } = entry;
    const { tenant: tenantRaw, provider: providerRaw, url: urlRaw, credential: credentialRaw, name: nameRaw } = entry.value;
    const provider = providerRaw.toLowerCase() as Provider;
    const def = findProvider(provider);
    if (!def) {
      const shown = mayQuote(entry) ? ` ${/^[A-Za-z]{1,20}$/.test(providerRaw) ? JSON.stringify(providerRaw) : '(not shown: it does not look like a provider name)'}` : '';
      problems.push(`${entryLabel(entry, [['tenant', tenantRaw]])}: unknown provider${shown}; expected one of ${providerNames().join(', ')}`);
      continue;
    }
    const here = entryLabel(entry, [['tenant', tenantRaw], ['provider', provider]]);
    // In the separated form a password containing "|" is split, its tail read as the name — which becomes the
    // connector id, published in history, the mirror and every answer. ServiceNow and Jira credentials are free-form
    // passwords or tokens: a named one must be written in the JSON form, which no character can split.
    if (entry.form === 'separated' && nameRaw !== undefined && def.spec.freeFormCredential) {
      problems.push(`${here}: a named ${provider} connector must be written in the JSON form (its credential may contain "|", which this form would split off as the name)`);
      continue;
    }
    let url: URL;
    try {
      url = new URL(urlRaw);
    } catch {
      problems.push(`${here}: the URL is not a valid absolute URL`);
      continue;
    }
    const schemeProblem = urlSchemeProblem(url);
    if (schemeProblem) {
      problems.push(`${here}: ${schemeProblem}`);
      continue;
    }
    if (url.username || url.password) {
      problems.push(`${here}: put credentials in the credential field, not in the URL`);
      continue;
    }
    const spec = def.config;
    const optionKeys = new Set<string>([...COMMON_OPTION_KEYS, ...spec.optionKeys]);
    const options: Record<string, string> = {};
    for (const key of [...url.searchParams.keys()]) {
      if (!optionKeys.has(key)) continue;
      const values = url.searchParams.getAll(key);
      if (values.length > 1) problems.push(`${here}: option ${key} is given ${values.length} times`);
      options[key] = values[values.length - 1] ?? '';
      url.searchParams.delete(key);
    }
    let minSeverity: Severity | undefined;
    if (options.min_severity !== undefined) {
      const sev = options.min_severity.toLowerCase() as Severity;
      if (!SEVERITIES.includes(sev)) {
        problems.push(`${here}: min_severity must be one of ${SEVERITIES.join(', ')}`);
        continue;
      }
      minSeverity = sev;
    }
    const specProblems = spec.check({ url, credential: credentialRaw, options });
    // The options schema: the raw strings become the typed options here, once; a refusal names its key.
    const typed = spec.schema.safeParse(options);
    if (!typed.success) specProblems.push(...optionProblems(typed.error));
    if (specProblems.length > 0 || !typed.success) {
      problems.push(...specProblems.map((p) => `${here}: ${p}`));
      continue;
    }
    parsed.push({
      position,
      form: entry.form,
      tenantId: tenantRaw,
      provider,
      ...(nameRaw !== undefined ? { name: nameRaw } : {}),
      url: new Secret(url.toString()),
      credential: new Secret(credentialRaw),
      options: Object.freeze(options),
      ...(minSeverity ? { minSeverity } : {}),
      ...(typed.data.ratePerMin !== undefined ? { ratePerMin: typed.data.ratePerMin } : {}),
      settings: deepFrozen(typed.data.settings),
    });
  }

  // Connector ids: the provider name when the tenant has one connector of it (stable across URL and
  // credential rotation); otherwise every such entry needs a distinct name.
  const result: ConnectorConfig[] = [];
  const groups = new Map<string, Array<Omit<ConnectorConfig, 'id'>>>();
  for (const c of parsed) {
    const key = `${c.tenantId}\u0000${c.provider}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const seenIds = new Map<string, number>();
  for (const c of parsed) {
    const group = groups.get(`${c.tenantId}\u0000${c.provider}`) ?? [];
    const here = entryLabel(c, [['tenant', c.tenantId], ['provider', c.provider]]);
    const idText = (id: string) => (mayQuote(c) ? `connector id ${JSON.stringify(id)}` : 'its connector id');
    let id: string;
    if (group.length === 1) {
      id = c.name ?? c.provider;
    } else if (!c.name) {
      problems.push(`${here}: the tenant has ${group.length} ${c.provider} connectors, so each needs a name (5th field)`);
      continue;
    } else {
      id = c.name;
    }
    const idKey = `${c.tenantId}\u0000${id}`;
    const clash = seenIds.get(idKey);
    if (clash !== undefined) {
      problems.push(`${here}: ${idText(id)} is already used by entry #${clash}`);
      continue;
    }
    if (id === 'api' || id === 'probectl') {
      problems.push(`${here}: ${idText(id)} is reserved as a signal source (api, probectl)`);
      continue;
    }
    seenIds.set(idKey, c.position);
    result.push({ ...c, id });
  }

  if (problems.length > 0) throw new ConfigError(CONNECTORS_SETTING, withHint(problems, form));
  return result;
}

/** Connectors by tenant, in configuration order. */
export class ConnectorDirectory {
  readonly #byTenant = new Map<string, ConnectorConfig[]>();

  constructor(readonly all: readonly ConnectorConfig[]) {
    for (const c of all) this.#byTenant.set(c.tenantId, [...(this.#byTenant.get(c.tenantId) ?? []), c]);
  }

  forTenant(tenantId: string): readonly ConnectorConfig[] {
    return this.#byTenant.get(tenantId) ?? [];
  }

  find(tenantId: string, connectorId: string): ConnectorConfig | undefined {
    return this.forTenant(tenantId).find((c) => c.id === connectorId);
  }

  get isEmpty(): boolean {
    return this.all.length === 0;
  }
}

/**
 * Typed settings are read by every call of a connector, and a provider's default maps are shared by every entry that
 * leaves them out: frozen all the way down, so no call can change what another tenant's calls read.
 */
function deepFrozen<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFrozen(v);
    Object.freeze(value);
  }
  return value;
}
