/**
 * PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES as the worker threads see it, and whether the preload that applies it
 * (./workflow-thread-preload.ts) was loaded. No side effects: the main thread reads these, the preload applies them.
 */

/** Set on globalThis by the preload in the main thread. */
export const PRELOADED = Symbol.for('probectl-notify.workflow-thread-preload');

/** What the SDK's `createHook` throws in a workflow thread when the setting is off. */
export const HOOK_REFUSED = 'left out by probectl-notify (PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES=off)';

/**
 * The setting as the preload reads it: `on` only when set to on. config/load.ts validates the value in the main
 * thread before any worker thread starts, so a value it refuses never reaches a thread.
 */
export function stackTracesSetting(env: NodeJS.ProcessEnv): 'on' | 'off' {
  return env.PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES?.trim() === 'on' ? 'on' : 'off';
}

/** Whether the preload was loaded into this process (`node --require …/workflow-thread-preload.js`). */
function threadPreloadLoaded(): boolean {
  return (globalThis as Record<symbol, unknown>)[PRELOADED] === true;
}

/** The SDK's own switch (worker-options.js `isSet`): with it, workflows run in the main thread, where the preload does nothing. */
function temporalDebug(env: NodeJS.ProcessEnv): boolean {
  return ['1', 't', 'true'].includes((env.TEMPORAL_DEBUG ?? '').toLocaleLowerCase());
}

/**
 * What the worker's start-up log says: whether the workflow threads capture promise stack traces. Inferred from the
 * setting, the preload's mark and TEMPORAL_DEBUG; test/e2e/workflow-stack-traces.test.ts checks it against what the
 * stack-trace query answers.
 */
export function workflowStackTraces(
  setting: 'on' | 'off',
  preloaded = threadPreloadLoaded(),
  env: NodeJS.ProcessEnv = process.env,
): 'on' | 'off' | 'on (the thread preload is not loaded)' | 'on (TEMPORAL_DEBUG runs workflows in the main thread)' {
  if (setting === 'on') return 'on';
  if (!preloaded) return 'on (the thread preload is not loaded)';
  return temporalDebug(env) ? 'on (TEMPORAL_DEBUG runs workflows in the main thread)' : 'off';
}
