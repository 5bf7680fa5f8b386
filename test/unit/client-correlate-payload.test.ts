/**
 * The client cuts a correlated signal's summary before signalling (src/client/index.ts, correlatePayload): the
 * workflow's timeline entry must be exactly what it would have been from the whole summary, for every signal id and
 * summary (code points outside the BMP, control characters, lengths around the cut), and the signal stays small.
 */
import fc from 'fast-check';
import { correlatePayload } from '../../src/client';
import type { CorrelateSignal } from '../../src/shared/contract';
import { CORRELATE_DETAIL_CHARS } from '../../src/shared/records';

const AT = '2026-12-01T00:00:00.500Z';
import { correlate, initialState, view } from '../../src/workflows/v2/state';

const incident = {
  id: 'inc-1', tenantId: 't1', title: 'x', severity: 'critical' as const, summary: 's', source: 'probectl', openedAt: '2026-12-01T00:00:00.000Z',
};

/** The entry the state machine records for this signal. */
function detailOf(sig: CorrelateSignal): string | undefined {
  const s = initialState(incident, 'run-1');
  correlate(s, sig, '2026-12-01T00:00:01.000Z');
  return view(s).timeline.at(-1)?.detail;
}

const text = (max: number) => fc.oneof(
  fc.string({ maxLength: max, unit: 'grapheme' }),
  fc.string({ maxLength: max, unit: 'binary' }),
  fc.string({ minLength: CORRELATE_DETAIL_CHARS - 3, maxLength: CORRELATE_DETAIL_CHARS + 3, unit: 'binary' }),
);

test('a cut summary leaves the workflow\'s entry as the whole summary would (property)', () => {
  fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 256 }), fc.option(text(4096), { nil: undefined }), (signalId, summary) => {
    const sig: CorrelateSignal = { tenantId: 't1', signalId, at: AT, ...(summary === undefined ? {} : { summary }) };
    const sent = correlatePayload(sig);
    expect(detailOf(sent)).toBe(detailOf(sig));
    if (typeof sent.summary === 'string') expect(Array.from(sent.summary).length).toBeLessThanOrEqual(CORRELATE_DETAIL_CHARS);
    expect(sent.signalId).toBe(signalId);
  }), { numRuns: 500 });
});

test.each([
  ['no summary', undefined, undefined],
  ['short', 'flap', 'flap'],
  ['exactly at the cut', 'a'.repeat(CORRELATE_DETAIL_CHARS), 'a'.repeat(CORRELATE_DETAIL_CHARS)],
  ['one over', 'a'.repeat(CORRELATE_DETAIL_CHARS + 1), `${'a'.repeat(CORRELATE_DETAIL_CHARS - 1)}…`],
  ['4,096 astral characters', '😀'.repeat(4096), `${'😀'.repeat(CORRELATE_DETAIL_CHARS - 1)}…`],
])('%s', (_what, summary, expected) => {
  const sent = correlatePayload<CorrelateSignal>({ tenantId: 't1', signalId: 'sig-1', at: AT, ...(summary === undefined ? {} : { summary }) });
  expect(sent.summary).toBe(expected);
});
