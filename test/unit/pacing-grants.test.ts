/**
 * The pacing checks the e2e and cluster tests use (test/helpers/pacing-grants.ts) have teeth: whatever a real token
 * bucket grants passes, and one grant too many — anywhere — is caught; an arrival before its grant is caught.
 */
import fc from 'fast-check';
import { TokenBucket, capacityFor } from '../../src/activities/pacing';
import { arrivalBeforeItsGrant, bucketBreach, pacingBreaches, type PaceGrant } from '../helpers/pacing-grants';

/** What a TokenBucket grants for attempts at `times` (sorted). */
function granted(perMinute: number, times: readonly number[]): number[] {
  const b = new TokenBucket(perMinute, times[0] ?? 0);
  return times.filter((t) => b.tryTake(t).granted);
}

const RATES = [1, 60, 100, 600, 1_200, 6_000];

test('whatever a token bucket grants keeps the bound (any rate, any attempts)', () => {
  fc.assert(
    fc.property(fc.constantFrom(...RATES), fc.array(fc.integer({ min: 0, max: 120_000 }), { minLength: 1, maxLength: 400 }), (rate, raw) => {
      const times = [...raw].sort((a, b) => a - b);
      expect(bucketBreach(granted(rate, times), rate, capacityFor(rate))).toBeUndefined();
    }),
    { numRuns: 300 },
  );
});

test('one grant more than a saturated bucket gives, at any offset, is caught', () => {
  fc.assert(
    fc.property(fc.constantFrom(...RATES.filter((r) => r >= 60)), fc.double({ min: 0, max: 1, noNaN: true }), (rate, where) => {
      const interval = 60_000 / rate;
      // Attempts every millisecond for 20 intervals: the bucket is saturated throughout.
      const saturated = granted(rate, Array.from({ length: Math.ceil(20 * interval) }, (_, i) => i));
      expect(bucketBreach(saturated, rate, capacityFor(rate))).toBeUndefined();
      const extra = Math.floor(where * (saturated.at(-1)! + 1));
      expect(bucketBreach([...saturated, extra], rate, capacityFor(rate))).toMatch(/grants in/);
    }),
    { numRuns: 200 },
  );
});

test('the shared bucket and each worker\'s share are checked apart: each keeps its own bound, none borrows another\'s', () => {
  const rate = 600;
  const share = rate / 3;
  const attempts = Array.from({ length: 5_000 }, (_, i) => i);
  const grants: PaceGrant[] = [
    ...granted(rate, attempts).map((at) => ({ source: 'shared' as const, at, worker: 0 })),
    ...[1, 2].flatMap((w) => granted(share, attempts).map((at) => ({ source: 'local' as const, at, worker: w }))),
  ];
  expect(pacingBreaches(grants, rate, 3)).toEqual([]);
  // A worker's share granting at the whole rate, or the shared bucket granting twice over, is caught.
  expect(pacingBreaches([...grants, ...granted(rate, attempts).map((at) => ({ source: 'local' as const, at, worker: 3 }))], rate, 3)).toEqual([expect.stringMatching(/^worker 3's share/)]);
  expect(pacingBreaches([...grants, { source: 'shared', at: 2_500, worker: 1 }], rate, 3)).toEqual([expect.stringMatching(/^shared bucket/)]);
});

test.each([
  ['every arrival after its grant', [10, 20, 30], [5.5, 20, 29.2], undefined],
  ['more grants than arrivals (a grant whose waiter left)', [10, 20], [1, 2, 3], undefined],
  ['the whole ms of a fractional grant', [20], [20.9], undefined],
  ['an arrival before the k-th grant', [10, 11, 30], [5, 12, 13], /arrival #1/],
  ['fewer grants than arrivals', [10, 20], [5], /2 arrivals but only 1 grants/],
])('arrivals against grants: %s', (_what, arrivals, grants, expected) => {
  const r = arrivalBeforeItsGrant(arrivals, grants);
  if (expected) expect(r).toMatch(expected);
  else expect(r).toBeUndefined();
});
