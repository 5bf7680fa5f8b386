/**
 * Property-based fuzzing kit (fast-check): a fixed number of runs (FUZZ_RUNS, else by FAULTS_MODE), a seed
 * that is always printed and can be replayed (FUZZ_SEED, plus FUZZ_PATH from a failure report), and the
 * generators of random and mutated inbound payloads, headers and sizes.
 */
import fc from 'fast-check';
import { MODE } from './harness';

export const FUZZ_SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
let printed = false;

/** Parameters for fc.assert: the seed, the path when replaying, and the run count (reduced/full unless FUZZ_RUNS). */
export function fuzzParams(reducedRuns: number, fullRuns = reducedRuns * 5): fc.Parameters<unknown> {
  if (!printed) {
    printed = true;
    process.stdout.write(`[fuzz] seed ${FUZZ_SEED} (replay: FUZZ_SEED=${FUZZ_SEED}, with FUZZ_PATH=<path> from a failure report)\n`);
  }
  const numRuns = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : MODE === 'full' ? fullRuns : reducedRuns;
  return { seed: FUZZ_SEED, numRuns, ...(process.env.FUZZ_PATH ? { path: process.env.FUZZ_PATH } : {}), verbose: 1 };
}

const KEY = 'probectl-INC-fuzz.1';

/** A valid delivery of each inbound shape (what the mutations start from). */
export const VALID_PAYLOADS: Record<string, unknown[]> = {
  pagerduty: [{
    event: {
      id: '01DEV', event_type: 'incident.resolved', resource_type: 'incident', occurred_at: '2026-03-01T12:00:00Z',
      agent: { summary: 'Erin', type: 'user_reference' }, data: { id: 'PGR0VU2', type: 'incident', incident_key: KEY, status: 'resolved' },
    },
  }, { event: { id: '01DEW', event_type: 'incident.acknowledged', data: { id: 'PX', incident_key: KEY } } }],
  opsgenie: [
    { action: 'Close', alert: { alertId: 'a-1', alias: KEY, username: 'erin@acme.com' }, source: { name: 'web', type: 'web' } },
    { action: 'Acknowledge', alert: { alertId: 'a-1', alias: KEY } },
  ],
  servicenow: [{ sys_id: '0123456789abcdef0123456789abcdef', state: '6', correlation_id: KEY, number: 'INC0010001', actor: 'erin' }, { sys_id: 'x', state: 7 }],
  jira: [{
    webhookEvent: 'jira:issue_updated', user: { displayName: 'Erin' },
    issue: { id: '10001', key: 'OPS-1', fields: { labels: ['probectl', KEY], status: { name: 'Done', statusCategory: { key: 'done' } } } },
    changelog: { items: [{ field: 'status', fromString: 'To Do', toString: 'Done' }] },
  }],
  portable: [{ external_ref: KEY, status: 'resolved', actor: 'erin', delivery_id: 'd-1' }, { external_ref: 'OPS-1', status: 'acknowledged' }],
};

type Json = unknown;

/** Apply one mutation at a path chosen by `steps` (indices taken modulo the keys at each level). */
function mutateAt(value: Json, steps: number[], op: 'set' | 'delete' | 'wrap' | 'stringify', replacement: Json): Json {
  if (steps.length === 0 || value === null || typeof value !== 'object') {
    if (op === 'wrap') return [value];
    if (op === 'stringify') return JSON.stringify(value);
    return op === 'delete' ? undefined : replacement;
  }
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value as object);
  if (keys.length === 0) return op === 'set' ? replacement : value;
  const k = keys[steps[0]! % keys.length]!;
  const copy: Record<string | number, Json> = Array.isArray(value) ? [...value] as unknown as Record<number, Json> : { ...(value as Record<string, Json>) };
  const inner = mutateAt((value as Record<string | number, Json>)[k], steps.slice(1), op, replacement);
  if (inner === undefined) delete copy[k];
  else copy[k] = inner;
  return copy;
}

const mutation = fc.record({
  steps: fc.array(fc.nat(20), { maxLength: 5 }),
  op: fc.constantFrom<'set' | 'delete' | 'wrap' | 'stringify'>('set', 'delete', 'wrap', 'stringify'),
  replacement: fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom('', ' ', 'probectl-', `${KEY} `, 'x'.repeat(300), '6', 6, 7.5, -1, 1e308, null, true, [], {}, 'done', 'incident.resolved', 'Close', '\u0000', '\ud800'),
  ),
});

/** A valid payload of any shape, mutated 1–4 times. */
export const mutatedPayload: fc.Arbitrary<Json> = fc
  .tuple(fc.constantFrom(...Object.values(VALID_PAYLOADS).flat()), fc.array(mutation, { minLength: 1, maxLength: 4 }))
  .map(([base, ms]) => ms.reduce<Json>((acc, m) => mutateAt(acc, m.steps, m.op, m.replacement) ?? null, base));

/** Anything a JSON body could parse to, plus mutated valid payloads and huge/deep values. */
export const anyJsonBody: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: mutatedPayload },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map((d) => JSON.parse('['.repeat(d) + ']'.repeat(d)) as Json) },
);

/** Raw bodies: JSON text of the above, random bytes, truncated JSON, and sizes around the 1 MiB limit. */
export const rawBody: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: anyJsonBody.map((j) => Buffer.from(JSON.stringify(j) ?? 'null')) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.tuple(mutatedPayload, fc.nat()).map(([j, n]) => { const s = JSON.stringify(j) ?? ''; return Buffer.from(s.slice(0, n % (s.length + 1))); }) },
  { weight: 1, arbitrary: fc.integer({ min: 1024 * 1024 - 4, max: 1024 * 1024 + 4 }).map((n) => Buffer.alloc(n, 0x20)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 500 }).map((s) => Buffer.from(s, 'utf8')) },
);

export const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
  fc.constantFrom(undefined, 'application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/vnd.pagerduty+json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json;', ''),
  fc.string({ maxLength: 60 }),
);

/** Random credential headers that never hold a valid credential (the secret is not in any of the values). */
const hex64 = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: 64, maxLength: 64 });

export function forgedHeaders(provider: string): fc.Arbitrary<Record<string, string | string[]>> {
  const names = ['x-probectl-token', 'x-probectl-signature', 'x-probectl-timestamp', 'x-hub-signature', 'x-pagerduty-signature', 'x-webhook-id', 'authorization', 'x-atlassian-webhook-identifier'];
  const value = fc.oneof(
    fc.string({ maxLength: 100 }),
    hex64.map((h) => `sha256=${h}`),
    hex64.map((h) => `v1=${h}`),
    fc.array(hex64, { maxLength: 12 }).map((hs) => hs.map((h) => `v1=${h}`).join(',')),
    fc.base64String({ maxLength: 64 }).map((b) => `sha256=${b}`),
    fc.integer({ min: 0, max: 2 ** 40 }).map(String),
    fc.constantFrom('', ' ', 'sha256=', 'v1=', 'Bearer x'),
  );
  void provider;
  return fc.dictionary(fc.constantFrom(...names), fc.oneof({ weight: 5, arbitrary: value }, { weight: 1, arbitrary: fc.array(value, { minLength: 2, maxLength: 3 }) }), { maxKeys: 5 });
}
