/**
 * Remove secrets from text before it can reach an error message, a log line or workflow history. Pure.
 *
 * Not only the whole secret is masked: any run of {@link FRAGMENT} or more characters of a secret is — so a
 * fragment survives neither a cut (a provider echoing half a key, an answer truncated elsewhere) nor an encoding.
 * Two ways find a fragment:
 *
 * - in the text as it is, the fragments of the spellings this module writes out for each secret (URL-encoded,
 *   JSON-escaped, base64 at every alignment as in `Basic user:password`, hex);
 * - in decoded views of the text ({@link decodedViews}): the text with its escapes undone — JSON and JavaScript
 *   backslash escapes (`\u002B` in either hex case, `\"`, `\/`), HTML character references (named `&amp;`,
 *   decimal `&#43;`, hex `&#x2B;`), percent-encoded UTF-8 (RFC 3986 or not, either hex case) —, each scheme on its
 *   own and all at once, repeated while a pass changes something (at most {@link MAX_DECODE_PASSES}: a URL in
 *   JSON in HTML), and with whitespace left out (a secret wrapped over lines). Each character of a view knows the
 *   span of the text it came from, so what is found there is masked in the text, escapes and all. A secret's own
 *   spellings are decoded the same way, so a secret that itself holds something like an escape (`%41`) is found
 *   too. Any mix of escaped and plain characters (Go's encoding/json escapes only `<>&`, .NET's `+<>&'"`, in
 *   upper-case hex) decodes to the secret, so no mix has to be listed. What leaves, decoded, holds no run of
 *   FRAGMENT characters of a secret. (Not decoded: `+` for a space — a secret's space is also looked for as `+` —,
 *   JavaScript's `\xHH`, HTML references without their `;`.)
 *
 * A `user:password` credential (Jira `email:token`, ServiceNow basic) is secret whole and its password is secret on
 * its own ({@link secretMaterial}): a password echoed alone is found even when it is shorter than the fragment.
 * A secret (or password) shorter than the fragment is masked where it appears whole, in any of those spellings,
 * when it has at least {@link MIN_SCRUB_LENGTH} characters. The limits: a shorter one is never masked (it would
 * mask ordinary words: `abc` in every answer), and of a secret shorter than the fragment neither a cut piece nor
 * the secret wrapped over lines is recognised.
 *
 * Webhook URLs are secret in their path and query (Slack `/services/T…/B…/…`, Teams `sig=`); their scheme and
 * host are not (operators see the host in `connectors list`), so only the path and query count as secret
 * material of a URL.
 *
 * Always scrub the whole text first, then shorten it ({@link excerpt}): cutting first keeps the first part of a
 * secret that straddles the cut.
 */
import { endianness } from 'node:os';

const MASK = '<secret>';
/** Any run of this many characters of a secret (or of an encoding of it) is masked. */
export const FRAGMENT = 8;
/** Secrets (and passwords of `user:password`) shorter than this are never scrubbed: they would mask ordinary words. */
export const MIN_SCRUB_LENGTH = 4;
/** Decoding passes over a text (and a secret): enough for an escape inside an escape inside an escape. */
const MAX_DECODE_PASSES = 3;

/**
 * What of a secret is really secret: a URL's path and query (and the password of its user info); of a
 * `user:password` credential the whole and the password; anything else whole.
 */
export function secretMaterial(secret: string): string[] {
  if (/^https?:\/\//i.test(secret)) {
    try {
      const u = new URL(secret);
      const parts = [`${u.pathname}${u.search}${u.hash}`, decodeSafe(`${u.pathname}${u.search}`)];
      if (u.username || u.password) parts.push(`${u.username}:${u.password}`, u.password, decodeSafe(u.password));
      return [...new Set(parts.filter((p) => p.length > 1))];
    } catch {
      /* not a URL after all: the whole string */
    }
  }
  const password = passwordOf(secret);
  return password !== undefined && password !== secret ? [secret, password] : [secret];
}

/**
 * The password of a `user:password` credential (RFC 7617: the user id holds no colon, the password may), or
 * undefined. A part before the first colon that holds `=`, `&`, `?` or `/` is no user id (a URL's query, which
 * the connectors pass as a secret, can hold a colon).
 */
