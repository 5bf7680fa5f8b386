/**
 * The Temporal client configuration file (`temporal.toml`, the format of the Temporal CLI and SDKs), read only
 * when the operator names it: `TEMPORAL_CONFIG_FILE` (a path) and/or `TEMPORAL_PROFILE` (a profile name; alone,
 * it reads the file from the standard location, `$XDG_CONFIG_HOME/temporalio/temporal.toml` or
 * `~/.config/temporalio/temporal.toml`). `@temporalio/envconfig`'s own loader would read that standard file
 * whenever it exists, named or not, and would ignore a named file that is missing; neither happens here.
 *
 * The file is checked before envconfig sees it: unknown keys are refused (a typo never silently loses a TLS
 * setting), a profile that turns host verification off is refused, and errors name the key, never a value.
 */
import { readFileSync } from 'node:fs';
import { homedir, platform } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { z } from 'zod';
import { ConfigError } from './errors';

type Env = Record<string, string | undefined>;

export interface NamedProfile {
  /** The file, as read. */
  path: string;
  /** The setting that named the file (errors about reading it name this one). */
  fileSetting: 'TEMPORAL_CONFIG_FILE' | 'TEMPORAL_PROFILE';
  /** The profile's name (TEMPORAL_PROFILE, default `default`). */
  name: string;
  /** The file's text, handed to envconfig as its config source. */
  text: string;
  /** The profile's raw table (snake_case keys, as in the file). */
  raw: TomlProfile;
}

const str = z.string({ message: 'must be a string' });
const bool = z.boolean({ message: 'must be true or false' });
const tlsTable = z.strictObject({
  disabled: bool.optional(),
  client_cert_path: str.optional(),
  client_cert_data: str.optional(),
  client_key_path: str.optional(),
  client_key_data: str.optional(),
  server_ca_cert_path: str.optional(),
  server_ca_cert_data: str.optional(),
  server_name: str.optional(),
  disable_host_verification: bool.optional(),
});
const profileTable = z.strictObject({
  address: str.optional(),
  namespace: str.optional(),
  api_key: str.optional(),
  tls: tlsTable.optional(),
  codec: z.strictObject({ endpoint: str.optional(), auth: str.optional() }).optional(),
  grpc_meta: z.record(z.string(), str).optional(),
});
const fileTable = z.strictObject({ profile: z.record(z.string(), profileTable).optional() });
export type TomlProfile = z.infer<typeof profileTable>;

/** Where the Temporal CLI and SDKs look for temporal.toml (os.UserConfigDir()/temporalio/temporal.toml). */
export function standardConfigFile(env: Env): string | undefined {
  const os = platform();
  if (os === 'win32') return env.APPDATA ? join(env.APPDATA, 'temporalio', 'temporal.toml') : undefined;
  const home = env.HOME ?? (env === process.env ? homedir() : undefined);
  if (os === 'darwin') return home ? join(home, 'Library', 'Application Support', 'temporalio', 'temporal.toml') : undefined;
  const xdg = env.XDG_CONFIG_HOME?.trim();
  if (xdg && isAbsolute(xdg)) return join(xdg, 'temporalio', 'temporal.toml');
  return home ? join(home, '.config', 'temporalio', 'temporal.toml') : undefined;
}

const isSet = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

/** The profile the environment names, or undefined when it names none (then no file is read at all). */
export function namedProfile(env: Env): NamedProfile | undefined {
  const file = env.TEMPORAL_CONFIG_FILE;
  const profile = env.TEMPORAL_PROFILE;
  if (!isSet(file) && !isSet(profile)) return undefined;
  const fileSetting = isSet(file) ? 'TEMPORAL_CONFIG_FILE' : 'TEMPORAL_PROFILE';
  const path = isSet(file) ? file.trim() : standardConfigFile(env);
  if (!path) throw new ConfigError('TEMPORAL_PROFILE', ['names a profile, but there is no standard configuration directory (HOME is unset): set TEMPORAL_CONFIG_FILE']);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(fileSetting, [`cannot read ${JSON.stringify(path)} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`]);
  }
  let parsed: unknown;
  try {
    parsed = parse(text);
  } catch (err) {
    // smol-toml's message quotes the offending line, which may hold an API key: only its position is kept.
    const at = err instanceof TomlError ? ` at line ${err.line}, column ${err.column}` : '';
    throw new ConfigError(fileSetting, [`${JSON.stringify(path)} is not valid TOML${at}`]);
  }
  const checked = fileTable.safeParse(parsed);
  if (!checked.success) {
    throw new ConfigError(fileSetting, checked.error.issues.map((i) => `${JSON.stringify(path)}: ${i.path.map(String).join('.') || '(file)'}: ${i.message}`));
  }
  const name = isSet(profile) ? profile.trim() : 'default';
  const raw = checked.data.profile?.[name];
  if (!raw) {
    throw new ConfigError(isSet(profile) ? 'TEMPORAL_PROFILE' : 'TEMPORAL_CONFIG_FILE', [
      `${JSON.stringify(path)} has no [profile.${name}]${isSet(profile) ? '' : ' (name one with TEMPORAL_PROFILE)'}`,
    ]);
  }
  return { path, fileSetting, name, text, raw };
}

/** How errors name a key of the profile: `profile "prod" tls.client_key_path in /etc/temporal.toml`. */
export function profileKey(p: NamedProfile, key: string): string {
  return `profile ${JSON.stringify(p.name)} ${key} in ${p.path}`;
}
