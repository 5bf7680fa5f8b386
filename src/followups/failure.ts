/**
 * How the runner reads a failed attempt, as Temporal reads an activity's: an ApplicationFailure flagged
 * non-retryable (or of a type the activities never retry) ends the row; any other failure is retried, after the
 * failure's own delay when it carries one (a 429's Retry-After, a pacing deferral) or a capped exponential
 * back-off. Messages are scrubbed again with every secret the attempt could have seen before they go anywhere.
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
  /** The delay the failure asks for, if any. */
  delayMs?: number;
}

function hintOf(err: ApplicationFailure): number | undefined {
  try {
    return msOptionalToNumber(err.nextRetryDelay ?? undefined);
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

/** The wait before attempt `attempts + 1`: the failure's own delay, else 1 s × 2^(attempts-1) capped, ±20 %. */
export function backoffMs(attempts: number, maxMs: number, hintMs?: number, random = Math.random): number {
  if (hintMs !== undefined) return Math.max(0, hintMs);
  const base = Math.min(maxMs, 1_000 * 2 ** Math.max(0, attempts - 1));
  return Math.min(maxMs, Math.round(base * (0.8 + random() * 0.4)));
}
