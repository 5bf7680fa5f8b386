/**
 * Outbound URL policy (design.md, Connectors): HTTPS always; plain http only to loopback hosts, which is
 * where the local test doubles live. Pure.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** A problem with the URL's scheme, in words that do not repeat the URL; undefined when it is allowed. */
export function urlSchemeProblem(url: URL): string | undefined {
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') {
    return isLoopbackHost(url.hostname) ? undefined : 'plain http:// is only allowed for loopback hosts; use https://';
  }
  return `unsupported URL scheme ${JSON.stringify(url.protocol.replace(/:$/, ''))}`;
}
