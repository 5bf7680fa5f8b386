/**
 * Provider text limits: cuts in the unit a provider counts (UTF-16 code units, encoded bytes), never between a
 * surrogate pair or inside an escape, and shared budgets. Used by the request builders only — not by workflow code,
 * whose bundle preloads src/shared/text.ts (no module state allowed there). Pure.
 */
/** A surrogate without its other half (what JSON carries as `\ud800` and no provider can store as text). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `text` with every lone surrogate replaced by U+FFFD (the same length in UTF-16 units). Pure. */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

export interface CutOptions {
  /** What marks a cut (default `…`); it counts towards the limit. */
  ellipsis?: string;
  /** How one code point is written out (an escape, say); default as is. The limit counts what is written. */
  render?: (codePoint: string) => string;
  /** The size of a written piece; default its length in UTF-16 code units. */
  size?: (written: string) => number;
}

/**
 * `text` written out code point by code point (`render`), cut so that its `size` — the ellipsis included — is at most
 * `max`. It cuts only between code points, so never between a surrogate pair or inside one rendered piece (an
 * escape such as `&amp;`); a lone surrogate in the input becomes U+FFFD. Below the ellipsis' own size it is ''. Pure.
 */
export function cutRendered(text: string, max: number, options: CutOptions = {}): string {
  const { ellipsis = '…', render, size = (s: string) => s.length } = options;
  const clean = wellFormed(text);
  const whole = render ? Array.from(clean, render).join('') : clean;
  if (size(whole) <= max) return whole;
  const room = max - size(ellipsis);
  if (room < 0) return '';
  let out = '';
  let used = 0;
  for (const cp of clean) {
    const piece = render ? render(cp) : cp;
    const n = size(piece);
    if (used + n > room) break;
    out += piece;
    used += n;
  }
  return out + ellipsis;
}

/**
 * Cut to at most `maxUnits` UTF-16 code units — what `String.length`, Java and the JVM-based providers (Jira,
 * ServiceNow, Opsgenie) count — the ellipsis included, never splitting a surrogate pair. Pure.
 */
export function truncateUnits(text: string, maxUnits: number, ellipsis = '…'): string {
  return cutRendered(text, maxUnits, { ellipsis });
}

/** The UTF-8 bytes `text` takes inside a JSON string (its escapes included, the quotes not). */
export function jsonBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text), 'utf8') - 2;
}

/** The UTF-16 units `text` takes inside a JSON string (its escapes included, the quotes not). */
export function jsonUnits(text: string): number {
  return JSON.stringify(text).length - 2;
}

/**
 * Fit several strings into one shared budget (`size` each as written in JSON: `jsonBytes` or `jsonUnits`): the largest
 * are cut first, to one common cap — the largest cap for which the total fits — so a short value is never cut while
 * a longer one could give. The total of the results is at most `budget` (0 or less: every value ''). Pure.
 */
export function fitStrings(values: readonly string[], budget: number, size: (text: string) => number = jsonBytes): string[] {
  const clean = values.map(wellFormed);
  const sizes = clean.map(size);
  const total = (cap: number) => sizes.reduce((sum, s) => sum + Math.min(s, cap), 0);
  if (total(Infinity) <= budget) return clean;
  let lo = 0;
  let hi = Math.max(0, ...sizes);
  if (budget <= 0) return clean.map(() => '');
  // the largest cap whose total fits (total(0) = 0 ≤ budget)
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (total(mid) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return clean.map((v, i) => (sizes[i]! > lo ? cutRendered(v, lo, { size }) : v));
}
