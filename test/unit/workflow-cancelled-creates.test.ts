/**
 * No post or ticket after its resolve (patch `cancelled-creates-wait-v1`, src/workflows/v2/state.ts cancelledWindows):
 * when the resolve cancels — or drops before it was scheduled — the open of a create without a provider-side key while
 * an earlier attempt of it may still land, the fan-out waits until that window has ended. The family, as plain
 * transitions (the shell's part — calls.ts setting `landsUntil` on a cut local attempt's fallback — is emulated here and
 * tested on the dev server in test/workflow/cancelled-creates.test.ts): every provider kind × the window from a hand-over's
 * `notBefore` or from a cut local attempt's fallback × the resolve before the window, during it, after it ended × with
 * or without a continue-as-new between the cancellation and the window's end.
 */
import type { ConnectorRef } from '../../src/config/connectors';
import { begin, handover, initialState, planResolve, resolve, settled, type IncidentState } from '../../src/workflows/v2/state';

const T0 = Date.parse('2026-11-30T12:00:00.000Z');
const t = (s: number) => new Date(T0 + s * 1000).toISOString();
const incident = { id: 'inc-1', tenantId: 'acme', title: 'Packet loss', severity: 'error' as const, openedAt: t(0) };
/** The guard of a hand-over (heartbeat timeout + request timeout + margin) and of a cut local attempt's fallback. */
const GUARD_S = 25;
const settings = { pagerReResolveDelayMs: 5_000, reconcileIntervalMs: 0, reissueGuardMs: GUARD_S * 1000, localFirstOpenMs: 3_000 };
const KINDS: ReadonlyArray<[ConnectorRef['provider'], 'pager' | 'chat' | 'ticket']> = [
  ['pagerduty', 'pager'], ['opsgenie', 'pager'], ['slack', 'chat'], ['teams', 'chat'], ['servicenow', 'ticket'], ['jira', 'ticket'],
];
/** The connector under test, and a PagerDuty link that opened (the fan-out resolves it too). */
const connectorsFor = (provider: ConnectorRef['provider']): ConnectorRef[] =>
  provider === 'pagerduty' ? [{ id: 'pagerduty', provider }] : [{ id: provider, provider }, { id: 'pagerduty', provider: 'pagerduty' }];

const openOf = (s: IncidentState, id: string) => s.actions.find((a) => a.kind === 'open' && a.connectorId === id)!;
const resolvesOf = (s: IncidentState) => s.actions.filter((a) => a.kind === 'resolve').map((a) => a.connectorId).sort();

/** A begun incident whose other opens landed; the one under test (`id`) is running. */
function running(provider: ConnectorRef['provider']): IncidentState {
  const s = initialState(incident, 'run-1');
  begin(s, { connectors: connectorsFor(provider), settings, mirror: { available: true } }, t(0));
  for (const a of s.actions) a.running = true;
  for (const a of [...s.actions]) if (a.connectorId !== provider) settled(s, a.id, { ok: true, recorded: true, externalRef: 'k' }, t(1));
  return s;
}

/** planResolve as the shell calls it, counting how often the patch is asked. */
function plan(s: IncidentState, at: string, answer = true) {
  let asked = 0;
  const decided = planResolve(s, at, () => false, () => (asked++, answer));
  return { decided, asked };
}

type Source = 'hand-over' | 'fallback';
type When = 'before' | 'during' | 'after';

/**
 * The incident with the open of `provider` in its window, resolved `when` (relative to the window), the cancellation
 * settled. Returns the state the fan-out is planned in, the window's end, and when the resolve came.
 */
function cancelled(provider: ConnectorRef['provider'], source: Source, when: When) {
  let s = running(provider);
  const id = openOf(s, provider).id;
  let windowEnd: string | undefined;
  let at: string;
  if (source === 'hand-over') {
    // A continue-as-new at t(2) interrupts the open; the next run re-issues it, a create without a provider-side key not
    // before the guard (the interrupted attempt certainly stopped), and the activity waits for that.
    s = handover(s, t(2));
    windowEnd = openOf(s, provider).notBefore;
    if (when === 'before') {
      // The resolve reaches the next run before its loop scheduled the re-issue (delivered with the handlers): dropped.
      at = t(3);
      resolve(s, { tenantId: 'acme', source: 'api', at }, at);
    } else {
      openOf(s, provider).running = true;
      at = when === 'during' ? t(10) : t(2 + GUARD_S + 5);
      resolve(s, { tenantId: 'acme', source: 'api', at }, at);
      settled(s, id, { ok: false, cancelled: true }, at);
    }
  } else {
    // The local first attempt, cut by its 3 s limit at t(3), goes on after a timer of the guard (calls.ts settleLocal), which
    // sets landsUntil for a create without a provider-side key.
    const open = openOf(s, provider);
    const settle = t(3);
    if (provider !== 'pagerduty' && provider !== 'opsgenie') open.landsUntil = new Date(Date.parse(settle) + GUARD_S * 1000).toISOString();
    windowEnd = open.landsUntil;
    if (when === 'before') {
      // The resolve came while the attempt ran (the attempts outlived their task): settleLocal finds it cancelled.
      resolve(s, { tenantId: 'acme', source: 'api', at: t(2) }, t(2));
      at = settle;
    } else {
      at = when === 'during' ? t(10) : t(3 + GUARD_S + 5); // during the timer, or after it fired (the ordinary open runs)
      resolve(s, { tenantId: 'acme', source: 'api', at }, at);
    }
    settled(s, id, { ok: false, cancelled: true }, at);
  }
  return { s, windowEnd, at };
}

