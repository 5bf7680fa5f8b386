/**
 * The plain (non-list) settings of loadConfig, as a table: every duration setting and every whole-number setting
 * against the same hostile values, the plain text settings, the callback URL and secret, and the proxy variables.
 * Each refusal is a ConfigError naming the setting with the rule (docs/configuration.md), never the value. Plus a
 * property: no accepted duration reaches Node's timer limit (2^31 ms), past which a timer fires after 1 ms.
 */
import fc from 'fast-check';
import { ConfigError } from '../../src/config/errors';
import { proxyFromEnv } from '../../src/http/client';
import { loadConfig, type AppConfig } from '../../src/config/load';
import { fuzzParams } from '../faults/fuzz';

type Env = Record<string, string | undefined>;

/** The ConfigError loadConfig throws for `env`; fails the test when it accepts or throws anything else. */
/** The ConfigError `load` (loadConfig unless told) throws for `env`. */
function refusal(env: Env, load: (env: Env) => unknown = loadConfig): ConfigError {
  let err: unknown;
  try {
    load(env);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

const REFUSED = 'refused' as const;
type Expected = number | undefined | typeof REFUSED;

interface Family {
  rule: string;
  read: (c: AppConfig) => number | undefined;
  /** What an unset setting gives. */
  fallback: number | undefined;
  /** The values whose outcome differs between the settings of the family (or that are their bounds). */
  own: Array<[string, Expected]>;
}

const H = 3_600_000;
const TIMER_LIMIT_MS = 2 ** 31;

const DURATIONS: Record<string, Family> = {
  PROBECTL_NOTIFY_HTTP_TIMEOUT: {
    rule: 'must be a duration from 100ms to 60s, written like 500ms, 30s, 5m or 2h',
    read: (c) => c.httpTimeoutMs,
    fallback: 10_000,
    own: [['0s', REFUSED], ['0.4ms', REFUSED], ['1ms', REFUSED], ['100ms', 100], ['60s', 60_000], ['1m', 60_000], ['99ms', REFUSED], ['60001ms', REFUSED], ['2m', REFUSED]],
  },
  PROBECTL_NOTIFY_RECONCILE_INTERVAL: {
    rule: 'must be 0s (off) or a duration from 1s to 24h, written like 500ms, 30s, 5m or 2h',
    read: (c) => c.reconcileIntervalMs,
    fallback: 300_000,
    own: [['0s', 0], ['0ms', 0], ['0.4ms', REFUSED], ['1ms', REFUSED], ['1s', 1_000], ['24h', 24 * H], ['999ms', REFUSED], ['86400001ms', REFUSED], ['25h', REFUSED]],
  },
  PROBECTL_NOTIFY_SHUTDOWN_DELAY: {
    rule: 'must be a duration from 0s to 10m, written like 500ms, 30s, 5m or 2h',
    read: (c) => c.shutdownDelayMs,
    fallback: 5_000,
    // 0.4ms rounds to 0, which is this setting's lower bound (no delay), not an "off" said by mistake.
    own: [['0s', 0], ['0.4ms', 0], ['1ms', 1], ['10m', 600_000], ['600001ms', REFUSED], ['11m', REFUSED]],
  },
  PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: {
    rule: 'must be 0s (off) or a duration from 1s to 24h, written like 500ms, 30s, 5m or 2h',
    read: (c) => c.pagerReResolveDelayMs,
    fallback: 60_000,
    own: [['0s', 0], ['0.4ms', REFUSED], ['1ms', REFUSED], ['1s', 1_000], ['24h', 24 * H], ['999ms', REFUSED], ['86400001ms', REFUSED], ['25h', REFUSED]],
  },
  PROBECTL_NOTIFY_INBOUND_INLINE_DEADLINE: {
    rule: 'must be a duration from 50ms to 10s, written like 500ms, 30s, 5m or 2h',
    read: (c) => c.inboundInlineDeadlineMs,
    fallback: 300,
    own: [['0s', REFUSED], ['0.4ms', REFUSED], ['1ms', REFUSED], ['50ms', 50], ['10s', 10_000], ['49ms', REFUSED], ['10001ms', REFUSED]],
  },
};
/** Refused by every duration setting: blank, past the timer limit, no unit, a space, a sign, an exponent. */
const BAD_DURATIONS = ['', ' ', '600h', '9999h', '10', '5 s', '-1s', '1e3s', '+5s', '5S', 'soon', '1h30m'];

const NUMBERS: Record<string, Family> = {
  PROBECTL_NOTIFY_API_PORT: {
    rule: 'must be a whole number from 0 to 65535 (0: any free port)',
    read: (c) => c.api.port,
    fallback: 8080,
    own: [['', REFUSED], ['0', 0], ['65535', 65535], ['65536', REFUSED]],
  },
  PROBECTL_NOTIFY_METRICS_PORT: {
    rule: 'must be a whole number from 1 to 65535, or empty (off)',
    read: (c) => c.metrics.port,
    fallback: undefined,
    own: [['', undefined], ['0', REFUSED], ['1', 1], ['65535', 65535], ['65536', REFUSED]],
  },
  PROBECTL_NOTIFY_MAX_CACHED_WORKFLOWS: {
    rule: 'must be a whole number from 0 to 100000',
    read: (c) => c.maxCachedWorkflows,
    fallback: 250,
    own: [['', REFUSED], ['0', 0], ['100000', 100_000], ['100001', REFUSED]],
  },
  PROBECTL_NOTIFY_PACE_WORKERS: {
    rule: 'must be a whole number from 1 to 1000',
    read: (c) => c.paceWorkers,
    fallback: 1,
    own: [['', REFUSED], ['0', REFUSED], ['1', 1], ['1000', 1_000], ['1001', REFUSED]],
  },
};
/** Refused by every whole-number setting: blank, hex, exponent, sign, fraction, words, a number past any port. */
const BAD_NUMBERS = [' ', '0x10', '1e3', '+5', '-1', '1.5', '8 080', '80abc', 'Infinity', '99999999999999999999'];
/** Accepted by every whole-number setting (surrounding whitespace is ignored). */
const GOOD_NUMBERS: Array<[string, number]> = [[' 80 ', 80], ['80', 80], ['0080', 80]];

function rows(families: Record<string, Family>, bad: string[], good: Array<[string, number]> = []): Array<[string, string, Expected]> {
  return Object.entries(families).flatMap(([setting, f]) => [
    ...f.own.map(([v, want]): [string, string, Expected] => [setting, v, want]),
    ...bad.map((v): [string, string, Expected] => [setting, v, REFUSED]),
    ...good.map(([v, want]): [string, string, Expected] => [setting, v, want]),
  ]);
}

describe.each([
  ['duration', DURATIONS, rows(DURATIONS, BAD_DURATIONS)],
  ['whole-number', NUMBERS, rows(NUMBERS, BAD_NUMBERS, GOOD_NUMBERS)],
] as const)('%s settings', (_kind, families, table) => {
  test.each(table)('%s=%j → %p', (setting, value, want) => {
    const family = families[setting]!;
    if (want === REFUSED) {
      const err = refusal({ [setting]: value });
      expect(err.setting).toBe(setting);
      // The rule, naming the setting, and nothing of the value.
      expect(err.message).toBe(`${setting}: ${setting} ${family.rule}`);
    } else {
      expect(family.read(loadConfig({ [setting]: value }))).toBe(want);
    }
  });

  test.each(Object.keys(families))('%s unset: its default', (setting) => {
    expect(families[setting]!.read(loadConfig({}))).toBe(families[setting]!.fallback);
  });
});

describe('plain text settings: not blank, no whitespace at either end', () => {
  const SETTINGS: Array<[string, (c: AppConfig) => string]> = [
    ['PROBECTL_NOTIFY_TASK_QUEUE', (c) => c.temporal.taskQueue],
    ['PROBECTL_NOTIFY_API_HOST', (c) => c.api.host],
    ['PROBECTL_NOTIFY_METRICS_HOST', (c) => c.metrics.host],
  ];
  test.each(SETTINGS.flatMap(([s]) => [
    [s, '', 'must not be empty or blank'], [s, ' ', 'must not be empty or blank'], [s, '\t\n', 'must not be empty or blank'],
    [s, ' probectl-notify', 'must not start or end with whitespace'], [s, 'probectl-notify ', 'must not start or end with whitespace'],
    [s, '0.0.0.0\n', 'must not start or end with whitespace'],
  ]))('%s=%j is refused: %s', (setting, value, rule) => {
    const err = refusal({ [setting]: value });
    expect(err.setting).toBe(setting);
    expect(err.message).toBe(`${setting}: ${setting} ${rule}`);
  });

  test.each(SETTINGS.flatMap(([s, read]) => [[s, read, 'elsewhere'], [s, read, '0.0.0.0'], [s, read, '::']] as const))('%s=%j is taken as written', (setting, read, value) => {
    expect(read(loadConfig({ [setting]: value }))).toBe(value);
  });

  test('the defaults', () => {
    const c = loadConfig({});
    expect([c.temporal.taskQueue, c.api.host, c.metrics.host]).toEqual(['probectl-notify', '127.0.0.1', '127.0.0.1']);
  });
});

describe('PROBECTL_NOTIFY_CALLBACK_URL and PROBECTL_NOTIFY_CALLBACK_SECRET', () => {
  const URL_OK = 'https://probectl.example.com/hooks/notify';
  const SECRET_OK = 'cb-Secret-0123456789abcdef-XYZ';

  test.each([
    'https://alice:S3cretPw1@probectl.example.com/hook',
    'https://alice@probectl.example.com/hook',
    'https://:S3cretPw1@probectl.example.com/hook',
    'http://alice:S3cretPw1@127.0.0.1:8443/hook',
  ])('a URL with user:password is refused without quoting it: %s', (url) => {
    const err = refusal({ PROBECTL_NOTIFY_CALLBACK_URL: url, PROBECTL_NOTIFY_CALLBACK_SECRET: SECRET_OK });
    expect(err.setting).toBe('PROBECTL_NOTIFY_CALLBACK_URL');
    expect(err.message).toMatch(/must not carry user:password/);
    for (const part of ['alice', 'S3cretPw1', 'probectl.example.com']) expect(err.message).not.toContain(part);
  });

  test.each([
    ['20 spaces', ' '.repeat(20)],
    ['16 tabs', '\t'.repeat(16)],
    ['15 characters', 'Sx'.repeat(7) + 'S'],
    ['a space inside', 'SECRETpart-one SECRETpart-two'],
    ['a leading space', ' SECRET-0123456789abcdef'],
    ['a trailing newline', 'SECRET-0123456789abcdef\n'],
    ['empty', ''],
  ])('a secret with %s is refused, naming the rule, not the secret', (_what, secret) => {
    const err = refusal({ PROBECTL_NOTIFY_CALLBACK_URL: URL_OK, PROBECTL_NOTIFY_CALLBACK_SECRET: secret });
    expect(err.setting).toBe('PROBECTL_NOTIFY_CALLBACK_SECRET');
    expect(err.message).toBe('PROBECTL_NOTIFY_CALLBACK_SECRET: required when PROBECTL_NOTIFY_CALLBACK_URL is set: at least 16 characters without whitespace, also at either end (a _FILE\'s one final newline is dropped; 32+ random characters recommended)');
    if (secret.trim().length > 3) expect(err.message).not.toContain(secret.trim().slice(0, 8));
  });

  test.each(['S'.repeat(16), SECRET_OK, 'a!b@c#d$e%f^g&h*i(j)k-l_m+n=o[p]'])('a secret of 16+ characters without whitespace is taken: %j', (secret) => {
    const c = loadConfig({ PROBECTL_NOTIFY_CALLBACK_URL: URL_OK, PROBECTL_NOTIFY_CALLBACK_SECRET: secret });
    expect(c.callback?.secret.reveal()).toBe(secret);
    expect(c.callback?.url.reveal()).toBe(URL_OK);
  });
});

describe('HTTPS_PROXY / HTTP_PROXY (either case): an http://, https:// or socks5:// URL, checked where a provider client is built', () => {
  const RULE = 'must be an http://, https:// or socks5:// proxy URL such as http://proxy.internal:3128 (a scheme is required)';
  /** What the worker, its heartbeat and the CLI's connectors commands build their client from. */
  const proxyRefusal = (env: Env): ConfigError => refusal(env, proxyFromEnv);
  const NAMES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

  test.each(NAMES.flatMap((n) => [
    [n, 'proxy:3128'], [n, 'proxy.internal'], [n, 'socks://proxy.internal:1080'], [n, 'socks4://proxy.internal:1080'],
    [n, 'ftp://proxy.internal'], [n, 'http://'], [n, 'alice:S3cretPw1@proxy.internal:3128'], [n, 'socks://alice:S3cretPw1@proxy.internal:1080'],
  ]))('%s=%j is refused with the configuration error, naming the variable and nothing of the value', (name, value) => {
    const err = proxyRefusal({ [name]: value });
    expect(err.setting).toBe(name);
    expect(err.message).toBe(`${name}: ${RULE}`);
  });

  test.each(NAMES)('%s blank (spaces) is refused: the client would take it and fail', (name) => {
    const err = proxyRefusal({ [name]: '   ' });
    expect(err.setting).toBe(name);
    expect(err.message).toMatch(new RegExp(`^${name}: is blank`));
  });

  test.each(NAMES.flatMap((n) => [[n, 'http://proxy.internal:3128'], [n, 'https://proxy.internal:3129'], [n, 'http://alice:S3cretPw1@proxy.internal:3128'], [n, 'socks5://proxy.internal:1080'], [n, '']]))(
    '%s=%j is accepted', (name, value) => {
      expect(() => proxyFromEnv({ [name]: value })).not.toThrow();
    });

  test('only the variable the client reads is checked: the upper-case one when set, else the lower-case one', () => {
    expect(() => proxyFromEnv({ HTTPS_PROXY: 'http://proxy.internal:3128', https_proxy: 'proxy:3128' })).not.toThrow();
    expect(proxyRefusal({ HTTPS_PROXY: '', https_proxy: 'proxy:3128' }).setting).toBe('https_proxy');
    expect(proxyRefusal({ HTTPS_PROXY: 'http://proxy.internal:3128', HTTP_PROXY: 'ftp://p:1080' }).setting).toBe('HTTP_PROXY');
  });

  test.each(NAMES.flatMap((n) => [[n, 'proxy:3128'], [n, 'socks://p:1080'], [n, '   ']]))(
    'a process that builds no provider client is not stopped by %s=%j (the API role, migrate, incident commands load the configuration only)', (name, value) => {
      expect(() => loadConfig({ [name]: value })).not.toThrow();
    });
});

describe('property: no accepted duration reaches the timer limit', () => {
  const SETTINGS = Object.keys(DURATIONS);
  const numberText = fc.oneof(
    fc.nat().map(String),
    fc.integer({ min: 0, max: 2 * 24 * H }).map(String),
    fc.integer({ min: 0, max: 48 }).map(String),
    fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String),
    fc.tuple(fc.double({ min: 0, max: 1e9, noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: 4 })).map(([d, digits]) => d.toFixed(digits)),
    fc.stringMatching(/^\d{1,12}(\.\d{1,6})?$/),
  );
  const durationText = fc.oneof(
    fc.tuple(numberText, fc.constantFrom('ms', 's', 'm', 'h', 'd', '', ' s', 'H'), fc.constantFrom('', ' ', '\t')).map(([n, u, pad]) => `${pad}${n}${u}${pad}`),
    fc.string({ maxLength: 12 }),
  );

  test('every accepted value is a whole number of ms below 2^31 and within the setting\'s rule; every refusal names the setting', () => {
    fc.assert(fc.property(fc.constantFrom(...SETTINGS), durationText, (setting, value) => {
      let config: AppConfig | undefined;
      try {
        config = loadConfig({ [setting]: value });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).setting).toBe(setting);
        expect((err as ConfigError).message).toBe(`${setting}: ${setting} ${DURATIONS[setting]!.rule}`);
        return;
      }
      const ms = DURATIONS[setting]!.read(config)!;
      expect(Number.isInteger(ms)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(TIMER_LIMIT_MS);
      expect(ms).toBeLessThanOrEqual(24 * H);
    }), fuzzParams(1_000));
  });

  test('a whole-number setting accepts only digits (surrounding whitespace aside)', () => {
    fc.assert(fc.property(fc.constantFrom(...Object.keys(NUMBERS)), fc.oneof(fc.string({ maxLength: 8 }), fc.integer({ min: -10, max: 200_000 }).map(String)), (setting, value) => {
      let config: AppConfig | undefined;
      try {
        config = loadConfig({ [setting]: value });
      } catch (err) {
        expect((err as ConfigError).setting).toBe(setting);
        return;
      }
      const n = NUMBERS[setting]!.read(config);
      if (value === '' && setting === 'PROBECTL_NOTIFY_METRICS_PORT') return expect(n).toBeUndefined();
      expect(value.trim()).toMatch(/^\d+$/);
      expect(n).toBe(Number(value.trim()));
    }), fuzzParams(1_000));
  });
});
