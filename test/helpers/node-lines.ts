/**
 * The Node.js release lines a process check runs on: this machine's (20), the image's (24) and the newer LTS line
 * (26), the last two from scripts/ensure-node.sh (fetched once from the npm registry, cached). Throws, never skips,
 * when one cannot be had.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function fetched(major: 24 | 26): string {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'ensure-node.sh'), String(major)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0 || !r.stdout.trim()) throw new Error(`no Node ${major} (scripts/ensure-node.sh): ${r.stderr.slice(-2000)}`);
  return r.stdout.trim().split('\n').pop()!;
}

export interface NodeLine {
  /** e.g. `20 (this machine)`, `24 (the image)`. */
  name: string;
  bin: string;
}

/** Each supported line once; the fetch happens on first use (a describe.each over these names stays cheap). */
export const NODE_LINES: ReadonlyArray<{ name: string; bin: () => string }> = [
  { name: `${process.versions.node.split('.')[0]} (this machine)`, bin: () => process.execPath },
  { name: '24 (the image)', bin: () => fetched(24) },
  { name: '26 (the newer LTS line)', bin: () => fetched(26) },
];
