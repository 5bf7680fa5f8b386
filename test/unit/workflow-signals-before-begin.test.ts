/**
 * Signals that reach a first run before its begin (src/workflows/v2/state.ts begin): the SDK delivers signals buffered
 * before the first task when the handlers are registered (incident-v2.ts listen), before the begin, and one that arrives
 * while the beginIncident local activity runs is delivered before the begin too. The family: acknowledge, resolve,
 * correlate, redrive and a refused signal × a begin that opens fresh, adopts the mirror's links, finds the incident
 * resolved in the mirror, or cannot read the mirror — each compared with the same signal after the begin. The
 * acknowledge before a begin that adopts open pager links is patch `adopted-links-acknowledged-v1`.
 */
import type { ConnectorRef } from '../../src/config/connectors';
import type { Link } from '../../src/shared/contract';
import {
  acknowledge, begin, correlate, initialState, planResolve, redrive, rejectSignal, resolve, settled, type BeginInput, type IncidentState,
} from '../../src/workflows/v2/state';

const AT = '2026-11-30T12:00:00.000Z';
const incident = { id: 'inc-1', tenantId: 'acme', title: 'Packet loss', severity: 'error' as const, openedAt: AT };
const settings = { pagerReResolveDelayMs: 60_000, reconcileIntervalMs: 0, reissueGuardMs: 25_000 };
const CONNECTORS: ConnectorRef[] = [
  { id: 'pagerduty', provider: 'pagerduty' },
  { id: 'opsgenie', provider: 'opsgenie' },
  { id: 'slack', provider: 'slack' },
  { id: 'servicenow', provider: 'servicenow' },
];
const link = (connectorId: string, provider: Link['provider'], status: Link['status']): Link => ({ connectorId, provider, status, externalRef: `${connectorId}-ref`, updatedAt: AT });
/** A run started again: the earlier run opened both pagers and the post; its ticket create failed. */
const ADOPTED: Link[] = [link('pagerduty', 'pagerduty', 'open'), link('opsgenie', 'opsgenie', 'open'), link('slack', 'slack', 'open'), link('servicenow', 'servicenow', 'failed')];
const BEGINS: Record<string, BeginInput['mirror']> = {
  fresh: { available: true },
  adopt: { available: true, record: { status: 'open', links: ADOPTED } },
  'mirror resolved': { available: true, record: { status: 'resolved', resolutionSource: 'pagerduty', links: ADOPTED.map((l) => ({ ...l, status: 'resolved' as const })) } },
  'mirror down': { available: false },
};

type Signal = 'acknowledge' | 'acknowledge from pagerduty' | 'resolve' | 'correlate' | 'redrive' | 'refused';
const deliver: Record<Signal, (s: IncidentState) => void> = {
  acknowledge: (s) => void acknowledge(s, { tenantId: 'acme', source: 'api', actor: 'carol', at: AT }, AT),
  'acknowledge from pagerduty': (s) => void acknowledge(s, { tenantId: 'acme', source: 'pagerduty', at: AT }, AT),
  resolve: (s) => void resolve(s, { tenantId: 'acme', source: 'api', at: AT }, AT),
  correlate: (s) => void correlate(s, { tenantId: 'acme', signalId: 'sig-1', at: AT }, AT),
  redrive: (s) => void redrive(s, { tenantId: 'acme', connectorId: 'servicenow', at: AT }, AT),
  refused: (s) => rejectSignal(s, AT, 'tenant mismatch'),
};

/** The decisions of a first run: the actions, the links, the resolve fan-out once every open has landed, the entries it records. */
function decisions(s: IncidentState) {
  const actions = s.actions.map((a) => `${a.kind}:${a.connectorId}`).sort();
  const links = Object.fromEntries(Object.entries(s.links).map(([id, l]) => [id, l.status]));
  for (const a of s.actions) a.running = true;
  for (const a of [...s.actions]) if (a.kind === 'open') settled(s, a.id, { ok: true, recorded: true, externalRef: `${a.connectorId}-ref` }, AT);
  const acks = s.actions.filter((a) => a.kind === 'acknowledge').map((a) => a.connectorId).sort();
  for (const a of [...s.actions]) if (a.kind === 'acknowledge') settled(s, a.id, { ok: true, recorded: true }, AT);
  if (!s.resolution) resolve(s, { tenantId: 'acme', source: 'probectl', at: AT }, AT);
  planResolve(s, AT);
  const resolves = s.actions.filter((a) => a.kind === 'resolve').map((a) => a.connectorId).sort();
  return { status: s.status, actions, links, acks, resolves, entries: s.recent.map((e) => e.kind).sort() };
}

function run(mirror: BeginInput['mirror'], signal: Signal, before: boolean, gate: () => boolean = () => true) {
  const s = initialState(incident, 'run-1');
  if (before) deliver[signal](s);
  begin(s, { connectors: CONNECTORS, settings, mirror }, AT, gate);
  if (!before) deliver[signal](s);
  return s;
}

