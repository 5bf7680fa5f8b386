/**
 * The incident state machine (src/workflows/v2/state.ts) as plain functions: every transition, the races the
 * workflow shell turns into orders of calls, the record outbox, the hand-over and its byte bound.
 */
import { CARRY_BUDGET_BYTES, encodedSize, fitCarried, utf8Length } from '../../src/workflows/v2/bounds';
import { fromLegacy } from '../../src/workflows/v2/from-legacy';
import { initialState as legacyInitial } from '../../src/workflows/legacy/state-v1';
import { attach, confirm, payloadOf, release, unattached } from '../../src/workflows/v2/records';
import {
  MAX_RECENT, MAX_SEEN_SIGNAL_IDS, MAX_TICKET_PASSES, acknowledge, begin, blockingResolve, correlate, correlateKey, finished, handover,
  REFUSALS, initialState, ownFollowUpDone, ownFollowUps, planResolve, reconciled, redrive, resolve, settled, view, type CallOutcome, type IncidentState,
} from '../../src/workflows/v2/state';
import { FailureType, REFUSALS as ACTIVITY_REFUSALS } from '../../src/http/failures';
import type { Incident } from '../../src/shared/contract';
import type { ConnectorRef } from '../../src/config/connectors';

const AT = '2026-11-30T12:00:00.000Z';
const LATER = '2026-11-30T12:01:00.000Z';
const incident: Incident = { id: 'inc-1', tenantId: 'acme', title: 'Packet loss', severity: 'error', openedAt: AT };
const CONNECTORS: ConnectorRef[] = [
  { id: 'pagerduty', provider: 'pagerduty' },
  { id: 'opsgenie', provider: 'opsgenie' },
  { id: 'slack', provider: 'slack', minSeverity: 'critical' },
  { id: 'servicenow', provider: 'servicenow' },
];
const settings = { pagerReResolveDelayMs: 60_000, reconcileIntervalMs: 0, reissueGuardMs: 25_000 };

function begun(over: Partial<Parameters<typeof begin>[1]> = {}): IncidentState {
  const s = initialState(incident, 'run-1');
  begin(s, { connectors: CONNECTORS, settings, mirror: { available: true }, ...over }, AT);
  return s;
}
const kinds = (s: IncidentState) => s.recent.map((e) => e.kind);
const owedKeys = (s: IncidentState) => s.outbox.map((i) => i.key);
const actionsOf = (s: IncidentState, kind?: string) => s.actions.filter((a) => !kind || a.kind === kind).map((a) => a.connectorId).sort();
/** Mark every decided call as scheduled, as the shell does. */
const run = (s: IncidentState) => s.actions.forEach((a) => (a.running = true));
const ok = (extra: object = {}) => ({ ok: true as const, recorded: true, ...extra });
const idOf = (s: IncidentState, kind: string, connectorId: string) => s.actions.find((a) => a.kind === kind && a.connectorId === connectorId)!.id;

