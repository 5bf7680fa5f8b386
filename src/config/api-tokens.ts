import { z } from 'zod';
import { TENANT_ID_PATTERN } from '../shared/ids';
import { ConfigError } from './errors';
import { entryLabel, readList, validateEntries, withHint } from './list-setting';
import { Secret } from './secret';

export const API_TOKENS_SETTING = 'PROBECTL_NOTIFY_API_TOKENS';
const MIN_TOKEN_LENGTH = 16;

export interface ApiToken {
  tenantId: string;
  token: Secret;
}

/** One entry, from `tenant:token` or from the JSON form `{"tenant","token"}`. */
const tokenEntry = z.strictObject({
  tenant: z.string().regex(TENANT_ID_PATTERN, `the tenant must match ${TENANT_ID_PATTERN.source}`),
  // Printable ASCII: a bearer token is a header value, which Node reads as latin1 — any other character never matches.
  token: z.string().min(MIN_TOKEN_LENGTH, `the token must be at least ${MIN_TOKEN_LENGTH} printable ASCII characters without whitespace`)
    .regex(/^[\x21-\x7e]+$/, `the token must be at least ${MIN_TOKEN_LENGTH} printable ASCII characters without whitespace`),
});

/**
 * The tenant as an error may quote it: only a value that cannot be a token (shorter than one). Written the other
 * way round (`token:tenant`, or the JSON values swapped), the tenant field holds the token.
 */
const quotable = (tenant: unknown): string | undefined => (typeof tenant === 'string' && tenant.length < MIN_TOKEN_LENGTH ? tenant : undefined);

/**
 * `tenant:token` entries separated by commas or newlines, or a JSON array of `{"tenant","token"}` (no separator
 * can break it: use it for tokens that contain a comma). A tenant may have two tokens at once so they can be
 * rotated without downtime.
 */
export function parseApiTokens(raw: string | undefined): ApiToken[] {
  const problems: string[] = [];
  const { form, entries } = readList(raw, (text) => {
    const at = text.indexOf(':');
    return at < 0 ? 'expected tenant:token' : { tenant: text.slice(0, at), token: text.slice(at + 1) };
  }, problems);
  const valid = validateEntries(entries, tokenEntry, (v) => [['tenant', quotable(v.tenant)]], problems);
  const tokens: ApiToken[] = [];
  const seen = new Map<string, number>();
  for (const e of valid) {
    const clash = seen.get(e.value.token);
    if (clash !== undefined) {
      problems.push(`${entryLabel(e, [['tenant', quotable(e.value.tenant)]])}: the same token is already listed as entry #${clash}`);
      continue;
    }
    seen.set(e.value.token, e.position);
    tokens.push({ tenantId: e.value.tenant, token: new Secret(e.value.token) });
  }
  if (problems.length > 0) throw new ConfigError(API_TOKENS_SETTING, withHint(problems, form));
  return tokens;
}