describe('a signal before the begin decides as the same signal after it', () => {
  // Where the order still decides differently (reported, not changed here; docs/workflow-contract.md, "Links"):
  const DIFFERS: Array<[Signal, string, string]> = [
    // the connectors the begin did not adopt get no resolve (after it, their opens are decided, dropped and resolved by
    // key): harmless when nothing was opened before (fresh), but after a run that may have sent opens it never recorded
    // (a record the begin adopts from, a mirror it cannot read) such a page is never resolved;
    ['resolve', 'fresh', 'nothing opened: no resolve (after the begin: every connector resolved by key)'],
    ['resolve', 'adopt', 'connectors not adopted (the failed ticket) get no resolve'],
    ['resolve', 'mirror down', 'nothing resolved, though a run before may have opened'],
    ['resolve', 'mirror resolved', 'the signal\'s resolution is recorded instead of the mirror\'s'],
    // an acknowledge of an incident the mirror holds resolved is still recorded (and told to probectl);
    ['acknowledge', 'mirror resolved', 'recorded, and probectl told'],
    ['acknowledge from pagerduty', 'mirror resolved', 'recorded, and probectl told'],
    // a redrive is refused (no connector known yet): harmless, since the begin opens a failed or missing link anyway.
    ['redrive', 'fresh', 'refused: no connector known yet'],
    ['redrive', 'adopt', 'refused: no connector known yet'],
    ['redrive', 'mirror down', 'refused: no connector known yet'],
  ];
  const CASES = (Object.keys(deliver) as Signal[]).flatMap((signal) => Object.keys(BEGINS).map((b) => [signal, b] as const));

  test.each(CASES.filter(([signal, b]) => !DIFFERS.some(([x, y]) => x === signal && y === b)))('%s, begin %s: the same decisions', (signal, b) => {
    const mirror = BEGINS[b]!;
    expect(decisions(run(mirror, signal, true))).toEqual(decisions(run(mirror, signal, false)));
  });

  test.each(DIFFERS)('%s, begin %s: differs (known: %s)', (signal, b) => {
    const mirror = BEGINS[b]!;
    expect(decisions(run(mirror, signal, true))).not.toEqual(decisions(run(mirror, signal, false)));
  });
});

describe('adopted-links-acknowledged-v1: acknowledged before a begin that adopts open pagers', () => {
  test('both adopted pagers get their acknowledge; the post and the re-opened ticket none; asked once', () => {
    let asked = 0;
    const s = run(BEGINS.adopt!, 'acknowledge', true, () => (asked++, true));
    expect(asked).toBe(1);
    expect(s.actions.map((a) => `${a.kind}:${a.connectorId}`).sort()).toEqual(['acknowledge:opsgenie', 'acknowledge:pagerduty', 'open:servicenow']);
    expect(s.status).toBe('acknowledged');
  });

  test('acknowledged at PagerDuty: its own link is marked acknowledged, never echoed; Opsgenie is acknowledged', () => {
    let asked = 0;
    const s = run(BEGINS.adopt!, 'acknowledge from pagerduty', true, () => (asked++, true));
    expect(asked).toBe(1);
    expect(s.links.pagerduty?.status).toBe('acknowledged');
    expect(s.outbox.map((i) => i.key)).toContain('link:pagerduty');
    expect(s.actions.filter((a) => a.kind === 'acknowledge').map((a) => a.connectorId)).toEqual(['opsgenie']);
  });

  test('the patch answering no (a run recorded before it): no acknowledge and the origin left open, as before', () => {
    const s = run(BEGINS.adopt!, 'acknowledge from pagerduty', true, () => false);
    expect(s.actions.filter((a) => a.kind === 'acknowledge')).toEqual([]);
    expect(s.links.pagerduty?.status).toBe('open');
    expect(s.outbox.map((i) => i.key)).not.toContain('link:pagerduty');
  });

  test('only the origin adopted open: asked once, for the mark alone (a state a run before the patch did not reach)', () => {
    let asked = 0;
    const s = initialState(incident, 'run-1');
    deliver['acknowledge from pagerduty'](s);
    begin(s, { connectors: CONNECTORS, settings, mirror: { available: true, record: { status: 'open' as const, links: [link('pagerduty', 'pagerduty', 'open')] } } }, AT, () => (asked++, true));
    expect(asked).toBe(1);
    expect(s.links.pagerduty?.status).toBe('acknowledged');
    expect(s.actions.filter((a) => a.kind === 'acknowledge')).toEqual([]);
  });

  test.each([
    ['a fresh begin (its opens are acknowledged once they land)', BEGINS.fresh!, 'acknowledge' as Signal],
    ['a begin that cannot read the mirror', BEGINS['mirror down']!, 'acknowledge' as Signal],
    ['a begin that finds the incident resolved', BEGINS['mirror resolved']!, 'acknowledge' as Signal],
    ['adopted pagers already acknowledged', { available: true, record: { status: 'acknowledged' as const, links: [link('pagerduty', 'pagerduty', 'acknowledged'), link('opsgenie', 'opsgenie', 'acknowledged')] } }, 'acknowledge' as Signal],
    ['adopted post and ticket only', { available: true, record: { status: 'open' as const, links: [link('slack', 'slack', 'open'), link('servicenow', 'servicenow', 'open')] } }, 'acknowledge' as Signal],
    ['resolved before the begin too', BEGINS.adopt!, 'resolve' as Signal],
    ['no acknowledgement at all', BEGINS.adopt!, 'correlate' as Signal],
  ])('not asked: %s', (_what, mirror, signal) => {
    let asked = 0;
    const s = initialState(incident, 'run-1');
    deliver[signal](s);
    if (_what === 'resolved before the begin too') deliver.acknowledge(s);
    begin(s, { connectors: CONNECTORS, settings, mirror }, AT, () => (asked++, true));
    expect(asked).toBe(0);
    expect(s.actions.filter((a) => a.kind === 'acknowledge')).toEqual([]);
  });
});
