/**
 * Property-based fuzzing of every inbound parser and of the credential checks: random and mutated payloads,
 * headers and sizes. Never a throw; only the typed result; a forged credential never verifies.
 * Seed: printed at start; replay with FUZZ_SEED (and FUZZ_PATH); runs: FUZZ_RUNS or by FAULTS_MODE.
 */
import fc from 'fast-check';
import { INBOUND_PROVIDERS } from '../../src/config/inbound';
import { parseDelivery } from '../../src/api/inbound/parsers';
import { parseJira } from '../../src/providers/jira/inbound';
import { parseOpsgenie } from '../../src/providers/opsgenie/inbound';
import { parsePagerDuty } from '../../src/providers/pagerduty/inbound';
import { parsePortable } from '../../src/api/inbound/parsers/portable';
import { parseServiceNow } from '../../src/providers/servicenow/inbound';
import type { ParseResult } from '../../src/api/inbound/parsers';
import { hasCredential, tokenMatches, verifySignature } from '../../src/api/inbound/verify';
import { anyJsonBody, forgedHeaders, fuzzParams, rawBody, VALID_PAYLOADS } from '../faults/fuzz';

const PARSERS = { pagerduty: parsePagerDuty, opsgenie: parseOpsgenie, servicenow: parseServiceNow, jira: parseJira, portable: parsePortable };
const KEY_PATTERN = /^probectl-[A-Za-z0-9._-]{1,128}$/;
const SECRET = 'fuzz-inbound-secret-0123456789abcdef';

/** The typed result every parser promises. */
function checkResult(r: ParseResult): void {
  expect(typeof r.ok).toBe('boolean');
  if (!r.ok) {
    expect(typeof r.error).toBe('string');
    expect(r.error.length).toBeGreaterThan(0);
    expect(r.error.length).toBeLessThan(300);
    return;
  }
  expect(['resolved', 'acknowledged', 'ignored']).toContain(r.event.kind);
  const { externalRef, alternateRefs, incidentKey } = r.event.refs;
  for (const ref of [externalRef, ...(alternateRefs ?? [])]) {
    if (ref === undefined) continue;
    expect(typeof ref).toBe('string');
    expect(ref.length).toBeGreaterThan(0);
    expect(ref.length).toBeLessThanOrEqual(255);
  }
  if (incidentKey !== undefined) expect(incidentKey).toMatch(KEY_PATTERN);
  if (r.event.actor !== undefined) expect(Array.from(r.event.actor).length).toBeLessThanOrEqual(256);
  if (r.event.deliveryId !== undefined) expect(r.event.deliveryId.length).toBeLessThanOrEqual(255);
  if (r.event.kind !== 'ignored') expect(externalRef ?? incidentKey).toBeDefined();
  expect(() => JSON.stringify(r)).not.toThrow();
}

describe('fuzz: inbound parsers', () => {
  test('the valid payloads parse (the mutations start from something real)', () => {
    for (const [name, payloads] of Object.entries(VALID_PAYLOADS)) {
      for (const p of payloads) {
        const r = PARSERS[name as keyof typeof PARSERS](p);
        expect({ name, ok: r.ok, kind: r.ok ? r.event.kind : r.error }).toEqual({ name, ok: true, kind: expect.stringMatching(/^(resolved|acknowledged)$/) });
      }
    }
  });

  test.each(Object.keys(PARSERS))('%s: any body → a typed result, never a throw', (name) => {
    const parse = PARSERS[name as keyof typeof PARSERS];
    fc.assert(fc.property(anyJsonBody, (body) => checkResult(parse(body))), fuzzParams(400));
  });

  test('parseDelivery for every inbound provider: never a throw, deterministic', () => {
    fc.assert(
      fc.property(fc.constantFrom(...INBOUND_PROVIDERS), anyJsonBody, (provider, body) => {
        const a = parseDelivery(provider, body);
        checkResult(a);
        expect(parseDelivery(provider, body)).toEqual(a);
      }),
      fuzzParams(500),
    );
  });

  test('JSON text of any raw body: parse failures are the route\'s 400, parsing never throws', () => {
    fc.assert(
      fc.property(fc.constantFrom(...INBOUND_PROVIDERS), rawBody, (provider, raw) => {
        let body: unknown;
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          return; // the route answers 400 before any parser runs
        }
        checkResult(parseDelivery(provider, body));
      }),
      fuzzParams(300),
    );
  });

  test('forged credential headers never verify, and verification never throws', () => {
    fc.assert(
      fc.property(fc.constantFrom(...INBOUND_PROVIDERS), forgedHeaders('any'), rawBody, fc.integer({ min: 0, max: 2 ** 42 }), (provider, headers, raw, now) => {
        expect(typeof hasCredential(provider, headers)).toBe('boolean');
        const v = verifySignature(provider, headers, raw, [SECRET], now);
        expect(v.ok).toBe(false);
        const token = headers['x-probectl-token'];
        if (typeof token === 'string') expect(tokenMatches(token, [SECRET])).toBe(token === SECRET);
      }),
      fuzzParams(300),
    );
  });
});
