/**
 * The begin snapshot the service's API passes with the digest of the configuration it read it under
 * (IncidentWorkflowInput.checkedBegin; src/activities/begin.ts, `beginInStart`). A run takes it only when that
 * digest is the one in the Build ID of the worker running its first workflow task (src/runtime/build-id.ts): the
 * connectors and settings that worker would have read itself with the beginIncident local activity are then the
 * ones the snapshot carries. An API configured apart from the workers, a worker of another build or of an older
 * release (whose Build ID carries no digest), a digest or snapshot of the wrong shape: the run reads the snapshot
 * itself, as a run started without one does.
 *
 * Deterministic: `workflowInfo().currentBuildId` is the Build ID of the worker that completed the task, recorded in
 * history with the task's completion, so a replay on any worker decides as the first execution did. Pure.
 *
 * Frozen once shipped: whether a snapshot is accepted decides whether the run asks `begin-checked-v1`, so a check
 * made stricter or looser later would replay a recorded run down the other path. A new check needs a new patch id.
 */
import { beginFromInput } from './begin-input';
import type { BeginInput } from './state';

/** A digest: 64 bits of SHA-256, in lower-case hex. */
const DIGEST = /^[0-9a-f]{16}$/;
/** Where a worker's Build ID carries it: its last part. */
const IN_BUILD_ID = /\.begin-([0-9a-f]{16})$/;

/** The suffix a worker appends to its Build ID for the begin configuration's digest. */
export function beginDigestSuffix(digest: string): string {
  if (!DIGEST.test(digest)) throw new TypeError('a begin configuration digest is 16 lower-case hex digits');
  return `.begin-${digest}`;
}

/** The begin configuration's digest a Build ID carries, if it carries one. */
export function beginDigestOfBuildId(buildId: string | undefined): string | undefined {
  const m = typeof buildId === 'string' ? IN_BUILD_ID.exec(buildId) : null;
  return m ? m[1] : undefined;
}

/** The snapshot, when `x` has the shape `{ configDigest, begin }` and its digest is the one `buildId` carries. */
export function checkedBeginFromInput(x: unknown, buildId: string | undefined): BeginInput | undefined {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return undefined;
  const { configDigest, begin } = x as Record<string, unknown>;
  if (typeof configDigest !== 'string' || !DIGEST.test(configDigest)) return undefined;
  const mine = beginDigestOfBuildId(buildId);
  if (mine === undefined || mine !== configDigest) return undefined;
  return beginFromInput(begin);
}