describe('begin', () => {
  test('opens every connector at or above its min_severity; records the start and the skip', () => {
    const s = begun();
    expect(actionsOf(s, 'open')).toEqual(['opsgenie', 'pagerduty', 'servicenow']);
    expect(s.links.slack?.status).toBe('skipped');
    expect(s.links.pagerduty?.status).toBe('pending');
    expect(kinds(s)).toEqual(['opened', 'connector.skipped']);
    // owed: the entries, the skipped link, the incident row — never the pending links (the open calls record those)
    expect(owedKeys(s)).toEqual(['entry:run-1:opened', 'link:slack', expect.stringMatching(/^entry:run-1:d\d+$/), 'incident']);
  });

  test('the mirror holds it resolved: nothing opens, the run is done once the record is written', () => {
    const s = begun({ mirror: { available: true, record: { status: 'resolved', resolutionSource: 'jira', links: [{ connectorId: 'pagerduty', provider: 'pagerduty', status: 'resolved', updatedAt: AT }] } } });
    expect(s.actions).toEqual([]);
    expect(s.status).toBe('resolved');
    expect(s.resolution?.source).toBe('jira');
    expect(kinds(s)).toEqual(['already.resolved']);
    expect(finished(s)).toBe(false); // still owes its records
    s.outbox.length = 0;
    expect(finished(s)).toBe(true);
  });

  // An earlier run ended during its resolve fan-out (terminated, failed, timed out): the incident row says resolved,
  // some links never were. Every link status × origin or not × configured or not × the patch's answer.
  describe('the mirror holds it resolved with links left open (resolved-left-open-v1)', () => {
    const STATUSES = ['open', 'acknowledged', 'pending', 'failed', 'resolved', 'skipped'] as const;
    // Not `failed`: a completed run leaves a link failed on purpose (a refused open, a refused resolve).
    const LEFT_OPEN = ['open', 'acknowledged', 'pending'];
    const cases = STATUSES.flatMap((status) => (['servicenow', 'pagerduty', 'jira'] as const).flatMap((where) => [true, false].map((gate) => [status, where, gate] as const)));
    // servicenow: configured, not the origin; pagerduty: the origin (resolved there); jira: no longer configured.
    test.each(cases)('a %s link of %s, the patch answering %p', (status, where, gate) => {
      let asked = 0;
      const s = initialState(incident, 'run-2');
      const links = [
        { connectorId: 'pagerduty', provider: 'pagerduty' as const, status: where === 'pagerduty' ? status : 'resolved', updatedAt: AT },
        { connectorId: 'opsgenie', provider: 'opsgenie' as const, status: 'resolved' as const, updatedAt: AT },
        { connectorId: 'servicenow', provider: 'servicenow' as const, status: where === 'servicenow' ? status : 'resolved', updatedAt: AT },
        ...(where === 'jira' ? [{ connectorId: 'jira', provider: 'jira' as const, status, updatedAt: AT }] : []),
      ];
      begin(s, { connectors: CONNECTORS, settings, mirror: { available: true, record: { status: 'resolved', resolutionSource: 'pagerduty', links } } }, AT, () => true, () => {
        asked += 1;
        return gate;
      });
      const leftOpen = where === 'servicenow' && LEFT_OPEN.includes(status);
      // Asked once, and only when a configured non-origin link was left open.
      expect(asked).toBe(leftOpen ? 1 : 0);
      expect(s.status).toBe('resolved');
      expect(s.resolution?.source).toBe('pagerduty');
      expect(s.actions).toEqual([]);
      expect(kinds(s)).toEqual(['already.resolved']);
      const resolvesNow = leftOpen && gate;
      expect(s.resolving).toBe(!resolvesNow);
      if (resolvesNow) expect(s.recent[0]!.detail).toMatch(/still open there, resolved now: servicenow$/);
      expect(planResolve(s, LATER)).toBe(resolvesNow);
      // The fan-out calls exactly the link left open; the origin is marked, never called; probectl is told again (same event id).
      expect(actionsOf(s, 'resolve')).toEqual(resolvesNow ? ['servicenow'] : []);
      if (resolvesNow) {
        expect(kinds(s)).toContain('origin.skipped');
        expect(s.links.pagerduty?.status).toBe('resolved');
      }
    });

    test('two links left open, the origin\'s own open link never called: one question, both resolved', () => {
      let asked = 0;
      const s = initialState(incident, 'run-2');
      begin(s, { connectors: CONNECTORS, settings, mirror: { available: true, record: { status: 'resolved', resolutionSource: 'servicenow', links: [
        { connectorId: 'pagerduty', provider: 'pagerduty', status: 'open', updatedAt: AT },
        { connectorId: 'opsgenie', provider: 'opsgenie', status: 'acknowledged', updatedAt: AT },
        { connectorId: 'servicenow', provider: 'servicenow', status: 'open', updatedAt: AT },
      ] } } }, AT, () => true, () => (asked += 1) > 0);
      expect(asked).toBe(1);
      expect(planResolve(s, LATER)).toBe(true);
      expect(actionsOf(s, 'resolve')).toEqual(['opsgenie', 'pagerduty']);
      expect(s.links.servicenow?.status).toBe('resolved');
    });
  });

  test('a re-started run adopts what exists and opens only the rest', () => {
    const s = begun({ mirror: { available: true, record: { status: 'open', links: [
      { connectorId: 'pagerduty', provider: 'pagerduty', status: 'open', externalRef: 'probectl-inc-1', updatedAt: AT },
      { connectorId: 'servicenow', provider: 'servicenow', status: 'failed', updatedAt: AT },
    ] } } });
    expect(actionsOf(s, 'open')).toEqual(['opsgenie', 'servicenow']);
    expect(s.links.pagerduty).toMatchObject({ status: 'open', externalRef: 'probectl-inc-1' });
    expect(kinds(s)).toEqual(['opened', 'connector.adopted', 'connector.skipped']);
    expect(s.recent[0]!.detail).toMatch(/started again/);
  });

  test('the mirror unreadable: recorded, and the opens still go out', () => {
    const s = begun({ mirror: { available: false } });
    expect(kinds(s)[0]).toBe('mirror.unavailable');
    expect(actionsOf(s, 'open')).toHaveLength(3);
  });

  test('resolved before begin: nothing opens', () => {
    const s = initialState(incident, 'run-1');
    resolve(s, { tenantId: 'acme', source: 'api', at: AT }, AT);
    begin(s, { connectors: CONNECTORS, settings, mirror: { available: true } }, AT);
    expect(actionsOf(s, 'open')).toEqual([]);
    expect(planResolve(s, AT)).toBe(true);
    expect(actionsOf(s, 'resolve')).toEqual([]); // nothing was attempted
  });
});

describe('correlate', () => {
  test('counted once per signal id; the API-recorded ones owe nothing; the same key either way', () => {
    const s = begun();
    s.outbox.length = 0;
    expect(correlate(s, { tenantId: 'acme', signalId: 'a', summary: 'flap', at: AT }, AT)).toBe('counted');
    expect(correlate(s, { tenantId: 'acme', signalId: 'a', at: AT }, AT)).toBe('duplicate');
    expect(correlate(s, { tenantId: 'acme', signalId: 'b', at: AT, recorded: true }, AT)).toBe('counted');
    expect(s.correlation.count).toBe(2);
    expect(owedKeys(s)).toEqual([`entry:${correlateKey('inc-1', 'a')}`]);
    expect(view(s).correlationCount).toBe(2);
  });

  test('remembered ids and the recent list are bounded', () => {
    const s = begun();
    for (let i = 0; i < MAX_SEEN_SIGNAL_IDS + 50; i++) correlate(s, { tenantId: 'acme', signalId: `s${i}`, at: AT }, AT);
    expect(s.correlation.seen).toHaveLength(MAX_SEEN_SIGNAL_IDS);
    expect(s.recent).toHaveLength(MAX_RECENT);
    expect(s.correlation.count).toBe(MAX_SEEN_SIGNAL_IDS + 50);
  });
});

