/**
 * How the runner reads a failed attempt, as Temporal reads an activity's: an ApplicationFailure flagged
 * non-retryable (or of a type the activities never retry) ends the row; any other failure is retried, after the
 * failure's own delay when it carries a positive one (a 429's or 503's Retry-After, a pacing deferral) or a capped
 * exponential back-off. Messages are scrubbed again with every secret the attempt could have seen before they go
 * anywhere.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { msOptionalToNumber } from '@temporalio/common/lib/time';
import { MAX_RETRY_AFTER_MS } from '../http/classify';
import { NON_RETRYABLE } from '../http/failures';
import { scrub } from '../http/scrub';
import { truncate } from '../shared/text';

export interface ReadFailure {
  cancelled: boolean;
  retryable: boolean;
  /** The failure type (a closed set: the metrics' reason label). */
  type: string;
  /** Scrubbed, one line, at most 500 characters. */
  reason: string;
  /** The delay the failure asks for, if it asks for one (> 0 ms). */
  delayMs?: number;
}

/** The failure's next retry delay when it is a positive number of ms; a delay of 0 (or less) asks for nothing. */
function hintOf(err: ApplicationFailure): number | undefined {
  try {
    const ms = msOptionalToNumber(err.nextRetryDelay ?? undefined);
    return ms !== undefined && Number.isFinite(ms) && ms > 0 ? ms : undefined;
  } catch {
    return undefined;
  }
}

export function readFailure(err: unknown, secrets: readonly string[]): ReadFailure {
  const message = err instanceof Error ? err.message : 'unknown failure';
  const reason = truncate(scrub(message, secrets).replace(/\s+/g, ' ').trim() || 'failed', 500);
  if (err instanceof CancelledFailure) return { cancelled: true, retryable: true, type: 'Cancelled', reason };
  if (err instanceof ApplicationFailure) {
    const type = err.type ?? 'Error';
    const retryable = !err.nonRetryable && !NON_RETRYABLE.includes(type);
    const hint = hintOf(err);
    return { cancelled: false, retryable, type, reason, ...(hint !== undefined ? { delayMs: Math.min(hint, MAX_RETRY_AFTER_MS) } : {}) };
  }
  return { cancelled: false, retryable: true, type: err instanceof Error && err.name ? err.name : 'Error', reason };
}

/** The shortest wait after a failure that names its own delay: the first step of the back-off (and the runner's poll). */
export const MIN_HINT_MS = 1_000;

/**
 * The wait before attempt `attempts + 1`: the failure's own delay when it names a positive one (at least MIN_HINT_MS;
 * it may exceed `maxMs`: readFailure caps it at MAX_RETRY_AFTER_MS), else 1 s × 2^(attempts-1) capped, ±20 %. A hint
 * of 0, a negative or a non-finite one asks for nothing and gets the back-off: a row is never due again at once.
 */
export function backoffMs(attempts: number, maxMs: number, hintMs?: number, random = Math.random): number {
  if (hintMs !== undefined && Number.isFinite(hintMs) && hintMs > 0) return Math.max(MIN_HINT_MS, Math.ceil(hintMs));
  const base = Math.min(maxMs, 1_000 * 2 ** Math.max(0, attempts - 1));
  return Math.min(maxMs, Math.round(base * (0.8 + random() * 0.4)));
}
