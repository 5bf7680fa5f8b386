/**
 * Inbound secrets and API tokens, the whole family of strings that are not what they look like: a secret is a header
 * value (X-Probectl-Token, read by Node as latin1) and an HMAC-SHA256 key (zero-padded to 64 bytes, hashed when longer),
 * so two different strings can be one key. Every character class × both settings is refused or accepted as the rule
 * says; two tenants never hold secrets that sign alike; a secret written where the id goes is never quoted.
 */
import { createHash, createHmac } from 'node:crypto';
import { parseApiTokens } from '../../../src/config/api-tokens';
import { ConfigError } from '../../../src/config/errors';
import { hmacKeyOf, parseInbound } from '../../../src/config/inbound';

const BASE = 'Zq8vR2mK5tW9xL3n';
const errorOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.message;
  }
};
const json = (entries: object[]) => JSON.stringify(entries);

describe.each([
  ['NUL', `${BASE}\u0000`, false], ['tab', `${BASE}\tx`, false], ['DEL', `${BASE}\u007f`, false], ['é (latin1)', `${BASE}é`, false],
  ['€', `${BASE}€`, false], ['lone high surrogate', `${BASE}\ud800`, false], ['lone low surrogate', `${BASE}\udfff`, false],
  ['U+2028', `${BASE}\u2028`, false], ['NBSP', `${BASE}\u00a0x`, false], ['every printable ASCII symbol', `${BASE}!"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~`, true],
  ['digits and letters', BASE, true],
])('a secret with %s', (_name, secret, accepted) => {
  test(`inbound entry: ${accepted ? 'accepted' : 'refused, naming the rule and not the secret'}`, () => {
    const msg = errorOf(() => parseInbound(json([{ id: 'sn', tenant: 'acme', provider: 'servicenow', secret }])));
    if (accepted) expect(msg).toBeUndefined();
    else {
      expect(msg).toMatch(/PROBECTL_NOTIFY_INBOUND: entry #1 \(id "sn"\): the secret must be at least 16 printable ASCII characters/);
      expect(msg).not.toContain(BASE.slice(0, 8));
    }
  });
  test(`API token: ${accepted ? 'accepted' : 'refused, naming the rule and not the token'}`, () => {
    const msg = errorOf(() => parseApiTokens(json([{ tenant: 'acme', token: secret }])));
    if (accepted) expect(msg).toBeUndefined();
    else {
      expect(msg).toMatch(/PROBECTL_NOTIFY_API_TOKENS: entry #1 \(tenant "acme"\): the token must be at least 16 printable ASCII characters/);
      expect(msg).not.toContain(BASE.slice(0, 8));
    }
  });
});

describe('two tenants never hold secrets that sign alike', () => {
  /** Does a signature made with `a` verify under `b`? */
  const signsAlike = (a: string, b: string) => createHmac('sha256', a).update('body').digest('hex') === createHmac('sha256', b).update('body').digest('hex');
  const long = `${BASE}${'x'.repeat(60)}`; // 76 bytes: HMAC uses its digest
  test('hmacKeyOf is the key HMAC uses: equal exactly when the signatures are (the same string, a long key and its digest)', () => {
    for (const [a, b] of [[BASE, BASE], [long, long], [BASE, `${BASE}\u0000`], [`X\ud800${BASE}`, `X\udfff${BASE}`], [BASE, `${BASE}x`], [long, `${long}x`]] as const) {
      expect(hmacKeyOf(a) === hmacKeyOf(b)).toBe(signsAlike(a, b));
    }
    // A key longer than the block is its digest (as bytes; no string of printable characters spells one).
    const digest = createHash('sha256').update(long).digest();
    expect(createHmac('sha256', long).update('body').digest('hex')).toBe(createHmac('sha256', digest).update('body').digest('hex'));
    expect(hmacKeyOf(long)).toBe(digest.toString('hex').replace(/(00)+$/, ''));
  });
  test.each([
    ['the same secret', BASE, BASE],
    ['the same long secret', long, long],
  ])('%s on entries of two tenants is refused, naming the earlier entry', (_n, a, b) => {
    const msg = errorOf(() => parseInbound(json([{ id: 'a', tenant: 'ta', provider: 'jira', secret: a }, { id: 'b', tenant: 'tb', provider: 'jira', secret: b }])));
    expect(msg).toMatch(/entry #2 \(id "b"\): its secret is already used by entry #1 of another tenant/);
  });
  test('different printable secrets of two tenants load, and never sign alike (property over random secrets)', () => {
    const printable = () => Array.from({ length: 16 + Math.floor(Math.random() * 100) }, () => String.fromCharCode(0x21 + Math.floor(Math.random() * 94))).join('');
    for (let i = 0; i < 300; i++) {
      const a = printable();
      const b = printable();
      if (a === b) continue;
      expect(errorOf(() => parseInbound(json([{ id: 'a', tenant: 'ta', provider: 'jira', secret: a }, { id: 'b', tenant: 'tb', provider: 'jira', secret: b }])))).toBeUndefined();
      expect(signsAlike(a, b)).toBe(false);
    }
  });
});

describe('a secret written where the id goes is never quoted', () => {
  test.each([
    ['separated form', `3f9a1c7e5b2d8f4a6c0e9b1d7a3f5c2e:acme:pagerduty:pd-main`],
    ['JSON form', json([{ id: '3f9a1c7e5b2d8f4a6c0e9b1d7a3f5c2e', tenant: 'acme', provider: 'pagerduty', secret: 'pd-main' }])],
  ])('%s: the entry is named by position only', (_n, raw) => {
    const msg = errorOf(() => parseInbound(raw));
    expect(msg).toMatch(/entry #1: the secret must be/);
    expect(msg).not.toContain('3f9a1c7e');
  });
  test('an id shorter than a secret is still quoted', () => {
    expect(errorOf(() => parseInbound('pd-main:acme:pagerduty:short'))).toMatch(/entry #1 \(id "pd-main"\)/);
  });
});