describe('acknowledge', () => {
  test('the first wins; open pagers other than the origin are acknowledged; probectl is told', () => {
    const s = begun();
    run(s);
    settled(s, idOf(s, 'open', 'pagerduty'), ok({ externalRef: 'probectl-inc-1' }), AT);
    settled(s, idOf(s, 'open', 'opsgenie'), ok({ externalRef: 'probectl-inc-1' }), AT);
    expect(acknowledge(s, { tenantId: 'acme', source: 'opsgenie', actor: 'erin', at: AT }, AT)).toBe(true);
    expect(acknowledge(s, { tenantId: 'acme', source: 'api', at: AT }, AT)).toBe(false);
    expect(actionsOf(s, 'acknowledge')).toEqual(['pagerduty']);
    expect(s.links.opsgenie?.status).toBe('acknowledged'); // the origin: marked, never called
    expect(owedKeys(s)).toContain('follow-up:run-1:callback:acknowledged');
  });

  test('acknowledged while a page is still going out: that pager is acknowledged once its open lands', () => {
    const s = begun();
    run(s);
    acknowledge(s, { tenantId: 'acme', source: 'probectl', at: AT }, AT);
    expect(actionsOf(s, 'acknowledge')).toEqual([]);
    expect(owedKeys(s).some((k) => k.includes('callback'))).toBe(false); // probectl acknowledged it itself
    settled(s, idOf(s, 'open', 'pagerduty'), ok({ externalRef: 'k' }), AT);
    expect(actionsOf(s, 'acknowledge')).toEqual(['pagerduty']);
  });

  test('acknowledge racing resolve: the resolve fan-out waits for the running acknowledgement', () => {
    const s = begun();
    run(s);
    settled(s, idOf(s, 'open', 'pagerduty'), ok({ externalRef: 'k' }), AT);
    for (const c of ['opsgenie', 'servicenow']) settled(s, idOf(s, 'open', c), ok({ externalRef: 'r' }), AT);
    acknowledge(s, { tenantId: 'acme', source: 'api', at: AT }, AT);
    run(s);
    resolve(s, { tenantId: 'acme', source: 'api', at: AT }, AT);
    expect(blockingResolve(s)).toBe(true);
    expect(planResolve(s, AT)).toBe(false);
    settled(s, idOf(s, 'acknowledge', 'pagerduty'), ok(), AT);
    expect(planResolve(s, AT)).toBe(false); // opsgenie's is still running
    settled(s, idOf(s, 'acknowledge', 'opsgenie'), ok(), AT);
    expect(planResolve(s, AT)).toBe(true);
  });
});

