import { ApplicationFailure } from '@temporalio/common';
import { FailureType, permanent, retryable } from './failures';
import { excerpt } from './scrub';
import type { HttpResponse, SecretList } from './types';

/**
 * Longest Retry-After of a 429 we honour; a larger one is capped. The retry policy's maximumInterval does NOT cap it:
 * the server honours a failure's next-retry delay beyond maximumInterval (checked on server 1.29.1).
 */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;
/**
 * Longest Retry-After of a retried 5xx or 408 we honour: the page open's longest back-off (PAGE_MAX_BACKOFF_MS), so an
 * outage answer never delays a call, or holds its pacing key, longer than the retry policy itself would.
 */
export const MAX_UNAVAILABLE_RETRY_AFTER_MS = 60_000;
/** Shortest Retry-After we honour: a positive hint below it (`0.2`, a date a few ms ahead) is waited for 1 s. */
export const MIN_RETRY_AFTER_MS = 1_000;
/** Back-off for a 429 without Retry-After: base × 2^(attempt-1), capped. */
export const RATE_LIMIT_BASE_MS = 5_000;
export const RATE_LIMIT_MAX_MS = 5 * 60_000;

const DAYS = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAYS = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
/** RFC 9110 §5.6.7: `Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate, the one senders use). */
const IMF_FIXDATE = new RegExp(`^${DAYS}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`, 'i');
/** The obsolete forms recipients accept: `Sunday, 06-Nov-94 08:49:37 GMT` (RFC 850) and `Sun Nov  6 08:49:37 1994` (asctime). */
const RFC850_DATE = new RegExp(`^${LONG_DAYS}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`, 'i');
const ASCTIME_DATE = new RegExp(`^${DAYS} ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`, 'i');
/** RFC 9110 delta-seconds (`120`), and a fractional number of seconds (`1.5`), which some servers send. */
const DELTA_SECONDS = /^\d+(?:\.\d+)?$/;

/** A time from its fields, or undefined when a field is out of range (`31 Feb`, `25:00:00`). The weekday is not checked. */
function utc(year: number, month: string, day: number, hour: number, minute: number, second: number): number | undefined {
  const m = MONTHS.findIndex((name) => name.toLowerCase() === month.toLowerCase());
  if (m < 0 || day < 1 || hour > 23 || minute > 59 || second > 60) return undefined;
  const at = new Date(Date.UTC(year, m, day, hour, minute, Math.min(second, 59)));
  return at.getUTCFullYear() === year && at.getUTCMonth() === m && at.getUTCDate() === day ? at.getTime() : undefined;
}

/**
 * An HTTP-date (RFC 9110 §5.6.7) → epoch ms: IMF-fixdate, or the obsolete RFC 850 and asctime forms; undefined for
 * anything else. Date.parse is not used: it reads `-1`, `+5` or `1,5` as years, and takes many other strings.
 */
export function parseHttpDate(value: string, now = Date.now()): number | undefined {
  let f = IMF_FIXDATE.exec(value);
  if (f) return utc(Number(f[3]), f[2]!, Number(f[1]), Number(f[4]), Number(f[5]), Number(f[6]));
  f = RFC850_DATE.exec(value);
  if (f) {
    // A two-digit year more than 50 years ahead is the most recent past year with those digits (RFC 9110 §5.6.7).
    const thisYear = new Date(now).getUTCFullYear();
    let year = thisYear - (thisYear % 100) + Number(f[3]);
    if (year > thisYear + 50) year -= 100;
    return utc(year, f[2]!, Number(f[1]), Number(f[4]), Number(f[5]), Number(f[6]));
  }
  f = ASCTIME_DATE.exec(value);
  if (f) return utc(Number(f[6]), f[1]!, Number(f[2]!.trim()), Number(f[3]), Number(f[4]), Number(f[5]));
  return undefined;
}

