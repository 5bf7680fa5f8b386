/**
 * What a continue-as-new hands over is one payload, and Temporal refuses one over 2 MiB: the server terminates a
 * workflow whose ContinueAsNew input exceeds its blob-size limit. These tests check the bound on what is really
 * sent (`{ incident, carried }`, as incident-v2.ts calls continueAsNew), not only on the carried state.
 */
import { CARRY_BUDGET_BYTES, encodedSize } from '../../src/workflows/v2/bounds';
import { begin, correlate, handover, initialState, rejectSignal, type IncidentState } from '../../src/workflows/v2/state';
import type { ConnectorRef } from '../../src/config/connectors';
import type { Incident } from '../../src/shared/contract';

const AT = '2026-11-30T12:00:00.000Z';
const PAYLOAD_LIMIT = 2 * 1024 * 1024;
const CONNECTORS: ConnectorRef[] = [
  { id: 'pagerduty', provider: 'pagerduty' },
  { id: 'servicenow', provider: 'servicenow' },
];
/** A run chain's first run id, as Temporal makes them. */
const CHAIN = 'c0ffee00-0000-4000-8000-000000000001';
const settings = { pagerReResolveDelayMs: 60_000, reconcileIntervalMs: 0, reissueGuardMs: 25_000 };

/** The largest incident the state-machine path accepts: every field at its limit, every character escaped (6 bytes). */
function largestIncident(): Incident {
  const wide = '\u0001';
  return {
    id: 'i'.repeat(128), tenantId: 't'.repeat(64), title: wide.repeat(4096), severity: 'critical', openedAt: AT,
    summary: '\ud800'.repeat(65_536), source: wide.repeat(255), url: wide.repeat(2048),
    labels: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`${String(i).padStart(2, '0')}${wide.repeat(126)}`, wide.repeat(1024)])),
  };
}

/** What incident-v2.ts passes to continueAsNew. */
const continueAsNewInput = (s: IncidentState) => ({ incident: s.incident, carried: handover(s, '2026-11-30T12:00:00.000Z') });

describe('the continue-as-new input stays under the payload limit', () => {
  // Proves: the byte bound is applied to the carried state alone, but the input also carries the incident a second
  // time (`{ incident, carried }` where `carried.incident` is the same incident). With the largest valid incident and
  // a Postgres outage's pile of owed entries, the carried state is cut to just under the budget and the input
  // is then over 2 MiB: the server would terminate the workflow at its next continue-as-new.
  test('the largest valid incident with a pile of owed correlated entries', () => {
    const s = initialState(largestIncident(), CHAIN);
    begin(s, { connectors: CONNECTORS, settings, mirror: { available: false } }, AT);
    for (let i = 0; i < 10_000; i++) correlate(s, { tenantId: s.incident.tenantId, signalId: `${'\u00e9'.repeat(200)}${i}`, summary: '\u20ac'.repeat(600), at: AT }, AT);
    const input = continueAsNewInput(s);
    expect(encodedSize(input)).toBeLessThan(PAYLOAD_LIMIT);
    // what a decision needs is intact; the count of correlated signals is exact
    expect(input.carried.incident).toEqual(s.incident);
    expect(input.carried.links).toEqual(s.links);
    expect(input.carried.correlation.count).toBe(10_000);
  });

  // The budget is for the whole input whenever the incident leaves room for it (a large but ordinary incident).
  test('a large incident with a pile of owed correlated entries: within the budget', () => {
    const s = initialState({ id: 'inc-1', tenantId: 'acme', title: 'Packet loss', severity: 'error', openedAt: AT, summary: '\u20ac'.repeat(60_000) }, CHAIN);
    begin(s, { connectors: CONNECTORS, settings, mirror: { available: false } }, AT);
    for (let i = 0; i < 10_000; i++) correlate(s, { tenantId: 'acme', signalId: `${'\u00e9'.repeat(200)}${i}`, summary: '\u20ac'.repeat(600), at: AT }, AT);
    expect(encodedSize(continueAsNewInput(s))).toBeLessThanOrEqual(CARRY_BUDGET_BYTES);
  });

  // Proves: refused signals (tenant mismatch, malformed) are stream entries like correlated ones — written in batches,
  // owed while Postgres is down — but only correlated ones are folded at the hand-over. A stream of refused signals
  // during an outage therefore grows the carried state without bound (here past 2 MiB even with a small incident).
  test('a pile of owed refused-signal entries is folded too', () => {
    const s = initialState({ id: 'inc-1', tenantId: 'acme', title: 'Packet loss', severity: 'error', openedAt: AT }, CHAIN);
    begin(s, { connectors: CONNECTORS, settings, mirror: { available: false } }, AT);
    const detail = 'tenantId is missing or malformed; source is missing or malformed; actor is malformed; at is malformed';
    for (let i = 0; i < 12_000; i++) rejectSignal(s, AT, i % 2 === 0 ? 'tenant mismatch' : detail);
    const input = continueAsNewInput(s);
    expect(encodedSize(input)).toBeLessThanOrEqual(CARRY_BUDGET_BYTES);
    // nothing is silently dropped: the refusals that were folded are still counted in what is owed
    const owed = input.carried.outbox.filter((i) => 'entry' in i && i.entry.kind === 'signal.rejected');
    const folded = (detail: string | undefined) => Number(/^(\d+) refused signals /.exec(detail ?? '')?.[1] ?? 1);
    const counted = owed.reduce((n, i) => n + ('entry' in i ? folded(i.entry.detail) : 0), 0);
    expect(counted).toBe(12_000);
  });

  // Same, with the largest incident: fewer refusals suffice.
  test('the largest valid incident with a pile of owed refused-signal entries', () => {
    const s = initialState(largestIncident(), CHAIN);
    begin(s, { connectors: CONNECTORS, settings, mirror: { available: false } }, AT);
    for (let i = 0; i < 8_000; i++) rejectSignal(s, AT, 'tenant mismatch');
    expect(encodedSize(continueAsNewInput(s))).toBeLessThan(PAYLOAD_LIMIT);
  });
});
