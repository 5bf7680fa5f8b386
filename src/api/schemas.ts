import { z } from 'zod';
import { SEVERITIES } from '../shared/contract';
import { hasLoneSurrogate, timestampProblem } from '../db/storable';
import { INCIDENT_ID_PATTERN, TENANT_ID_PATTERN } from '../shared/ids';

/**
 * Free text that Postgres can hold: its text type refuses U+0000, and its jsonb (where follow-ups carry the incident
 * and a resolution's actor) refuses a lone UTF-16 surrogate, so a value with either would start an incident (or send
 * a signal) whose mirror writes could not keep it as sent. Refused here, with the other rules, as a 400. (The record
 * path makes any string storable too — src/db/storable.ts — for what reaches it by other ways.)
 */
const LONE_SURROGATE_RULE = 'must not contain a lone UTF-16 surrogate (an unpaired U+D800–U+DFFF)';
// eslint-disable-next-line no-control-regex -- the one control character this pattern is about
const text = () => z.string().regex(/^[^\u0000]*$/, 'must not contain NUL (U+0000)').refine((v) => !hasLoneSurrogate(v), LONE_SURROGATE_RULE);

/**
 * An incident id: the pattern the workflow checks, and not only dots — `.` and `..` are path segments a client's
 * URL normalisation removes (`/v1/incidents/./timeline` becomes `/v1/incidents/timeline`), so such an incident could
 * never be read or signalled through /v1.
 */
const incidentId = (message: string) =>
  z.string().regex(INCIDENT_ID_PATTERN, message).refine((v) => !/^\.+$/.test(v), 'must not be made only of dots');

/**
 * A date-time Postgres's timestamptz takes as written (src/db/storable.ts timestampProblem), and as the same instant
 * read back: 400 otherwise (one reason: the format's, or the range's).
 */
const isoDateTime = z.iso.datetime({ offset: true });
const timestamp = () => isoDateTime.superRefine((v, ctx) => {
  const problem = isoDateTime.safeParse(v).success ? timestampProblem(v) : undefined;
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

export const incidentIdParam = z.object({ id: incidentId('incident id must match [A-Za-z0-9._-]{1,128}') });

export const openBody = z.strictObject({
  id: incidentId('must match [A-Za-z0-9._-]{1,128}'),
  tenantId: z.string().regex(TENANT_ID_PATTERN).optional(),
  title: text().min(1).max(4096),
  severity: z.enum(SEVERITIES),
  summary: text().max(65_536).optional(),
  source: text().min(1).max(255).optional(),
  url: z.url({ protocol: /^https?$/ }).max(2048).refine((v) => !v.includes('\u0000'), 'must not contain NUL (U+0000)').refine((v) => !hasLoneSurrogate(v), LONE_SURROGATE_RULE).optional(),
  openedAt: timestamp().optional(),
  labels: z.record(text().max(128), text().max(1024)).refine((l) => Object.keys(l).length <= 64, 'at most 64 labels').optional(),
});

export const correlateBody = z.strictObject({
  signalId: text().min(1).max(256),
  summary: text().max(4096).optional(),
});

export const acknowledgeBody = z.strictObject({
  actor: text().min(1).max(256).optional(),
});

export const resolveBody = z.strictObject({
  actor: text().min(1).max(256).optional(),
  reason: text().max(1000).optional(),
});

/**
 * A reason's path: the field names as they are, but a key the caller chose (a label's) only when it is a plain short
 * name — a rejected key (too long, a control character, anything odd) is the rejected value, so it shows as `<key>`.
 */
function pathOf(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return 'body';
  return path.map((p, i) => (i > 0 && path[0] === 'labels' && !(typeof p === 'string' && /^[A-Za-z0-9_.-]{1,40}$/.test(p)) ? '<key>' : String(p))).join('.');
}

/** zod issues as short reasons: the path and the rule, never the rejected value. */
export function reasons(error: z.ZodError): string[] {
  return error.issues.map((i) => `${pathOf(i.path)}: ${i.message}`);
}

/**
 * The same reasons from a validation failure of the zod type provider, whose issues carry the path as a JSON
 * pointer (`/labels/team`) and the rule as the message (never the value).
 */
export function validationReasons(issues: ReadonlyArray<{ instancePath: string; message?: string }>): string[] {
  return issues.map((i) => {
    const segments = i.instancePath.split('/').slice(1).filter((s) => s.length > 0).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    return `${pathOf(segments)}: ${i.message ?? 'invalid'}`;
  });
}
