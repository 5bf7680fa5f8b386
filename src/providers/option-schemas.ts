/**
 * The zod pieces the providers' options schemas (src/providers/<name>/options.ts) share: each turns one raw option
 * string (a URL query value) into its typed value, or refuses it with a message that names the option key and
 * repeats nothing of the value. Pure: no I/O.
 */
import { z } from 'zod';
import type { Severity } from '../shared/contract';
import { listOption, parseSeverityMap } from './format';
import { MAX_RATE_PER_MIN, MIN_RATE_PER_MIN } from './rate';

/** A refusal from inside a transform: `message` must name the key. */
export function refuse(ctx: z.RefinementCtx, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
}

/**
 * A severity map option such as `critical:P1;warning:P3` → the value for every severity (the defaults where the
 * map says nothing). An absent option gives the defaults.
 */
export function severityMapOption(key: string, defaults: Readonly<Record<Severity, string>>, allowed: (v: string) => boolean, example: string) {
  return z.string().optional().transform((raw, ctx): Readonly<Record<Severity, string>> => {
    if (raw === undefined) return defaults;
    const { map, problems } = parseSeverityMap(raw, allowed);
    for (const p of problems) ctx.addIssue({ code: 'custom', message: `${key}: ${p} (expected severity:value pairs separated by ; such as critical:${example})` });
    if (problems.length > 0) return z.NEVER;
    if (Object.keys(map).length === 0) return refuse(ctx, `${key} is empty (expected e.g. critical:${example})`);
    return { ...defaults, ...map };
  });
}

/** A list option (`a;b` or `a,b`) → its trimmed, non-empty items; absent → none. */
export const listOf = () => z.string().optional().transform((raw): readonly string[] => listOption(raw));

/** A free-text option → its value; absent or empty → undefined (nothing is sent). */
export const text = () => z.string().optional().transform((raw) => (raw ? raw : undefined));

/** `rate_per_min` → a whole number of calls per minute within the pacing bounds. */
export const ratePerMin = z
  .string()
  .optional()
  .transform((raw, ctx): number | undefined => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    return /^\d+$/.test(raw) && n >= MIN_RATE_PER_MIN && n <= MAX_RATE_PER_MIN
      ? n
      : refuse(ctx, `rate_per_min must be a whole number from ${MIN_RATE_PER_MIN} to ${MAX_RATE_PER_MIN}`);
  });

/** The options schema of a provider that declares none: its typed options are empty. */
export type NoOptions = Readonly<Record<never, never>>;
export const noOptions: z.ZodType<NoOptions> = z.object({}).transform((): NoOptions => ({}));

/**
 * An options schema's refusals as problem texts, each naming the option key (prefixed with it where the message
 * does not already say it). Messages come only from the schemas above and the providers' own: none repeats a value.
 */
export function optionProblems(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const key = issue.path.length > 0 ? String(issue.path[0]) : '';
    return key && !issue.message.includes(key) ? `${key}: ${issue.message}` : issue.message;
  });
}
