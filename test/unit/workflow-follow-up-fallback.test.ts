/**
 * The workflow's fallback for follow-ups (src/workflows/v2/records.ts takeFollowUps, used by the flusher when a
 * record write fails): follow-ups that only the failed write carried are handed to the workflow to carry out
 * itself; one still carried by another write stays owed (never carried out twice); entries stay owed.
 */
import { attach, release, takeFollowUps, unattached } from '../../src/workflows/v2/records';
import { begin, initialState, ownFollowUps, planResolve, resolve, settled } from '../../src/workflows/v2/state';
import type { Incident } from '../../src/shared/contract';

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
