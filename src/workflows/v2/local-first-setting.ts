/**
 * The setting of local first opens (local-first.ts, PROBECTL_NOTIFY_LOCAL_FIRST_OPENS) as the begin snapshot carries it
 * and the state machine keeps it. Pure and stateless, imports nothing: preloaded with the state machine
 * (src/runtime/workflow-preload.ts), and read by the snapshot builder (src/activities/begin.ts).
 *
 * The time limit keeps the first workflow task short: a signal that arrives meanwhile (a resolve) is applied when
 * the task ends, so it waits at most this long; and the SDK heartbeats a task 8 s (80 % of the default 10 s task
 * timeout) after it reached the worker, so the attempts end before that unless the task's first activation started
 * more than 5 s late (a worker far past its knee).
 *
 * Frozen once shipped: whether a snapshot's value is taken decides whether a run asks `local-first-opens-v1`, so a
 * bound changed later would replay a recorded run down the other path. A new bound needs a new patch id.
 */

/** The local attempt's time limit, pacing wait included, as the begin snapshot carries it when the setting is on. */
export const LOCAL_FIRST_OPEN_MS = 3_000;
/** The largest limit a snapshot may carry and still be taken (a longer one is ignored: the opens run as before). */
export const MAX_LOCAL_FIRST_OPEN_MS = 7_000;
/** The ordinary activity's back-off before its second attempt (src/workflows/activity-options.ts `initialInterval`). */
export const FALLBACK_AFTER_MS = 1_000;

/** The setting as the state machine keeps it: only a whole number of ms within bounds; anything else is off. */
export function localFirstSetting(x: unknown): { localFirstOpenMs?: number } {
  return typeof x === 'number' && Number.isInteger(x) && x >= 100 && x <= MAX_LOCAL_FIRST_OPEN_MS ? { localFirstOpenMs: x } : {};
}

/**
 * A snapshot the run did not take under `first-run-checked-v1` — read by its own local activity, or passed unchecked
 * by an earlier API — without the setting: only the checked snapshot proves that every worker polling the task queue
 * runs a release that knows the patch with the setting on (the API's gate compares their digests, which carry it), so
 * only such a run may leave markers an earlier release's worker could not replay.
 */
export function withoutLocalFirst<B extends { settings: { localFirstOpenMs?: number } }>(b: B): B {
  if (b.settings.localFirstOpenMs === undefined) return b;
  const { localFirstOpenMs: _dropped, ...settings } = b.settings;
  return { ...b, settings };
}
