/**
 * Workflow modules the worker evaluates once and shares between every workflow it runs, instead of once per
 * workflow (the SDK's `preloadModules`; the worker runs workflows in one reusable V8 context).
 *
 * Without this, each workflow the worker starts or replays evaluates these modules again and keeps its own copy
 * of their functions and constants for as long as it is cached: CPU on every first task and replay, heap for
 * every cached incident. Only modules with no state of their own belong here: pure functions and constants,
 * importing only each other (a preloaded module's imports are preloaded with it) and nothing from
 * `@temporalio/workflow`. The SDK deep-freezes what they export (a write to an export throws in the sandbox);
 * what they keep unexported would be shared between incidents silently, so test/unit/workflow-preload.test.ts
 * allows only plain data at their top level (no `let`/`var`, no calls but `Object.freeze`, no `new`, no
 * global or sticky regex, no static class members, no writes to a top-level binding's properties), and an object a
 * module hands out from an unexported table is frozen in the module (capabilities.ts). A module-scope call
 * such as `Date.now()` would also throw at preload, before any workflow exists, and stop the worker.
 *
 * Preloading changes no workflow's commands, so it needs no patch: it is not in any history.
 */

/** Paths relative to src/ (dist/ when compiled), without extension. */
export const PRELOADED_WORKFLOW_MODULES = [
  'shared/contract',
  'shared/ids',
  'shared/records',
  'shared/text',
  'shared/validate',
  'connectors/spec',
  'workflows/capabilities',
  'workflows/patches',
  'workflows/ui',
  'workflows/legacy/state-v1',
  'workflows/v2/begin-input',
  'workflows/v2/bounds',
  'workflows/v2/checked-begin',
  'workflows/v2/from-legacy',
  'workflows/v2/local-first-setting',
  'workflows/v2/records',
  'workflows/v2/state',
  'workflows/v2/wake',
] as const;

/** The same list as absolute files, resolved for this build (.ts under ts-jest, .js when compiled). */
export function workflowPreloadModules(): string[] {
  return PRELOADED_WORKFLOW_MODULES.map((m) => require.resolve(`../${m}`));
}
