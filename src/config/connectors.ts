import { PROVIDER_SPECS } from '../connectors/specs';
import { COMMON_OPTION_KEYS } from '../connectors/spec';
import { PROVIDERS, SEVERITIES, type Provider, type Severity } from '../shared/contract';
import { CONNECTOR_NAME_PATTERN, TENANT_ID_PATTERN } from '../shared/ids';
import { ConfigError } from './errors';
import { Secret } from './secret';
import { urlSchemeProblem } from './url-policy';

export const CONNECTORS_SETTING = 'PROBECTL_NOTIFY_CONNECTORS';

export interface ConnectorConfig {
  /** 1-based position of the entry in the setting, for error messages. */
  position: number;
  tenantId: string;
  provider: Provider;
  /** The provider name when the tenant has one connector of it, else the entry's name. */
  id: string;
  name?: string;
  /** Endpoint with our option keys removed. A secret: Slack and Teams URLs are credentials. */
  url: Secret;
  credential: Secret;
  options: Readonly<Record<string, string>>;
  minSeverity?: Severity;
}

/** Connector as the workflow sees it: identity only, no secret. */
export interface ConnectorRef {
  id: string;
  provider: Provider;
  minSeverity?: Severity;
}

export function toRef(c: ConnectorConfig): ConnectorRef {
  return c.minSeverity ? { id: c.id, provider: c.provider, minSeverity: c.minSeverity } : { id: c.id, provider: c.provider };
}

/** Split a list setting on commas and newlines, dropping blank entries. */
export function splitEntries(raw: string): string[] {
  return raw
    .split(/[,\n]/)
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
}

/**
 * The entries' fields: `tenant|provider|url|credential[|name]` separated by commas or newlines, or — from a
 * *_FILE, where a credential may contain `,` or `|` — a JSON array of
 * `{"tenant","provider","url","credential","name"?}` objects.
 */
function entryFields(raw: string, problems: string[]): string[][] {
  const text = raw.trim();
  if (!text.startsWith('[')) return splitEntries(raw).map((e) => e.split('|'));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    problems.push('the JSON form is not valid JSON');
    return [];
  }
  if (!Array.isArray(parsed)) {
    problems.push('the JSON form must be an array of objects');
    return [];
  }
  return parsed.map((o: unknown, i) => {
    const e = (typeof o === 'object' && o !== null ? o : {}) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' ? v : '');
    if (typeof e.tenant !== 'string' || typeof e.provider !== 'string' || typeof e.url !== 'string' || typeof e.credential !== 'string') {
      problems.push(`entry #${i + 1}: needs string fields tenant, provider, url and credential`);
      return [];
    }
    return [str(e.tenant), str(e.provider), str(e.url), str(e.credential), ...(typeof e.name === 'string' ? [e.name] : [])];
  });
}

/**
 * Parse `tenant|provider|url|credential[|name]` entries. Unset or blank means no connector at all. Every
 * problem names the entry's position, tenant and provider, never its URL or credential.
 */
export function parseConnectors(raw: string | undefined): ConnectorConfig[] {
  if (raw === undefined || raw.trim() === '') return [];
  const problems: string[] = [];
  const parsed: Array<Omit<ConnectorConfig, 'id'>> = [];

  entryFields(raw, problems).forEach((fields, index) => {
    const position = index + 1;
    if (fields.length === 0) return; // already reported
    const where = (tenant?: string, provider?: string) =>
      `entry #${position}` + (tenant ? ` (tenant ${JSON.stringify(tenant)}${provider ? `, ${provider}` : ''})` : '');
    if (fields.length !== 4 && fields.length !== 5) {
      problems.push(`${where()}: expected tenant|provider|url|credential[|name] (4 or 5 fields separated by |), found ${fields.length}`);
      return;
    }
    const [tenantRaw, providerRaw, urlRaw, credentialRaw, nameRaw] = fields.map((f) => f.trim()) as [
      string, string, string, string, string | undefined,
    ];
    if (!TENANT_ID_PATTERN.test(tenantRaw)) {
      problems.push(`${where()}: the tenant must match ${TENANT_ID_PATTERN.source}`);
      return;
    }
    const provider = providerRaw.toLowerCase() as Provider;
    if (!PROVIDERS.includes(provider)) {
      problems.push(`${where(tenantRaw)}: unknown provider ${(/^[A-Za-z]{1,20}$/.test(providerRaw) ? JSON.stringify(providerRaw) : '(not shown: it does not look like a provider name)')}; expected one of ${PROVIDERS.join(', ')}`);
      return;
    }
    const here = where(tenantRaw, provider);
    if (nameRaw !== undefined && !CONNECTOR_NAME_PATTERN.test(nameRaw)) {
      problems.push(`${here}: the name must match ${CONNECTOR_NAME_PATTERN.source}`);
      return;
    }
    let url: URL;
    try {
      url = new URL(urlRaw);
    } catch {
      problems.push(`${here}: the URL is not a valid absolute URL`);
      return;
    }
    const schemeProblem = urlSchemeProblem(url);
    if (schemeProblem) {
      problems.push(`${here}: ${schemeProblem}`);
      return;
    }
    if (url.username || url.password) {
      problems.push(`${here}: put credentials in the credential field, not in the URL`);
      return;
    }
    const spec = PROVIDER_SPECS[provider];
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
        return;
      }
      minSeverity = sev;
    }
    const specProblems = spec.check({ url, credential: credentialRaw, options });
    if (specProblems.length > 0) {
      problems.push(...specProblems.map((p) => `${here}: ${p}`));
      return;
    }
    parsed.push({
      position,
      tenantId: tenantRaw,
      provider,
      ...(nameRaw !== undefined ? { name: nameRaw } : {}),
      url: new Secret(url.toString()),
      credential: new Secret(credentialRaw),
      options: Object.freeze(options),
      ...(minSeverity ? { minSeverity } : {}),
    });
  });

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
    let id: string;
    if (group.length === 1) {
      id = c.name ?? c.provider;
    } else if (!c.name) {
      problems.push(
        `entry #${c.position} (tenant ${JSON.stringify(c.tenantId)}, ${c.provider}): tenant has ${group.length} ${c.provider} connectors, so each needs a name (5th field)`,
      );
      continue;
    } else {
      id = c.name;
    }
    const idKey = `${c.tenantId}\u0000${id}`;
    const clash = seenIds.get(idKey);
    if (clash !== undefined) {
      problems.push(`entry #${c.position} (tenant ${JSON.stringify(c.tenantId)}, ${c.provider}): connector id ${JSON.stringify(id)} is already used by entry #${clash}`);
      continue;
    }
    if (id === 'api' || id === 'probectl') {
      problems.push(`entry #${c.position} (tenant ${JSON.stringify(c.tenantId)}, ${c.provider}): ${JSON.stringify(id)} is reserved as a signal source`);
      continue;
    }
    seenIds.set(idKey, c.position);
    result.push({ ...c, id });
  }

  if (problems.length > 0) throw new ConfigError(CONNECTORS_SETTING, problems);
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
