/**
 * What the typed options promise beyond each key's parsing: a provider's schema reads exactly the option keys its
 * folder declares (a key declared and not read would be taken out of the URL and ignored; one read and not declared
 * would never get a value); typed settings are frozen all the way down, so one connector's call cannot change what
 * another tenant's calls read (entries without a map share the provider's defaults); and a definition without an
 * options schema is refused by name when it is admitted, not met later as a TypeError at config load.
 */
import type { z } from 'zod';
import type { CallContext, Connector } from '../../../src/providers/types';
import type { ConnectorConfig } from '../../../src/config/connectors';
import type { listChanges as jiraLister } from '../../../src/providers/jira/connector';
import type { listChanges as opsgenieLister } from '../../../src/providers/opsgenie/connector';
import type { listChanges as servicenowLister } from '../../../src/providers/servicenow/connector';
import type { jiraCreateMeta } from '../../../src/providers/jira/check';
import type { NoOptions } from '../../../src/providers/option-schemas';
import type { jira as jiraConnector } from '../../../src/providers/jira/connector';
import type { opsgenie as opsgenieConnector } from '../../../src/providers/opsgenie/connector';
import type { pagerduty as pagerdutyConnector } from '../../../src/providers/pagerduty/connector';
import type { servicenow as servicenowConnector } from '../../../src/providers/servicenow/connector';
import type { slack as slackConnector } from '../../../src/providers/slack/connector';
import type { teams as teamsConnector } from '../../../src/providers/teams/connector';
import { parseConnectors } from '../../../src/config/connectors';
import { noOptions } from '../../../src/providers/option-schemas';
import { SHIPPED_PROVIDERS, admitProvider, definitionOf } from '../../../src/providers/registry';
import { schema as jira } from '../../../src/providers/jira/options';
import { schema as opsgenie } from '../../../src/providers/opsgenie/options';
import { schema as servicenow } from '../../../src/providers/servicenow/options';
import { schema as slack } from '../../../src/providers/slack/options';

/** Every shipped provider's own options schema (without the shared pacing key). */
const OWN: Record<string, z.ZodType<unknown>> = { jira, opsgenie, servicenow, slack, pagerduty: noOptions, teams: noOptions };

/** The keys of the object a schema reads (an object, or an object piped into a transform). */
function keysRead(schema: z.ZodType<unknown>): string[] {
  const s = schema as unknown as { shape?: object; in?: { shape?: object } };
  const shape = s.shape ?? s.in?.shape;
  if (!shape) throw new Error('not an object schema');
  return Object.keys(shape).sort();
}

test('the table names every shipped provider', () => {
  expect(Object.keys(OWN).sort()).toEqual([...SHIPPED_PROVIDERS].sort());
});

test.each([...SHIPPED_PROVIDERS])('%s: its schema reads exactly the option keys it declares', (provider) => {
  const declared = definitionOf(provider).config.optionKeys.filter((k) => k !== 'rate_per_min').sort();
  expect(keysRead(OWN[provider]!)).toEqual(declared);
});

const ENTRIES = [
  'acme|opsgenie|https://api.opsgenie.com/v2/alerts|GenieKey-a',
  'beta|opsgenie|https://api.opsgenie.com/v2/alerts?responders=team:NOC&tags=edge|GenieKey-b',
  'acme|jira|https://acme.atlassian.net/rest/api/2/issue?project=OPS&components=net&fields=%7B%22customfield_1%22%3A%7B%22id%22%3A%2210%22%7D%7D|a@b.c:tok',
  'beta|jira|https://beta.atlassian.net/rest/api/2/issue?project=NOC|a@b.c:tok',
  'acme|servicenow|https://acme.service-now.com|admin:pw',
  'beta|servicenow|https://beta.service-now.com?urgency_map=critical:1|admin:pw',
  'acme|slack|https://slack.com/api/chat.postMessage?channel=C0NOC|xoxb-1-token',
].join(',');

/** Every object and array reachable from a value, with its path. */
function objectsIn(value: unknown, path = 'settings'): Array<[string, object]> {
  if (value === null || typeof value !== 'object') return [];
  return [[path, value], ...Object.entries(value).flatMap(([k, v]) => objectsIn(v, `${path}.${k}`))];
}

