/**
 * The workflow code, bundled once at build time (`npm run build` → dist/workflow-bundle.js) instead of by
 * every worker at start: a worker then never loads webpack, starts faster and stays about 70 MB smaller.
 * The worker uses the bundle next to its own compiled file when there is one (src/worker.ts), and bundles
 * in-process otherwise (ts-jest, a build without this step).
 *
 *   node dist/runtime/workflow-bundle.js [out-file]     (default: dist/workflow-bundle.js)
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { workflowPreloadModules } from './workflow-preload';

/** Where the worker compiled into `dir` looks for the bundle. */
export function bundlePathFor(dir: string): string {
  return join(dir, 'workflow-bundle.js');
}

/** The prebuilt bundle for the worker compiled into `dir`, if the build wrote one. */
export function prebuiltBundle(dir: string): { codePath: string } | undefined {
  const codePath = bundlePathFor(dir);
  return existsSync(codePath) ? { codePath } : undefined;
}

/**
 * The workflow code bundled as every worker of this build runs it: src/workflows with the shared modules
 * preloaded (./workflow-preload.ts). The build, the replay check and the tests that run this build's workflow code
 * bundle through here; the tests that build deliberately changed or older copies of it (test/helpers/workflow-bundle.ts,
 * the replay harness) bundle those copies without the preload, as an older worker ran them.
 */
export async function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  // Only the build step needs webpack; the worker never loads it when a bundle exists.
  const { DefaultLogger, bundleWorkflowCode } = await import('@temporalio/worker');
  return bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), preloadModules: workflowPreloadModules(), logger: new DefaultLogger('WARN') });
}

export async function writeWorkflowBundle(outFile: string): Promise<{ bytes: number; ms: number }> {
  const started = Date.now();
  const { code } = await bundleWorkflows();
  writeFileSync(outFile, code);
  return { bytes: Buffer.byteLength(code), ms: Date.now() - started };
}

if (require.main === module) {
  const out = process.argv[2] ?? bundlePathFor(join(__dirname, '..'));
  writeWorkflowBundle(out).then(
    ({ bytes, ms }) => console.log(`workflow bundle: ${out} (${Math.round(bytes / 1024)} KiB, ${ms} ms)`),
    (err: unknown) => {
      console.error(`workflow bundle: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