describe('resolve', () => {
  function opened(): IncidentState {
    const s = begun();
    run(s);
    for (const c of ['pagerduty', 'opsgenie', 'servicenow']) settled(s, idOf(s, 'open', c), ok({ externalRef: `${c}-ref` }), AT);
    return s;
  }

  test('the first wins; the origin is marked and skipped; every other attempted link is resolved', () => {
    const s = opened();
    expect(resolve(s, { tenantId: 'acme', source: 'servicenow', actor: 'bob', at: AT }, AT)).toBe(true);
    expect(resolve(s, { tenantId: 'acme', source: 'api', at: AT }, AT)).toBe(false);
    expect(planResolve(s, AT)).toBe(true);
    expect(planResolve(s, AT)).toBe(false); // once
    expect(actionsOf(s, 'resolve')).toEqual(['opsgenie', 'pagerduty']);
    expect(s.links.servicenow?.status).toBe('resolved');
    expect(kinds(s)).toContain('origin.skipped');
    expect(resolveResultSource(s)).toBe('servicenow');
  });
  const resolveResultSource = (s: IncidentState) => s.resolution?.source;

  test('resolve racing open: opens not yet scheduled never are; running ones are cancelled and waited for', () => {
    const s = begun();
    s.actions[0]!.running = true; // pagerduty's open is out; the others were not scheduled yet
    resolve(s, { tenantId: 'acme', source: 'api', at: AT }, AT);
    expect(s.actions.map((a) => [a.connectorId, a.cancelled])).toEqual([['pagerduty', true]]);
    expect(planResolve(s, AT)).toBe(false);
    settled(s, s.actions[0]!.id, { ok: false, cancelled: true }, AT);
    expect(s.links.pagerduty?.status).toBe('pending');
    expect(planResolve(s, AT)).toBe(true);
    // the cancelled open's link and the never-opened ones are resolved (deterministic keys find what landed)
    expect(actionsOf(s, 'resolve')).toEqual(['opsgenie', 'pagerduty', 'servicenow']);
  });

  test('an open that landed despite the cancellation leaves an open link that is resolved', () => {
    const s = begun();
    run(s);
    resolve(s, { tenantId: 'acme', source: 'api', at: AT }, AT);
    for (const a of [...s.actions]) settled(s, a.id, ok({ externalRef: `${a.connectorId}-ref` }), AT);
    expect(s.links.servicenow).toMatchObject({ status: 'open', externalRef: 'servicenow-ref' });
    expect(actionsOf(s, 'acknowledge')).toEqual([]);
    planResolve(s, AT);
    expect(actionsOf(s, 'resolve')).toEqual(['opsgenie', 'pagerduty', 'servicenow']);
  });

  test('pagers get a second resolve and an unfound ticket a second pass, unless the call recorded them', () => {
    const s = opened();
    resolve(s, { tenantId: 'acme', source: 'api', at: AT }, AT);
    planResolve(s, AT);
    run(s);
    s.outbox.length = 0;
    settled(s, idOf(s, 'resolve', 'pagerduty'), ok({ followUpsRecorded: true }), AT);
    settled(s, idOf(s, 'resolve', 'opsgenie'), { ok: true, recorded: false }, AT);
    settled(s, idOf(s, 'resolve', 'servicenow'), ok({ found: false, followUpsRecorded: false }), AT);
    const follow = payloadOf(s.outbox).followUps;
    expect(follow.map((f) => [f.kind, 'connectorId' in f ? f.connectorId : '', f.dueAt])).toEqual([
      ['re-resolve', 'opsgenie', LATER],
      ['ticket-close', 'servicenow', LATER],
    ]);
    expect(s.links.pagerduty?.status).toBe('resolved');
    expect(s.links.servicenow?.status).toBe('open'); // not found yet
    // the pager whose call could not record: its link and outcome entry are owed; the others owe nothing
    expect(owedKeys(s).filter((k) => !k.startsWith('follow-up:'))).toEqual(['link:opsgenie', expect.stringMatching(/^entry:run-1:resolve:opsgenie:\d+$/)]);
  });

  test('probectl is told once, decided with the fan-out (it rides with the resolve calls); not when probectl resolved it', () => {
    const s = opened();
    resolve(s, { tenantId: 'acme', source: 'jira-inbound', at: AT }, AT);
    planResolve(s, AT);
    planResolve(s, AT);
    expect(payloadOf(s.outbox).followUps.filter((f) => f.kind === 'callback')).toHaveLength(1);
    run(s);
    const carried = attach(s.outbox, s.actions[0]!.id);
    expect(carried.followUps.map((f) => f.kind)).toEqual(['callback']);
    const p = initialState(incident, 'r');
    begin(p, { connectors: [], settings, mirror: { available: true } }, AT);
    resolve(p, { tenantId: 'acme', source: 'probectl', at: AT }, AT);
    planResolve(p, AT);
    expect(payloadOf(p.outbox).followUps).toEqual([]);
    p.outbox.length = 0;
    expect(finished(p)).toBe(true);
  });

  test('failures: a refused call fails its link (scrubbed reason); a removed connector is orphaned', () => {
    const s = begun();
    run(s);
    settled(s, idOf(s, 'open', 'pagerduty'), { ok: false, reason: 'PagerDuty trigger: HTTP 400', type: 'ProviderRejected' }, AT);
    settled(s, idOf(s, 'open', 'opsgenie'), { ok: false, reason: 'gone', type: 'ConnectorRemoved' }, AT);
    expect(s.links.pagerduty).toMatchObject({ status: 'failed', error: 'PagerDuty trigger: HTTP 400' });
    expect(s.links.opsgenie?.status).toBe('orphaned');
    expect(kinds(s).slice(-2)).toEqual(['connector.failed', 'connector.orphaned']);
  });
});