/**
 * `Retry-After` → the wait it asks for in ms, at least MIN_RETRY_AFTER_MS and at most MAX_RETRY_AFTER_MS; undefined
 * when the answer names no wait: no header, a value that is neither delta-seconds (a fractional number of seconds
 * is taken too) nor an HTTP-date (`-1`, `+5`, `1,5`, `soon`, empty), or a wait of nothing (`0`, a date not after
 * `now`). A caller then waits as it would without the header — the normal back-off of its path, never 0.
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  let ms: number | undefined;
  if (DELTA_SECONDS.test(v)) ms = Number(v) * 1000;
  else {
    const at = parseHttpDate(v, now);
    if (at !== undefined) ms = at - now;
  }
  if (ms === undefined || !(ms > 0)) return undefined;
  return Math.min(Math.max(Math.ceil(ms), MIN_RETRY_AFTER_MS), MAX_RETRY_AFTER_MS);
}

export function rateLimitDelay(attempt: number): number {
  return Math.min(RATE_LIMIT_BASE_MS * 2 ** Math.max(attempt - 1, 0), RATE_LIMIT_MAX_MS);
}

/**
 * The provider's own Retry-After carried by a failure from failureFor (its first detail `{ retryAfterMs }`: a 429, or
 * a retried 5xx that named a wait), in ms; undefined when the provider gave none (a 429's delay is then only this
 * call's back-off, which says nothing about the key).
 */
export function providerRetryAfter(err: ApplicationFailure): number | undefined {
  const d: unknown = err.details?.[0];
  if (typeof d !== 'object' || d === null || !('retryAfterMs' in d)) return undefined;
  const ms = (d as { retryAfterMs: unknown }).retryAfterMs;
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : undefined;
}

export interface ClassifyOptions {
  /** Provider label for messages, e.g. "PagerDuty". */
  label: string;
  /** What was attempted, e.g. "trigger". */
  action: string;
  secrets: SecretList;
  /** Activity attempt number, for the 429 back-off without Retry-After. */
  attempt?: number;
  /** Extra statuses the provider documents as transient (besides 408, 429 and 5xx). */
  retryStatuses?: readonly number[];
}

/**
 * The single place that decides retry or give up: 2xx → ok; 429 → retried after its Retry-After (or a
 * growing back-off); 408, 5xx and listed statuses → retried after their Retry-After when they carry one (a 503's,
 * RFC 9110; Jira's 503 rate limiting), else with the policy's back-off; any other status → permanent (401/403 as
 * AuthRejected). A Retry-After that names no wait (`0`, a past date, a malformed value) counts as absent
 * (parseRetryAfter), so no failure ever asks for a delay of 0. Returns normally on 2xx, throws an ApplicationFailure
 * otherwise.
 */
export function classify(res: HttpResponse, opts: ClassifyOptions): void {
  const failure = failureFor(res, opts);
  if (failure) throw failure;
}

/**
 * A retryable failure that waits for the provider's Retry-After (at least `floorMs`), the provider's own time carried as
 * the detail `{ retryAfterMs }` (what holds the pacing key and a local first attempt's fallback waits for).
 */
function afterRetryAfter(type: string, message: string, retryAfterMs: number, floorMs = 0): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: false, nextRetryDelay: Math.max(retryAfterMs, floorMs), details: [{ retryAfterMs }] });
}

/** The retry policies' back-off before attempt `attempt + 1` (1 s × 2^(attempt−1)), within a 5xx hint's cap. */
export function unavailableBackoff(attempt = 1): number {
  return Math.min(1_000 * 2 ** Math.max(attempt - 1, 0), MAX_UNAVAILABLE_RETRY_AFTER_MS);
}

export function failureFor(res: HttpResponse, opts: ClassifyOptions): ApplicationFailure | undefined {
  const { status } = res;
  if (status >= 200 && status < 300) return undefined;
  const what = `${opts.label} ${opts.action}: HTTP ${status}`;
  const body = excerpt(res.text, opts.secrets);
  const message = body ? `${what}: ${body}` : what;
  if (status === 429) {
    const retryAfter = parseRetryAfter(res.headers['retry-after']);
    if (retryAfter === undefined) return retryable(FailureType.RateLimited, message, rateLimitDelay(opts.attempt ?? 1));
    return afterRetryAfter(FailureType.RateLimited, message, retryAfter);
  }
  if (status === 408 || status >= 500 || opts.retryStatuses?.includes(status)) {
    const retryAfter = parseRetryAfter(res.headers['retry-after']);
    if (retryAfter === undefined) return retryable(FailureType.ProviderUnavailable, message);
    // A floor under the policy's back-off, never a shortcut: a `Retry-After: 1` on every 503 (a load balancer in front of
    // a dead service) must not make a call retry each second until its window ends.
    return afterRetryAfter(FailureType.ProviderUnavailable, message, Math.min(retryAfter, MAX_UNAVAILABLE_RETRY_AFTER_MS), unavailableBackoff(opts.attempt));
  }
  if (status === 401 || status === 403) return permanent(FailureType.AuthRejected, message);
  return permanent(FailureType.ProviderRejected, message);
}
