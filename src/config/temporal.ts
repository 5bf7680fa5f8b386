/**
 * The Temporal client settings, read through `@temporalio/envconfig` so the worker, the API and the CLI take
 * the same `TEMPORAL_*` variables and `temporal.toml` profiles as the Temporal CLI and the other SDKs
 * (docs/configuration.md). What this module adds around envconfig:
 *
 * - a profile file is read only when named (temporal-profile.ts), never picked up from a home directory;
 * - turning host verification off is refused, in a variable or a profile;
 * - the API key also comes from a file (`TEMPORAL_API_KEY_FILE`), like every other secret;
 * - the names this project used before keep working as aliases, with a notice (temporal-aliases.ts);
 * - contradictions (TLS off with TLS files or an API key, half an mTLS pair) are refused;
 * - every error names the setting and never quotes a secret (API key, key material).
 *
 * Precedence is envconfig's own, as the Temporal CLI documents it: an environment variable overrides the same
 * setting of the profile (TLS settings key by key), and the profile fills in the rest.
 */
import { readFileSync } from 'node:fs';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';
import { ConfigError } from './errors';
import { Secret } from './secret';
import { secretSetting } from './secret-source';
import { applyTemporalAliases } from './temporal-aliases';
import { namedProfile, profileKey, type NamedProfile } from './temporal-profile';

type Env = Record<string, string | undefined>;

export interface TemporalTls {
  serverNameOverride?: string;
  serverRootCACertificate?: Buffer;
  clientCertPair?: { crt: Buffer; key: Buffer };
}

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Undefined: plaintext (the local dev server). */
  tls?: TemporalTls;
  /** Temporal Cloud API key (implies TLS). */
  apiKey?: Secret;
  /** gRPC metadata (`TEMPORAL_GRPC_META_*`, a profile's `grpc_meta`), sent with every call; values may be credentials. */
  metadata?: Record<string, Secret>;
  /** Where the settings came from, for the start-up log: `environment` or the profile and its file. */
  source: string;
}

export interface TemporalClientSettings {
  settings: Omit<TemporalSettings, 'taskQueue'>;
  /** Start-up notices (aliases in use), one log line each. */
  notices: string[];
}

const DEFAULT_ADDRESS = '127.0.0.1:7233';
const DEFAULT_NAMESPACE = 'default';
const BOOLEAN = new Map([['true', true], ['1', true], ['false', false], ['0', false]]);

const isSet = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

/** What a gRPC (HTTP/2) header value may hold: printable ASCII and spaces. */
const HEADER_VALUE = /^[\x20-\x7e]*$/;
const UNSENDABLE = 'holds a character a gRPC header cannot carry (a control character, a line break or a non-ASCII character); the value is not shown';

/** A boolean variable as envconfig reads it (only `true`/`1` are true), checked first: `yes` or `TRUE` are errors here, not `false`. */
function booleanVar(env: Env, name: string): boolean | undefined {
  const v = env[name];
  if (!isSet(v)) return undefined;
  const b = BOOLEAN.get(v.trim().toLowerCase());
  if (b === undefined) throw new ConfigError(name, ['must be true or false']);
  return b;
}

/** The variables envconfig reads, normalised: set ones only (an empty variable is unset, as compose passes `${VAR:-}`). */
function envconfigVars(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith('TEMPORAL_') && isSet(v)) out[k] = k.startsWith('TEMPORAL_GRPC_META_') ? v : v.trim();
  return out;
}

const HOST_VERIFICATION_OFF = [
  'turns off verification of the Temporal frontend\'s host name, which would accept any certificate its CA ever issued;',
  'probectl-notify refuses it: give the name the certificate carries with TEMPORAL_TLS_SERVER_NAME (tls.server_name in a profile)',
].join(' ');
const NO_CODEC = 'a remote payload codec is not supported by probectl-notify (its payloads would be written unencoded); remove it from this profile or variable';

/** TLS material: the PEM a `*_PATH` names (read here, so an error names the setting) or inline `*_DATA`. */
function material(source: ConfigDataSource | undefined, name: () => string): Buffer | undefined {
  if (!source) return undefined;
  if ('data' in source) return Buffer.from(source.data);
  try {
    return readFileSync(source.path);
  } catch (err) {
    throw new ConfigError(name(), [`cannot read ${JSON.stringify(source.path)} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`]);
  }
}

