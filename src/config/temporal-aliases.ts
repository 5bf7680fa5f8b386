import { ConfigError } from './errors';

type Env = Record<string, string | undefined>;

/**
 * Names this project used before it read the Temporal client settings through `@temporalio/envconfig`, and
 * the standard names (the Temporal CLI's and every SDK's) that replace them. The old names keep working; each
 * one in use produces a start-up notice naming the standard one. Setting both names of one pair is refused.
 */
export const TEMPORAL_ALIASES: ReadonlyArray<{ alias: string; standard: string }> = [
  { alias: 'TEMPORAL_TLS_CA_FILE', standard: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH' },
  { alias: 'TEMPORAL_TLS_CERT_FILE', standard: 'TEMPORAL_TLS_CLIENT_CERT_PATH' },
  { alias: 'TEMPORAL_TLS_KEY_FILE', standard: 'TEMPORAL_TLS_CLIENT_KEY_PATH' },
];

export interface AliasedEnv {
  /** The environment with every alias renamed to its standard name. */
  env: Env;
  /** One notice per alias in use. */
  notices: string[];
  /** The name the operator actually set, by standard name (for error messages). */
  setAs: Record<string, string>;
}

const isSet = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

export function applyTemporalAliases(input: Env): AliasedEnv {
  const env: Env = { ...input };
  const notices: string[] = [];
  const setAs: Record<string, string> = {};
  for (const { alias, standard } of TEMPORAL_ALIASES) {
    if (!isSet(env[alias])) continue;
    if (isSet(env[standard])) throw new ConfigError(alias, [`set either ${alias} or ${standard} (its standard name), not both`]);
    env[standard] = env[alias];
    delete env[alias];
    setAs[standard] = alias;
    notices.push(`${alias} is an alias of the standard Temporal setting ${standard}; it keeps working, but prefer ${standard}`);
  }
  return { env, notices, setAs };
}
