import { ApplicationFailure } from '@temporalio/common';
import { FailureType, permanent, retryable } from './failures';
import { excerpt } from './scrub';
import type { HttpResponse, SecretList } from './types';

/** Longest Retry-After we honour; a larger one is capped (the retry policy's maximumInterval caps it too). */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;
/** Back-off for a 429 without Retry-After: base × 2^(attempt-1), capped. */
export const RATE_LIMIT_BASE_MS = 5_000;
export const RATE_LIMIT_MAX_MS = 5 * 60_000;

/** `Retry-After` as seconds or an HTTP date → milliseconds, capped; undefined when absent or malformed. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.min(Math.ceil(Number(v) * 1000), MAX_RETRY_AFTER_MS);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(at - now, 0), MAX_RETRY_AFTER_MS);
}

export function rateLimitDelay(attempt: number): number {
  return Math.min(RATE_LIMIT_BASE_MS * 2 ** Math.max(attempt - 1, 0), RATE_LIMIT_MAX_MS);
}

/**
 * The provider's own Retry-After carried by a 429 failure from failureFor (its first detail), in ms; undefined when
 * the provider gave none (the failure's delay is then only this call's back-off, which says nothing about the key).
 */
export function providerRetryAfter(err: ApplicationFailure): number | undefined {
  const d: unknown = err.details?.[0];
  if (typeof d !== 'object' || d === null || !('retryAfterMs' in d)) return undefined;
  const ms = (d as { retryAfterMs: unknown }).retryAfterMs;
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : undefined;
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
 * growing back-off); 408, 5xx and listed statuses → retried with the policy's back-off; any other status
 * → permanent (401/403 as AuthRejected). Returns normally on 2xx, throws an ApplicationFailure otherwise.
 */
export function classify(res: HttpResponse, opts: ClassifyOptions): void {
  const failure = failureFor(res, opts);
  if (failure) throw failure;
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
    return ApplicationFailure.create({ type: FailureType.RateLimited, message, nonRetryable: false, nextRetryDelay: retryAfter, details: [{ retryAfterMs: retryAfter }] });
  }
  if (status === 408 || status >= 500 || opts.retryStatuses?.includes(status)) {
    return retryable(FailureType.ProviderUnavailable, message);
  }
  if (status === 401 || status === 403) return permanent(FailureType.AuthRejected, message);
  return permanent(FailureType.ProviderRejected, message);
}
