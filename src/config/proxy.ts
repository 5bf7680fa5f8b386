/**
 * The outbound proxy variables, checked at start-up. The HTTP client reads them itself (proxyFromEnv in
 * src/http/client.ts: `HTTPS_PROXY`, else `https_proxy`, and the same for HTTP; an empty value counts as unset) and
 * hands them to undici's proxy agent, which takes only http:// and https:// proxies: a value without a scheme
 * (`proxy:3128`) made the worker die at its first client with "Invalid URL protocol", naming no variable, and a
 * `socks5://` one was taken silently although the service promises HTTP CONNECT (docs/configuration.md). Here the
 * variable that would be used is checked and a refusal names it. A proxy URL may carry `user:password`, so no
 * message ever quotes any part of the value. Pure.
 */
import { ConfigError } from './errors';

type Env = Record<string, string | undefined>;

const USAGE = 'must be an http:// or https:// proxy URL such as http://proxy.internal:3128 (a scheme is required; SOCKS is not supported)';

/** The name proxyFromEnv reads for this variable: the upper-case one when set and non-empty, else the lower-case one. */
function inUse(env: Env, name: string): string | undefined {
  if (env[name]) return name;
  const lower = name.toLowerCase();
  return env[lower] ? lower : undefined;
}

/** Throws a ConfigError naming the proxy variable in use when its value is not an http:// or https:// URL. */
export function checkProxySettings(env: Env): void {
  for (const name of ['HTTPS_PROXY', 'HTTP_PROXY']) {
    const setting = inUse(env, name);
    if (setting === undefined) continue;
    const value = env[setting]!;
    if (value.trim() === '') throw new ConfigError(setting, ['is blank: leave it empty or unset for no proxy, or ' + USAGE.replace(/^must be /, 'give ')]);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ConfigError(setting, [USAGE]);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') throw new ConfigError(setting, [USAGE]);
  }
}
