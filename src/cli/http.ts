import { HttpClient, proxyFromEnv } from '../http/client';
import type { AppConfig } from '../config/load';

/** The same HTTP client the worker uses: certificates validated, URL policy, timeout, proxy from env. */
export function cliHttpClient(config: AppConfig, env: Record<string, string | undefined>, timeoutMs = config.httpTimeoutMs): HttpClient {
  const proxy = proxyFromEnv(env);
  return new HttpClient({ timeoutMs, ...(proxy ? { proxy } : {}), userAgent: 'probectl-notify-cli' });
}