test('every connector\'s typed settings are frozen all the way down, defaults shared between tenants included', () => {
  const connectors = parseConnectors(ENTRIES);
  expect(connectors).toHaveLength(7);
  for (const c of connectors) {
    const objects = objectsIn(c.settings);
    expect(objects.length).toBeGreaterThan(0);
    for (const [path, o] of objects) expect({ provider: c.provider, path, frozen: Object.isFrozen(o) }).toEqual({ provider: c.provider, path, frozen: true });
  }
  const [a, b] = connectors.filter((c) => c.provider === 'opsgenie') as Array<{ settings: { priorities: Record<string, string> } }>;
  expect(() => { a!.settings.priorities.critical = 'P5'; }).toThrow(TypeError);
  expect(b!.settings.priorities.critical).toBe('P1');
});

test('a definition without an options schema is refused by name when admitted', () => {
  // A shipped definition under another name, each time missing one part (no test-only provider: deleting the worked
  // example's folder must leave this test as it is).
  const base = definitionOf('pagerduty');
  const named = (name: string) => ({ ...base, spec: { ...base.spec, name } });
  expect(() => admitProvider({ ...named('x-noschema'), config: { optionKeys: [], check: () => [] } } as never)).toThrow('provider x-noschema: its definition has no config.schema');
  expect(() => admitProvider({ ...named('x-noconnector'), connector: undefined } as never)).toThrow('provider x-noconnector: its definition has no connector');
  expect(() => admitProvider({ ...named('x-nokeys'), config: { schema: base.config.schema, check: () => [] } } as never)).toThrow('provider x-nokeys: its definition has no config.optionKeys');
  expect(() => admitProvider({ ...named('x-nocheck'), config: { schema: base.config.schema, optionKeys: [] } } as never)).toThrow('provider x-nocheck: its definition has no config.check');
  expect(() => admitProvider({ connector: base.connector } as never)).toThrow('admitProvider: the definition has no spec.name');
  // A shipped name is never taken over.
  expect(() => admitProvider(base)).toThrow('provider pagerduty is already registered');
});

// Compile-time: each connector reads the options its provider's schema makes — exactly that type, or `unknown` for a
// connector that reads none. The definition's annotation alone cannot hold this: a connector's members are methods,
// whose parameters the compiler compares both ways, so a connector declared for wider options than its schema makes
// would still fit `ProviderDefinition<'x', XOptions>`. ts-jest type-checks this file: a mismatch fails the suite.
type OptionsOf<C> = C extends Connector<infer X> ? X : never;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type IsAny<T> = 0 extends 1 & T ? true : false;
type Reads<C, O> = IsAny<OptionsOf<C>> extends true ? false : unknown extends OptionsOf<C> ? true : Same<OptionsOf<C>, O>;
function reads<C, O>(..._mismatch: Reads<C, O> extends true ? [] : [never]): true {
  return true;
}
/** The same for a definition's other calls (listers, live checks): functions, so their options are inferred from their first CallContext or ConnectorConfig. */
type FnOptions<F> = F extends (ctx: CallContext<infer X>, ...rest: never[]) => unknown ? X : F extends (http: never, c: ConnectorConfig<infer X>) => unknown ? X : never;
function fnReads<F, O>(..._mismatch: Reads<Connector<FnOptions<F>>, O> extends true ? [] : [never]): true {
  return true;
}

test('each connector is declared for exactly the options its schema makes (checked by the compiler)', () => {
  const checked = [
    reads<typeof jiraConnector, z.output<typeof jira>>(),
    reads<typeof opsgenieConnector, z.output<typeof opsgenie>>(),
    reads<typeof servicenowConnector, z.output<typeof servicenow>>(),
    reads<typeof slackConnector, z.output<typeof slack>>(),
    reads<typeof pagerdutyConnector, NoOptions>(),
    reads<typeof teamsConnector, NoOptions>(),
    fnReads<typeof jiraLister, z.output<typeof jira>>(),
    fnReads<typeof opsgenieLister, z.output<typeof opsgenie>>(),
    fnReads<typeof servicenowLister, z.output<typeof servicenow>>(),
    fnReads<typeof jiraCreateMeta, z.output<typeof jira>>(),
  ];
  // The check can fail: a connector declared for wider options than the schema makes is refused.
  // @ts-expect-error a connector reading an option the schema never makes
  reads<Connector<z.output<typeof jira> & { extra: string }>, z.output<typeof jira>>();
  // @ts-expect-error a connector declared for `any` options: nothing it reads is checked
  reads<Connector<any>, z.output<typeof jira>>();
  // @ts-expect-error a lister declared for wider options than the schema makes
  fnReads<(ctx: CallContext<z.output<typeof jira> & { extra: string }>) => Promise<void>, z.output<typeof jira>>();
  expect(checked).toHaveLength(SHIPPED_PROVIDERS.length + 4);
});
