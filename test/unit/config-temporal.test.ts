/**
 * The Temporal client settings read through @temporalio/envconfig (src/config/temporal.ts): standard variable
 * names, named profiles only, host verification never off, aliases with a notice, the API key from a file,
 * environment over profile, and no secret in any error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadClientConfigProfile } from '@temporalio/envconfig';
import { runCli } from '../../src/cli/main';
import { ConfigError } from '../../src/config/errors';
import { loadConfig } from '../../src/config/load';
import { connectionOptions } from '../../src/config/temporal';
import { TEMPORAL_ALIASES } from '../../src/config/temporal-aliases';

const API_KEY = 'tcld-Zq8vW3kP0mLx7Rt2Yb5Nc9Hd4Jf6';
const dir = mkdtempSync(join(tmpdir(), 'probectl-temporal-'));
const file = (name: string, content: string) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIEsecretkeymaterial0123456789\n-----END PRIVATE KEY-----\n';
const caFile = file('ca.pem', PEM);
const certFile = file('client.pem', PEM);
const keyFile = file('client.key', KEY);

/** A fake HOME with the standard temporal.toml of the Temporal CLI in it. */
function fakeHome(toml: string): string {
  const home = mkdtempSync(join(dir, 'home-'));
  mkdirSync(join(home, '.config', 'temporalio'), { recursive: true });
  writeFileSync(join(home, '.config', 'temporalio', 'temporal.toml'), toml);
  return home;
}

function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('Temporal client settings: profiles are read only when named', () => {
  const homeToml = `[profile.default]\naddress = "from-home.example:7233"\nnamespace = "home-ns"\napi_key = "${API_KEY}"\n`;

  test('a temporal.toml in HOME is ignored unless a profile or file is named (envconfig alone would read it)', () => {
    const home = fakeHome(homeToml);
    // The fixture is where the SDK looks: envconfig's default loader picks it up.
    expect(loadClientConfigProfile({ overrideEnvVars: { HOME: home } }).address).toBe('from-home.example:7233');
    const c = loadConfig({ HOME: home });
    expect(c.temporal.address).toBe('127.0.0.1:7233');
    expect(c.temporal.namespace).toBe('default');
    expect(c.temporal.apiKey).toBeUndefined();
    expect(c.temporal.tls).toBeUndefined();
    expect(c.temporal.source).toBe('TEMPORAL_* variables');
    // XDG_CONFIG_HOME too
    const xdg = mkdtempSync(join(dir, 'xdg-'));
    mkdirSync(join(xdg, 'temporalio'));
    writeFileSync(join(xdg, 'temporalio', 'temporal.toml'), homeToml);
    expect(loadClientConfigProfile({ overrideEnvVars: { XDG_CONFIG_HOME: xdg } }).address).toBe('from-home.example:7233');
    expect(loadConfig({ XDG_CONFIG_HOME: xdg }).temporal.address).toBe('127.0.0.1:7233');
  });

  test('TEMPORAL_PROFILE alone reads the standard file of that HOME; TEMPORAL_CONFIG_FILE names another file', () => {
    const home = fakeHome(homeToml);
    const named = loadConfig({ HOME: home, TEMPORAL_PROFILE: 'default' });
    expect(named.temporal.address).toBe('from-home.example:7233');
    expect(named.temporal.namespace).toBe('home-ns');
    expect(named.temporal.apiKey?.reveal()).toBe(API_KEY);
    expect(named.temporal.tls).toEqual({}); // an API key implies TLS (envconfig's rule)
    expect(named.temporal.source).toContain(join(home, '.config', 'temporalio', 'temporal.toml'));

    const path = file('two.toml', '[profile.default]\naddress = "a.example:7233"\n[profile.prod]\naddress = "prod.example:7233"\nnamespace = "prod"\n');
    expect(loadConfig({ HOME: home, TEMPORAL_CONFIG_FILE: path }).temporal.address).toBe('a.example:7233');
    const prod = loadConfig({ HOME: home, TEMPORAL_CONFIG_FILE: path, TEMPORAL_PROFILE: 'prod' });
    expect([prod.temporal.address, prod.temporal.namespace]).toEqual(['prod.example:7233', 'prod']);
  });

  test('a named file that is missing, or a missing profile, is an error naming the setting (envconfig would go on silently)', () => {
    const missing = join(dir, 'nope.toml');
    expect(loadClientConfigProfile({ overrideEnvVars: { TEMPORAL_CONFIG_FILE: missing } })).toEqual({});
    expect(configError(() => loadConfig({ TEMPORAL_CONFIG_FILE: missing })).message).toMatch(/^TEMPORAL_CONFIG_FILE: cannot read .*nope\.toml.*ENOENT/);
    const path = file('only-default.toml', '[profile.default]\naddress = "a.example:7233"\n');
    expect(configError(() => loadConfig({ TEMPORAL_CONFIG_FILE: path, TEMPORAL_PROFILE: 'staging' })).message).toMatch(/^TEMPORAL_PROFILE: .*has no \[profile\.staging\]/);
    const noDefault = file('no-default.toml', '[profile.prod]\naddress = "a.example:7233"\n');
    expect(configError(() => loadConfig({ TEMPORAL_CONFIG_FILE: noDefault })).message).toMatch(/^TEMPORAL_CONFIG_FILE: .*has no \[profile\.default\] \(name one with TEMPORAL_PROFILE\)/);
    expect(configError(() => loadConfig({ TEMPORAL_PROFILE: 'default', HOME: mkdtempSync(join(dir, 'empty-home-')) })).message).toMatch(/^TEMPORAL_PROFILE: cannot read .*temporalio\/temporal\.toml.*ENOENT/);
  });

  test('unknown keys and bad TOML are refused by key or position, never quoting a value', () => {
    const typo = file('typo.toml', `[profile.default]\napi_key = "${API_KEY}"\n[profile.default.tls]\nclient_key_pth = "${API_KEY}"\n`);
    const e1 = configError(() => loadConfig({ TEMPORAL_CONFIG_FILE: typo }));
    expect(e1.message).toMatch(/profile\.default\.tls: Unrecognized key: "client_key_pth"/);
    const broken = file('broken.toml', `[profile.default]\napi_key = "${API_KEY}\n`);
    const e2 = configError(() => loadConfig({ TEMPORAL_CONFIG_FILE: broken }));
    expect(e2.message).toMatch(/^TEMPORAL_CONFIG_FILE: .*is not valid TOML at line 2/);
    const wrongType = file('type.toml', `[profile.default]\naddress = 7233\napi_key = ["${API_KEY}"]\n`);
    const e3 = configError(() => loadConfig({ TEMPORAL_CONFIG_FILE: wrongType }));
    expect(e3.message).toMatch(/profile\.default\.address: must be a string/);
    for (const e of [e1, e2, e3]) expect(`${e.message} ${JSON.stringify(e.problems)}`).not.toContain(API_KEY);
  });
});

