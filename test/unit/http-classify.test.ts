import { PAGE_MAX_BACKOFF_MS } from '../../src/workflows/activity-options';
import { ApplicationFailure } from '@temporalio/common';
import fc from 'fast-check';
import {
  classify, failureFor, parseHttpDate, parseRetryAfter, providerRetryAfter, rateLimitDelay, unavailableBackoff, MAX_RETRY_AFTER_MS, MAX_UNAVAILABLE_RETRY_AFTER_MS, MIN_RETRY_AFTER_MS,
} from '../../src/http/classify';
import { fuzzParams } from '../faults/fuzz';

const res = (status: number, text = '', headers: Record<string, string> = {}) => ({ status, text, headers });
const opts = { label: 'PagerDuty', action: 'trigger', secrets: ['sekret-routing-key'] };

describe('classify: the one place that decides retry or give up', () => {
  test.each(Array.from({ length: 500 }, (_, i) => i + 100))('HTTP %i', (status) => {
    const f = failureFor(res(status), opts);
    if (status >= 200 && status < 300) {
      expect(f).toBeUndefined();
      return;
    }
    expect(f).toBeInstanceOf(ApplicationFailure);
    const retried = status === 408 || status === 429 || status >= 500;
    expect({ status, nonRetryable: f!.nonRetryable }).toEqual({ status, nonRetryable: !retried });
    if (status === 401 || status === 403) expect(f!.type).toBe('AuthRejected');
    if (status === 429) expect(f!.type).toBe('RateLimited');
  });

  test('429 honours Retry-After in seconds and as an HTTP date, capped', () => {
    expect(failureFor(res(429, '', { 'retry-after': '7' }), opts)!.nextRetryDelay).toBe(7000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('999999')).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  test('429 without Retry-After backs off, growing with the attempt', () => {
    const first = failureFor(res(429), { ...opts, attempt: 1 })!.nextRetryDelay;
    const third = failureFor(res(429), { ...opts, attempt: 3 })!.nextRetryDelay;
    expect(first).toBe(rateLimitDelay(1));
    expect(third).toBe(rateLimitDelay(3));
    expect(Number(third)).toBeGreaterThan(Number(first));
  });

  test('provider-documented transient statuses can be added', () => {
    expect(failureFor(res(409), { ...opts, retryStatuses: [409] })!.nonRetryable).toBe(false);
  });

  test('the message carries a scrubbed excerpt of the answer', () => {
    expect(() => classify(res(400, 'bad key sekret-routing-key\n\n given'), opts)).toThrow(/PagerDuty trigger: HTTP 400: bad key <secret> given/);
  });
});

describe('Retry-After: what counts as a wait, on every retried status', () => {
  const NOW = Date.parse('2026-03-01T12:00:00Z'); // a Sunday
  const at = (offsetMs: number) => new Date(NOW + offsetMs).toUTCString();
  let clock: jest.SpyInstance<number, []>;
  beforeAll(() => {
    clock = jest.spyOn(Date, 'now').mockReturnValue(NOW);
  });
  afterAll(() => clock.mockRestore());

  /** [label, the header (undefined: none), the wait it asks for in ms (undefined: none — the path's normal back-off)]. */
  const HINTS: [string, string | undefined, number | undefined][] = [
    ['absent', undefined, undefined],
    ['empty', '', undefined],
    ['blank', '   ', undefined],
    ['0', '0', undefined],
    ['00', '00', undefined],
    ['0.0', '0.0', undefined],
    ['-1', '-1', undefined],
    ['+5', '+5', undefined],
    ['1,5', '1,5', undefined],
    ['a repeated header, joined', '7, 7', undefined],
    ['1e3', '1e3', undefined],
    ['7s', '7s', undefined],
    ['0x10', '0x10', undefined],
    ['garbage', 'garbage', undefined],
    ['1.5 (fractional seconds)', '1.5', 1_500],
    ['0.2 (under the 1 s floor)', '0.2', MIN_RETRY_AFTER_MS],
    ['  7  (surrounding blanks)', '  7 ', 7_000],
    ['7', '7', 7_000],
    ['2026 (seconds, not a year)', '2026', MAX_RETRY_AFTER_MS],
    ['999999 (capped)', '999999', MAX_RETRY_AFTER_MS],
    ['a huge number (capped)', '9'.repeat(400), MAX_RETRY_AFTER_MS],
    ['an IMF date a minute ago', at(-60_000), undefined],
    ['an IMF date now', at(0), undefined],
    ['an IMF date in 30 s', at(30_000), 30_000],
    ['an IMF date in 30 s, lower case', at(30_000).toLowerCase(), 30_000],
    ['an IMF date in an hour (capped)', at(3_600_000), MAX_RETRY_AFTER_MS],
    ['an IMF date in 2099 (capped)', 'Thu, 01 Jan 2099 00:00:00 GMT', MAX_RETRY_AFTER_MS],
    ['Wed, 21 Oct 2015 07:28:00 GMT (past)', 'Wed, 21 Oct 2015 07:28:00 GMT', undefined],
    ['an RFC 850 date in 45 s', 'Sunday, 01-Mar-26 12:00:45 GMT', 45_000],
    ['an RFC 850 date in 1994', 'Sunday, 06-Nov-94 08:49:37 GMT', undefined],
    ['an asctime date in 60 s', 'Sun Mar  1 12:01:00 2026', 60_000],
    ['an asctime date in 1994', 'Sun Nov  6 08:49:37 1994', undefined],
    ['ISO 8601 (not an HTTP-date)', '2026-03-01T12:05:00Z', undefined],
    ['a numeric zone (not an HTTP-date)', 'Sun, 01 Mar 2026 12:05:00 +0000', undefined],
    ['no weekday (not an HTTP-date)', '01 Mar 2026 12:05:00 GMT', undefined],
    ['a day that does not exist', 'Mon, 30 Feb 2026 12:05:00 GMT', undefined],
    ['25 o\'clock', 'Sun, 01 Mar 2026 25:00:00 GMT', undefined],
  ];
  const STATUSES = [429, 503, 500, 502, 504, 408];
  const cases = HINTS.flatMap(([label, header, hint]) => STATUSES.flatMap((status) => [1, 4].map((attempt) => [label, status, attempt, header, hint] as const)));

  test.each(cases)('Retry-After %s on HTTP %i, attempt %i', (_label, status, attempt, header, hint) => {
    const f = failureFor(res(status, 'busy', header === undefined ? {} : { 'retry-after': header }), { ...opts, attempt })!;
    expect(f.nonRetryable).toBe(false);
    expect(f.type).toBe(status === 429 ? 'RateLimited' : 'ProviderUnavailable');
    // The wait: the provider's when it named one, else the path's own back-off (a 429's growing one; the policy's for the rest).
    const delay = f.nextRetryDelay === undefined || f.nextRetryDelay === null ? undefined : Number(f.nextRetryDelay);
    // A 5xx's or 408's time at most the page open's longest back-off: the server does not cap it by maximumInterval.
    const honoured = hint === undefined || status === 429 ? hint : Math.min(hint, MAX_UNAVAILABLE_RETRY_AFTER_MS);
    // A 5xx's time is a floor under the policy's back-off (1 s × 2^(attempt−1)), never a shortcut.
    const waited = honoured === undefined || status === 429 ? honoured : Math.max(honoured, unavailableBackoff(attempt));
    expect(delay).toBe(waited ?? (status === 429 ? rateLimitDelay(attempt) : undefined));
    if (delay !== undefined) {
      expect(delay).toBeGreaterThan(0);
      expect(delay).toBeLessThanOrEqual(status === 429 ? MAX_RETRY_AFTER_MS : MAX_UNAVAILABLE_RETRY_AFTER_MS);
    }
    // The provider's own time (which holds the key, and a local first attempt waits for) only when it gave one.
    expect((f.details ?? []).some((d) => typeof d === 'object' && d !== null && 'retryAfterMs' in d)).toBe(hint !== undefined);
    expect(providerRetryAfter(f)).toBe(honoured);
    expect(parseRetryAfter(header)).toBe(hint);
  });

  // The family the callback's and the follow-ups' retries share: a short Retry-After repeated on every 5xx never makes
  // the retries come faster than the back-off without one, at every attempt.
  test('a 5xx\'s Retry-After is a floor under the back-off: `Retry-After: 1` on every attempt still backs off', () => {
    const delays = Array.from({ length: 12 }, (_, i) => Number(failureFor(res(503, '', { 'retry-after': '1' }), { ...opts, attempt: i + 1 })!.nextRetryDelay));
    expect(delays).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60].map((s) => s * 1000));
    // The provider's own time is still what it said (the pacing key is held for that long, no longer).
    expect(providerRetryAfter(failureFor(res(503, '', { 'retry-after': '1' }), { ...opts, attempt: 9 })!)).toBe(1000);
  });

  test.each([400, 404, 409, 410, 422, 401, 403])('a refusal (HTTP %i) stays a refusal whatever its Retry-After', (status) => {
    for (const [, header] of HINTS) {
      const f = failureFor(res(status, '', header === undefined ? {} : { 'retry-after': header }), opts)!;
      expect(f.nonRetryable).toBe(true);
      expect(f.nextRetryDelay ?? undefined).toBeUndefined();
    }
  });

  test('the 5xx cap is the page open\'s longest back-off (a 5xx never delays a page longer than its retry policy would)', () => {
    expect(MAX_UNAVAILABLE_RETRY_AFTER_MS).toBe(PAGE_MAX_BACKOFF_MS);
  });

  test('a status a provider lists as transient honours its Retry-After too', () => {
    expect(Number(failureFor(res(409, '', { 'retry-after': '4' }), { ...opts, retryStatuses: [409] })!.nextRetryDelay)).toBe(4_000);
  });
});

