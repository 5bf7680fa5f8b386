/**
 * The outbound proxy variables, checked where a provider HTTP client is built (proxyFromEnv in src/http/client.ts: the
 * worker, its heartbeat, the CLI's connectors commands) — a process that never builds one (the API role, migrate,
 * incident commands) is not stopped by a host's proxy variable it never uses. The client reads `HTTPS_PROXY`, else
 * `https_proxy`, and the same for HTTP (an empty value counts as unset) and hands them to undici's proxy agent, which
 * takes http://, https:// and (experimental in undici) socks5:// proxies: a value without a scheme (`proxy:3128`) made
 * the worker die at its first client with "Invalid URL protocol", naming no variable. Here the variable that would be
 * used is checked and a refusal names it. A proxy URL may carry `user:password`, so no message ever quotes any part of
 * the value. Pure.
 */
import { ConfigError } from './errors';

type Env = Record<string, string | undefined>;

const USAGE = 'must be an http://, https:// or socks5:// proxy URL such as http://proxy.internal:3128 (a scheme is required)';

/** The name proxyFromEnv reads for this variable: the upper-case one when set and non-empty, else the lower-case one. */
function inUse(env: Env, name: string): string | undefined {
  if (env[name]) return name;
  const lower = name.toLowerCase();
  return env[lower] ? lower : undefined;
}

/** Throws a ConfigError naming the proxy variable in use when its value is not an http://, https:// or socks5:// URL. */
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
    if (!['http:', 'https:', 'socks5:'].includes(url.protocol) || url.hostname === '') throw new ConfigError(setting, [USAGE]);
  }
}