const CASES = KINDS.flatMap(([provider, kind]) => (['hand-over', 'fallback'] as const).flatMap((source) => (['before', 'during', 'after'] as const).map((when) => [provider, kind, source, when] as const)));

describe('cancelled-creates-wait-v1: the fan-out waits for a cancelled create that may still land', () => {
  test.each(CASES)('%s (%s), window from a %s, resolve %s it: waits exactly when a create may still land', (provider, kind, source, when) => {
    const { s, windowEnd, at } = cancelled(provider, source, when);
    const waits = kind !== 'pager' && when !== 'after';
    if (kind === 'pager') expect(windowEnd).toBeUndefined();
    else expect(windowEnd).toEqual(expect.any(String));
    const first = plan(s, at);
    // Asked once, only where the wait moves the fan-out later; a pager is never asked (its second resolve covers it).
    expect({ decided: first.decided, asked: first.asked }).toEqual({ decided: !waits, asked: waits ? 1 : 0 });
    if (waits) {
      expect(s.resolveNotBefore).toBe(windowEnd);
      const justBefore = new Date(Date.parse(windowEnd!) - 1).toISOString();
      expect(plan(s, justBefore)).toEqual({ decided: false, asked: 0 });
      expect(plan(s, windowEnd!)).toEqual({ decided: true, asked: 0 });
    }
    expect(resolvesOf(s)).toEqual(connectorsFor(provider).map((c) => c.id).sort());
    expect(s.cancelledWindows).toBeUndefined();
  });

  test.each(CASES.filter(([, kind, , when]) => kind !== 'pager' && when !== 'after'))('%s (%s), window from a %s, resolve %s it, a run recorded before the patch: fans out at once, as it did', (provider, _kind, source, when) => {
    const { s, at } = cancelled(provider, source, when);
    expect(plan(s, at, false)).toEqual({ decided: true, asked: 1 });
    expect(s.resolveNotBefore).toBeUndefined();
    expect(resolvesOf(s)).toEqual(connectorsFor(provider).map((c) => c.id).sort());
  });

  // A continue-as-new between the cancellation and the window's end: what the next run carries.
  test.each(CASES.filter(([, kind, , when]) => kind !== 'pager' && when !== 'after'))('%s (%s), window from a %s, resolve %s it, then a continue-as-new during the wait: the next run waits too, without asking again', (provider, _kind, source, when) => {
    const { s, windowEnd, at } = cancelled(provider, source, when);
    expect(plan(s, at)).toEqual({ decided: false, asked: 1 });
    const next = handover(s, at);
    expect(next.resolveNotBefore).toBe(windowEnd);
    const mid = new Date((Date.parse(at) + Date.parse(windowEnd!)) / 2).toISOString();
    expect(plan(next, mid)).toEqual({ decided: false, asked: 0 });
    expect(plan(next, windowEnd!)).toEqual({ decided: true, asked: 0 });
  });

  test.each(CASES.filter(([, kind, , when]) => kind !== 'pager' && when !== 'after'))('%s (%s), window from a %s, resolve %s it, the fan-out held by an acknowledgement in flight across a continue-as-new: the next run asks and waits', (provider, _kind, source, when) => {
    const { s, windowEnd, at } = cancelled(provider, source, when);
    // An acknowledgement still running holds the fan-out (its window not yet weighed, the patch not asked).
    s.actions.push({ id: 'acknowledge:pagerduty:99', kind: 'acknowledge', connectorId: 'pagerduty', running: true });
    expect(plan(s, at)).toEqual({ decided: false, asked: 0 });
    const next = handover(s, at);
    expect(next.cancelledWindows).toEqual({ [provider]: windowEnd });
    expect(next.resolveNotBefore).toBeUndefined();
    // The next run: the acknowledgement is moot (resolved), not scheduled again; the window is weighed now.
    expect(plan(next, at)).toEqual({ decided: false, asked: 1 });
    expect(next.resolveNotBefore).toBe(windowEnd);
    expect(plan(next, windowEnd!)).toEqual({ decided: true, asked: 0 });
  });

  test('a cancelled open still running at a continue-as-new: the guard the hand-over sets covers it; the patch is not asked', () => {
    for (const source of ['hand-over', 'fallback'] as const) {
      let s = running('slack');
      if (source === 'hand-over') {
        s = handover(s, t(2));
        openOf(s, 'slack').running = true;
      } else {
        openOf(s, 'slack').landsUntil = t(3 + GUARD_S);
      }
      resolve(s, { tenantId: 'acme', source: 'api', at: t(10) }, t(10));
      expect(plan(s, t(10))).toEqual({ decided: false, asked: 0 }); // the cancellation has not completed
      const next = handover(s, t(11));
      expect(next.resolveNotBefore).toBe(t(11 + GUARD_S));
      expect(plan(next, t(20))).toEqual({ decided: false, asked: 0 });
      expect(plan(next, t(11 + GUARD_S))).toEqual({ decided: true, asked: 0 });
      expect(resolvesOf(next)).toEqual(['pagerduty', 'slack']);
    }
  });

  test('several windows: asked once, waits until the last; the origin\'s own window is not waited for', () => {
    const s = initialState(incident, 'run-1');
    const connectors: ConnectorRef[] = [{ id: 'slack', provider: 'slack' }, { id: 'jira', provider: 'jira' }, { id: 'servicenow', provider: 'servicenow' }];
    begin(s, { connectors, settings, mirror: { available: true } }, t(0));
    for (const a of s.actions) a.running = true;
    const next = handover(s, t(2)); // all three re-issued not before t(27)
    for (const a of next.actions) a.running = true;
    openOf(next, 'jira').landsUntil = t(40); // (as if) its window ended later
    resolve(next, { tenantId: 'acme', source: 'servicenow', at: t(5) }, t(5));
    for (const a of [...next.actions]) settled(next, a.id, { ok: false, cancelled: true }, t(5));
    expect(next.cancelledWindows).toEqual({ slack: t(27), jira: t(40), servicenow: t(27) });
    expect(plan(next, t(5))).toEqual({ decided: false, asked: 1 });
    expect(next.resolveNotBefore).toBe(t(40));
    expect(plan(next, t(40))).toEqual({ decided: true, asked: 0 });
    expect(resolvesOf(next)).toEqual(['jira', 'slack']); // servicenow is the origin: marked, never called

    // Only the origin had a window: nothing to wait for, nothing asked.
    const o = initialState(incident, 'run-1');
    begin(o, { connectors: [{ id: 'servicenow', provider: 'servicenow' }, { id: 'pagerduty', provider: 'pagerduty' }], settings, mirror: { available: true } }, t(0));
    for (const a of o.actions) a.running = true;
    const onext = handover(o, t(2));
    resolve(onext, { tenantId: 'acme', source: 'servicenow', at: t(5) }, t(5));
    expect(onext.cancelledWindows).toEqual({ servicenow: t(27) });
    expect(plan(onext, t(5))).toEqual({ decided: true, asked: 0 });
  });

  test('an open that was never under way before (a first open, a redrive\'s, one backed off after a 5xx) has no window: resolved at once, nothing asked', () => {
    const s = running('slack');
    resolve(s, { tenantId: 'acme', source: 'api', at: t(2) }, t(2));
    settled(s, openOf(s, 'slack').id, { ok: false, cancelled: true }, t(2));
    expect(s.cancelledWindows).toBeUndefined();
    expect(plan(s, t(2))).toEqual({ decided: true, asked: 0 });
    // Dropped before it was scheduled, never re-issued: no window either.
    const d = initialState(incident, 'run-1');
    begin(d, { connectors: connectorsFor('jira'), settings, mirror: { available: true } }, t(0));
    resolve(d, { tenantId: 'acme', source: 'api', at: t(0) }, t(0));
    expect(d.cancelledWindows).toBeUndefined();
    expect(plan(d, t(0))).toEqual({ decided: true, asked: 0 });
  });

  test('carried state of an earlier release (no windows) plans as before; the field round-trips as JSON', () => {
    const { s } = cancelled('teams', 'hand-over', 'during');
    expect(JSON.parse(JSON.stringify(handover(s, t(11))))).toEqual(handover(s, t(11)));
    delete s.cancelledWindows;
    expect(plan(s, t(10))).toEqual({ decided: true, asked: 0 });
  });
});