describe('refused opens (refused-opens-v1)', () => {
  test("the workflow's copy of the refusal types is the activities' (workflows import no activity code)", () => {
    expect([...REFUSALS]).toEqual([...ACTIVITY_REFUSALS]);
  });

  const refusal = (type: string, firstTry: boolean | undefined, status = '400'): CallOutcome => ({ ok: false, reason: `HTTP ${status}`, type, ...(firstTry === undefined ? {} : { firstTry }) });
  /** Every way an open can end short of success; whether it says that nothing was made at the provider. */
  const ENDINGS: Array<[string, CallOutcome, 'refused' | 'may have landed' | 'orphaned' | 'pending']> = [
    ['400 on its first try (ProviderRejected)', refusal(FailureType.ProviderRejected, true), 'refused'],
    ['401/403 on its first try (AuthRejected)', refusal(FailureType.AuthRejected, true, '401'), 'refused'],
    ['400 on a later try (a retry, a local attempt\'s fallback, a re-issue)', refusal(FailureType.ProviderRejected, false), 'may have landed'],
    ['403 on a later try', refusal(FailureType.AuthRejected, false, '403'), 'may have landed'],
    ['400 whose try is not known (an activity of an earlier release)', refusal(FailureType.ProviderRejected, undefined), 'may have landed'],
    ['retries ran out on 429 (RateLimited)', { ok: false, reason: 'HTTP 429', type: FailureType.RateLimited, firstTry: false }, 'may have landed'],
    ['retries ran out on 5xx (ProviderUnavailable)', { ok: false, reason: 'HTTP 503', type: FailureType.ProviderUnavailable, firstTry: false }, 'may have landed'],
    ['retries ran out on a transport error', { ok: false, reason: 'ECONNRESET', type: FailureType.Transport, firstTry: false }, 'may have landed'],
    ['retries ran out on a malformed answer', { ok: false, reason: 'not JSON', type: FailureType.MalformedResponse, firstTry: false }, 'may have landed'],
    ['timed out (no type)', { ok: false, reason: 'gave up: the retry window ran out (timed out)', firstTry: false }, 'may have landed'],
    ['a type this build does not know, on its first try', { ok: false, reason: 'x', type: 'SomethingNew', firstTry: true }, 'may have landed'],
    ['the connector removed', { ok: false, reason: 'gone', type: FailureType.ConnectorRemoved, firstTry: true }, 'orphaned'],
    ['cancelled by the resolve', { ok: false, cancelled: true }, 'pending'],
  ];

  /** PagerDuty's open ends as given, the others open; resolved by the API; the fan-out planned with the patch answering `patched`. */
  function planned(out: CallOutcome, patched: boolean, s = begun()) {
    run(s);
    settled(s, idOf(s, 'open', 'pagerduty'), out, AT);
    for (const c of ['opsgenie', 'servicenow']) settled(s, idOf(s, 'open', c), ok({ externalRef: `${c}-ref` }), AT);
    resolve(s, { tenantId: 'acme', source: 'api', at: LATER }, LATER);
    let asked = 0;
    expect(planResolve(s, LATER, () => (asked++, patched))).toBe(true);
    return { s, asked };
  }

  test.each(ENDINGS.flatMap(([what, out, kind]) => [true, false].map((patched) => [what, kind, patched, out] as const)))(
    'an open ended by %s (%s), the patch answering %s: a resolve only where something may have landed',
    (_what, kind, patched, out) => {
      const { s, asked } = planned(out, patched);
      const refused = kind === 'refused';
      // The patch is asked exactly when a refused link would otherwise get a resolve, and never otherwise.
      expect(asked).toBe(refused ? 1 : 0);
      const left = refused && patched;
      expect(actionsOf(s, 'resolve')).toEqual(kind === 'orphaned' || left ? ['opsgenie', 'servicenow'] : ['opsgenie', 'pagerduty', 'servicenow']);
      expect(s.links.pagerduty?.status).toBe(kind === 'orphaned' ? 'orphaned' : kind === 'pending' ? 'pending' : 'failed');
      const skipped = s.recent.filter((e) => e.kind === 'connector.skipped' && e.connectorId === 'pagerduty');
      expect(skipped.map((e) => e.detail)).toEqual(left ? [expect.stringMatching(/refused the open/)] : []);
    },
  );

  // A run before this one (ended, terminated, reset) may have sent an open it never recorded: only a mirror that was read
  // and holds no record of the incident at all makes the begin's opens the links' first.
  test.each([
    ['the mirror read, no record of the incident', true, { available: true }],
    ['the mirror unreadable (Postgres down)', false, { available: false }],
    ['a record with no links (a run before wrote the incident row only)', false, { available: true, record: { status: 'open' as const, links: [] } }],
    ['a record holding the link pending', false, { available: true, record: { status: 'open' as const, links: [{ connectorId: 'pagerduty', provider: 'pagerduty' as const, status: 'pending' as const, updatedAt: AT }] } }],
    ['a record holding the link failed', false, { available: true, record: { status: 'open' as const, links: [{ connectorId: 'pagerduty', provider: 'pagerduty' as const, status: 'failed' as const, updatedAt: AT }] } }],
  ])('begin with %s: a first-try refusal is left alone: %s', (_what, leftAlone, mirror) => {
    const s = begun({ mirror: mirror as Parameters<typeof begin>[1]['mirror'] });
    expect(s.actions.filter((a) => a.kind === 'open').every((a) => a.first === (leftAlone ? true : undefined))).toBe(true);
    const { asked } = planned(refusal(FailureType.ProviderRejected, true), true, s);
    expect({ asked, resolves: actionsOf(s, 'resolve') }).toEqual({ asked: leftAlone ? 1 : 0, resolves: leftAlone ? ['opsgenie', 'servicenow'] : ['opsgenie', 'pagerduty', 'servicenow'] });
  });

  test('two refused links: the patch is asked once; the origin is never asked about', () => {
    const s = begun();
    run(s);
    settled(s, idOf(s, 'open', 'pagerduty'), refusal(FailureType.ProviderRejected, true), AT);
    settled(s, idOf(s, 'open', 'opsgenie'), refusal(FailureType.AuthRejected, true, '403'), AT);
    settled(s, idOf(s, 'open', 'servicenow'), refusal(FailureType.AuthRejected, true, '401'), AT);
    resolve(s, { tenantId: 'acme', source: 'servicenow', at: LATER }, LATER);
    let asked = 0;
    planResolve(s, LATER, () => (asked++, true));
    expect(asked).toBe(1);
    expect(actionsOf(s, 'resolve')).toEqual([]);
    expect(s.links.servicenow?.status).toBe('resolved'); // the origin, as ever: marked, never called
    expect(s.recent.filter((e) => e.kind === 'connector.skipped' && /refused/.test(e.detail ?? '')).map((e) => e.connectorId).sort()).toEqual(['opsgenie', 'pagerduty']);
  });

  // A redrive is a second open of the link: whatever the first did, its refusal no longer says nothing was made.
  test.each([
    ['opened', ok({ externalRef: 'k' }), ['opsgenie', 'pagerduty', 'servicenow']],
    ['cancelled by the resolve', { ok: false, cancelled: true } as CallOutcome, ['opsgenie', 'pagerduty', 'servicenow']],
    ['refused again on its first try', refusal(FailureType.ProviderRejected, true), ['opsgenie', 'pagerduty', 'servicenow']],
    ['failed after retries', { ok: false, reason: 'HTTP 503', type: FailureType.ProviderUnavailable, firstTry: false } as CallOutcome, ['opsgenie', 'pagerduty', 'servicenow']],
  ] as const)('first open refused, then re-driven and %s: resolved', (_what, then, resolves) => {
    for (const first of [refusal(FailureType.ProviderRejected, true), { ok: false, reason: 'HTTP 503', type: FailureType.ProviderUnavailable, firstTry: false } as CallOutcome]) {
      const s = begun();
      run(s);
      settled(s, idOf(s, 'open', 'pagerduty'), first, AT);
      expect(s.refused).toEqual(first.ok === false && !first.cancelled && first.firstTry ? { pagerduty: AT } : undefined);
      for (const c of ['opsgenie', 'servicenow']) settled(s, idOf(s, 'open', c), ok({ externalRef: 'r' }), AT);
      expect(redrive(s, { tenantId: 'acme', connectorId: 'pagerduty', at: AT }, AT)).toBe('queued');
      expect(s.refused).toBeUndefined();
      expect(s.actions.find((a) => a.connectorId === 'pagerduty')?.first).toBeUndefined();
      run(s);
      const id = idOf(s, 'open', 'pagerduty');
      if (then.ok === false && then.cancelled) resolve(s, { tenantId: 'acme', source: 'api', at: LATER }, LATER);
      settled(s, id, then, LATER);
      resolve(s, { tenantId: 'acme', source: 'api', at: LATER }, LATER);
      let asked = 0;
      planResolve(s, LATER, () => (asked++, true));
      expect({ asked, resolves: actionsOf(s, 'resolve') }).toEqual({ asked: 0, resolves });
    }
  });

  test('the mark holds only while the link is still that failure; carried across continue-as-new; not set by a refused resolve', () => {
    const s = begun();
    run(s);
    settled(s, idOf(s, 'open', 'pagerduty'), refusal(FailureType.ProviderRejected, true), AT);
    const next = handover(s, AT);
    expect(next.refused).toEqual({ pagerduty: AT });
    run(next);
    for (const c of ['opsgenie', 'servicenow']) settled(next, idOf(next, 'open', c), ok({ externalRef: 'r' }), AT);
    resolve(next, { tenantId: 'acme', source: 'api', at: LATER }, LATER);
    planResolve(next, LATER, () => true);
    expect(actionsOf(next, 'resolve')).toEqual(['opsgenie', 'servicenow']);
    run(next);
    settled(next, idOf(next, 'resolve', 'opsgenie'), refusal(FailureType.AuthRejected, true, '403'), LATER);
    expect(next.refused).toEqual({ pagerduty: AT });
    // The link moved on without this build clearing the mark (a worker of an earlier release re-drove it, and the
    // re-driven open failed after its retries): resolved.
    const moved = begun();
    run(moved);
    settled(moved, idOf(moved, 'open', 'pagerduty'), refusal(FailureType.ProviderRejected, true), AT);
    moved.links.pagerduty = { ...moved.links.pagerduty!, updatedAt: LATER, error: 'HTTP 503' };
    for (const c of ['opsgenie', 'servicenow']) settled(moved, idOf(moved, 'open', c), ok({ externalRef: 'r' }), AT);
    resolve(moved, { tenantId: 'acme', source: 'api', at: LATER }, LATER);
    let asked = 0;
    planResolve(moved, LATER, () => (asked++, true));
    expect({ asked, resolves: actionsOf(moved, 'resolve') }).toEqual({ asked: 0, resolves: ['opsgenie', 'pagerduty', 'servicenow'] });
    // A run started again or made by a reset (`earlier`, set by the shell at its start) carries it across continue-as-new.
    const earlier = begun();
    earlier.earlier = true;
    expect(handover(earlier, AT).earlier).toBe(true);
    expect(handover(begun(), AT).earlier).toBeUndefined();
    // State of an earlier release (no mark): every failed link is resolved, and the patch is never asked.
    const old = begun();
    run(old);
    settled(old, idOf(old, 'open', 'pagerduty'), refusal(FailureType.ProviderRejected, true), AT);
    delete old.refused;
    for (const c of ['opsgenie', 'servicenow']) settled(old, idOf(old, 'open', c), ok({ externalRef: 'r' }), AT);
    resolve(old, { tenantId: 'acme', source: 'api', at: LATER }, LATER);
    asked = 0;
    expect(planResolve(old, LATER, () => (asked++, true))).toBe(true);
    expect(asked).toBe(0);
    expect(actionsOf(old, 'resolve')).toContain('pagerduty');
  });
});

