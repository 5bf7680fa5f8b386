import { hasMirrorWork, initialState, MAX_SEEN_SIGNAL_IDS, MAX_TIMELINE_IN_STATE, record, rememberSignal, setLink, takeMirrorBatch, view } from '../../src/workflows/legacy/state-v1';

const incident = { id: 'i-1', tenantId: 't1', title: 'x', severity: 'error' as const, openedAt: '2026-11-27T10:00:00Z' };
const pd = { id: 'pagerduty', provider: 'pagerduty' as const };

describe('workflow state (pure transitions)', () => {
  test('timeline entries get increasing seq and the state keeps only the latest', () => {
    const s = initialState(incident);
    for (let i = 0; i < MAX_TIMELINE_IN_STATE + 20; i++) record(s, '2026-11-27T10:00:00Z', 'correlated', { detail: String(i) });
    expect(s.timeline).toHaveLength(MAX_TIMELINE_IN_STATE);
    expect(s.timeline[0]!.seq).toBe(21);
    expect(s.nextSeq).toBe(MAX_TIMELINE_IN_STATE + 21);
  });

  test('mirror batches drain what is pending, in order, bounded', () => {
    const s = initialState(incident);
    setLink(s, pd, 't', 'pending');
    setLink(s, pd, 't', 'open', { externalRef: 'probectl-i-1' });
    for (let i = 0; i < 250; i++) record(s, 't', 'correlated');
    const first = takeMirrorBatch(s);
    expect(first.links).toEqual([expect.objectContaining({ connectorId: 'pagerduty', status: 'open', externalRef: 'probectl-i-1' })]);
    expect(first.timeline).toHaveLength(200);
    expect(hasMirrorWork(s)).toBe(true);
    const second = takeMirrorBatch(s);
    expect(second.timeline.map((t) => t.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 201 + i));
    expect(second.links).toEqual([]);
    expect(hasMirrorWork(s)).toBe(false);
  });

  test('a failed link keeps its error; a later success clears it', () => {
    const s = initialState(incident);
    setLink(s, pd, 't', 'failed', { error: 'HTTP 500' });
    expect(s.links.pagerduty!.error).toBe('HTTP 500');
    setLink(s, pd, 't', 'open', { externalRef: 'k' });
    expect(s.links.pagerduty!.error).toBeUndefined();
  });

  test('signal ids: duplicates refused, memory bounded', () => {
    const s = initialState(incident);
    expect(rememberSignal(s, 'a')).toBe(true);
    expect(rememberSignal(s, 'a')).toBe(false);
    for (let i = 0; i < MAX_SEEN_SIGNAL_IDS + 10; i++) rememberSignal(s, `s${i}`);
    expect(s.seenSignalIds).toHaveLength(MAX_SEEN_SIGNAL_IDS);
  });

  test('the state round-trips through JSON (it crosses continue-as-new)', () => {
    const s = initialState(incident);
    setLink(s, pd, 't', 'open', { externalRef: 'k' });
    record(s, 't', 'opened');
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    expect(view(s).links).toHaveLength(1);
  });
});
