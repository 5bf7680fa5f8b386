/**
 * The three list settings (connectors, inbound entries, API tokens) in both forms. The class under test: a
 * secret that contains a separator. In the comma-separated form its tail becomes the next "entry"; on main at
 * 528100c the fields of that entry were quoted in the error (`entry #2 (id "ij"): unknown provider "mn"` for
 * the inbound secret `0123456789abcdefgh,ij:kl:mn:op`). Now nothing of an entry after the first is quoted in
 * the separated form, and the JSON form carries any secret unharmed.
 */
import fc from 'fast-check';
import { parseApiTokens } from '../../src/config/api-tokens';
import { parseConnectors } from '../../src/config/connectors';
import { ConfigError } from '../../src/config/errors';
import { parseInbound } from '../../src/config/inbound';
import { loadConfig } from '../../src/config/load';

function errorOf(fn: () => unknown): ConfigError | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
}

/** Strings quoted in a message. */
const quoted = (message: string) => [...message.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);

/** Every window of `n` characters of `text`. */
const windows = (text: string, n: number) => Array.from({ length: Math.max(text.length - n + 1, 0) }, (_, i) => text.slice(i, i + n));

const SETTINGS = {
  inbound: {
    first: (secret: string) => `first:acme:servicenow:${secret}`,
    parse: parseInbound,
    identities: ['first'],
  },
  tokens: {
    first: (secret: string) => `acme:${secret}`,
    parse: parseApiTokens,
    identities: ['acme'],
  },
  connectors: {
    first: (secret: string) => `acme|pagerduty|https://events.pagerduty.com/v2/enqueue|${secret}`,
    parse: parseConnectors,
    identities: ['acme'],
  },
} as const;