function passwordOf(secret: string): string | undefined {
  const colon = secret.indexOf(':');
  if (colon < 0 || /[=&?/]/.test(secret.slice(0, colon))) return undefined;
  const password = secret.slice(colon + 1);
  return password.length > 0 ? password : undefined;
}

function decodeSafe(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

const utf8 = (v: string) => Buffer.from(v, 'utf8');
const unpad = (v: string) => v.replace(/=+$/, '');

/**
 * The byte-level encodings of a value: base64 and base64url at every alignment, hex. A value shorter than the
 * fragment is found only whole, so only its own base64 counts (the other alignments encode a cut piece of it).
 */
function byteEncodings(v: string): string[] {
  const bytes = utf8(v);
  const out: string[] = [];
  // base64 of a fragment that starts at byte k is, but for its last group, a substring of the encoding of the
  // value from byte k mod 3: the three alignments cover every fragment.
  for (let k = 0; k < (v.length < FRAGMENT ? 1 : 3) && k < bytes.length; k++) {
    const b64 = unpad(bytes.subarray(k).toString('base64'));
    out.push(b64, b64.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  const hex = bytes.toString('hex');
  out.push(hex, hex.toUpperCase());
  return out;
}

/**
 * The text-level spellings of a value matched in the text as it is: as is, URL-encoded (both hex cases,
 * form-encoded), JSON-escaped. (Any other mix of escapes is found in the decoded views.)
 */
function textEncodings(v: string): string[] {
  const out = [v];
  try {
    const enc = encodeURIComponent(v);
    out.push(enc, enc.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()), enc.replace(/%20/g, '+'));
    out.push(encodeURI(v));
  } catch {
    /* a lone surrogate: no URL form */
  }
  const json = JSON.stringify(v).slice(1, -1);
  out.push(json, json.replace(/\//g, '\\/'), json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return out;
}

/**
 * A value as the decoded views of a text show it ({@link decodedViews}, the same views), and each with a space
 * also as `+` (form encoding, which the views leave as is).
 */
function decodedSpellings(v: string): string[] {
  const out = decodedViews(v).map((view) => view.text);
  for (const s of [...out]) if (s.includes(' ')) out.push(s.replace(/ /g, '+'));
  return out;
}

/** Every form of a secret this module recognises, longest first, de-duplicated. */
export function secretForms(secret: string): string[] {
  const out = new Set<string>();
  for (const material of secretMaterial(secret)) {
    if (material.length < MIN_SCRUB_LENGTH) continue;
    for (const base of [material, ...byteEncodings(material)]) {
      for (const form of textEncodings(base)) out.add(form);
      for (const form of decodedSpellings(base)) out.add(form);
    }
  }
  return [...out].filter((f) => f.length >= MIN_SCRUB_LENGTH).sort((a, b) => b.length - a.length);
}

// ---- decoded views ------------------------------------------------------------------------------------------

/**
 * A view of a text: `text`, whose character `j` came from `from[j]`..`to[j]` (exclusive) of the text scrubbed.
 * No maps: the text itself.
 */
interface View {
  text: string;
  from?: Int32Array;
  to?: Int32Array;
}

/** One pass's result: its text, and for each of its characters the span of the pass's input it came from. */
interface Pass {
  text: string;
  from: Int32Array;
  to: Int32Array;
}

/** HTML's named references of ASCII characters (the HTML5 list, with the legacy upper-case four). */
const NAMED_REFERENCES: Readonly<Record<string, string>> = {
  amp: '&', AMP: '&', lt: '<', LT: '<', gt: '>', GT: '>', quot: '"', QUOT: '"', apos: "'", nbsp: '\u00a0',
  excl: '!', num: '#', dollar: '$', percnt: '%', lpar: '(', rpar: ')', ast: '*', midast: '*', plus: '+',
  comma: ',', period: '.', sol: '/', colon: ':', semi: ';', equals: '=', quest: '?', commat: '@', lsqb: '[',
  lbrack: '[', bsol: '\\', rsqb: ']', rbrack: ']', Hat: '^', lowbar: '_', UnderBar: '_', grave: '`',
  DiacriticalGrave: '`', lcub: '{', lbrace: '{', verbar: '|', vert: '|', VerticalLine: '|', rcub: '}',
  rbrace: '}', tilde: '~', DiacriticalTilde: '~', Tab: '\t', NewLine: '\n', hyphen: '-', dash: '-',
};

/** What `\x` means in JSON and JavaScript strings, for the letters that are not the character itself. */
const BACKSLASH_LETTERS: Readonly<Record<string, string>> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '0': '\0' };

const hexValue = (c: number): number =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;

/** The value of `len` hex digits of `t` at `i`, or -1. */
function hexAt(t: string, i: number, len: number): number {
  if (i + len > t.length) return -1;
  let v = 0;
  for (let k = 0; k < len; k++) {
    const h = hexValue(t.charCodeAt(i + k));
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

/** The escape schemes, as bits: JSON (and JavaScript) backslash escapes, HTML references, percent-encoding. */
const JSON_ESCAPES = 1;
const HTML_REFERENCES = 2;
const PERCENT_ENCODING = 4;
const SCHEMES = [JSON_ESCAPES, HTML_REFERENCES, PERCENT_ENCODING] as const;
const ALL_SCHEMES = JSON_ESCAPES | HTML_REFERENCES | PERCENT_ENCODING;

/**
 * An escape of one of `schemes` starting at `t[i]`, as `codePoint * 32 + length` (its length is at most 12); 0 when
 * none starts there. (One number, not an object: this runs once per `\`, `%` and `&` of a 1 MiB answer.)
 */
function escapeAt(t: string, i: number, schemes: number): number {
  const c = t.charCodeAt(i);
  if (c === 0x5c && schemes & JSON_ESCAPES) {
    // \uXXXX (either case); \" \\ \/ \' and any other ASCII punctuation; \b \f \n \r \t \v \0.
    const next = t.charCodeAt(i + 1);
    if (next === 0x75) {
      const v = hexAt(t, i + 2, 4);
      return v < 0 ? 0 : v * 32 + 6;
    }
    if ((next >= 0x21 && next <= 0x2f) || (next >= 0x3a && next <= 0x40) || (next >= 0x5b && next <= 0x60) || (next >= 0x7b && next <= 0x7e)) return next * 32 + 2;
    const letter = BACKSLASH_LETTERS[t.charAt(i + 1)];
    return letter === undefined ? 0 : letter.charCodeAt(0) * 32 + 2;
  }
  if (c === 0x25 && schemes & PERCENT_ENCODING) {
    // %XX, and the continuation bytes of a UTF-8 sequence: one character.
    const b0 = hexAt(t, i + 1, 2);
    if (b0 < 0) return 0;
    if (b0 < 0x80) return b0 * 32 + 3;
    const more = b0 >= 0xc2 && b0 <= 0xdf ? 1 : b0 >= 0xe0 && b0 <= 0xef ? 2 : b0 >= 0xf0 && b0 <= 0xf4 ? 3 : -1;
    if (more < 0) return 0;
    let cp = b0 & (0x3f >> more);
    for (let k = 1; k <= more; k++) {
      const at = i + 3 * k;
      const b = t.charCodeAt(at) === 0x25 ? hexAt(t, at + 1, 2) : -1;
      if (b < 0x80 || b > 0xbf) return 0;
      cp = cp * 64 + (b & 0x3f);
    }
    return cp > 0x10ffff ? 0 : cp * 32 + 3 * (more + 1);
  }
  if (c === 0x26 && schemes & HTML_REFERENCES) {
    // &#NNN; &#xHH; &name;
    if (t.charCodeAt(i + 1) === 0x23) {
      const hex = (t.charCodeAt(i + 2) | 0x20) === 0x78;
      let j = i + (hex ? 3 : 2);
      let v = 0;
      const first = j;
      for (; j < t.length && j - first < 8; j++) {
        const d = hex ? hexValue(t.charCodeAt(j)) : t.charCodeAt(j) - 0x30;
        if (d < 0 || d >= (hex ? 16 : 10)) break;
        v = v * (hex ? 16 : 10) + d;
      }
      return j > first && t.charCodeAt(j) === 0x3b && v <= 0x10ffff && j + 1 - i < 32 ? v * 32 + (j + 1 - i) : 0;
    }
    let j = i + 1;
    while (j < t.length && j - i <= 17 && ((t.charCodeAt(j) | 0x20) >= 0x61 && (t.charCodeAt(j) | 0x20) <= 0x7a)) j++;
    if (j === i + 1 || t.charCodeAt(j) !== 0x3b || j + 1 - i >= 32) return 0;
    const ch = Object.prototype.hasOwnProperty.call(NAMED_REFERENCES, t.slice(i + 1, j)) ? NAMED_REFERENCES[t.slice(i + 1, j)] : undefined;
    return ch === undefined ? 0 : ch.charCodeAt(0) * 32 + (j + 1 - i);
  }
  return 0;
}

/** Whether a Uint16Array's bytes are UTF-16LE (on every platform Node supports today: so `Buffer` can decode them). */
const LITTLE_ENDIAN = endianness() === 'LE';

function unitsToString(units: Uint16Array, length: number): string {
  // Buffer's utf16le keeps lone surrogates as they are, as String.fromCharCode does.
  if (LITTLE_ENDIAN) return Buffer.from(units.buffer, units.byteOffset, length * 2).toString('utf16le');
  let out = '';
  for (let i = 0; i < length; i += 8192) out += String.fromCharCode(...units.subarray(i, Math.min(i + 8192, length)));
  return out;
}

/** One pass of undoing the escapes of `schemes` (see the module's comment), or undefined when the text holds none. */
function decodeOnce(t: string, schemes: number): Pass | undefined {
  // Nothing is allocated until the first escape: most answers (and most second passes) hold none.
  const n = t.length;
  let i = 0;
  for (; i < n; i++) {
    const c = t.charCodeAt(i);
    if ((c === 0x5c || c === 0x25 || c === 0x26) && escapeAt(t, i, schemes) !== 0) break;
  }
  if (i === n) return undefined;
  const units = new Uint16Array(n);
  const from = new Int32Array(n);
  const to = new Int32Array(n);
  for (let k = 0; k < i; k++) {
    units[k] = t.charCodeAt(k);
    from[k] = k;
    to[k] = k + 1;
  }
  let o = i;
  while (i < n) {
    const c = t.charCodeAt(i);
    const esc = c === 0x5c || c === 0x25 || c === 0x26 ? escapeAt(t, i, schemes) : 0;
    if (esc === 0) {
      units[o] = c;
      from[o] = i;
      to[o] = i + 1;
      o++;
      i++;
      continue;
    }
    const len = esc % 32;
    const cp = (esc - len) / 32;
    if (cp > 0xffff) {
      units[o] = 0xd800 + ((cp - 0x10000) >> 10);
      from[o] = i;
      to[o] = i + len;
      o++;
      units[o] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
    } else units[o] = cp;
    from[o] = i;
    to[o] = i + len;
    o++;
    i += len;
  }
  return { text: unitsToString(units, o), from: from.subarray(0, o), to: to.subarray(0, o) };
}

const isSpace = (c: number): boolean =>
  c <= 0x20 || (c >= 0x7f && (c === 0x7f || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff));

/** The text without whitespace (and control characters), or undefined when it holds none. */
function stripWhitespace(t: string): Pass | undefined {
  const n = t.length;
  let i = 0;
  while (i < n && !isSpace(t.charCodeAt(i))) i++;
  if (i === n) return undefined;
  const units = new Uint16Array(n);
  const from = new Int32Array(n);
  for (let k = 0; k < i; k++) {
    units[k] = t.charCodeAt(k);
    from[k] = k;
  }
  let o = i;
  for (; i < n; i++) {
    const c = t.charCodeAt(i);
    if (isSpace(c)) continue;
    units[o] = c;
    from[o] = i;
    o++;
  }
  const to = new Int32Array(o);
  for (let k = 0; k < o; k++) to[k] = from[k]! + 1;
  return { text: unitsToString(units, o), from: from.subarray(0, o), to };
}

/** `next`, a pass over `view`, as a view of the text scrubbed. */
function compose(view: View, next: Pass): View {
  if (!view.from || !view.to) return next;
  const from = new Int32Array(next.from.length);
  const to = new Int32Array(next.from.length);
  for (let j = 0; j < from.length; j++) {
    from[j] = view.from[next.from[j]!]!;
    to[j] = view.to[next.to[j]! - 1]!;
  }
  return { text: next.text, from, to };
}

/**
 * The views of a text searched for secrets:
 *
 * - the text, and the text without whitespace;
 * - the escapes of one scheme undone, and of one scheme then of one scheme again (each scheme on its own: HTML
 *   leaves a `\` as it is, which must not swallow the `&` of the reference after it; a secret's own `%41` must
 *   not be undone while its JSON escapes are);
 * - the escapes of all schemes undone at once, while a pass changes something (at most {@link MAX_DECODE_PASSES}:
 *   deeper nesting, or schemes mixed), and that without whitespace.
 *
 * A view only exists where a pass changes something, and once. `spaced` says whether a view keeps whitespace (only
 * those are searched for short secrets: left out, it would join words).
 */
function decodedViews(text: string): Array<View & { spaced: boolean }> {
  const views: Array<View & { spaced: boolean }> = [{ text, spaced: true }];
  const seen = (t: string, spaced: boolean) => views.some((v) => v.spaced === spaced && v.text === t);
  const add = (view: View, spaced: boolean) => {
    if (!seen(view.text, spaced)) views.push({ text: view.text, from: view.from, to: view.to, spaced });
  };
  const stripped = stripWhitespace(text);
  if (stripped) add(stripped, false);
  const single: Pass[] = [];
  for (const scheme of SCHEMES) {
    const pass = decodeOnce(text, scheme);
    if (pass) single.push(pass);
  }
  if (single.length === 0) return views;
  for (const first of single) {
    add(first, true);
    for (const scheme of SCHEMES) {
      const second = decodeOnce(first.text, scheme);
      if (second && !seen(second.text, true)) add(compose(first, second), true);
    }
  }
  // The first pass of all schemes is the one scheme's pass when only one scheme has escapes here.
  let cur: View = single.length === 1 ? single[0]! : decodeOnce(text, ALL_SCHEMES)!;
  add(cur, true);
  for (let pass = 1; pass < MAX_DECODE_PASSES; pass++) {
    const next = decodeOnce(cur.text, ALL_SCHEMES);
    if (next === undefined) break;
    cur = compose(cur, next);
    add(cur, true);
  }
  const last = stripWhitespace(cur.text);
  if (last && !seen(last.text, false)) add(compose(cur, last), false);
  return views;
}

// ---- matching -----------------------------------------------------------------------------------------------

/**
 * Polynomial hash (base 31, mod 2^32) of FRAGMENT characters, rolled along the text: `B^(FRAGMENT-1)` drops the
 * character that leaves. Plain multiplication, exact in a double at every step (|h| < 2^31, a character < 2^16),
 * not Math.imul: inside a vm context (jest) that one is ~70 times slower.
 */
const B = 31;
const B_TOP = (() => {
  let p = 1;
  for (let i = 1; i < FRAGMENT; i++) p = (p * B) | 0;
  return p;
})();

function hashAt(s: string, i: number): number {
  let h = 0;
  for (let k = 0; k < FRAGMENT; k++) h = (h * B + s.charCodeAt(i + k)) | 0;
  return h;
}

/**
 * A compiled matcher for one list of secrets: the set of their fragments, their hashes (and a 2^16-bit filter of
 * those, which most positions of a text fail at once), and the short ones whole.
 */
interface Matcher {
  fragments: Set<string>;
  hashes: Set<number>;
  filter: Uint32Array;
  short: string[];
  /** Whether a secret has a form with whitespace (see {@link excerpt}). */
  spaced: boolean;
}

const FILTER_MASK = 0xffff;

const cache = new Map<string, Matcher>();
const MAX_CACHED = 256;

function matcherFor(secrets: readonly string[]): Matcher {
  const key = secrets.join('\u0000');
  const hit = cache.get(key);
  if (hit) return hit;
  const fragments = new Set<string>();
  const hashes = new Set<number>();
  const filter = new Uint32Array((FILTER_MASK + 1) / 32);
  const short: string[] = [];
  let spaced = false;
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < MIN_SCRUB_LENGTH) continue;
    for (const form of secretForms(secret)) {
      if (/\s/.test(form)) spaced = true;
      if (form.length < FRAGMENT) {
        short.push(form);
        continue;
      }
      for (let i = 0; i + FRAGMENT <= form.length; i++) {
        const f = form.slice(i, i + FRAGMENT);
        if (!fragments.has(f)) {
          fragments.add(f);
          const h = hashAt(f, 0);
          hashes.add(h & 0x3fffffff);
          filter[(h & FILTER_MASK) >>> 5]! |= 1 << (h & 31);
        }
      }
    }
  }
  const m = { fragments, hashes, filter, spaced, short: [...new Set(short)].sort((a, b) => b.length - a.length) };
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
  cache.set(key, m);
  return m;
}

/** Mark in `covered` (of the text scrubbed) what `view` shows of the matcher's fragments and, if asked, short forms. */
function cover(view: View, m: Matcher, withShort: boolean, covered: Uint8Array): boolean {
  const t = view.text;
  const from = view.from;
  const to = view.to;
  let any = false;
  if (m.fragments.size > 0 && t.length >= FRAGMENT) {
    const { filter, hashes, fragments } = m;
    // Runs of matching windows merge into one span before they are marked (a view's spans only grow with i).
    let runFrom = -1;
    let runTo = -1;
    let h = hashAt(t, 0);
    for (let i = 0; ; i++) {
      if (filter[(h & FILTER_MASK) >>> 5]! & (1 << (h & 31)) && hashes.has(h & 0x3fffffff) && fragments.has(t.slice(i, i + FRAGMENT))) {
        const a = from ? from[i]! : i;
        const b = to ? to[i + FRAGMENT - 1]! : i + FRAGMENT;
        if (runTo >= a) runTo = Math.max(runTo, b);
        else {
          if (runFrom >= 0) covered.fill(1, runFrom, runTo);
          runFrom = a;
          runTo = b;
        }
        any = true;
      }
      if (i + FRAGMENT >= t.length) break;
      h = ((h - t.charCodeAt(i) * B_TOP) * B + t.charCodeAt(i + FRAGMENT)) | 0;
    }
    if (runFrom >= 0) covered.fill(1, runFrom, runTo);
  }
  if (withShort) {
    for (const form of m.short) {
      for (let at = t.indexOf(form); at >= 0; at = t.indexOf(form, at + form.length)) {
        const end = at + form.length - 1;
        covered.fill(1, from ? from[at]! : at, to ? to[end]! : end + 1);
        any = true;
      }
    }
  }
  return any;
}

/** Mask every run of characters covered by a secret's fragment (and short secrets where whole), in any view. */
export function scrub(text: string, secrets: readonly string[]): string {
  if (text.length === 0 || secrets.length === 0) return text;
  const m = matcherFor(secrets);
  if (m.fragments.size === 0 && m.short.length === 0) return text;
  const covered = new Uint8Array(text.length);
  let any = false;
  for (const view of decodedViews(text)) {
    if (cover(view, m, view.spaced, covered)) any = true;
  }
  if (!any) return text;
  const parts: string[] = [];
  for (let i = 0; i < text.length; ) {
    let j = i;
    if (covered[i]) {
      while (j < text.length && covered[j]) j++;
      parts.push(MASK);
    } else {
      while (j < text.length && !covered[j]) j++;
      parts.push(text.slice(i, j));
    }
    i = j;
  }
  return parts.join('');
}

/**
 * A short, single-line excerpt of a provider's answer for an error message: scrubbed whole, then put on one
 * line, then cut to `max` characters. Joining lines forms no fragment the first scrub missed — it searched the text
 * with whitespace left out too — except of a secret that holds whitespace itself (found there only with its own
 * whitespace, and a short one only where whole): for those, what was joined is scrubbed again, whole.
 */
export function excerpt(text: string, secrets: readonly string[], max = 300): string {
  const joined = scrub(text, secrets).replace(/\s+/g, ' ').trim();
  const oneLine = secrets.length > 0 && matcherFor(secrets).spaced ? scrub(joined, secrets) : joined;
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}
