import { ApplicationFailure } from '@temporalio/common';
import { classify, failureFor, parseRetryAfter, rateLimitDelay, MAX_RETRY_AFTER_MS } from '../../src/http/classify';

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
