/**
 * The providers this build ships: one line each. Everything that varies by provider (configuration checks,
 * connectors, pacing defaults, UI words, inbound parsers and signatures, metrics labels, the CLI's checks) reads
 * from these definitions; the workflow reads what it needs from the connector snapshot (`ConnectorRef.caps`).
 * Adding a provider: a folder src/providers/<name>/ and a line here (docs/architecture.md, "Adding a provider").
 */
import type { InboundDocs, ProviderDefinition } from './definition';
import { jira } from './jira';
import { opsgenie } from './opsgenie';
import { pagerduty } from './pagerduty';
import { servicenow } from './servicenow';
import { slack } from './slack';
import { teams } from './teams';
import { setUrlIsCredential, type Connector } from './types';

const SHIPPED = [
  pagerduty,
  opsgenie,
  slack,
  teams,
  servicenow,
  jira,
] as const;

/** The shipped provider names, in registry order: the `Provider` type of the workflow contract. */
export type ShippedProvider = (typeof SHIPPED)[number]['spec']['name'];

/** The shipped providers that take status webhooks (pagers and ticketing; chat posts have no inbound). */
export type ShippedInboundProvider = Extract<(typeof SHIPPED)[number], { inbound: object }>['spec']['name'];

/**
 * What the configuration, the worker and the API's description of the inbound route read without asking: a definition
 * lacking one is refused by name, not met as a TypeError.
 */
function missingParts(d: ProviderDefinition): string[] {
  const c = d.config as Partial<ProviderDefinition['config']> | undefined;
  const docs = d.inbound?.docs as Partial<InboundDocs> | undefined;
  return [
    !d.connector && 'connector',
    !c && 'config',
    c && !Array.isArray(c.optionKeys) && 'config.optionKeys',
    c && typeof c.check !== 'function' && 'config.check',
    c && !c.schema && 'config.schema',
    d.inbound && !docs && 'inbound.docs',
    docs && !docs.payload && 'inbound.docs.payload',
    docs && (typeof docs.headers !== 'object' || docs.headers === null) && 'inbound.docs.headers',
  ].filter((x): x is string => typeof x === 'string');
}

/** The shipped provider names, in registry order (`PROVIDERS` of the workflow contract). */
export const SHIPPED_PROVIDERS: readonly ShippedProvider[] = SHIPPED.map((d) => d.spec.name);

// An import cycle through a provider's connector would leave its definition half-built (undefined, or without
// its connector): refuse to start rather than run with a provider that silently does nothing.
for (const [i, d] of SHIPPED.entries()) {
  if (!d?.spec || !d.connector) throw new Error(`provider registry entry #${i + 1} is not loaded (an import cycle through src/providers/registry.ts)`);
  const missing = missingParts(d);
  if (missing.length > 0) throw new Error(`provider ${d.spec.name}: its definition has no ${missing.join(', ')}`);
}

const definitions = new Map<string, ProviderDefinition>(SHIPPED.map((d) => [d.spec.name, d]));
setUrlIsCredential((provider) => definitions.get(provider)?.spec.kind !== 'pager' && definitions.get(provider)?.spec.kind !== 'ticket');

/**
 * Admit a provider this build does not ship. Tests only (the worked example of docs/architecture.md): the service never calls
 * it. Call it before the configuration is loaded; a name already known is refused.
 */
export function admitProvider(def: ProviderDefinition): void {
  if (process.env.NODE_ENV === 'production') throw new Error('admitProvider is for tests: refused with NODE_ENV=production');
  if (typeof def?.spec?.name !== 'string') throw new Error('admitProvider: the definition has no spec.name');
  if (definitions.has(def.spec.name)) throw new Error(`provider ${def.spec.name} is already registered`);
  const missing = missingParts(def);
  if (missing.length > 0) throw new Error(`provider ${def.spec.name}: its definition has no ${missing.join(', ')}`);
  definitions.set(def.spec.name, def);
}

/** Every known provider, shipped ones first. */
export function allProviders(): ProviderDefinition[] {
  return [...definitions.values()];
}

/** Every known provider name, shipped ones first. */
export function providerNames(): string[] {
  return [...definitions.keys()];
}

/** The shipped providers that take status webhooks, in registry order. */
export const SHIPPED_INBOUND_PROVIDERS = SHIPPED.filter((d) => 'inbound' in d).map((d) => d.spec.name) as readonly ShippedInboundProvider[];

/** Does this provider take status webhooks (a registered test provider included)? */
export function hasInbound(name: string): boolean {
  return definitions.get(name)?.inbound !== undefined;
}

export function isShipped(name: string): boolean {
  return (SHIPPED_PROVIDERS as readonly string[]).includes(name);
}

export function isProvider(name: unknown): boolean {
  return typeof name === 'string' && definitions.has(name);
}

export function findProvider(name: string): ProviderDefinition | undefined {
  return definitions.get(name);
}

/** The definition of a provider already validated by the configuration. */
export function definitionOf(name: string): ProviderDefinition {
  const def = definitions.get(name);
  if (!def) throw new Error(`unknown provider ${JSON.stringify(name.slice(0, 40))}`);
  return def;
}

/** The implemented connector of a provider, if any. */
export function connectorFor(provider: string): Connector | undefined {
  return definitions.get(provider)?.connector;
}
