/**
 * The follow-up runner's reading of a failed attempt (src/followups/failure.ts): the wait before the next one is the
 * failure's own delay when it names a positive one, else the runner's back-off — never 0, so a row is never due again
 * at once (polled every second for days) on a `Retry-After: 0`, a past date, or any other hint of nothing.
 */
import { ApplicationFailure } from '@temporalio/common';
import fc from 'fast-check';
import { MAX_RETRY_AFTER_MS, failureFor, rateLimitDelay } from '../../src/http/classify';
import { MIN_HINT_MS, backoffMs, readFailure } from '../../src/followups/failure';
import { fuzzParams } from '../faults/fuzz';

/** The runner's own back-off for `attempts` (1 s × 2^(attempts-1), capped, ±20 %): its bounds. */
const ownBounds = (attempts: number, maxMs: number) => {
  const base = Math.min(maxMs, 1_000 * 2 ** Math.max(0, attempts - 1));
  return [Math.min(maxMs, Math.round(base * 0.8)), Math.min(maxMs, Math.round(base * 1.2))] as const;
};
const MAXES = [30_000, 5 * 60_000];

describe('follow-ups: backoffMs', () => {
  const hintArb = fc.oneof(
    fc.constantFrom(0, -0, -1, -1_000, 0.1, 0.5, 1, 999, 1_000, 1_001, MAX_RETRY_AFTER_MS, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, undefined),
    fc.double({ min: -1e9, max: 1e9 }),
    fc.integer({ min: -1e9, max: 1e9 }),
  );

  test('any hint, any attempt, any jitter: a finite wait of at least the back-off\'s first step; a positive hint is kept', () => {
    fc.assert(fc.property(hintArb, fc.integer({ min: 0, max: 60 }), fc.constantFrom(...MAXES), fc.double({ min: 0, max: 0.9999999, noNaN: true }), (hint, attempts, maxMs, r) => {
      const ms = backoffMs(attempts, maxMs, hint, () => r);
      expect(Number.isFinite(ms)).toBe(true);
      expect(ms).toBeGreaterThan(0);
      if (hint !== undefined && Number.isFinite(hint) && hint > 0) {
        expect(ms).toBe(Math.max(MIN_HINT_MS, Math.ceil(hint)));
      } else {
        // No hint (0, negative, not a number): the runner's own back-off, not a shorter wait.
        const [lo, hi] = ownBounds(attempts, maxMs);
        expect(ms).toBeGreaterThanOrEqual(lo);
        expect(ms).toBeLessThanOrEqual(hi);
      }
    }), fuzzParams(2000));
  });

  test.each([0, -5, Number.NaN])('a hint of %p is no hint: the same wait as without one', (hint) => {
    for (const attempts of [1, 2, 5, 12]) expect(backoffMs(attempts, 300_000, hint, () => 0.5)).toBe(backoffMs(attempts, 300_000, undefined, () => 0.5));
  });
});

describe('follow-ups: readFailure', () => {
  test.each([0, -1, 0.4, 1, 2_500, 20 * 60_000])('a failure whose next retry delay is %p ms', (delay) => {
    const f = readFailure(ApplicationFailure.create({ type: 'RateLimited', message: 'x', nonRetryable: false, nextRetryDelay: delay }), []);
    expect(f.retryable).toBe(true);
    expect(f.delayMs).toBe(delay > 0 ? Math.min(delay, MAX_RETRY_AFTER_MS) : undefined);
  });

  // A provider's answer as a connector classifies it, read by the runner, waited for: never at once, never shorter
  // than the path's own back-off when the provider named no wait.
  const NOW = Date.parse('2026-03-01T12:00:00Z');
  const HEADERS = [undefined, '', '0', '-1', '+5', '1,5', '1.5', '  7 ', '7', 'garbage', '999999', 'Wed, 21 Oct 2015 07:28:00 GMT',
    'Sunday, 06-Nov-94 08:49:37 GMT', new Date(NOW - 1_000).toUTCString(), new Date(NOW).toUTCString(), new Date(NOW + 30_000).toUTCString()];
  const cases = HEADERS.flatMap((h) => [429, 503, 500].flatMap((status) => [1, 3, 9].map((attempt) => [h, status, attempt] as const)));
  let clock: jest.SpyInstance<number, []>;
  beforeAll(() => {
    clock = jest.spyOn(Date, 'now').mockReturnValue(NOW);
  });
  afterAll(() => clock.mockRestore());

  test.each(cases)('Retry-After %p on HTTP %i at attempt %i', (header, status, attempt) => {
    const failure = failureFor({ status, text: '', headers: header === undefined ? {} : { 'retry-after': header } }, { label: 'Jira', action: 'transition', secrets: [], attempt })!;
    const f = readFailure(failure, []);
    expect(f.retryable).toBe(true);
    for (const maxMs of MAXES) {
      const ms = backoffMs(attempt, maxMs, f.delayMs, () => 0);
      expect(ms).toBeGreaterThan(0);
      const named = f.delayMs !== undefined && failure.details?.some((d) => typeof d === 'object' && d !== null && 'retryAfterMs' in d);
      if (named) expect(ms).toBe(f.delayMs);
      else if (status === 429) expect(ms).toBe(rateLimitDelay(attempt));
      else expect(ms).toBe(ownBounds(attempt, maxMs)[0]);
    }
  });
});
