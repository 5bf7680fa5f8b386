/**
 * The escape family, case by case (the class — every secret shape × every escape × every offset — is in
 * scrub-class.test.ts), the rule for `user:password` credentials, and what `connectors list` shows of a credential.
 *
 * The audit: a ServiceNow credential `svc-notify:Xk9+Lm2&Qp7<Zr4>Tt6'Yw` echoed by a .NET service as
 * `…Xk9\u002BLm2\u0026Qp7\u003CZr4…` came out as `<secret>\u002bLm2\u0026Qp7\u003cZr4\u003eTt6\u0027Yw`: every
 * piece between two escapes was shorter than the 8-character window, and decoding the message gave the password.
 */
import fc from 'fast-check';
import { Secret, maskHint } from '../../src/config/secret';
import { MIN_SCRUB_LENGTH, excerpt, scrub, secretMaterial } from '../../src/http/scrub';

const SNOW = "svc-notify:Xk9+Lm2&Qp7<Zr4>Tt6'Yw";

describe('escapes a provider or a library may echo a secret in', () => {
  test('the audit: .NET-escaped in a JSON answer, upper-case hex — masked whole, escapes and all', () => {
    const body = `{"error":"login failed for svc-notify:Xk9\\u002BLm2\\u0026Qp7\\u003CZr4\\u003ETt6\\u0027Yw"}`;
    expect(scrub(body, [SNOW])).toBe('{"error":"login failed for <secret>"}');
    const lower = body.replace(/\\u00[0-9A-F]{2}/g, (m) => m.toLowerCase());
    expect(lower).toContain('\\u002b');
    expect(excerpt(lower, [SNOW])).toBe('{"error":"login failed for <secret>"}');
  });

  test.each([
    ['Go encoding/json (<>& only, lower-case hex)', 'pw Xk9+Lm2\\u0026Qp7\\u003cZr4\\u003eTt6\'Yw end'],
    ['HTML named references', 'pw Xk9+Lm2&amp;Qp7&lt;Zr4&gt;Tt6&apos;Yw end'],
    ['HTML, Go html.EscapeString', 'pw Xk9+Lm2&amp;Qp7&lt;Zr4&gt;Tt6&#39;Yw end'],
    ['HTML decimal references', 'pw Xk9&#43;Lm2&#38;Qp7&#60;Zr4&#62;Tt6&#39;Yw end'],
    ['HTML hex references, both cases', 'pw Xk9&#x2B;Lm2&#x26;Qp7&#X3c;Zr4&#x3E;Tt6&#x27;Yw end'],
    ['RFC 3986 (also \' encoded)', 'pw Xk9%2BLm2%26Qp7%3CZr4%3ETt6%27Yw end'],
    ['RFC 3986, lower-case hex', 'pw Xk9%2bLm2%26Qp7%3cZr4%3eTt6%27Yw end'],
    ['a mix of all three, some characters plain', 'pw Xk9+Lm2%26Qp7&lt;Zr4\\u003ETt6\'Yw end'],
    ['percent-encoding inside JSON (the % escaped)', 'pw Xk9\\u00252BLm2\\u002526Qp7%3CZr4%3ETt6%27Yw end'],
    ['encoded twice', 'pw Xk9%252BLm2%2526Qp7%253CZr4%253ETt6%2527Yw end'],
    ['wrapped over lines', 'pw Xk9+Lm\n2&Qp7<\nZr4>Tt\n6\'Yw end'],
  ])('%s', (_name, text) => {
    expect(scrub(text, [SNOW])).toBe('pw <secret> end');
  });

  test('escapes that carry no secret stay as they are; so do links', () => {
    const text = 'a \\u0026 b &amp; c %2B d &#x27;e&#39; \\"quoted\\" https://acme.atlassian.net/browse/OPS-12?x=%3D';
    expect(scrub(text, [SNOW, 'R0UT1NGKEY7f3c9e1d2b4a6f8e0c1dQZ'])).toBe(text);
  });

  test('a scheme that leaves another scheme\'s escape character plain: a backslash before an HTML reference', () => {
    // HTML does not escape `\`; undoing every scheme at once would read `\&` as an escaped `&`.
    const secret = 'Zq9\\€Wx7\\Ty5Lm';
    expect(scrub(`key ${secret.replace('€', '&#8364;')}" end`, [secret])).toBe('key <secret>" end');
    // JSON escapes `\` and, .NET-style, `€` as \u20AC; the quote after it is escaped too.
    const json = JSON.stringify(secret).slice(1, -1).replace('€', '\\u20AC');
    expect(scrub(`key ${json}\\" end`, [secret])).toBe('key <secret>\\" end');
  });

  test('a secret with whitespace of its own, wrapped differently: found long, and short once the excerpt joins the lines', () => {
    expect(excerpt('phrase correct\nhorse  battery\tstaple end', ['correct horse battery staple'])).toBe('phrase <secret> end');
    expect(excerpt('pw a\nb c end', ['u:a b c'])).toBe('pw <secret> end');
  });

  test('a secret holding `%7A`, JSON-escaped inside HTML: undone scheme by scheme, its own `%7A` stays (a counterexample fast-check found)', () => {
    // The secret's fragment AAA&A%7A as Go's JSON writes it (\u0026), then every symbol as an HTML reference.
    expect(scrub('AAA&#92;u0026A&#37;7A', ['AAA&A%7AA'])).toBe('<secret>');
  });

  test('a secret that itself holds something like an escape is found escaped and plain', () => {
    for (const secret of ['Ab%41cd&amp;ef\\n9Zy', 'p%2Bss&lt;w0rd%zz']) {
      for (const text of [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1).replace(/&/g, '\\u0026'), secret.replace(/&/g, '&amp;')]) {
        expect(scrub(`<${text}>`, [secret])).toBe('<<secret>>');
      }
    }
  });
});

