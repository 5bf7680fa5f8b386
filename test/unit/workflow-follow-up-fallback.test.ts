/**
 * The workflow's fallback for follow-ups (src/workflows/v2/records.ts takeFollowUps, used by the flusher when a
 * record write fails): follow-ups that only the failed write carried are handed to the workflow to carry out
 * itself; one still carried by another write stays owed (never carried out twice); entries stay owed.
 */
import type { LeasedFollowUp } from '../../src/db/follow-up-store';
import { reResolve } from '../../src/followups/re-resolve';
import { ticketClose } from '../../src/followups/ticket-close';
import type { Incident } from '../../src/shared/contract';
import type { FollowUpRecord } from '../../src/shared/records';
import { attach, release, takeFollowUps, unattached } from '../../src/workflows/v2/records';
import { begin, initialState, ownFollowUpDone, ownFollowUps, planResolve, resolve, settled, ticketCloseKey } from '../../src/workflows/v2/state';

const AT = '2026-11-30T12:00:00.000Z';
const incident: Incident = { id: 'inc-1', tenantId: 'acme', title: 'Packet loss', severity: 'error', openedAt: AT };

function resolvedWithPager() {
  const s = initialState(incident, 'run-1');
  begin(s, { connectors: [{ id: 'pagerduty', provider: 'pagerduty' }], settings: { pagerReResolveDelayMs: 60_000 }, mirror: { available: true } }, AT);
  const open = s.actions[0]!;
  open.running = true;
  settled(s, open.id, { ok: true, recorded: true, externalRef: 'probectl-inc-1' }, AT);
  resolve(s, { tenantId: 'acme', source: 'api', at: AT }, AT);
  planResolve(s, AT);
  const res = s.actions[0]!;
  res.running = true;
  // (the callback decided with the fan-out rode with the resolve call; it could not record, so it is owed again)
  for (const i of s.outbox) i.carriers = i.carriers.filter((c) => c !== res.id);
  // The resolve call could not record (Postgres down): the workflow owes its outcome and the second resolve.
  settled(s, res.id, { ok: true, recorded: false }, AT);
  return s;
}

describe('a failed record write hands its follow-ups to the workflow', () => {
  test('follow-ups only the failed write carried leave the outbox; entries and links stay owed', () => {
    const s = resolvedWithPager();
    const owed = s.outbox.length;
    attach(s.outbox, 'record:9');
    const taken = takeFollowUps(s.outbox, 'record:9');
    expect(taken.map((f) => f.kind).sort()).toEqual(['callback', 're-resolve']);
    expect(taken.find((f) => f.kind === 're-resolve')?.key).toBe('run-1:re-resolve:pagerduty');
    release(s.outbox, 'record:9');
    expect(s.outbox).toHaveLength(owed - 2);
    expect(s.outbox.some((i) => 'followUp' in i)).toBe(false);
    expect(unattached(s.outbox)).toHaveLength(owed - 2); // the rest is written by the next attempt
    ownFollowUps(s, taken);
    expect(s.ownFollowUps.map((o) => o.followUp.kind).sort()).toEqual(['callback', 're-resolve']);
  });

  test('a follow-up another write still carries stays owed: it is never both recorded and carried out', () => {
    const s = resolvedWithPager();
    attach(s.outbox, 'record:9');
    attach(s.outbox, 'acknowledge:x:7');
    expect(takeFollowUps(s.outbox, 'record:9')).toEqual([]);
    release(s.outbox, 'record:9');
    expect(s.outbox.filter((i) => 'followUp' in i)).toHaveLength(2);
  });
});

describe('the workflow and the runner record a follow-up\'s outcome under the same key', () => {
  // Proves: a follow-up may be carried out by both the runner and the workflow (a write that committed but lost its
  // answer; docs/workflow-contract.md, "Follow-ups"), and that is harmless only if both record the same keyed
  // entries. The runner keys an outcome `${followUp.key}:failed` (src/followups/re-resolve.ts, ticket-close.ts);
  // the workflow's fallback (ownFollowUpDone) passed the same full key to note(), which prefixes the chain again
  // (`<chain>:<chain>:re-resolve:…`), so the timeline got the outcome twice.
  const row = (followUp: FollowUpRecord): LeasedFollowUp => ({
    id: '1', tenantId: 'acme', incidentId: incident.id, key: followUp.key, incident, followUp, firstDueAt: AT, attempts: 1, leaseToken: 't',
  });
  const ownOutcomeKey = (s: ReturnType<typeof initialState>, f: FollowUpRecord, out: { ok: boolean; found?: boolean; reason?: string }) => {
    s.outbox.length = 0;
    ownFollowUps(s, [f]);
    ownFollowUpDone(s, f.key, out, AT);
    return s.outbox.flatMap((i) => ('entry' in i ? [i.entry.key] : []));
  };

  test('a second resolve that failed for good', () => {
    const s = resolvedWithPager();
    const f = takeFollowUps((attach(s.outbox, 'record:9'), s.outbox), 'record:9').find((x) => x.kind === 're-resolve')!;
    const runner = reResolve.failed(row(f), { reason: 'HTTP 400', type: 'ProviderRejected', expired: false }, AT).record!.entries!.map((e) => e.key);
    expect(ownOutcomeKey(s, f, { ok: false, reason: 'HTTP 400' })).toEqual(runner);
  });

  test('a lookup-and-close pass that failed for good', () => {
    const s = initialState(incident, 'run-1');
    begin(s, { connectors: [{ id: 'servicenow', provider: 'servicenow' }], settings: { pagerReResolveDelayMs: 60_000 }, mirror: { available: true } }, AT);
    const f: FollowUpRecord = { key: ticketCloseKey(s, 'servicenow', 2), kind: 'ticket-close', dueAt: AT, connectorId: 'servicenow', resolution: { source: 'api' }, pass: 2 };
    const runner = ticketClose.failed(row(f), { reason: 'HTTP 400', type: 'ProviderRejected', expired: false }, AT).record!.entries!.map((e) => e.key);
    expect(ownOutcomeKey(s, f, { ok: false, reason: 'HTTP 400' })).toEqual(runner);
  });
});
