/**
 * Leak scans: every `n`-character window of a planted secret, searched in some text. A secret is not only
 * leaked whole: a cut excerpt, a tail or a re-encoded part is as bad, so any window found counts.
 */
export function windows(text: string, n: number): string[] {
  return Array.from({ length: Math.max(text.length - n + 1, 0) }, (_, i) => text.slice(i, i + n));
}

/** `place: window` for every window of every secret found in `text` (empty: no leak). */
export function leakedWindows(secrets: readonly string[], text: string, place: string, n = 8): string[] {
  const found: string[] = [];
  for (const s of secrets) for (const w of windows(s, n)) if (text.includes(w)) found.push(`${place}: ${w}`);
  return found;
}