describe('secretMaterial: a user:password credential is secret whole and its password on its own', () => {
  test.each([
    ['svc-notify:Pa55w0r', ['svc-notify:Pa55w0r', 'Pa55w0r']],
    ['alice@acme.com:ATATT3x:with:colons', ['alice@acme.com:ATATT3x:with:colons', 'ATATT3x:with:colons']],
    [':token-only', [':token-only', 'token-only']],
    ['user:', ['user:']],
    ['R0UT1NGKEY7f3c9e1d2b4a6f8e0c1dQZ', ['R0UT1NGKEY7f3c9e1d2b4a6f8e0c1dQZ']],
    // A URL's query (what a non-chat connector passes) is no user:password, even with a colon.
    ['api-version=1&sig=ab:cdef', ['api-version=1&sig=ab:cdef']],
    ['https://bot:p%40ss@hooks.example/services/X', ['/services/X', 'bot:p%40ss', 'p%40ss', 'p@ss']],
  ])('%s', (secret, material) => {
    expect(secretMaterial(secret)).toEqual(material);
  });

  test(`a password shorter than ${MIN_SCRUB_LENGTH} characters is never masked (it would mask ordinary words); ${MIN_SCRUB_LENGTH} or more, wherever whole`, () => {
    expect(scrub('pw abc, and abcd, abcde', ['u:abc'])).toBe('pw abc, and abcd, abcde');
    expect(scrub('pw abcd, and abcde', ['u:abcd'])).toBe('pw <secret>, and <secret>e');
    // Base64 of a short password counts whole only (YmNk, an alignment of its last three bytes, is no form of it).
    expect(scrub(`${Buffer.from('abcd').toString('base64')} YmNk`, ['u:abcd'])).toBe('<secret>== YmNk');
  });
});

describe('maskHint: what connectors list shows of a credential', () => {
  const hint = (v: string) => maskHint(new Secret(v));
  test.each([
    ['a PagerDuty routing key (32)', 'R0UT1NGKEY7f3c9e1d2b4a6f8e0c1dQZ', '<secret>…1dQZ'],
    ['a token of 16', '0123456789abcdef', '<secret>…cdef'],
    ['a token of 15: nothing', '0123456789abcde', '<secret>'],
    ['a short token: nothing', 'k3y', '<secret>'],
    ['empty', '', '<secret>'],
    ['user:password, short password: nothing of it', 'svc-notify:Pa5', '<secret>:<secret>'],
    ['user:password, password of 4 (was shown whole)', 'svc-notify:Pa55', '<secret>:<secret>'],
    ['user:password, long password: nothing of it either', 'svc-notify:Xk9+Lm2&Qp7<Zr4>Tt6\'Yw', '<secret>:<secret>'],
    ['a Jira email:token, user of 16+: the user part\'s hint', 'alice@acme.example:ATATT3xFfGF0token', '<secret>…mple:<secret>'],
    ['a password with colons', 'jdoe:a:b:c:d:e:f:g:h:i', '<secret>:<secret>'],
    ['no user', ':ATATT3xFfGF0token0123', '<secret>:<secret>'],
    ['a Slack webhook URL is no user:password', 'https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/XXXXXXXXXXXXabcd', '<secret>…abcd'],
  ])('%s', (_name, value, shown) => {
    expect(hint(value)).toBe(shown);
  });

  test('property: nothing of a password is ever shown; of the user at most its last four, and only from 16 characters', () => {
    const chars = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@.-_+&<>\'"!()*=/');
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 40 }), fc.string({ unit: fc.oneof(chars, fc.constant(':')), maxLength: 40 }), (user, password) => {
        fc.pre(!/^[a-z][a-z0-9+.-]*:\/\//i.test(`${user}:${password}`));
        const shown = hint(`${user}:${password}`);
        expect(shown).toBe(user.length >= 16 ? `<secret>…${user.slice(-4)}:<secret>` : '<secret>:<secret>');
      }),
      { numRuns: 500 },
    );
  });
});
