/**
 * The pacing checks the e2e and cluster tests use (test/helpers/pacing-grants.ts) have teeth: whatever a real token
 * bucket grants passes, and one grant too many — anywhere — is caught; an arrival before its grant is caught; and
 * the pacer reports a grant only for a token that was spent, so a correct pacer passes them.
 */
import fc from 'fast-check';
import { Pacer, TokenBucket, capacityFor } from '../../src/activities/pacing';
import { Secret } from '../../src/config/secret';
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a local token whose waiter left (it gave up while the pump waited on a hung store) is given back, not reported as a grant: the checks see one grant per token', async () => {
  let now = 0;
  let mode: 'reject' | 'hang' = 'reject';
  const store = {
    take: () => (mode === 'reject' ? Promise.reject(new Error('store down')) : new Promise<never>(() => undefined)),
    hold: async () => undefined,
    reserve: async () => undefined,
  };
  const grants: PaceGrant[] = [];
  const pacer = new Pacer({
    now: () => now, store, keySecret: new Secret('k'.repeat(32)), workers: 1, storeTimeoutMs: 100, storeCircuitMs: 5_000, maxWaitMs: 30,
    onGrant: (g) => void grants.push({ source: g.source, at: g.at, worker: 0 }),
  });
  const c = { id: 'pd', provider: 'pagerduty' as const, url: new Secret('https://events.example/v2/enqueue'), credential: new Secret('R0UT1NG'), settings: {}, ratePerMin: 60 } as unknown as Parameters<Pacer['take']>[0];
  await pacer.take(c).catch(() => undefined); // store fails: fallback, share emptied at t=0
  await sleep(1_200);
  now = 6_000; mode = 'hang'; // circuit closed, 1 token in the share; the store now hangs
  await expect(pacer.take(c)).rejects.toThrow(/paced/); // deferred at 30 ms while the pump waits 100 ms on the store
  await sleep(150); // the pump falls back: local grant, no waiter, giveBack
  now = 6_001;
  await pacer.take(c); // the same token, granted again
  expect(pacingBreaches(grants, 60, 1)).toEqual([]);
});
