/**
 * Workflow modules the worker evaluates once and shares between every workflow it runs, instead of once per
 * workflow (the SDK's `preloadModules`; the worker runs workflows in one reusable V8 context).
 *
 * Without this, each workflow the worker starts or replays evaluates these modules again and keeps its own copy
 * of their functions and constants for as long as it is cached: CPU on every first task and replay, heap for
 * every cached incident. Only modules with no state of their own belong here: pure functions and constants,
 * importing only each other (a preloaded module's imports are preloaded with it) and nothing from
 * `@temporalio/workflow`. The SDK deep-freezes what they export, so a module that mutates its own exports
 * fails loudly; mutable state in a module's closure would be shared between incidents silently, and
 * test/unit/workflow-preload.test.ts refuses any top-level `let`/`var` or mutable collection in these files.
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
  'workflows/v2/from-legacy',
  'workflows/v2/records',
  'workflows/v2/state',
  'workflows/v2/wake',
] as const;

/** The same list as absolute files, resolved for this build (.ts under ts-jest, .js when compiled). */
export function workflowPreloadModules(): string[] {
  return PRELOADED_WORKFLOW_MODULES.map((m) => require.resolve(`../${m}`));
}
