/**
 * Each provider with an inbound side documents it in its own folder (`inbound.docs`, src/providers/definition.ts):
 * its payload (a zod schema with a meta id), the headers of its own that it reads, and the name of its own signature
 * header. The OpenAPI document of `POST /ingest/itsm/{provider}/{id}` is built from the registry: the body union is
 * the portable contract, then every inbound provider's payload in registry order; the headers and the signature
 * scheme's description are every provider's. Expectations come from the registry, never from a list of names: a
 * provider admitted here (a shipped definition under another name, with a payload and headers of its own) must
 * appear in the document like the shipped ones.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { InboundSide, ProviderDefinition } from '../../../src/providers/definition';
import { admitProvider, allProviders, definitionOf, isShipped } from '../../../src/providers/registry';
import type { SignatureScheme } from '../../../src/providers/signature-match';

const COMMITTED = join(__dirname, '..', '..', '..', 'docs', 'openapi.json');
const INGEST = '/ingest/itsm/{provider}/{id}';

// Admitted before the API's modules load (they build the route's description when they load: see the dynamic import below).
const base = definitionOf('pagerduty');
const probeSignature: SignatureScheme = { header: 'x-probe-signature', verify: () => ({ ok: false, reason: 'never' }) };
const probe: ProviderDefinition = {
  ...base,
  spec: { ...base.spec, name: 'docprobe', label: 'Doc Probe' },
  inbound: {
    parse: base.inbound!.parse,
    signature: probeSignature,
    deliveryHeader: 'x-probe-delivery',
    docs: {
      payload: z.looseObject({ probe_event: z.string() }).meta({ id: 'InboundDocProbe', title: 'a provider admitted by this test' }),
      headers: { [probeSignature.header]: 'the probe\'s own signature', 'x-probe-delivery': 'the probe\'s delivery id' },
      signatureName: 'Doc Probe\'s `X-Probe-Signature`',
    },
  },
};
admitProvider(probe);

type Param = { in: string; name: string; description?: string };
type Doc = {
  paths: Record<string, { post: { parameters: Param[]; requestBody: { content: Record<string, { schema: { anyOf: Array<{ $ref: string }> } }> } } }>;
  components: { schemas: Record<string, { title?: string }>; securitySchemes: Record<string, { description: string }> };
};

const inbound = (defs: ProviderDefinition[]): Array<[string, InboundSide]> => defs.flatMap((d) => (d.inbound ? [[d.spec.name, d.inbound] as [string, InboundSide]] : []));
const metaOf = (side: InboundSide) => (side.docs?.payload as z.ZodType | undefined)?.meta() as { id?: unknown; title?: unknown } | undefined;
const idOf = (side: InboundSide) => metaOf(side)!.id as string;

describe('each inbound provider documents its inbound side in its folder', () => {
  const sides = inbound(allProviders());

  test('the scan sees the shipped inbound providers and the one admitted here (it can fail)', () => {
    expect(sides.filter(([name]) => isShipped(name)).length).toBeGreaterThanOrEqual(4);
    expect(sides.map(([name]) => name)).toContain('docprobe');
  });

  test.each(sides)('%s: a payload schema with a meta id and title, unique among the inbound payloads', (_name, side) => {
    expect(side.docs).toBeDefined();
    expect(side.docs.payload).toBeInstanceOf(z.ZodType);
    const meta = metaOf(side);
    expect(meta?.id).toEqual(expect.stringMatching(/^Inbound[A-Z]\w*$/));
    expect(meta?.title).toEqual(expect.any(String));
    expect(['InboundPortable', 'InboundError']).not.toContain(meta!.id);
    expect(sides.filter(([, other]) => metaOf(other)?.id === meta!.id)).toHaveLength(1);
  });

  test.each(sides)('%s: every header of its own it reads is documented, lower-case, none of the generic X-Probectl-* ones', (_name, side) => {
    const headers = side.docs.headers;
    for (const read of [side.signature?.header, side.deliveryHeader].filter((h): h is string => h !== undefined)) expect(headers[read]).toEqual(expect.any(String));
    for (const [name, text] of Object.entries(headers)) {
      expect(name).toBe(name.toLowerCase());
      expect(name.startsWith('x-probectl-')).toBe(false);
      expect(text.trim()).not.toBe('');
    }
  });

  test.each(sides)('%s: its own signature header, if any, is named for the signature scheme\'s description', (_name, side) => {
    expect(side.docs.signatureName !== undefined).toBe(side.signature !== undefined);
    if (side.signature) expect(side.docs.signatureName!.toLowerCase()).toContain(`\`${side.signature.header}\``);
  });

  test('a definition whose inbound side is not documented is refused by name when admitted (the compiler refuses it in a folder)', () => {
    const { docs, ...undocumented } = base.inbound!;
    const named = (name: string, side: object) => ({ ...base, spec: { ...base.spec, name }, inbound: side }) as never;
    expect(() => admitProvider(named('x-nodocs', undocumented))).toThrow('provider x-nodocs: its definition has no inbound.docs');
    expect(() => admitProvider(named('x-nopayload', { ...undocumented, docs: { headers: {} } }))).toThrow('provider x-nopayload: its definition has no inbound.docs.payload');
    expect(() => admitProvider(named('x-noheaders', { ...undocumented, docs: { payload: docs.payload } }))).toThrow('provider x-noheaders: its definition has no inbound.docs.headers');
  });
});

describe('the OpenAPI document describes the inbound route from the registry', () => {
  let doc: Doc;
  beforeAll(async () => {
    // Loaded after the admission above (a static import would build the route's description before it).
    const { generateOpenApiDocument } = await import('../../../src/api/openapi-document');
    doc = (await generateOpenApiDocument()) as Doc;
  });
  const sides = () => inbound(allProviders());
  const bodyRefs = (d: Doc) => d.paths[INGEST]!.post.requestBody.content['application/json']!.schema.anyOf.map((r) => r.$ref);
  const ref = (id: string) => `#/components/schemas/${id}Input`;

  test('the body union: the portable contract, then every inbound provider\'s payload in registry order, each a component with its title', () => {
    expect(bodyRefs(doc)).toEqual([ref('InboundPortable'), ...sides().map(([, side]) => ref(idOf(side)))]);
    for (const [, side] of sides()) expect(doc.components.schemas[`${idOf(side)}Input`]?.title).toBe(metaOf(side)!.title);
    expect(bodyRefs(doc)).toContain(ref('InboundDocProbe'));
  });

  test('the path parameter lists every inbound provider; the headers are the timestamp, then each provider\'s own in registry order', () => {
    const params = doc.paths[INGEST]!.post.parameters;
    expect(params.find((p) => p.in === 'path' && p.name === 'provider')).toMatchObject({ schema: { enum: sides().map(([name]) => name) } });
    const headers = params.filter((p) => p.in === 'header');
    const own = sides().flatMap(([, side]) => Object.entries(side.docs.headers));
    expect(headers.map((h) => [h.name, h.description])).toEqual([['x-probectl-timestamp', expect.any(String)], ...own]);
  });

  test('the signature scheme\'s description names every provider\'s own signature header, in registry order', () => {
    const names = sides().flatMap(([, side]) => (side.signature ? [side.docs.signatureName!] : []));
    expect(names).toContain('Doc Probe\'s `X-Probe-Signature`');
    const text = doc.components.securitySchemes.probectlSignature!.description;
    expect(text.endsWith(`; ${names.slice(0, -1).join(', ')} and ${names.at(-1)} are accepted for those entries.`)).toBe(true);
  });

  test('the committed docs/openapi.json lists every shipped inbound provider\'s payload, in registry order', () => {
    const committed = JSON.parse(readFileSync(COMMITTED, 'utf8')) as Doc;
    const shipped = sides().filter(([name]) => isShipped(name));
    expect(bodyRefs(committed)).toEqual([ref('InboundPortable'), ...shipped.map(([, side]) => ref(idOf(side)))]);
  });
});
