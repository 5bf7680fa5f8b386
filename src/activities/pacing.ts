import { createHash } from 'node:crypto';
import type { ConnectorConfig } from '../config/connectors';
import { metrics } from '../observability/metrics';
import type { Provider } from '../shared/contract';
import { FailureType, retryable } from './http/failures';

/**
 * Outbound pacing (docs/providers.md, "Rate pacing"): one token bucket per (provider, connector key) in
 * this worker process, so each key stays under its provider's documented rate. The key is a hash of the
 * endpoint, the credential and the Slack channel — never the secret itself.
 */

/** Default calls per minute per key. PagerDuty allows ~120 events/min per routing key; Slack ~1 message/s. */
export const DEFAULT_RATE_PER_MIN: Record<Provider, number> = {
  pagerduty: 100,
  opsgenie: 60,
  slack: 60,
  teams: 60,
  servicenow: 60,
  jira: 60,
};
export const MIN_RATE_PER_MIN = 1;
export const MAX_RATE_PER_MIN = 6_000;
/** Longer waits are not spent holding an activity slot: the call fails retryably with that delay. */
/**
 * Longest pacing wait an activity spends holding a worker slot. A longer wait gives the slot back (a
 * retryable RateLimited failure whose next retry is at the token's time), so one tenant's storm on its own
 * keys never starves other tenants' pages of worker slots (fairness, docs/providers.md).
 */
export const MAX_WAIT_MS = 2_000;

/** Calls per minute for a connector: its `rate_per_min` option, else the provider default. */
export function rateFor(c: Pick<ConnectorConfig, 'provider' | 'options'>): number {
  const raw = c.options.rate_per_min;
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(n) && n >= MIN_RATE_PER_MIN && n <= MAX_RATE_PER_MIN ? n : DEFAULT_RATE_PER_MIN[c.provider];
}

export function paceKey(c: Pick<ConnectorConfig, 'provider' | 'url' | 'credential' | 'options'>): string {
  const h = createHash('sha256').update(`${c.url.reveal()}\u0000${c.credential.reveal()}\u0000${c.options.channel ?? ''}`).digest('hex');
  return `${c.provider}:${h.slice(0, 24)}`;
}

/**
 * A token bucket that hands out reservations: the caller learns how long to wait for its token, and the
 * token is its own from then on, so waiters are served in arrival order. Capacity is one second's worth
 * (at least 1), so no rolling minute ever sees more than rate + capacity calls.
 */
export class TokenBucket {
  #tokens: number;
  #last: number;
  readonly capacity: number;

  constructor(readonly perMinute: number, now: number) {
    this.capacity = Math.max(1, Math.floor(perMinute / 60));
    this.#tokens = this.capacity;
    this.#last = now;
  }

  /** Take one token; the milliseconds to wait before using it (0 when available now). */
  reserve(now: number): number {
    this.#tokens = Math.min(this.capacity, this.#tokens + ((now - this.#last) * this.perMinute) / 60_000);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 60_000) / this.perMinute);
  }

  /** Give an unused reservation back (the wait was cancelled or refused). */
  release(): void {
    this.#tokens += 1;
  }
}

/** Told of each pacing decision (the worker's /metrics: probectl_notify_pacing_wait_seconds and _deferrals_total). */
export type PacingRecorder = (provider: Provider, waited: number | 'deferred') => void;

export class Pacer {
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxWaitMs = MAX_WAIT_MS,
    private readonly record: PacingRecorder = () => undefined,
  ) {}

  /**
   * Wait for this connector's next token through `wait` (which heartbeats and throws on cancellation).
   * A wait longer than maxWaitMs is refused with a retryable RateLimited failure carrying the delay.
   */
  async take(c: Pick<ConnectorConfig, 'provider' | 'url' | 'credential' | 'options' | 'id'>, wait: (ms: number) => Promise<void>): Promise<number> {
    const key = paceKey(c);
    let bucket = this.#buckets.get(key);
    if (!bucket || bucket.perMinute !== rateFor(c)) {
      bucket = new TokenBucket(rateFor(c), this.now());
      this.#buckets.set(key, bucket);
    }
    const delay = bucket.reserve(this.now());
    if (delay === 0) {
      this.record(c.provider, 0);
      return 0;
    }
    if (delay > this.maxWaitMs) {
      bucket.release();
      this.record(c.provider, 'deferred');
      throw retryable(FailureType.RateLimited, `connector ${c.id}: paced to ${bucket.perMinute} calls/min; next slot in ${Math.ceil(delay / 1000)} s`, delay);
    }
    try {
      await wait(delay);
    } catch (err) {
      bucket.release();
      throw err;
    }
    this.record(c.provider, delay);
    return delay;
  }
}

/** The worker process's pacer: every activity of this process shares its buckets and reports to its metrics. */
export const PACER = new Pacer(Date.now, MAX_WAIT_MS, (provider, waited) => metrics.pacing(provider, waited));