/** Read and check the Temporal client settings; throws ConfigError naming the setting. */
export function temporalClientSettings(input: Env): TemporalClientSettings {
  const { env, notices, setAs } = applyTemporalAliases(input);
  const tlsFlag = booleanVar(env, 'TEMPORAL_TLS');
  if (booleanVar(env, 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION') === true) throw new ConfigError('TEMPORAL_TLS_DISABLE_HOST_VERIFICATION', [HOST_VERIFICATION_OFF]);
  for (const name of ['TEMPORAL_CODEC_ENDPOINT', 'TEMPORAL_CODEC_AUTH']) if (isSet(env[name])) throw new ConfigError(name, [NO_CODEC]);
  const apiKey = secretSetting(env, 'TEMPORAL_API_KEY')?.trim();

  const profile = namedProfile(env);
  if (profile?.raw.tls?.disable_host_verification === true) throw new ConfigError(profileKey(profile, 'tls.disable_host_verification'), [HOST_VERIFICATION_OFF]);
  if (profile?.raw.codec) throw new ConfigError(profileKey(profile, 'codec'), [NO_CODEC]);

  const vars = envconfigVars(env);
  delete vars.TEMPORAL_API_KEY_FILE;
  if (apiKey) vars.TEMPORAL_API_KEY = apiKey;
  else delete vars.TEMPORAL_API_KEY;
  if (tlsFlag !== undefined) vars.TEMPORAL_TLS = String(tlsFlag);
  // `false` changes nothing (verification is on), but envconfig would count it as a TLS setting and turn TLS on.
  delete vars.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION;

  let loaded: ClientConfigProfile;
  try {
    loaded = profile
      ? loadClientConfigProfile({ configSource: { data: profile.text }, profile: profile.name, overrideEnvVars: vars })
      : loadClientConfigProfile({ disableFile: true, overrideEnvVars: vars });
  } catch (err) {
    // envconfig's own messages name keys ("Cannot specify both client_cert_path and client_cert_data"); anything
    // else is not repeated, in case it quotes the file.
    const msg = err instanceof Error && /^Cannot specify both \w+ and \w+$/.test(err.message) ? err.message : 'cannot be loaded';
    throw new ConfigError(profile ? profileKey(profile, 'tls') : 'TEMPORAL_TLS', [msg]);
  }
  return { settings: settingsFrom(loaded, env, setAs, profile), notices };
}

function settingsFrom(p: ClientConfigProfile, env: Env, setAs: Record<string, string>, profile: NamedProfile | undefined): TemporalClientSettings['settings'] {
  /** The variable the operator set for a standard name (maybe its alias), else the profile key. */
  const named = (vars: string[], key: string) => () => {
    const v = vars.find((n) => isSet(env[n]));
    if (v) return setAs[v] ?? v;
    return profile ? profileKey(profile, key) : vars[0]!;
  };
  const tlsCfg = p.tls;
  const ca = material(tlsCfg?.serverCACert, named(['TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_SERVER_CA_CERT_DATA'], 'tls.server_ca_cert_path'));
  const crt = material(tlsCfg?.clientCert, named(['TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_DATA'], 'tls.client_cert_path'));
  const key = material(tlsCfg?.clientKey, named(['TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_CLIENT_KEY_DATA'], 'tls.client_key_path'));
  if (Boolean(crt) !== Boolean(key)) {
    const missing = crt ? named(['TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_CLIENT_KEY_DATA'], 'tls.client_key_path') : named(['TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_DATA'], 'tls.client_cert_path');
    const given = crt ? named(['TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_DATA'], 'tls.client_cert_path')() : named(['TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_CLIENT_KEY_DATA'], 'tls.client_key_path')();
    throw new ConfigError(missing(), [`mTLS needs both the client certificate and its key; only ${given} is set`]);
  }
  const serverName = tlsCfg?.serverName?.trim();
  const apiKey = p.apiKey?.trim();
  // Sent as gRPC header values: a character a header cannot carry makes the gRPC client throw with the whole value in
  // its message, so it is refused here, by name, without the value.
  if (apiKey && !HEADER_VALUE.test(apiKey)) throw new ConfigError(named(['TEMPORAL_API_KEY'], 'api_key')(), [UNSENDABLE]);
  for (const [k, v] of Object.entries(p.grpcMeta ?? {})) {
    if (HEADER_VALUE.test(v)) continue;
    const envName = `TEMPORAL_GRPC_META_${k.toUpperCase().replace(/-/g, '_')}`;
    throw new ConfigError(isSet(env[envName]) ? envName : profile ? profileKey(profile, `grpc_meta.${k}`) : 'TEMPORAL_GRPC_META_*', [UNSENDABLE]);
  }
  if (tlsCfg?.disabled === true && (ca || crt || serverName || apiKey)) {
    throw new ConfigError(named(['TEMPORAL_TLS'], 'tls.disabled')(), ['turns TLS off, but TLS settings or an API key are set (an API key is never sent in plaintext)']);
  }
  // envconfig's mapping: TLS when the profile or the environment has any TLS setting (and does not disable
  // it), or an API key. Files were read above, so it only sees inline data.
  const options = toClientOptions({
    ...p,
    ...(apiKey ? { apiKey } : { apiKey: undefined }),
    ...(tlsCfg
      ? { tls: { disabled: tlsCfg.disabled, serverName, ...(ca ? { serverCACert: { data: ca } } : {}), ...(crt ? { clientCert: { data: crt } } : {}), ...(key ? { clientKey: { data: key } } : {}) } }
      : {}),
  }).connectionOptions;
  const address = p.address?.trim() || DEFAULT_ADDRESS;
  const namespace = p.namespace?.trim() || DEFAULT_NAMESPACE;
  const tls = options.tls === undefined || options.tls === false ? undefined : options.tls === true ? {} : options.tls;
  const metadata = p.grpcMeta && Object.keys(p.grpcMeta).length > 0 ? Object.fromEntries(Object.entries(p.grpcMeta).map(([k, v]) => [k, new Secret(v)])) : undefined;
  return {
    address,
    namespace,
    ...(tls
      ? {
          tls: {
            ...(tls.serverNameOverride ? { serverNameOverride: tls.serverNameOverride } : {}),
            ...(tls.serverRootCACertificate ? { serverRootCACertificate: Buffer.from(tls.serverRootCACertificate) } : {}),
            ...(tls.clientCertPair ? { clientCertPair: { crt: Buffer.from(tls.clientCertPair.crt), key: Buffer.from(tls.clientCertPair.key) } } : {}),
          },
        }
      : {}),
    ...(options.apiKey && typeof options.apiKey === 'string' ? { apiKey: new Secret(options.apiKey) } : {}),
    ...(metadata ? { metadata } : {}),
    source: profile ? `profile ${JSON.stringify(profile.name)} of ${profile.path}, overridden by TEMPORAL_* variables` : 'TEMPORAL_* variables',
  };
}

/**
 * Channel arguments of every client connection (grpc-js) to Temporal: no proxy. grpc-js would otherwise send Temporal
 * traffic through a host's lower-case `grpc_proxy`/`https_proxy`/`http_proxy` (unless `no_grpc_proxy`/`no_proxy`
 * names the address), while the worker's NativeConnection never uses them: the API role and the CLI could then fail to
 * reach a server the worker reaches, or send Temporal's API key through a proxy meant for provider calls. The proxy
 * variables are for provider calls only (docs/configuration.md).
 */
const TEMPORAL_CHANNEL_ARGS = { 'grpc.enable_http_proxy': 0 } as const;

/** Options for a client's Connection.connect (grpc-js): connectionOptions, no proxy, and the caller's channel arguments. */
export function clientConnectionOptions(
  t: TemporalSettings,
  channelArgs: Record<string, number | string> = {},
): ReturnType<typeof connectionOptions> & { channelArgs: Record<string, number | string> } {
  return { ...connectionOptions(t), channelArgs: { ...channelArgs, ...TEMPORAL_CHANNEL_ARGS } };
}

/** Options for NativeConnection.connect (the worker's; it never uses the proxy variables), and the base of clientConnectionOptions. */
export function connectionOptions(t: TemporalSettings): { address: string; tls?: TemporalTls; apiKey?: string; metadata?: Record<string, string> } {
  return {
    address: t.address,
    ...(t.tls ? { tls: t.tls } : {}),
    ...(t.apiKey ? { apiKey: t.apiKey.reveal() } : {}),
    ...(t.metadata ? { metadata: Object.fromEntries(Object.entries(t.metadata).map(([k, v]) => [k, v.reveal()])) } : {}),
  };
}
