/**
 * The Node.js release lines a process check runs on: 20 and 22 (where AsyncLocalStorage rests on async_hooks), 24
 * (the image's) and 26 (the newer LTS line). The host's own line is used as it is; the others come from
 * scripts/ensure-node.sh (fetched once from the npm registry, sha512-pinned, cached). Throws, never skips, when one
 * cannot be had or is not the line asked for.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const HOST_MAJOR = Number(process.versions.node.split('.')[0]);

function binaryOf(major: 20 | 22 | 24 | 26): string {
  let bin = process.execPath;
  if (major !== HOST_MAJOR) {
    const r = spawnSync('bash', [join(ROOT, 'scripts', 'ensure-node.sh'), String(major)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    if (r.status !== 0 || !r.stdout.trim()) throw new Error(`no Node ${major} (scripts/ensure-node.sh, status ${r.status}${r.signal ? `, ${r.signal}` : ''}): ${r.stderr.slice(-2000)}`);
    bin = r.stdout.trim().split('\n').pop()!;
  }
  const v = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 }).stdout.trim();
  if (!v.startsWith(`v${major}.`)) throw new Error(`${bin} is ${v || 'not runnable'}, not Node ${major}`);
  return bin;
}

const names: Record<20 | 22 | 24 | 26, string> = { 20: '20', 22: '22', 24: '24 (the image)', 26: '26 (the newer LTS line)' };

/** Each supported line once; a fetch happens on first use (a describe.each over these names stays cheap). */
export const NODE_LINES: ReadonlyArray<{ name: string; bin: () => string }> = ([20, 22, 24, 26] as const).map((major) => ({
  name: `${names[major]}${major === HOST_MAJOR ? ', this host' : ''}`,
  bin: () => binaryOf(major),
}));
