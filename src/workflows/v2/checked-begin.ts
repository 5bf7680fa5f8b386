/**
 * The begin snapshot the service's API passes with the digest of the configuration it read it under
 * (IncidentWorkflowInput.checkedBegin; src/activities/begin.ts, `beginInStart`). A first run takes it when the worker
 * running its first workflow task carries the same digest at the end of its Build ID (src/runtime/build-id.ts): the
 * connectors and settings that worker would have read itself with the beginIncident local activity are then the ones
 * the snapshot carries. Not when the digests differ (an API configured apart from the workers, a worker of an older
 * release, whose Build ID carries no digest), not in a run made by resetting the workflow (its start input, and the
 * mirror's record in it, are from before the reset: the run reads the mirror as it is now), and not when the value
 * is of the wrong shape: the run then reads the snapshot itself, as a run started without one does. Pure.
 *
 * Two parts with different rules. `checkedBeginFromInput` (the shape) is asked on every replay too and is frozen
 * once shipped: a check made stricter or looser later would replay a recorded run down the other path; a new check
 * needs a new patch id. `takesCheckedBegin` (the digest, the reset) decides only a first task executed live: a
 * replay follows the run's `first-run-checked-v1` marker (src/workflows/incident.ts; `begin-checked-v1` in runs the
 * release before began, src/workflows/v2/incident-v2.ts), so it reads nothing that only the live worker knows, nor the
 * Build ID history records with each task.
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

/** The digest and the snapshot, when `x` has the shape `{ configDigest, begin }`; undefined otherwise. */
export function checkedBeginFromInput(x: unknown): { configDigest: string; begin: BeginInput } | undefined {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return undefined;
  const { configDigest, begin } = x as Record<string, unknown>;
  if (typeof configDigest !== 'string' || !DIGEST.test(configDigest)) return undefined;
  const snapshot = beginFromInput(begin);
  return snapshot ? { configDigest, begin: snapshot } : undefined;
}

/**
 * The snapshots a first run's start input offers, by the one rule the entry (src/workflows/incident.ts, asking
 * `first-run-checked-v1`) and the state machine (incident-v2.ts, `begin-in-input-v1` and `begin-checked-v1`) share: a
 * well-formed unchecked `begin` wins; the checked one counts only without it. Frozen with the two checks it uses.
 */
export function offeredBegins(input: { begin?: unknown; checkedBegin?: unknown }): { given?: BeginInput; checked?: { configDigest: string; begin: BeginInput } } {
  const given = input.begin !== undefined ? beginFromInput(input.begin) : undefined;
  const checked = given === undefined && input.checkedBegin !== undefined ? checkedBeginFromInput(input.checkedBegin) : undefined;
  return { ...(given ? { given } : {}), ...(checked ? { checked } : {}) };
}

/** What of the workflow's info the live decision reads. */
export interface FirstTaskInfo {
  currentBuildId?: string | undefined;
  runId: string;
  originalExecutionRunId: string;
}

/**
 * Live first task only: take a checked snapshot with `configDigest`? When this task's worker carries the digest and
 * the run is not a reset one (a reset keeps the original run's start event, and with it `originalExecutionRunId`).
 */
export function takesCheckedBegin(configDigest: string, info: FirstTaskInfo): boolean {
  return beginDigestOfBuildId(info.currentBuildId) === configDigest && info.runId === info.originalExecutionRunId;
}
