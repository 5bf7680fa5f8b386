/**
 * Local first opens (patch `local-first-opens-v1`, PROBECTL_NOTIFY_LOCAL_FIRST_OPENS=on): a new incident's opens
 * make their first attempt as local activities in the workflow task that decided them, so the first page leaves
 * the worker without a round trip through the server and the six results come back as six markers instead of
 * eighteen activity events and the workflow tasks that apply them. What does not succeed or fail for good within
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

/**
 * After a failed local first attempt: the ordinary activity's wait before it starts (ms), or undefined when the
 * failure is the outcome (cancelled, or refused for good: a second attempt would get the same answer). A time-out
 * and every retryable failure go on; a provider's Retry-After (the failure's next retry delay) is honoured. A local
 * activity's failure reaches the workflow as the activity's own failure (an ApplicationFailure, as the SDK gives it
 * for a local activity whose attempts are used up) or wrapped in an ActivityFailure (a time-out): both are read.
 */
export function fallbackAfterMs(err: unknown): number | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof CancelledFailure) return undefined;
  if (cause instanceof TimeoutFailure) return FALLBACK_AFTER_MS;
  if (!(cause instanceof ApplicationFailure)) return undefined;
  if (cause.nonRetryable || NON_RETRYABLE.includes(cause.type ?? '')) return undefined;
  return Math.max(FALLBACK_AFTER_MS, retryAfterOf(cause) ?? 0);
}

/**
 * The provider's Retry-After a 429 failure carries (ms): its first detail's `retryAfterMs`, as src/http/classify.ts
 * writes it — a workflow does not get the failure's next retry delay back (the SDK's converter drops it on the way
 * in), but it does get the details — else that delay, should a converter keep it.
 */
function retryAfterOf(f: ApplicationFailure): number | undefined {
  const d: unknown = f.details?.[0];
  const fromDetail = typeof d === 'object' && d !== null && 'retryAfterMs' in d ? (d as { retryAfterMs: unknown }).retryAfterMs : undefined;
  if (typeof fromDetail === 'number' && Number.isFinite(fromDetail) && fromDetail >= 0) return fromDetail;
  try {
    return msOptionalToNumber(f.nextRetryDelay ?? undefined);
  } catch {
    return undefined;
  }
}
