/**
 * Credential fragments in provider answers, as a class: every substring of 8 or more characters of a configured
 * secret, plain or encoded (URL-encoded, JSON-escaped, base64 as in `Basic user:password`, hex), planted at every
 * offset of an answer of 0–4 KiB, must leave no 8-character run of itself, or of the secret, in any text that
 * leaves the process from a provider's answer: activity failure messages (classify.ts, hence link errors, the
 * timeline, /v1 state and logs, which carry that message), the callback's failure, and excerpts.
 *
 * On main at 528100c `excerpt()` cut the answer to 300 characters first and scrubbed afterwards, so a key
 * straddling the cut kept its first part (measured there: a 32-character routing key starting at offsets 269–292 kept 8 or more characters), and a fragment of a
 * key was never recognised at all.
 *
 * Secret material of a webhook URL is its path and query (the host is public: `connectors list` shows it);
 * everything else is secret whole, and the password of a `user:password` credential on its own too.
 *
 * The escapes a provider or a library may echo a secret in are a class of their own (the audit of the escape family:
 * `svc-notify:Xk9+Lm2&Qp7<Zr4>Tt6'Yw` echoed as `Xk9\u002BLm2\u0026Qp7\u003CZr4…` came back with every piece
 * between the escapes, shorter than the window, so decoding the message gave the secret back): JSON `\uXXXX` in
 * either hex case (Go escapes `<>&`, .NET `+<>&'"`), HTML named and numeric references, RFC 3986 percent-encoding
 * (which also encodes `!'()*`), any mix of escaped and plain characters, and escapes nested in escapes. For each
 * such encoding E with its inverse D, no 8-character run of the secret may be left in D(what leaves).
 */
import fc from 'fast-check';
import { callbackFailure } from '../../src/activities/callback-activities';
import { failureFor } from '../../src/http/classify';
import { FRAGMENT, MIN_SCRUB_LENGTH, excerpt, scrub, secretMaterial } from '../../src/http/scrub';
import { secretsOf } from '../../src/providers/types';
import { ticketUrl } from '../../src/providers/servicenow/build';
import { browseUrl } from '../../src/providers/jira/build';
import { parseConnectors } from '../../src/config/connectors';

const N = FRAGMENT;

type Encoding =
  | 'plain' | 'url' | 'url-lower' | 'json' | 'json-slash' | 'base64' | 'base64url' | 'hex'
  | 'json-go' | 'json-dotnet' | 'json-u-lower' | 'json-u-upper' | 'json-u-some'
  | 'html-named' | 'html-go' | 'html-decimal' | 'html-hex-lower' | 'html-hex-upper' | 'html-some'
  | 'rfc3986' | 'rfc3986-lower' | 'percent-some'
  | 'json(rfc3986)' | 'html(json-go)' | 'rfc3986(rfc3986)' | 'wrapped';
/** The encodings of the first sweep (this module's own spellings, matched in the text as it is). */
const ENCODINGS: Encoding[] = ['plain', 'url', 'url-lower', 'json', 'json-slash', 'base64', 'base64url', 'hex'];
/** The escapes of the escape family: text-level, each with its inverse ({@link decode}). */
const ESCAPES: Encoding[] = [
  'json-go', 'json-dotnet', 'json-u-lower', 'json-u-upper', 'json-u-some',
  'html-named', 'html-go', 'html-decimal', 'html-hex-lower', 'html-hex-upper', 'html-some',
  'rfc3986', 'rfc3986-lower', 'percent-some',
  'json(rfc3986)', 'html(json-go)', 'rfc3986(rfc3986)', 'wrapped',
];

const alnum = (c: string) => /^[A-Za-z0-9]$/.test(c);
const hex4 = (unit: number, upper: boolean) => {
  const h = unit.toString(16).padStart(4, '0');
  return `\\u${upper ? h.toUpperCase() : h}`;
};
/** JSON-escape `v` unit by unit: `pick`ed units as `\uXXXX` (upper-case hex where `upper`), the others as JSON.stringify writes them. */
const jsonEscape = (v: string, pick: (c: string, i: number) => boolean, upper: (i: number) => boolean) =>
  [...Array(v.length).keys()].map((i) => (pick(v[i]!, i) ? hex4(v.charCodeAt(i), upper(i)) : JSON.stringify(v[i]).slice(1, -1))).join('');
