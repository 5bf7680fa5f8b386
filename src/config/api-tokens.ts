import { TENANT_ID_PATTERN } from '../shared/ids';
import { splitEntries } from './connectors';
import { ConfigError } from './errors';
import { Secret } from './secret';

export const API_TOKENS_SETTING = 'PROBECTL_NOTIFY_API_TOKENS';
const MIN_TOKEN_LENGTH = 16;

export interface ApiToken {
  tenantId: string;
  token: Secret;
}

/** `tenant:token` entries; a tenant may have two tokens at once so they can be rotated without downtime. */
export function parseApiTokens(raw: string | undefined): ApiToken[] {
  if (raw === undefined || raw.trim() === '') return [];
  const problems: string[] = [];
  const tokens: ApiToken[] = [];
  splitEntries(raw).forEach((entry, i) => {
    const at = entry.indexOf(':');
    const tenantId = at < 0 ? '' : entry.slice(0, at);
    const token = at < 0 ? '' : entry.slice(at + 1);
    if (at < 0 || !TENANT_ID_PATTERN.test(tenantId)) {
      problems.push(`entry #${i + 1}: expected tenant:token with a tenant matching ${TENANT_ID_PATTERN.source}`);
    } else if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
      problems.push(`entry #${i + 1} (tenant ${JSON.stringify(tenantId)}): the token must be at least ${MIN_TOKEN_LENGTH} characters without whitespace`);
    } else {
      tokens.push({ tenantId, token: new Secret(token) });
    }
  });
  const seen = new Set<string>();
  for (const t of tokens) {
    if (seen.has(t.token.reveal())) problems.push(`the same token is listed twice (tenant ${JSON.stringify(t.tenantId)})`);
    seen.add(t.token.reveal());
  }
  if (problems.length > 0) throw new ConfigError(API_TOKENS_SETTING, problems);
  return tokens;
}