describe('Temporal client settings: host verification is never turned off', () => {
  test.each(['true', '1', 'TRUE'])('TEMPORAL_TLS_DISABLE_HOST_VERIFICATION=%s is refused, naming the setting', (v) => {
    const e = configError(() => loadConfig({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: v, TEMPORAL_TLS_SERVER_CA_CERT_PATH: caFile }));
    expect(e.setting).toBe('TEMPORAL_TLS_DISABLE_HOST_VERIFICATION');
    expect(e.message).toMatch(/turns off verification of the Temporal frontend's host name/);
  });

  test('=false changes nothing (and does not turn TLS on); a value that is no boolean is refused', () => {
    expect(loadConfig({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'false' }).temporal.tls).toBeUndefined();
    expect(configError(() => loadConfig({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'no' })).message).toBe('TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: must be true or false');
  });

  test('the profile equivalent (tls.disable_host_verification = true) is refused, naming the profile key and file', () => {
    const path = file('nohv.toml', '[profile.prod]\naddress = "prod.example:7233"\n[profile.prod.tls]\ndisable_host_verification = true\n');
    const e = configError(() => loadConfig({ TEMPORAL_CONFIG_FILE: path, TEMPORAL_PROFILE: 'prod' }));
    expect(e.setting).toBe(`profile "prod" tls.disable_host_verification in ${path}`);
    expect(e.message).toMatch(/turns off verification/);
    // = false is accepted
    const ok = file('hv.toml', '[profile.prod]\naddress = "prod.example:7233"\n[profile.prod.tls]\ndisable_host_verification = false\n');
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: ok, TEMPORAL_PROFILE: 'prod' }).temporal.tls).toEqual({});
  });
});

