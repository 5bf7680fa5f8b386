/** `node bench/floor/bundle.js`: bundles the floor workflow next to the compiled floor worker (bench/run.sh). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import { FLOOR_BUNDLE } from './worker';

async function main(): Promise<void> {
  const started = Date.now();
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: new DefaultLogger('WARN') });
  const out = join(__dirname, FLOOR_BUNDLE);
  writeFileSync(out, code);
  process.stdout.write(`floor workflow bundle: ${out} (${Math.round(Buffer.byteLength(code) / 1024)} KiB, ${Date.now() - started} ms)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`floor workflow bundle: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
