/**
 * The worker's Build ID: the SDK's default (its package and version, `+`, the SHA-256 of the workflow code) with the
 * digest of the begin configuration appended (`.begin-<digest>`, src/activities/begin.ts `beginConfigDigest`). Temporal
 * records it with every workflow task the worker completes; a first run compares it with the digest the API passed
 * with its begin snapshot (src/workflows/v2/checked-begin.ts). The SDK's own prefix is kept: its replay flags
 * recognise the histories of some SDK versions by it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beginDigestSuffix } from '../workflows/v2/checked-begin';


/** The workflow code a worker runs: a bundle file, or bundled code in memory. */
export type BundleCode = { codePath: string } | { code: string };

export function workerBuildId(bundle: BundleCode, beginDigest: string): string {
  const sdk = JSON.parse(readFileSync(require.resolve('@temporalio/worker/package.json'), 'utf8')) as { name: string; version: string };
  const code = 'code' in bundle ? bundle.code : readFileSync(bundle.codePath, 'utf8');
  const checksum = createHash('sha256').update(code).digest('hex');
  return `${sdk.name}@${sdk.version}+${checksum}${beginDigestSuffix(beginDigest)}`;
}
