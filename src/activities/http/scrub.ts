/**
 * Remove secrets from text before it can reach an error message, a log line or workflow history. Each
 * secret is replaced in its plain, URL-encoded and base64 (basic-auth) forms. Pure.
 */
const MASK = '<secret>';
const MIN_SCRUB_LENGTH = 4;

function forms(secret: string): string[] {
  const out = new Set<string>([secret]);
  try {
    out.add(encodeURIComponent(secret));
  } catch {
    /* lone surrogate: the plain form is enough */
  }
  out.add(Buffer.from(secret, 'utf8').toString('base64').replace(/=+$/, ''));
  // A URL is secret as a whole, and so is its path (Slack and Teams webhook URLs), with or without query.
  try {
    const u = new URL(secret);
    if (u.pathname.length > 1) out.add(u.pathname);
    if (u.search.length > 1) out.add(u.search.slice(1));
  } catch {
    /* not a URL */
  }
  return [...out].filter((f) => f.length >= MIN_SCRUB_LENGTH).sort((a, b) => b.length - a.length);
}

export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < MIN_SCRUB_LENGTH) continue;
    for (const form of forms(secret)) out = out.split(form).join(MASK);
  }
  return out;
}

/** A short, single-line excerpt of a provider's answer for an error message, scrubbed. */
export function excerpt(text: string, secrets: readonly string[], max = 300): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  const cut = oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
  return scrub(cut, secrets);
}
