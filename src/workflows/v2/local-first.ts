/**
 * Local first opens (patch `local-first-opens-v1`, PROBECTL_NOTIFY_LOCAL_FIRST_OPENS=on): a new incident's opens
 * make their first attempt as local activities in the workflow task that decided them (v2/calls.ts),
 * so the first page leaves the worker without a round trip through the server and their results come back as one
 * marker each instead of three activity events and the workflow tasks that apply them. What does not succeed or fail for good within
 * the attempt's time limit goes on as the ordinary activity it would have been (its retries, heartbeats, pacing
 * waits), after a workflow timer of the back-off its second attempt would have had (or the provider's Retry-After):
 * a resolve that arrived while the attempts ran is applied in the next task, before the timer fires, and cancels it,
 * so nothing is called after it. The setting itself, as the begin
 * snapshot carries it, is in local-first-setting.ts (its time limit, and why). Pure.
 */
import { ActivityFailure, ApplicationFailure, CancelledFailure, TimeoutFailure } from '@temporalio/common';
import { msOptionalToNumber } from '@temporalio/common/lib/time';
import { FALLBACK_AFTER_MS } from './local-first-setting';

/** Failure types the ordinary activity never retries (src/http/failures.ts NON_RETRYABLE). */
const NON_RETRYABLE = ['ProviderRejected', 'AuthRejected', 'ConnectorRemoved', 'InvalidInput'];

/** After a failed local first attempt: when the ordinary activity may start, and whether the attempt's answer is unknown. */
export interface Fallback {
  /** The back-off (ms): 1 s, or the delay the failure carries (a provider's Retry-After, the pacer's turn). */
  afterMs: number;
  /**
   * The attempt was cut by its time limit: a request it sent may still land at the provider, so a create without a
   * provider-side key waits until it certainly has (the caller's guard, as after a hand-over).
   */
  timedOut: boolean;
}

/**
 * A local first attempt the pacer refused before it sent anything (src/activities/pacing.ts: `{ paced: true }` in the
 * first detail): the ordinary activity that follows is then still the open's first try at the provider.
 */
export function sentNothing(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const d: unknown = cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
  return typeof d === 'object' && d !== null && (d as { paced?: unknown }).paced === true;
}

/**
 * What follows a failed local first attempt: the ordinary activity (a Fallback), or nothing when the failure is the
 * outcome — cancelled, or refused for good (a second attempt would get the same answer). Everything else goes on,
 * an unknown failure shape included (one more idempotent attempt costs less than a lost page). A local activity's
 * failure reaches the workflow as the activity's own failure (an ApplicationFailure, once its one attempt is used
 * up) or wrapped in an ActivityFailure (a time-out): both are read.
 */
export function fallbackOf(err: unknown): Fallback | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (err instanceof CancelledFailure || cause instanceof CancelledFailure) return undefined;
  if (cause instanceof TimeoutFailure) return { afterMs: FALLBACK_AFTER_MS, timedOut: true };
  if (cause instanceof ApplicationFailure && (cause.nonRetryable || NON_RETRYABLE.includes(cause.type ?? ''))) return undefined;
  const asked = cause instanceof ApplicationFailure ? delayOf(cause) : undefined;
  return { afterMs: Math.max(FALLBACK_AFTER_MS, asked ?? 0), timedOut: false };
}

/**
 * The delay a failure asks for (ms): a provider's Retry-After (`retryAfterMs`, src/http/classify.ts), else the delay a
 * retryable failure carries (`nextRetryDelayMs`, src/http/failures.ts: a 429's back-off, the pacer's turn) — both in
 * its first detail, because a workflow does not get the failure's next retry delay back (the SDK's converter drops
 * it on the way in) — else that delay, should a converter keep it.
 */
function delayOf(f: ApplicationFailure): number | undefined {
  const d: unknown = f.details?.[0];
  if (typeof d === 'object' && d !== null) {
    for (const key of ['retryAfterMs', 'nextRetryDelayMs']) {
      const v = (d as Record<string, unknown>)[key];
      if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
    }
  }
  try {
    return msOptionalToNumber(f.nextRetryDelay ?? undefined);
  } catch {
    return undefined;
  }
}