describe('redrive', () => {
  test('only a failed link of an unresolved incident is re-opened; anything else is refused and recorded', () => {
    const s = begun();
    run(s);
    settled(s, idOf(s, 'open', 'pagerduty'), { ok: false, reason: 'HTTP 400' }, AT);
    expect(redrive(s, { tenantId: 'acme', connectorId: 'opsgenie', at: AT }, AT)).toBe('repeat'); // its open is still out
    settled(s, idOf(s, 'open', 'opsgenie'), ok({ externalRef: 'k' }), AT);
    expect(redrive(s, { tenantId: 'acme', connectorId: 'nope', at: AT }, AT)).toMatch(/no such connector/);
    expect(redrive(s, { tenantId: 'acme', connectorId: 'opsgenie', at: AT }, AT)).toMatch(/only a failed link/);
    expect(redrive(s, { tenantId: 'acme', connectorId: 'pagerduty', actor: 'ops', at: AT }, AT)).toBe('queued');
    expect(redrive(s, { tenantId: 'acme', connectorId: 'pagerduty', at: AT }, AT)).toBe('repeat');
    expect(s.links.pagerduty?.status).toBe('pending');
    resolve(s, { tenantId: 'acme', source: 'api', at: AT }, AT);
    expect(redrive(s, { tenantId: 'acme', connectorId: 'pagerduty', at: AT }, AT)).toMatch(/resolved/);
    expect(kinds(s).filter((k) => k === 'signal.rejected')).toHaveLength(3);
  });
});