describe('Temporal client settings: aliases of the names this project used before', () => {
  test('each alias still works, with a notice naming the standard variable', () => {
    expect(TEMPORAL_ALIASES.map((a) => `${a.alias}→${a.standard}`)).toEqual([
      'TEMPORAL_TLS_CA_FILE→TEMPORAL_TLS_SERVER_CA_CERT_PATH',
      'TEMPORAL_TLS_CERT_FILE→TEMPORAL_TLS_CLIENT_CERT_PATH',
      'TEMPORAL_TLS_KEY_FILE→TEMPORAL_TLS_CLIENT_KEY_PATH',
    ]);
    const old = loadConfig({ TEMPORAL_TLS_CA_FILE: caFile, TEMPORAL_TLS_CERT_FILE: certFile, TEMPORAL_TLS_KEY_FILE: keyFile });
    const std = loadConfig({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: caFile, TEMPORAL_TLS_CLIENT_CERT_PATH: certFile, TEMPORAL_TLS_CLIENT_KEY_PATH: keyFile });
    expect(old.temporal.tls).toEqual(std.temporal.tls);
    expect(old.temporal.tls?.clientCertPair?.key.toString()).toBe(KEY);
    expect(old.notices).toEqual(TEMPORAL_ALIASES.map((a) => expect.stringContaining(`${a.alias} is an alias of the standard Temporal setting ${a.standard}`)));
    expect(std.notices).toEqual([]);
  });

  test('alias and standard name together are refused; an unreadable alias file is named as the alias', () => {
    expect(configError(() => loadConfig({ TEMPORAL_TLS_CA_FILE: caFile, TEMPORAL_TLS_SERVER_CA_CERT_PATH: caFile })).message).toBe(
      'TEMPORAL_TLS_CA_FILE: set either TEMPORAL_TLS_CA_FILE or TEMPORAL_TLS_SERVER_CA_CERT_PATH (its standard name), not both',
    );
    expect(configError(() => loadConfig({ TEMPORAL_TLS_CA_FILE: join(dir, 'missing.pem') })).message).toMatch(/^TEMPORAL_TLS_CA_FILE: cannot read .*missing\.pem.*ENOENT/);
    expect(configError(() => loadConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: certFile })).message).toMatch(
      /^TEMPORAL_TLS_CLIENT_KEY_PATH: mTLS needs both .*only TEMPORAL_TLS_CLIENT_CERT_PATH is set/,
    );
  });

  test('`config validate` prints the notice on stderr; the service logs it as a warning line at start-up', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['config', 'validate'], { TEMPORAL_TLS_CA_FILE: caFile }, { out: (t) => void out.push(t), err: (t) => void err.push(t) });
    expect(code).toBe(0);
    expect(err.join('\n')).toContain('notice: TEMPORAL_TLS_CA_FILE is an alias of the standard Temporal setting TEMPORAL_TLS_SERVER_CA_CERT_PATH');
    expect(out.join('\n')).toMatch(/TLS: yes, API key: no/);

    // The compiled service (npm test builds dist/): the notice is logged before anything else can stop it;
    // here the missing DATABASE_URL then stops it with exit 78.
    const main = join(__dirname, '..', '..', 'dist', 'main.js');
    expect(existsSync(main)).toBe(true);
    const r = spawnSync(process.execPath, [main, 'api'], { env: { PATH: process.env.PATH ?? '', TEMPORAL_TLS_CA_FILE: caFile }, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(78);
    const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: expect.stringContaining('TEMPORAL_TLS_CA_FILE is an alias of the standard Temporal setting TEMPORAL_TLS_SERVER_CA_CERT_PATH') }));
    expect(r.stderr).toMatch(/configuration error: DATABASE_URL/);
  });
});

describe('Temporal client settings: the API key', () => {
  test('TEMPORAL_API_KEY_FILE holds the key; exactly one of the two; neither appears in errors or the printed config', () => {
    const c = loadConfig({ TEMPORAL_API_KEY_FILE: file('apikey', `${API_KEY}\n`) });
    expect(c.temporal.apiKey?.reveal()).toBe(API_KEY);
    expect(c.temporal.tls).toEqual({});
    expect(connectionOptions(c.temporal).apiKey).toBe(API_KEY);
    expect(JSON.stringify(c)).not.toContain(API_KEY);
    const both = configError(() => loadConfig({ TEMPORAL_API_KEY: API_KEY, TEMPORAL_API_KEY_FILE: file('apikey2', API_KEY) }));
    expect(both.message).toBe('TEMPORAL_API_KEY: set either TEMPORAL_API_KEY or TEMPORAL_API_KEY_FILE, not both');
    const plaintext = configError(() => loadConfig({ TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: 'false' }));
    expect(plaintext.setting).toBe('TEMPORAL_TLS');
    for (const e of [both, plaintext]) expect(`${e.message} ${JSON.stringify(e.problems)}`).not.toContain(API_KEY);
  });

  test('a profile\'s api_key, and the environment\'s key overriding it', () => {
    const path = file('key.toml', `[profile.default]\naddress = "cloud.example:7233"\napi_key = "profile-key-0123456789"\n`);
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: path }).temporal.apiKey?.reveal()).toBe('profile-key-0123456789');
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: path, TEMPORAL_API_KEY_FILE: file('k3', API_KEY) }).temporal.apiKey?.reveal()).toBe(API_KEY);
  });
});

