/**
 * Jira's options, typed once at load: the zod schema from the raw option strings of an entry's URL (?project=OPS&…)
 * to what the builders use. Its refusals name the option key and never repeat the value. Pure.
 */
import { z } from 'zod';
import type { Severity } from '../../shared/contract';
import { listOf, refuse, severityMapOption } from '../option-schemas';
import { DEFAULT_ISSUE_TYPE, DEFAULT_PRIORITY, DEFAULT_RESOLVE_TRANSITION, isPriorityName } from './build';

export interface JiraOptions {
  /** The project key (`project`, required). */
  project: string;
  /** `issuetype`, else Task. */
  issueType: string;
  /** `resolve_transition`: the numeric id of the transition tried first on a resolve, else 31 (an id: sent as a string). */
  resolveTransition: string;
  /** `components`: component names. */
  components: readonly string[];
  /** The priority name per severity (`priority` fixes one for all; else `priority_map` over the defaults); undefined: `priority=none`, the issue gets none. */
  priorities: Readonly<Record<Severity, string>> | undefined;
  /** `fields`: extra issue fields, a JSON object (ours win over them). */
  fields: Readonly<Record<string, unknown>>;
}

const project = z.string().optional().transform((raw, ctx) => {
  if (!raw) return refuse(ctx, 'the project option is missing (add ?project=KEY to the URL)');
  return /^[A-Za-z0-9_]{1,64}$/.test(raw) ? raw : refuse(ctx, 'the project option must be a project key such as OPS');
});

const resolveTransition = z.string().optional().transform((raw, ctx) => {
  if (!raw) return DEFAULT_RESOLVE_TRANSITION;
  return /^\d+$/.test(raw) ? raw : refuse(ctx, 'resolve_transition must be a numeric transition id');
});

/** `priority`: a name, or `none` (any case); absent: the map decides. */
const priority = z.string().optional().transform((raw, ctx): string | { none: true } | undefined => {
  if (raw === undefined) return undefined;
  if (!isPriorityName(raw)) return refuse(ctx, 'priority must be a priority name, or none');
  return raw.toLowerCase() === 'none' ? { none: true } : raw;
});

const fields = z.string().optional().transform((raw, ctx): Readonly<Record<string, unknown>> => {
  if (raw === undefined) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    v = undefined;
  }
  return v && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : refuse(ctx, 'fields must be a URL-encoded JSON object of extra issue fields, e.g. {"customfield_10010":"x"}');
});

export const schema: z.ZodType<JiraOptions> = z
  .object({
    project,
    issuetype: z.string().optional(),
    resolve_transition: resolveTransition,
    components: listOf(),
    priority,
    priority_map: severityMapOption('priority_map', DEFAULT_PRIORITY, isPriorityName, 'Highest'),
    fields,
  })
  .transform((o): JiraOptions => ({
    project: o.project,
    issueType: o.issuetype || DEFAULT_ISSUE_TYPE,
    resolveTransition: o.resolve_transition,
    components: o.components,
    priorities: typeof o.priority === 'object' ? undefined : o.priority !== undefined ? fixed(o.priority) : o.priority_map,
    fields: o.fields,
  }));

const fixed = (name: string): Record<Severity, string> => ({ critical: name, error: name, warning: name, info: name });