describe('reconciliation results', () => {
  test('resolved at a provider resolves with that connector as the origin; acknowledged acknowledges', () => {
    const s = begun();
    reconciled(s, [{ connectorId: 'servicenow', provider: 'servicenow', state: 'acknowledged' }], AT);
    expect(s.acknowledgement?.source).toBe('servicenow');
    reconciled(s, [{ connectorId: 'servicenow', provider: 'servicenow', state: 'resolved' }, { connectorId: 'opsgenie', provider: 'opsgenie', state: 'open' }], AT);
    expect(s.resolution).toMatchObject({ source: 'servicenow', reason: 'resolved at the provider (reconciliation)' });
    reconciled(s, [{ connectorId: 'opsgenie', provider: 'opsgenie', state: 'resolved' }], AT);
    expect(s.resolution?.source).toBe('servicenow');
  });
});

describe('own follow-ups', () => {
  test('a ticket not found is looked up again, at most MAX_TICKET_PASSES times, then closed as never created', () => {
    const s = begun();
    ownFollowUps(s, [{ key: 'run-1:ticket-close:servicenow:2', kind: 'ticket-close', dueAt: AT, connectorId: 'servicenow', resolution: { source: 'api' }, pass: 2 }]);
    ownFollowUps(s, [{ key: 'run-1:ticket-close:servicenow:2', kind: 'ticket-close', dueAt: AT, connectorId: 'servicenow', resolution: { source: 'api' }, pass: 2 }]);
    expect(s.ownFollowUps).toHaveLength(1);
    for (let pass = 2; pass <= MAX_TICKET_PASSES; pass++) {
      expect(s.ownFollowUps.map((o) => o.followUp.key)).toEqual([`run-1:ticket-close:servicenow:${pass}`]);
      ownFollowUpDone(s, `run-1:ticket-close:servicenow:${pass}`, { ok: true, found: false }, AT);
    }
    expect(s.ownFollowUps).toEqual([]);
    expect(s.links.servicenow?.status).toBe('resolved');
    expect(s.recent.at(-1)!.detail).toMatch(/did not land/);
  });
});

describe('the record outbox', () => {
  test('items ride with calls; a call that recorded confirms them; one that could not releases them', () => {
    const s = begun();
    const n = s.outbox.length;
    const p = attach(s.outbox, 'open:a:1');
    attach(s.outbox, 'open:b:2');
    expect(p.entries.length + p.links.length + (p.incident ? 1 : 0)).toBe(n);
    expect(unattached(s.outbox)).toEqual([]);
    release(s.outbox, 'open:a:1');
    expect(s.outbox).toHaveLength(n); // still carried by b
    expect(confirm(s.outbox, 'open:b:2')).toEqual([]);
    expect(s.outbox).toEqual([]);
  });

  test('a newer snapshot of a link supersedes the one being carried', () => {
    const s = begun();
    attach(s.outbox, 'c1');
    resolve(s, { tenantId: 'acme', source: 'api', at: AT }, AT); // a new incident row snapshot
    confirm(s.outbox, 'c1');
    expect(s.outbox.map((i) => i.key)).toContain('incident');
    expect(payloadOf(s.outbox).incident?.status).toBe('resolved');
  });

  test('follow-ups Postgres could not take come back to the caller', () => {
    const s = begun();
    acknowledge(s, { tenantId: 'acme', source: 'api', at: AT }, AT);
    attach(s.outbox, 'record:9');
    const untaken = confirm(s.outbox, 'record:9', false);
    expect(untaken.map((f) => f.kind)).toEqual(['callback']);
    expect(s.outbox).toEqual([]);
  });
});

