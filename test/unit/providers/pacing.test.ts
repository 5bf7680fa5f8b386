import { ApplicationFailure } from '@temporalio/common';
import { DEFAULT_RATE_PER_MIN, Pacer, TokenBucket, paceKey, rateFor } from '../../../src/activities/pacing';
import { connectorFrom } from '../../helpers/retry-table';

describe('pacing', () => {
  test('300 callers arriving at once are spread so no rolling minute exceeds rate + capacity', async () => {
    const pacer = new Pacer(() => 0, Number.MAX_SAFE_INTEGER);
    const c = connectorFrom('acme|pagerduty|https://events.pagerduty.com/v2/enqueue|R0UT1NGKEY0000000000000000000009');
    const sends: number[] = [];
    for (let i = 0; i < 300; i += 1) {
      let at = 0;
      await pacer.take(c, async (ms) => void (at = ms));
      sends.push(at);
    }
    const perMinute = Math.max(...sends.map((s) => sends.filter((x) => x >= s && x < s + 60_000).length));
    expect(perMinute).toBeLessThanOrEqual(DEFAULT_RATE_PER_MIN.pagerduty + new TokenBucket(DEFAULT_RATE_PER_MIN.pagerduty, 0).capacity);
    expect(perMinute).toBeGreaterThanOrEqual(DEFAULT_RATE_PER_MIN.pagerduty - 1);
    expect(new Set(sends).size).toBe(300);
  });

  test('waiters get successive slots; a long wait is refused retryably with its delay; a cancelled wait gives its slot back', async () => {
    let now = 0;
    const recorded: Array<[string, number | 'deferred']> = [];
    const pacer = new Pacer(() => now, 5_000, (provider, waited) => void recorded.push([provider, waited]));
    const c = connectorFrom('acme|pagerduty|https://events.pagerduty.com/v2/enqueue?rate_per_min=60|R0UT1NGKEY0000000000000000000001');
    const waits: number[] = [];
    const wait = async (ms: number) => void waits.push(ms);
    for (let i = 0; i < 6; i += 1) await pacer.take(c, wait);
    expect(waits).toEqual([1000, 2000, 3000, 4000, 5000]);
    const refused = await pacer.take(c, wait).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect((refused as ApplicationFailure).nonRetryable).toBe(false);
    expect((refused as ApplicationFailure).nextRetryDelay).toBe(6000);
    expect((refused as ApplicationFailure).message).not.toContain('R0UT1NGKEY');
    now = 10_000;
    await pacer.take(c, wait); // a full bucket again: no wait
    await expect(pacer.take(c, async () => Promise.reject(new Error('cancelled')))).rejects.toThrow('cancelled');
    await pacer.take(c, wait); // the cancelled slot went back
    expect(waits.at(-1)).toBe(1000);
    // What the metrics hear: every wait (0 when a token was free), the deferral, and not the cancelled wait.
    expect(recorded).toEqual([0, 1000, 2000, 3000, 4000, 5000, 'deferred', 0, 1000].map((w) => ['pagerduty', w]));
  });

  test('keys are per credential and never contain it; rate_per_min overrides the default', () => {
    const a = connectorFrom('acme|pagerduty|https://events.pagerduty.com/v2/enqueue|R0UT1NGKEYaaaaaaaaaaaaaaaaaaaaaa1');
    const b = connectorFrom('acme|pagerduty|https://events.pagerduty.com/v2/enqueue|R0UT1NGKEYbbbbbbbbbbbbbbbbbbbbbb2');
    expect(paceKey(a)).not.toBe(paceKey(b));
    expect(paceKey(a)).not.toContain('R0UT1NGKEY');
    expect(rateFor(a)).toBe(DEFAULT_RATE_PER_MIN.pagerduty);
    expect(DEFAULT_RATE_PER_MIN.pagerduty).toBeLessThan(120);
    expect(DEFAULT_RATE_PER_MIN.slack).toBeLessThanOrEqual(60);
    expect(rateFor(connectorFrom('acme|slack|https://hooks.slack.com/services/T/B/x?rate_per_min=20|'))).toBe(20);
  });
});
