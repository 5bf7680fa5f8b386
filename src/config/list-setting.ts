/**
 * The three list settings (PROBECTL_NOTIFY_CONNECTORS, PROBECTL_NOTIFY_INBOUND, PROBECTL_NOTIFY_API_TOKENS)
 * come in two forms:
 *
 *   separated  entries separated by commas or newlines, fields by a separator (`|` or `:`) — the seed's format;
 *   JSON       an array of objects (a value starting with `[`), from the variable itself or its *_FILE.
 *
 * Both forms become the same objects, validated by one zod schema per setting. Error messages name the setting,
 * the entry's position and the field, never a secret. In the separated form a secret that contains a comma
 * spills into the next "entry", so nothing of an entry after the first is ever quoted there (its fields may be
 * the tail of the previous entry's secret); the JSON form has no such ambiguity and quotes the entry's id or
 * tenant to help find it.
 */
import { z } from 'zod';

export type ListForm = 'separated' | 'json';

export interface ListEntry<T> {
  /** 1-based position in the setting. */
  position: number;
  form: ListForm;
  value: T;
}

/** Split a separated list on commas and newlines, dropping blank entries. */
export function splitEntries(raw: string): string[] {
  return raw
    .split(/[,\n]/)
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
}

/** May fields of this entry be quoted in an error? Only where they cannot be the tail of another entry's secret. */
export function mayQuote(entry: { position: number; form: ListForm }): boolean {
  return entry.form === 'json' || entry.position === 1;
}

export const NOT_QUOTED_HINT =
  'fields of entries after the first are not shown in the comma-separated form (a secret containing a comma would spill into the next entry); the JSON form avoids this';

/** `entry #3`, with identifying fields only where they may be quoted. */
export function entryLabel(entry: { position: number; form: ListForm }, identity: Array<[string, string | undefined]> = []): string {
  const shown = mayQuote(entry) ? identity.filter(([, v]) => typeof v === 'string' && v.length > 0 && v.length <= 64) : [];
  return `entry #${entry.position}${shown.length > 0 ? ` (${shown.map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ')})` : ''}`;
}

/**
 * zod issues as reasons. The schemas' own messages are sentences that name their field ("the tenant must
 * match …"); zod's built-in ones ("Invalid input: expected string, received undefined") get the field in
 * front. Neither kind ever contains the rejected value.
 */
export function issueReasons(error: z.ZodError): string[] {
  return error.issues.map((i) => {
    const field = i.path.map(String).join('.');
    if (i.code === 'unrecognized_keys') return `unknown field(s) ${i.keys.map((k) => (/^[A-Za-z_]{1,32}$/.test(k) ? k : '(not shown)')).join(', ')}`;
    return field && /^(invalid|too|expected|unrecognized)/i.test(i.message) ? `${field}: ${i.message}` : i.message;
  });
}

/**
 * Read a list setting in either form into raw objects (not yet validated): the JSON form's objects as given,
 * the separated form's entries through `fields` (which turns one entry's text into an object, or returns a
 * problem for an entry it cannot split). Structural problems are collected in `problems`.
 */
export function readList(
  raw: string | undefined,
  fields: (text: string) => Record<string, string> | string,
  problems: string[],
): { form: ListForm; entries: Array<ListEntry<unknown>> } {
  if (raw === undefined || raw.trim() === '') return { form: 'separated', entries: [] };
  const text = raw.trim();
  if (text.startsWith('[') || text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      problems.push('the JSON form is not valid JSON');
      return { form: 'json', entries: [] };
    }
    if (!Array.isArray(parsed)) {
      problems.push('the JSON form must be an array of objects (one per entry)');
      return { form: 'json', entries: [] };
    }
    return { form: 'json', entries: parsed.map((value, i) => ({ position: i + 1, form: 'json' as const, value })) };
  }
  const entries: Array<ListEntry<unknown>> = [];
  splitEntries(raw).forEach((entry, i) => {
    const position = i + 1;
    const f = fields(entry);
    if (typeof f === 'string') problems.push(`entry #${position}: ${f}`);
    else entries.push({ position, form: 'separated', value: f });
  });
  return { form: 'separated', entries };
}

/** Validate each entry with `schema`; failures become `entry #N: field: rule` problems. */
export function validateEntries<S extends z.ZodType>(
  entries: Array<ListEntry<unknown>>,
  schema: S | ((entry: { position: number; form: ListForm }) => S),
  identity: (value: Record<string, unknown>) => Array<[string, string | undefined]>,
  problems: string[],
): Array<ListEntry<z.infer<S>>> {
  const ok: Array<ListEntry<z.infer<S>>> = [];
  for (const e of entries) {
    if (typeof e.value !== 'object' || e.value === null || Array.isArray(e.value)) {
      problems.push(`entry #${e.position}: must be an object`);
      continue;
    }
    const r = (typeof schema === 'function' ? (schema as (x: typeof e) => S)(e) : schema).safeParse(e.value);
    if (!r.success) {
      const v = e.value as Record<string, unknown>;
      // Identity fields are quoted only when they are themselves valid strings (and the entry may be quoted).
      const label = entryLabel(e, identity(v).filter(([k]) => !r.error.issues.some((i) => i.path[0] === k)));
      problems.push(...issueReasons(r.error).map((reason) => `${label}: ${reason}`));
      continue;
    }
    ok.push({ position: e.position, form: e.form, value: r.data });
  }
  return ok;
}

/** Add the hint once when a separated-form problem concerns an entry after the first. */
export function withHint(problems: string[], form: ListForm): string[] {
  const later = problems.some((p) => /^entry #([2-9]|\d{2,})\b/.test(p));
  return form === 'separated' && later ? [...problems, NOT_QUOTED_HINT] : problems;
}
