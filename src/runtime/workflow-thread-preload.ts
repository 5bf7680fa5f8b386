/**
 * `node --require ./dist/runtime/workflow-thread-preload.js dist/main.js …`: the image's entrypoint, `npm start`, the
 * cluster suite and the bench start the service this way (docs/configuration.md, PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES).
 * The path keeps its `./`: node looks a bare `dist/…` up in node_modules.
 *
 * The Temporal SDK runs workflow code in worker threads and installs, in each, a V8 promise hook that captures a
 * source-mapped stack trace for every promise a workflow makes, so that the `__stack_trace` and
 * `__enhanced_stack_trace` queries (the Temporal UI's "Stack Trace" tab) can show where a run waits. It has no option
 * to leave the hook out; it leaves it out only where `v8.promiseHooks.createHook` is unavailable, and then answers
 * those queries with "Workflow stack traces are not enabled on this worker". With the setting `off` (the default),
 * this module gives the process's worker threads a `v8.promiseHooks` whose `createHook` throws, so the SDK takes that
 * path: the workflows, their commands and their histories are the same (the hook only records stacks), the queries
 * are refused, and the worker saves the hook's CPU (docs/benchmarks.md, "Lever kept: no promise hook in the workflow
 * thread"). Node's own promise hooks (async_hooks, AsyncLocalStorage, which the SDK's cancellation scopes use) are
 * untouched. In the main thread it changes nothing and only marks that it was loaded, so the worker can log whether
 * the setting took effect.
 *
 * Threads are the SDK's workflow threads: nothing else in this service starts a worker thread.
 */
import { isMainThread } from 'node:worker_threads';
import v8 from 'node:v8';
import { HOOK_REFUSED, PRELOADED, stackTracesSetting } from './stack-traces';

if (isMainThread) {
  (globalThis as Record<symbol, unknown>)[PRELOADED] = true;
} else if (stackTracesSetting(process.env) === 'off') {
  // A new object in place of the module's `promiseHooks` property, never a change to the object itself: that object
  // is Node's own internal/promise_hooks, through which async_hooks (and so AsyncLocalStorage on Node 20 and 22, the
  // SDK's cancellation scopes) installs its promise hook. The SDK reads `v8.promiseHooks.createHook` when it installs.
  const refuse: typeof v8.promiseHooks.createHook = () => {
    throw new Error(HOOK_REFUSED);
  };
  (v8 as { promiseHooks: typeof v8.promiseHooks }).promiseHooks = { ...v8.promiseHooks, createHook: refuse };
}
