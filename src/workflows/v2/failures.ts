/** What an activity's failure means for the state machine: cancelled, or failed with a scrubbed reason and type. */
import { ActivityFailure, ApplicationFailure, TimeoutFailure, isCancellation } from '@temporalio/workflow';
import { truncate } from '../../shared/text';
import type { CallOutcome } from './state';

export function failureOutcome(err: unknown): Extract<CallOutcome, { ok: false }> {
  if (isCancellation(err) || (err instanceof ActivityFailure && isCancellation(err.cause))) return { ok: false, cancelled: true };
  let reason = err instanceof Error ? truncate(err.message, 500) : 'unknown failure';
  let type: string | undefined;
  let app: ApplicationFailure | undefined;
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    if (cause instanceof TimeoutFailure) reason = 'gave up: the retry window ran out (timed out)';
    else if (cause) reason = truncate(cause.message, 500);
    if (cause instanceof ApplicationFailure) app = cause;
  } else if (err instanceof ApplicationFailure) {
    // A local activity's failure (an open's local first attempt, v2/local-first.ts) comes unwrapped. No ordinary
    // activity's does, so no recorded run reads this branch.
    app = err;
  }
  if (app) type = app.type ?? undefined;
  const attempt = app ? attemptOf(app.details) : undefined;
  return { ok: false, reason, ...(type ? { type } : {}), ...(attempt !== undefined ? { attempt } : {}) };
}

/** The attempt a refusal came on (src/http/failures.ts withAttempt): a detail `{ attempt }`. */
function attemptOf(details: readonly unknown[] | undefined | null): number | undefined {
  for (const d of details ?? []) {
    const a = (d as { attempt?: unknown } | null)?.attempt;
    if (typeof a === 'number' && Number.isInteger(a) && a > 0) return a;
  }
  return undefined;
}
