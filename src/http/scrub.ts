/**
 * Remove secrets from text before it can reach an error message, a log line or workflow history. Pure.
 *
 * Not only the whole secret is masked: any run of {@link FRAGMENT} or more characters of a secret, or of one of
 * its encodings, is — so a fragment survives neither a cut (a provider echoing half a key, an answer truncated
 * elsewhere) nor an encoding (URL-encoded, JSON-escaped, base64 as in `Basic user:password`, hex). A secret
 * shorter than the fragment length is masked where it appears whole.
 *
 * Webhook URLs are secret in their path and query (Slack `/services/T…/B…/…`, Teams `sig=`); their scheme and
 * host are not (operators see the host in `connectors list`), so only the path and query count as secret
 * material of a URL.
 *
 * Always scrub the whole text first, then shorten it ({@link excerpt}): cutting first keeps the first part of a
 * secret that straddles the cut.
 */
const MASK = '<secret>';
/** Any run of this many characters of a secret (or of an encoding of it) is masked. */
export const FRAGMENT = 8;
/** Secrets shorter than this are never scrubbed (they would mask ordinary words). */
const MIN_SCRUB_LENGTH = 4;

/** What of a secret is really secret: a URL's path and query, anything else whole. */
export function secretMaterial(secret: string): string[] {
  if (/^https?:\/\//i.test(secret)) {
    try {
      const u = new URL(secret);
      const parts = [`${u.pathname}${u.search}${u.hash}`, decodeSafe(`${u.pathname}${u.search}`)];
      if (u.username || u.password) parts.push(`${u.username}:${u.password}`, u.password);
      return [...new Set(parts.filter((p) => p.length > 1))];
    } catch {
      /* not a URL after all: the whole string */
    }
  }
  return [secret];
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

/** The byte-level encodings of a value: base64 and base64url at every alignment, hex. */
function byteEncodings(v: string): string[] {
  const bytes = utf8(v);
  const out: string[] = [];
  // base64 of a fragment that starts at byte k is, but for its last group, a substring of the encoding of the
  // value from byte k mod 3: the three alignments cover every fragment.
  for (let k = 0; k < 3 && k < bytes.length; k++) {
    const b64 = unpad(bytes.subarray(k).toString('base64'));
    out.push(b64, b64.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  const hex = bytes.toString('hex');
  out.push(hex, hex.toUpperCase());
  return out;
}

/** The text-level spellings of a value: as is, URL-encoded (both hex cases, form-encoded), JSON-escaped. */
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

/** Every form of a secret this module recognises, longest first, de-duplicated. */
export function secretForms(secret: string): string[] {
  const out = new Set<string>();
  for (const material of secretMaterial(secret)) {
    for (const base of [material, ...byteEncodings(material)]) {
      for (const form of textEncodings(base)) out.add(form);
    }
  }
  return [...out].filter((f) => f.length >= MIN_SCRUB_LENGTH).sort((a, b) => b.length - a.length);
}

/** A compiled matcher for one list of secrets: the set of their fragments, and the short ones whole. */
interface Matcher {
  fragments: Set<string>;
  short: string[];
}

const cache = new Map<string, Matcher>();
const MAX_CACHED = 256;

function matcherFor(secrets: readonly string[]): Matcher {
  const key = secrets.join('\u0000');
  const hit = cache.get(key);
  if (hit) return hit;
  const fragments = new Set<string>();
  const short: string[] = [];
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < MIN_SCRUB_LENGTH) continue;
    for (const form of secretForms(secret)) {
      if (form.length < FRAGMENT) {
        short.push(form);
        continue;
      }
      for (let i = 0; i + FRAGMENT <= form.length; i++) fragments.add(form.slice(i, i + FRAGMENT));
    }
  }
  const m = { fragments, short: [...new Set(short)].sort((a, b) => b.length - a.length) };
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
  cache.set(key, m);
  return m;
}

/** Mask every run of characters covered by a secret's fragment (and short secrets where whole). */
export function scrub(text: string, secrets: readonly string[]): string {
  if (text.length === 0 || secrets.length === 0) return text;
  const { fragments, short } = matcherFor(secrets);
  let out = text;
  if (fragments.size > 0 && out.length >= FRAGMENT) {
    const covered = new Uint8Array(out.length);
    let any = false;
    for (let i = 0; i + FRAGMENT <= out.length; i++) {
      if (fragments.has(out.slice(i, i + FRAGMENT))) {
        covered.fill(1, i, i + FRAGMENT);
        any = true;
      }
    }
    if (any) {
      let masked = '';
      for (let i = 0; i < out.length; ) {
        if (covered[i]) {
          while (i < out.length && covered[i]) i++;
          masked += MASK;
        } else {
          masked += out[i];
          i++;
        }
      }
      out = masked;
    }
  }
  for (const form of short) out = out.split(form).join(MASK);
  return out;
}

/**
 * A short, single-line excerpt of a provider's answer for an error message: scrubbed whole, then put on one
 * line (and scrubbed again, in case joining lines formed a fragment), then cut to `max` characters.
 */
export function excerpt(text: string, secrets: readonly string[], max = 300): string {
  const oneLine = scrub(scrub(text, secrets).replace(/\s+/g, ' ').trim(), secrets);
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}