const HTML_NAMED: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const htmlEscape = (v: string, ref: (c: string, i: number) => string | undefined) =>
  [...v].map((c, i) => ref(c, i) ?? (c === '&' ? '&amp;' : c)).join('');
const pct = (c: string) => [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
const rfc3986 = (v: string) => encodeURIComponent(v).replace(/[!'()*]/g, pct);

function encode(v: string, e: Encoding): string {
  switch (e) {
    case 'plain': return v;
    case 'url': return encodeURIComponent(v);
    case 'url-lower': return encodeURIComponent(v).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
    case 'json': return JSON.stringify(v).slice(1, -1);
    case 'json-slash': return JSON.stringify(v).slice(1, -1).replace(/\//g, '\\/');
    case 'base64': return Buffer.from(v, 'utf8').toString('base64');
    case 'base64url': return Buffer.from(v, 'utf8').toString('base64url');
    case 'hex': return Buffer.from(v, 'utf8').toString('hex');
    // Go's encoding/json: <, >, & (and U+2028/9) as \u00xx, lower-case hex.
    case 'json-go': return jsonEscape(v, (c) => /[<>&\u2028\u2029]/.test(c), () => false);
    // .NET's System.Text.Json: + < > & ' " and everything not ASCII as \u00XX, upper-case hex.
    case 'json-dotnet': return jsonEscape(v, (c) => /[+<>&'"]/.test(c) || c.charCodeAt(0) > 0x7f, () => true);
    case 'json-u-lower': return jsonEscape(v, (c) => !alnum(c), () => false);
    case 'json-u-upper': return jsonEscape(v, (c) => !alnum(c), () => true);
    // A mix: every other symbol escaped, in alternating hex case.
    case 'json-u-some': return jsonEscape(v, (c, i) => !alnum(c) && i % 2 === 0, (i) => i % 4 === 0);
    case 'html-named': return htmlEscape(v, (c) => HTML_NAMED[c]);
    // Go's html.EscapeString: &amp; &#39; &lt; &gt; &#34;.
    case 'html-go': return htmlEscape(v, (c) => ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;' })[c]);
    case 'html-decimal': return htmlEscape(v, (c) => (alnum(c) ? undefined : `&#${c.codePointAt(0)};`));
    case 'html-hex-lower': return htmlEscape(v, (c) => (alnum(c) ? undefined : `&#x${c.codePointAt(0)!.toString(16)};`));
    case 'html-hex-upper': return htmlEscape(v, (c) => (alnum(c) ? undefined : `&#X${c.codePointAt(0)!.toString(16).toUpperCase()};`));
    // A mix: named where there is a name, else decimal, hex or as is in turn (& always escaped).
    case 'html-some': return htmlEscape(v, (c, i) => (alnum(c) ? undefined : [HTML_NAMED[c], `&#${c.codePointAt(0)};`, `&#x${c.codePointAt(0)!.toString(16)};`, undefined][i % 4]));
    // RFC 3986: everything but unreserved, so also ! ' ( ) * (which encodeURIComponent leaves).
    case 'rfc3986': return rfc3986(v);
    case 'rfc3986-lower': return rfc3986(v).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
    // A mix: every other reserved character percent-encoded (% always).
    case 'percent-some': return [...v].map((c, i) => (c === '%' || (!/[A-Za-z0-9\-._~]/.test(c) && i % 2 === 1) ? pct(c) : c)).join('');
    // Nested: a URL-encoded secret in JSON that escapes its % (.NET-style, all symbols), an HTML page quoting
    // Go's JSON, a URL-encoded value encoded again.
    case 'json(rfc3986)': return encode(rfc3986(v), 'json-u-upper');
    case 'html(json-go)': return encode(encode(v, 'json-go'), 'html-decimal');
    case 'rfc3986(rfc3986)': return rfc3986(rfc3986(v));
    // Wrapped over lines every 6 characters (a log formatter, a PEM-like wrap).
    case 'wrapped': return v.match(/[^]{1,6}/gu)!.join('\n');
  }
}

/**
 * The inverse of an escape, applied to a whole text (what leaves): tolerant, so the plain text around the secret
 * and the mask pass through. Written here on its own, not taken from scrub.ts.
 */
const unJson = (t: string) => t.replace(/\\u([0-9a-fA-F]{4})|\\(["\\/bfnrt])/g, (_m, h?: string, c?: string) =>
  h !== undefined ? String.fromCharCode(parseInt(h, 16)) : ({ b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' } as Record<string, string>)[c!] ?? c!);
const unHtml = (t: string) => t.replace(/&(#[xX][0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_m, r: string) =>
  r.startsWith('#') ? String.fromCodePoint(/^#[xX]/.test(r) ? parseInt(r.slice(2), 16) : parseInt(r.slice(1), 10)) : ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[r]!);
const unPercent = (t: string) => t.replace(/(%[0-9A-Fa-f]{2})+/g, (run) => {
  try {
    return decodeURIComponent(run);
  } catch {
    return run;
  }
});
function decode(t: string, e: Encoding): string {
  if (e.startsWith('json-')) return unJson(t);
  if (e.startsWith('html-')) return unHtml(t);
  if (e.startsWith('rfc3986') || e === 'percent-some') return e === 'rfc3986(rfc3986)' ? unPercent(unPercent(t)) : unPercent(t);
  if (e === 'json(rfc3986)') return unPercent(unJson(t));
  if (e === 'html(json-go)') return unJson(unHtml(t));
  if (e === 'wrapped') return t.replace(/\s+/g, '');
  return t;
}

/** An 8-character run of `ref` that appears in `out`, if any. */
function leak(out: string, refs: readonly string[]): string | undefined {
  for (const ref of refs) {
    for (let i = 0; i + N <= ref.length; i++) {
      const w = ref.slice(i, i + N);
      if (out.includes(w)) return w;
    }
  }
  return undefined;
}

/** Every way text built from a provider's (or probectl's) answer leaves the process. */
const EXITS: Array<[string, (text: string, secrets: string[]) => string]> = [
  ['classify 400', (text, secrets) => failureFor({ status: 400, headers: {}, text }, { label: 'PagerDuty', action: 'trigger', secrets })!.message],
  ['classify 401', (text, secrets) => failureFor({ status: 401, headers: {}, text }, { label: 'Jira', action: 'create', secrets })!.message],
  ['classify 429', (text, secrets) => failureFor({ status: 429, headers: {}, text }, { label: 'Slack', action: 'post', secrets })!.message],
  ['classify 503', (text, secrets) => failureFor({ status: 503, headers: {}, text }, { label: 'ServiceNow', action: 'create', secrets })!.message],
  ['callback 500', (text, secrets) => callbackFailure(500, text, undefined, secrets).message],
  ['excerpt', (text, secrets) => excerpt(text, secrets)],
  ['excerpt 40', (text, secrets) => excerpt(text, secrets, 40)],
  ['scrub', (text, secrets) => scrub(text, secrets)],
];

const FILLER = 'abcdefghijklmnopqrstuvwxyz {}":,.-_\n';
const filler = (n: number, seed = 7) => {
  let x = seed;
  let out = '';
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out += FILLER[x % FILLER.length];
  }
  return out;
};

describe('no fragment of a secret survives, at any offset, in any encoding', () => {
  // A routing key, a user:password credential with symbols, and a Slack webhook URL (secret in its path).
  const KEY = 'R0UT1NGKEY7f3c9e1d2b4a6f8e0c1dQZ';
  const BASIC = 'alice@acme.example:ATATT3x/Ff+tok=en"9\\q';
  const WEBHOOK = 'https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/XXXXXXXXXXXXXXXXXXXXXXXX';
  const SECRETS = [KEY, BASIC, WEBHOOK];
  // Shapes with a symbol every few characters (the ones JSON, HTML and RFC 3986 escape), and a short password.
  const SYMBOLS = [
    "svc-notify:Xk9+Lm2&Qp7<Zr4>Tt6'Yw\"Pq",
    'alice@acme.com:ATATT3x+Ff/Gh=Jk<Lm>No&Pq',
    'R0UT1N&GKEY7f3<c9e1d2>b4a6f8e0c1dQZ',
    "Sg!(k4*)Zq'9+Rw&<Tn>\"Vb!Hm(2)Cx*",
    'svc-notify:Pa5+w&',
  ];
  const OFFSETS = [0, 250, 269, 280, 292, 296, 299, 300, 301];

  /** Every substring of 8+ characters (start every 3, end every 5) of each secret's material, encoded, at every offset. */
  function sweep(secrets: readonly string[], e: Encoding, check: (out: string, planted: string, material: string) => string | undefined) {
    const failures: string[] = [];
    let checks = 0;
    for (const secret of secrets) {
      for (const material of secretMaterial(secret)) {
        for (let start = 0; start + N <= material.length; start += 3) {
          for (let end = start + N; end <= material.length; end += 5) {
            const fragment = material.slice(start, end);
            const planted = encode(fragment, e);
            for (const offset of OFFSETS) {
              const text = `${filler(offset)}${planted}${filler(200, offset)}`;
              const out = EXITS[0]![1](text, [...secrets]);
              checks += 1;
              const w = check(out, planted, material);
              if (w) failures.push(`${e} ${JSON.stringify(fragment)} at ${offset}: ${JSON.stringify(w)} survived in ${JSON.stringify(out.slice(Math.max(0, offset - 10), offset + planted.length + 20))}`);
            }
          }
        }
      }
    }
    return { checks, failures };
  }

  test.each(ENCODINGS)('the straddling sweep (%s): every substring of 8+ characters of each secret at every offset around the 300-character cut', (e) => {
    const { checks, failures } = sweep([...SECRETS, ...SYMBOLS], e, (out, planted, material) => leak(out, [planted, material]));
    expect(checks).toBeGreaterThan(2_000);
    expect(failures.slice(0, 20)).toEqual([]);
  });

  // The escape family: no 8-character run of the secret in D(what leaves), nor of the escaped text in what leaves.
  test.each(ESCAPES)('the escape family (%s): every secret shape, every substring of 8+ characters, every offset; decoded, nothing of 8 characters is left', (e) => {
    const { checks, failures } = sweep([...SECRETS, ...SYMBOLS], e, (out, planted, material) => leak(decode(out, e), [material]) ?? leak(out, [planted]));
    expect(checks).toBeGreaterThan(2_000);
    expect(failures.slice(0, 20)).toEqual([]);
  });

  const alphabet = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=:@"\\-_.~!$&\'()*,;%éü€😀');
  const secretArb = fc.string({ unit: alphabet, minLength: 8, maxLength: 64 });

  test.each(EXITS)('property (%s): a random secret, fragment, encoding, answer length 0–4 KiB and offset', (_name, exit) => {
    fc.assert(
      fc.property(
        secretArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.constantFrom(...ENCODINGS, ...ESCAPES),
        fc.integer({ min: 0, max: 4096 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (secret, a, b, encoding, length, where) => {
          const chars = [...secret];
          const len = N + Math.floor(a * (chars.length - N + 1));
          const start = Math.floor(b * (chars.length - len + 1));
          const fragment = chars.slice(start, start + len).join('');
          fc.pre(fragment.length >= N);
          const planted = encode(fragment, encoding);
          const body = filler(length, length + 1);
          const at = Math.floor(where * (body.length + 1));
          const text = `${body.slice(0, at)}${planted}${body.slice(at)}`;
          const out = exit(text, [secret, 'https://hooks.example/services/T1/B2/ZZZZZZZZZZZZ']);
          expect(leak(out, [planted, secret]) ?? leak(decode(out, encoding), [secret])).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  /** `v` escaped in one scheme, each character escaped or not (and how) as `choices` say: only some escaped. */
  function mix(v: string, scheme: 'json' | 'html' | 'percent', choices: readonly number[]): string {
    const pick = (i: number) => choices[i % choices.length]!;
    if (scheme === 'json') {
      // Unpicked characters as JSON.stringify writes them: `"` and `\\` stay escaped, as JSON needs.
      return jsonEscape(v, (_c, i) => pick(i) % 3 !== 0, (i) => pick(i) % 2 === 1);
    }
    return [...v].map((c, i) => {
      const cp = c.codePointAt(0)!;
      const forms = scheme === 'html'
        ? [c, `&#${cp};`, `&#x${cp.toString(16)};`, `&#X${cp.toString(16).toUpperCase()};`, HTML_NAMED[c] ?? c]
        : [c, pct(c), pct(c).toLowerCase()];
      const mustEscape = scheme === 'html' ? c === '&' : c === '%';
      const form = forms[pick(i) % forms.length]!;
      return mustEscape && form === c ? forms[1]! : form;
    }).join('');
  }

  test.each(['json', 'html', 'percent'] as const)('property: any mix of escaped and plain characters (%s), any secret, fragment and offset; decoded, nothing of 8 characters is left', (scheme) => {
    fc.assert(
      fc.property(
        secretArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.array(fc.nat(11), { minLength: 1, maxLength: 64 }),
        fc.integer({ min: 0, max: 1024 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (secret, a, b, choices, length, where) => {
          const chars = [...secret];
          const len = N + Math.floor(a * (chars.length - N + 1));
          const start = Math.floor(b * (chars.length - len + 1));
          const fragment = chars.slice(start, start + len).join('');
          fc.pre(fragment.length >= N);
          const planted = mix(fragment, scheme, choices);
          const body = filler(length, length + 1);
          const at = Math.floor(where * (body.length + 1));
          const out = excerpt(`${body.slice(0, at)}${planted}${body.slice(at)}`, [secret]);
          const d = scheme === 'json' ? unJson(out) : scheme === 'html' ? unHtml(out) : unPercent(out);
          expect(leak(d, [secret]) ?? leak(out, [planted])).toBeUndefined();
        },
      ),
      { numRuns: 500 },
    );
  });

  test('what is not a secret stays readable: the host of a webhook URL, ordinary text, a short secret only where whole', () => {
    const out = excerpt(`POST https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/XXXXXXXXXXXXXXXXXXXXXXXX failed: channel_not_found`, SECRETS);
    expect(out).toBe('POST https://hooks.slack.com<secret> failed: channel_not_found');
    expect(scrub('no secret here at all', SECRETS)).toBe('no secret here at all');
    expect(scrub('pin 4321 and 43210', ['4321'])).toBe('pin <secret> and <secret>0');
  });

  test('a 1 MiB answer (the HTTP client\'s limit) is scrubbed whole: a key at its very end is found', () => {
    const big = filler(1024 * 1024) + KEY;
    expect(scrub(big, SECRETS).endsWith('<secret>')).toBe(true);
    expect(excerpt(big, SECRETS).length).toBeLessThanOrEqual(301);
  });
});

/**
 * The password of a `user:password` credential (Jira `email:token`, ServiceNow basic) is secret on its own: echoed
 * alone (`invalid password "Pa55w0r"`) it matched no window of the credential when shorter than the window, and
 * came back whole. Now a password of MIN_SCRUB_LENGTH (4) or more characters is masked where it appears whole, in
 * every encoding; a shorter one is not (it would mask ordinary words: the documented limit), nor is a cut piece
 * of a password shorter than the window, nor one wrapped over lines.
 */
describe('the password of user:password, echoed alone, 1–12 characters, in every encoding', () => {
  const PASSWORD = `Pa5+w&0r<Q"9!`;
  const PASSWORD_EXITS = EXITS.filter(([name]) => ['classify 401', 'callback 500', 'excerpt', 'scrub'].includes(name));
  test.each([...ENCODINGS, ...ESCAPES.filter((e) => e !== 'wrapped')])('%s', (e) => {
    const failures: string[] = [];
    for (let n = 1; n <= 12; n++) {
      const password = PASSWORD.slice(0, n);
      const credential = `svc-notify:${password}`;
      const planted = encode(password, e);
      for (const [name, exit] of PASSWORD_EXITS) {
        const out = exit(`{"errorMessages":["invalid password ${planted} for this user"]}`, [credential]);
        const decoded = decode(out, e);
        const masked = !decoded.includes(password) && !out.includes(planted.replace(/=+$/, ''));
        if (masked !== n >= MIN_SCRUB_LENGTH) failures.push(`${name}: ${n} characters ${masked ? 'masked' : 'left'}: ${out}`);
      }
    }
    expect(failures).toEqual([]);
  });
  test('a password shorter than the window is masked whole, escapes and all; a short user part and the rest stay', () => {
    expect(excerpt('invalid password "Pa55w0r"', ['svc-notify:Pa55w0r'])).toBe('invalid password "<secret>"');
    expect(scrub('user jdoe, password Pa5\\u002Bw rejected', ['jdoe:Pa5+w'])).toBe('user jdoe, password <secret> rejected');
    expect(scrub('password 123 rejected', ['svc-notify:123'])).toBe('password 123 rejected');
  });
});

/**
 * What a ticket connector's open returns is scrubbed with the connector's secrets before it reaches history, the
 * mirror and /v1 (connector-activities.ts). The secrets included the connector's whole URL, whose path — for a
 * ServiceNow connector configured with its documented table endpoint — is `/api/now/table/incident`: every
 * 8-character run of it counts as secret, so the ticket link `…/nav_to.do?uri=incident.do%3Fsys_id%3D…` came back
 * as `…/nav_to.do?uri=<secret>.do…`, a broken link in every answer. Only chat webhook URLs are credentials
 * (design.md); a pager's or ticket tool's URL is an API endpoint, and only a query it keeps is unknown.
 */
describe('the links a ticket connector opens stay usable; chat webhook URLs stay secret', () => {
  const SYS_ID = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6';
  test.each([
    ['https://acme.service-now.com/api/now/table/incident', (u: string) => ticketUrl(u, SYS_ID)],
    ['https://acme.service-now.com', (u: string) => ticketUrl(u, SYS_ID)],
  ])('servicenow at %s', (url, link) => {
    const [c] = parseConnectors(`acme|servicenow|${url}|svc-notify:S3cr3tPassw0rd`);
    expect(scrub(link(c!.url.reveal()), secretsOf(c!))).toBe(link(c!.url.reveal()));
  });
  test('jira', () => {
    const [c] = parseConnectors('acme|jira|https://acme.atlassian.net/rest/api/2/issue?project=OPS|alice@acme.com:ATATT3xFfGF0token');
    const link = browseUrl(c!.url.reveal(), 'OPS-12');
    expect(scrub(link, secretsOf(c!))).toBe(link);
  });
  test('a Slack or Teams webhook URL, and an unknown query parameter of any URL, are still secret', () => {
    const [slack, teams, pd] = parseConnectors([
      'acme|slack|https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/XXXXXXXXXXXXXXXXXXXXXXXX|-',
      'acme|teams|https://prod-12.westus.logic.azure.com/workflows/0123abcd/triggers/manual/paths/invoke?api-version=2016-06-01&sig=SIGs1gS1Gs1g0123456789|-',
      'acme|pagerduty|https://events.pagerduty.com/v2/enqueue?x-extra-key=Q9kZ3vJ7wX1mN5pL|R0UT1NGKEY7f3c9e1d2b4a6f8e0c1dQZ',
    ].join(','));
    expect(scrub('posted to /services/T0AAAAAAA/B0BBBBBBB/XXXXXXXXXXXXXXXXXXXXXXXX', secretsOf(slack!))).not.toContain('XXXXXXXX');
    expect(scrub('sig=SIGs1gS1Gs1g0123456789 /workflows/0123abcd/triggers', secretsOf(teams!))).not.toMatch(/SIGs1gS1|0123abcd/);
    expect(scrub('refused x-extra-key=Q9kZ3vJ7wX1mN5pL', secretsOf(pd!))).not.toContain('Q9kZ3vJ7');
  });
});