describe('Retry-After: properties', () => {
  const NOW = Date.parse('2026-03-01T12:00:00Z');
  const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  const clock = (d: Date) => `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  const rfc850 = (d: Date) => `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${two(d.getUTCFullYear() % 100)} ${clock(d)} GMT`;
  const asctime = (d: Date) => `${DAYS[d.getUTCDay()]!.slice(0, 3)} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${clock(d)} ${d.getUTCFullYear()}`;
  /** Whole seconds within ±40 years of NOW (an RFC 850 two-digit year reads back the same within ±50). */
  const secondArb = fc.integer({ min: -40 * 365 * 86_400, max: 40 * 365 * 86_400 }).map((s) => NOW - (NOW % 1000) + s * 1000);
  const formatArb = fc.constantFrom((d: Date) => d.toUTCString(), rfc850, asctime);
  const junkArb = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: fc.constantFrom(...'0123456789+-., eE:GMTSunMar'), maxLength: 20 }),
    fc.double().map(String),
    fc.integer().map((n) => `${n}`),
    fc.tuple(fc.constantFrom('', ' ', '+', '-', '0'), fc.nat(), fc.constantFrom('', ',5', '.', '.5', ' s', 'ms')).map(([a, n, b]) => `${a}${n}${b}`),
  );

  test('any HTTP-date of any form reads back to its time', () => {
    fc.assert(fc.property(secondArb, formatArb, (t, format) => {
      expect(parseHttpDate(format(new Date(t)), NOW)).toBe(t);
    }), fuzzParams(500));
  });

  test('any date: a wait of the time left (at least 1 s, capped), none when it is not ahead', () => {
    fc.assert(fc.property(secondArb, formatArb, (t, format) => {
      const got = parseRetryAfter(format(new Date(t)), NOW);
      expect(got).toBe(t <= NOW ? undefined : Math.min(Math.max(t - NOW, MIN_RETRY_AFTER_MS), MAX_RETRY_AFTER_MS));
    }), fuzzParams(500));
  });

  test('any string: no wait, or one of 1 s to the cap; on any retried status a delay that is never 0', () => {
    fc.assert(fc.property(junkArb, fc.constantFrom(408, 429, 500, 502, 503, 504, 599), fc.integer({ min: 1, max: 50 }), (header, status, attempt) => {
      const ms = parseRetryAfter(header, NOW);
      if (ms !== undefined) {
        expect(Number.isInteger(ms)).toBe(true);
        expect(ms).toBeGreaterThanOrEqual(MIN_RETRY_AFTER_MS);
        expect(ms).toBeLessThanOrEqual(MAX_RETRY_AFTER_MS);
      }
      // Anything but delta-seconds or an HTTP-date names no wait (Date.parse would read `-1` or `1,5` as a year).
      if (!/^\s*\d+(\.\d+)?\s*$/.test(header) && parseHttpDate(header.trim(), NOW) === undefined) expect(ms).toBeUndefined();
      const f = failureFor(res(status, '', { 'retry-after': header }), { ...opts, attempt })!;
      const delay = f.nextRetryDelay === undefined || f.nextRetryDelay === null ? undefined : Number(f.nextRetryDelay);
      if (delay !== undefined) {
        expect(delay).toBeGreaterThan(0);
        expect(delay).toBeLessThanOrEqual(MAX_RETRY_AFTER_MS);
      }
      const own = providerRetryAfter(f);
      if (own !== undefined) expect(own).toBeGreaterThan(0);
    }), fuzzParams(1000));
  });
});