describe('hand-over (continue-as-new)', () => {
  test('calls in flight are re-issued by the next run; nothing is waited for; the state round-trips as JSON', () => {
    const s = begun();
    run(s);
    correlate(s, { tenantId: 'acme', signalId: 'x', at: AT }, AT);
    attach(s.outbox, s.actions[0]!.id);
    const next = handover(s, AT);
    expect(next.run).toBe(2);
    expect(next.actions.every((a) => !a.running && a.reissue)).toBe(true);
    expect(next.outbox.every((i) => i.carriers.length === 0)).toBe(true);
    expect(JSON.parse(JSON.stringify(next))).toEqual(next);
    expect(s.actions.every((a) => a.running)).toBe(true); // the old run's state is untouched
  });

  test('at the limit: the largest valid incident, a full recent list and signal-id memory, and a Postgres outage\'s pile of owed entries fit the payload limit', () => {
    const wide = '\u0001'.repeat(1); // escaped as \\u0001: 6 bytes per character, the worst case
    const big: Incident = {
      id: 'i'.repeat(128), tenantId: 't'.repeat(64), title: wide.repeat(4096), severity: 'critical', openedAt: AT,
      summary: '\ud800'.repeat(65_536), source: wide.repeat(255), url: wide.repeat(2048),
      labels: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`${'k'.repeat(125)}${i}`.slice(0, 128), '\u00e9'.repeat(1024)])),
    };
    const s = initialState(big, 'run-1');
    begin(s, { connectors: CONNECTORS, settings, mirror: { available: false } }, AT);
    for (let i = 0; i < 10_000; i++) correlate(s, { tenantId: big.tenantId, signalId: `${'\u00e9'.repeat(200)}${i}`, summary: '\u20ac'.repeat(600), at: AT }, AT);
    expect(encodedSize(s)).toBeGreaterThan(2 * 1024 * 1024); // over the limit before the bound
    const next = handover(s, AT);
    const size = encodedSize(next);
    expect(size).toBeLessThanOrEqual(CARRY_BUDGET_BYTES);
    expect(size).toBeLessThan(2 * 1024 * 1024);
    // what a decision needs is intact; the count of correlated signals is exact
    expect(next.incident).toEqual(big);
    expect(next.links).toEqual(s.links);
    expect(next.correlation.count).toBe(10_000);
    const folded = next.outbox.filter((i) => 'entry' in i && /not recorded one by one/.test(i.entry.detail ?? ''));
    expect(folded).toHaveLength(1);
  });

  test('an interrupted ticket create waits for its guard once; further hand-overs before it do not push it back', () => {
    const s = begun();
    run(s);
    const first = handover(s, AT);
    const sn = first.actions.find((a) => a.connectorId === 'servicenow')!;
    const pd = first.actions.find((a) => a.connectorId === 'pagerduty')!;
    expect(sn.notBefore).toBe('2026-11-30T12:00:25.000Z');
    expect(pd.notBefore).toBeUndefined(); // PagerDuty's dedup key: re-issued at once
    run(first);
    const second = handover(first, '2026-11-30T12:00:10.000Z'); // before the guard: the create has not started
    expect(second.actions.find((a) => a.connectorId === 'servicenow')!.notBefore).toBe('2026-11-30T12:00:25.000Z');
    run(second);
    const third = handover(second, '2026-11-30T12:00:40.000Z'); // after it: a new attempt may have been under way
    expect(third.actions.find((a) => a.connectorId === 'servicenow')!.notBefore).toBe('2026-11-30T12:01:05.000Z');
  });

  test('an open cancelled by the resolve and handed over while running: the next run resolves after its guard', () => {
    const s = begun();
    run(s);
    resolve(s, { tenantId: 'acme', source: 'api', at: AT }, AT);
    const next = handover(s, AT);
    expect(next.resolveNotBefore).toBe('2026-11-30T12:00:25.000Z');
    expect(planResolve(next, '2026-11-30T12:00:20.000Z')).toBe(false);
    expect(planResolve(next, '2026-11-30T12:00:25.000Z')).toBe(true);
    expect(actionsOf(next, 'resolve')).toEqual(['opsgenie', 'pagerduty', 'servicenow']);
  });

  test('utf8Length agrees with Buffer.byteLength', () => {
    for (const t of ['', 'abc', 'é', '€', '😀', '\ud800', 'a\udc00b', JSON.stringify('\u0001\ud800x')]) expect(utf8Length(t)).toBe(Buffer.byteLength(t, 'utf8'));
  });

  test('fitCarried leaves a small state alone', () => {
    const s = begun();
    const before = JSON.stringify(s);
    fitCarried(s);
    expect(JSON.stringify(s)).toBe(before);
  });
});

describe('a legacy run hands over to the state machine', () => {
  test('links, decisions and unwritten legacy entries carry over (those keep their numbering in this chain)', () => {
    const old = legacyInitial(incident);
    old.begun = true;
    old.connectors = CONNECTORS;
    old.links = { pagerduty: { connectorId: 'pagerduty', provider: 'pagerduty', status: 'open', externalRef: 'k', updatedAt: AT } };
    old.correlationCount = 7;
    old.seenSignalIds = ['a'];
    old.pending = { timeline: [{ seq: 41, at: AT, kind: 'correlated', detail: 'x' }], linkIds: ['pagerduty'], incident: true };
    old.nextSeq = 42;
    const s = fromLegacy(old, 'chain-1');
    expect(s.v).toBe(2);
    expect(s.links.pagerduty?.status).toBe('open');
    expect(s.correlation).toEqual({ count: 7, seen: ['a'] });
    expect(owedKeys(s)).toEqual(['entry:chain-1:v1-41', 'link:pagerduty', 'incident']);
    expect(s.actions).toEqual([]);
    expect(s.nextSeq).toBe(42);
  });
});