describe('Temporal client settings: the environment overrides the profile, setting by setting', () => {
  const profile = () =>
    file(
      'prec.toml',
      `[profile.default]\naddress = "profile.example:7233"\nnamespace = "profile-ns"\n[profile.default.tls]\nserver_ca_cert_path = "${caFile}"\nserver_name = "profile-name.example"\n[profile.default.grpc_meta]\nx-team = "sre"\n`,
    );

  test('address from the environment, namespace from the profile; TLS keys merged one by one', () => {
    const c = loadConfig({ TEMPORAL_CONFIG_FILE: profile(), TEMPORAL_ADDRESS: 'env.example:7233', TEMPORAL_TLS_SERVER_NAME: 'env-name.example' });
    expect(c.temporal.address).toBe('env.example:7233');
    expect(c.temporal.namespace).toBe('profile-ns');
    expect(c.temporal.tls?.serverNameOverride).toBe('env-name.example');
    expect(c.temporal.tls?.serverRootCACertificate?.toString()).toBe(PEM);
    expect(connectionOptions(c.temporal).metadata).toEqual({ 'x-team': 'sre' });
    expect(JSON.stringify(c.temporal.metadata)).not.toContain('sre');
  });

  test('TEMPORAL_TLS=false over a profile with TLS files is a contradiction, refused', () => {
    const e = configError(() => loadConfig({ TEMPORAL_CONFIG_FILE: profile(), TEMPORAL_TLS: 'false' }));
    expect(e.setting).toBe('TEMPORAL_TLS');
  });

  test('an unreadable file named in the profile is named by its profile key', () => {
    const path = file('badpath.toml', `[profile.default.tls]\nclient_cert_path = "${certFile}"\nclient_key_path = "${join(dir, 'gone.key')}"\n`);
    expect(configError(() => loadConfig({ TEMPORAL_CONFIG_FILE: path })).setting).toBe(`profile "default" tls.client_key_path in ${path}`);
  });

  test('remote codecs are refused (payloads would be written unencoded)', () => {
    expect(configError(() => loadConfig({ TEMPORAL_CODEC_ENDPOINT: 'https://codec.example' })).setting).toBe('TEMPORAL_CODEC_ENDPOINT');
    const path = file('codec.toml', '[profile.default.codec]\nendpoint = "https://codec.example"\n');
    expect(configError(() => loadConfig({ TEMPORAL_CONFIG_FILE: path })).setting).toBe(`profile "default" codec in ${path}`);
  });
});

describe('values sent as gRPC headers: a character a header cannot carry is refused by name, never echoed', () => {
  const BAD: Array<[string, string]> = [
    ['a tab', '\t'], ['a carriage return', '\r'], ['a line feed', '\n'], ['NUL', '\u0000'], ['DEL', '\u007f'], ['é', 'é'], ['U+2028', '\u2028'],
  ];
  const SECRET = 'Zq8vW3kP0mLx7Rt2Yb5Nc9Hd4';
  test.each(BAD)('%s in the API key (environment, file, profile), env metadata or profile metadata', (_name, ch) => {
    const value = `${SECRET}${ch}x`;
    // TOML's basic string: every character outside printable ASCII written as an escape (a raw DEL is not valid TOML).
    const tomlValue = JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const cases: Array<[string, () => unknown]> = [
      ['TEMPORAL_API_KEY', () => loadConfig({ TEMPORAL_API_KEY: value })],
      ['TEMPORAL_API_KEY', () => loadConfig({ TEMPORAL_API_KEY_FILE: file(`key-${value.length}-${ch.charCodeAt(0)}`, `${value}\n`) })],
      ["profile \"default\" key 'api_key'", () => loadConfig({ HOME: fakeHome(`[profile.default]\napi_key = ${tomlValue}\n`), TEMPORAL_PROFILE: 'default' })],
      ['TEMPORAL_GRPC_META_X_TEAM', () => loadConfig({ TEMPORAL_GRPC_META_X_TEAM: value })],
      ["grpc_meta.x-team", () => loadConfig({ HOME: fakeHome(`[profile.default]\n[profile.default.grpc_meta]\nx-team = ${tomlValue}\n`), TEMPORAL_PROFILE: 'default' })],
    ];
    for (const [setting, load] of cases) {
      const err = configError(load);
      expect(err.message).toContain(setting.includes('grpc_meta') ? 'grpc_meta' : setting.startsWith('profile') ? 'api_key' : setting);
      expect(err.message).toMatch(/a gRPC header cannot carry/);
      expect(err.message).not.toContain(SECRET.slice(0, 8));
    }
  });
  test('printable ASCII with spaces is sent as it is', () => {
    const c = loadConfig({ TEMPORAL_API_KEY: `${SECRET}!~`, TEMPORAL_GRPC_META_X_TEAM: 'sre team ~!' });
    expect(connectionOptions(c.temporal)).toMatchObject({ apiKey: `${SECRET}!~`, metadata: { 'x-team': 'sre team ~!' } });
  });
});