describe('a secret containing separators never reaches an error message', () => {
  test('the example from the review (inbound): entry #2 is named by position only', () => {
    const err = errorOf(() => parseInbound('sn:acme:servicenow:0123456789abcdefgh,ij:kq:mn:zx'));
    expect(err?.message).toMatch(/entry #2: /);
    for (const fragment of ['"ij"', '"mn"', 'kq', 'zx', 'abcdefgh']) expect(err?.message).not.toContain(fragment);
  });

  // Secrets over an alphabet that no fixed part of a message uses, with separators at random places.
  const piece = fc.string({ unit: fc.constantFrom(...'qxzkvjQWXZKV2345678'), minLength: 1, maxLength: 12 });
  const sep = fc.constantFrom(',', '\n', ':', '|', ', ', ',,');
  const secretArb = fc.tuple(fc.string({ unit: fc.constantFrom(...'qxzkvjQWXZKV2345678'), minLength: 16, maxLength: 24 }), fc.array(fc.tuple(sep, piece), { minLength: 1, maxLength: 6 }))
    .map(([head, rest]) => head + rest.map(([s, p]) => s + p).join(''));

  test.each(Object.keys(SETTINGS) as Array<keyof typeof SETTINGS>)('%s: at every split, nothing but the first entry\'s identity is quoted', (name) => {
    const setting = SETTINGS[name];
    fc.assert(
      fc.property(secretArb, (secret) => {
        const err = errorOf(() => setting.parse(setting.first(secret)));
        if (!err) return; // the pieces happened to form valid entries: nothing printed
        for (const q of quoted(err.message)) expect(setting.identities as readonly string[]).toContain(q);
        const pieces = secret.split(/[,\n:|]/).filter((p) => p.length >= 5);
        for (const p of pieces) for (const w of windows(p, 5)) expect(err.message).not.toContain(w);
      }),
      { numRuns: 400 },
    );
  });

  test('every position of a comma in a valid secret (inbound, tokens, connectors)', () => {
    const base = 'QWXZKVJQWXZKVJ2345678QWXZ:ab|cd';
    for (const [name, setting] of Object.entries(SETTINGS)) {
      for (let i = 1; i < base.length; i++) {
        const secret = `${base.slice(0, i)},${base.slice(i)}`;
        const err = errorOf(() => setting.parse(setting.first(secret)));
        const message = err?.message ?? '';
        for (const q of quoted(message)) expect({ name, i, q, ok: (setting.identities as readonly string[]).includes(q) }).toEqual({ name, i, q, ok: true });
        for (const w of windows(base.slice(i), 5)) expect({ name, i, leaked: message.includes(w) ? w : '' }).toEqual({ name, i, leaked: '' });
      }
    }
  });
});

/**
 * `tenant:token` written the other way round (`token:tenant`, or the JSON form's two values swapped) puts the token
 * where the tenant goes. The token was then quoted as the entry's tenant in the error that start-up logs and
 * `config validate` prints: `entry #1 (tenant "<the token>"): the token must be at least 16 characters`.
 */
describe('an API token written in the tenant field is never quoted', () => {
  const TOKEN = 'Tok3nSecretValue99xyzQ';
  const OTHER = 'Other0Secret0Token0099';
  test.each([
    ['separated, swapped', `${TOKEN}:acme`],
    ['JSON, swapped', JSON.stringify([{ tenant: TOKEN, token: 'acme' }])],
    ['JSON, swapped, the tenant long enough to pass as a token (the duplicate is what is reported)', JSON.stringify([{ tenant: OTHER, token: 'acme-production-eu' }, { tenant: TOKEN, token: 'acme-production-eu' }])],
  ])('%s', (_name, raw) => {
    const err = errorOf(() => parseApiTokens(raw));
    expect(err).toBeDefined();
    for (const secret of [TOKEN, OTHER]) for (const w of windows(secret, 8)) expect(err!.message).not.toContain(w);
  });
  test('a tenant that cannot be a token is still quoted', () => {
    expect(errorOf(() => parseApiTokens(JSON.stringify([{ tenant: 'acme', token: 'short' }])))?.message).toMatch(/entry #1 \(tenant "acme"\)/);
  });
});

describe('the JSON form of each list setting', () => {
  const secret = 'QJ,fz|xq:kw,ev"zq\'0123WXKQ';

  test('inbound: a secret with commas survives whole, require_timestamp is read', () => {
    const entries = parseInbound(JSON.stringify([
      { id: 'sn', tenant: 'acme', provider: 'servicenow', secret },
      { id: 'pd', tenant: 'acme', provider: 'PagerDuty', secret: `${secret}-2`, require_timestamp: true },
    ]));
    expect(entries.map((e) => [e.id, e.provider, e.secrets[0]!.reveal(), e.requireTimestamp])).toEqual([
      ['sn', 'servicenow', secret, false],
      ['pd', 'pagerduty', `${secret}-2`, true],
    ]);
  });

  test('tokens: a token with commas and colons survives whole', () => {
    const tokens = parseApiTokens(JSON.stringify([{ tenant: 'acme', token: secret }]));
    expect(tokens.map((t) => [t.tenantId, t.token.reveal()])).toEqual([['acme', secret]]);
  });

  test('connectors: a credential with commas and pipes survives whole', () => {
    const c = parseConnectors(JSON.stringify([{ tenant: 'acme', provider: 'pagerduty', url: 'https://events.pagerduty.com/v2/enqueue', credential: secret }]));
    expect(c.map((x) => [x.id, x.credential.reveal()])).toEqual([['pagerduty', secret]]);
  });

  test.each([
    ['inbound', () => parseInbound(JSON.stringify([{ id: 'sn', tenant: 'acme', provider: 'servicenow', secret, extra: secret }])), /entry #1 \(id "sn"\): unknown field\(s\) extra/],
    ['inbound', () => parseInbound(JSON.stringify([{ id: 'sn', tenant: 'acme', provider: 'servicenow' }])), /entry #1 \(id "sn"\): secret: Invalid input/],
    ['inbound', () => parseInbound(JSON.stringify([{ id: 'sn', tenant: 'acme', provider: 'servicenow', secret, require_timestamp: 'yes' }])), /require_timestamp: Invalid input/],
    ['inbound', () => parseInbound('{"id":"sn"}'), /the JSON form/],
    ['inbound', () => parseInbound('[{"id":'), /not valid JSON/],
    ['tokens', () => parseApiTokens(JSON.stringify([{ tenant: 'acme', token: 'short' }])), /entry #1 \(tenant "acme"\): the token must be at least 16 printable ASCII characters/],
    ['tokens', () => parseApiTokens(JSON.stringify(['acme:0123456789abcdef'])), /entry #1: must be an object/],
    ['connectors', () => parseConnectors(JSON.stringify([{ tenant: 'acme', provider: 'nagios', url: 'https://x.example', credential: secret }])), /entry #1 \(tenant "acme"\): unknown provider "nagios"/],
    ['tokens', () => parseApiTokens(JSON.stringify([{ tenant: 'acme', token: secret }, { tenant: 'beta', token: secret }])), /entry #2 \(tenant "beta"\): the same token is already listed as entry #1/],
  ])('%s: a bad JSON entry names its position and field, never the secret (%#)', (_name, fn, re) => {
    const err = errorOf(fn);
    expect(err?.message).toMatch(re);
    for (const w of windows(secret, 6)) expect(err?.message).not.toContain(w);
  });

  test('loadConfig takes the JSON form from the variable and from *_FILE alike', () => {
    const tokens = JSON.stringify([{ tenant: 'acme', token: secret }]);
    expect(loadConfig({ PROBECTL_NOTIFY_API_TOKENS: tokens }).apiTokens[0]?.token.reveal()).toBe(secret);
  });
});
