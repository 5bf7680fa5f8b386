import { z } from 'zod';
import { parseDuration } from '../shared/duration';
import { parseApiTokens, type ApiToken } from './api-tokens';
import { ConnectorDirectory, parseConnectors } from './connectors';
import { ConfigError } from './errors';
import { Secret } from './secret';
import { urlSchemeProblem } from './url-policy';

export interface AppConfig {
  temporal: { address: string; namespace: string; taskQueue: string };
  /** Unset: no mirror configured (the demo starts an embedded database). */
  databaseUrl?: Secret;
  connectors: ConnectorDirectory;
  apiTokens: ApiToken[];
  callback?: { url: Secret; secret: Secret };
  api: { host: string; port: number };
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /** Delay before the second resolve sent to pagers (design.md, "No trigger after its resolve"). */
  pagerReResolveDelayMs: number;
  /** Request timeout for one provider call. */
  httpTimeoutMs: number;
}

type Env = Record<string, string | undefined>;

const duration = (setting: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `${setting} must be a duration such as 250ms, 30s or 5m` });
        return z.NEVER;
      }
      return ms;
    });

const schema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  PROBECTL_NOTIFY_TASK_QUEUE: z.string().min(1).default('probectl-notify'),
  PROBECTL_NOTIFY_API_HOST: z.string().min(1).default('127.0.0.1'),
  PROBECTL_NOTIFY_API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: duration('PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY', '60s'),
  PROBECTL_NOTIFY_HTTP_TIMEOUT: duration('PROBECTL_NOTIFY_HTTP_TIMEOUT', '10s'),
});

/** Read and validate the whole configuration once; throws ConfigError naming the setting. */
export function loadConfig(env: Env = process.env): AppConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const setting = String(issue.path[0] ?? 'environment');
    // zod messages describe the rule, never the value.
    throw new ConfigError(setting, parsed.error.issues.filter((i) => String(i.path[0]) === setting).map((i) => i.message));
  }
  const e = parsed.data;
  const callbackUrl = env.PROBECTL_NOTIFY_CALLBACK_URL?.trim();
  const callbackSecret = env.PROBECTL_NOTIFY_CALLBACK_SECRET;
  let callback: AppConfig['callback'];
  if (callbackUrl) {
    let url: URL;
    try {
      url = new URL(callbackUrl);
    } catch {
      throw new ConfigError('PROBECTL_NOTIFY_CALLBACK_URL', ['not a valid absolute URL']);
    }
    const problem = urlSchemeProblem(url);
    if (problem) throw new ConfigError('PROBECTL_NOTIFY_CALLBACK_URL', [problem]);
    if (!callbackSecret || callbackSecret.length < 16) {
      throw new ConfigError('PROBECTL_NOTIFY_CALLBACK_SECRET', ['required (at least 16 characters) when PROBECTL_NOTIFY_CALLBACK_URL is set']);
    }
    callback = { url: new Secret(url.toString()), secret: new Secret(callbackSecret) };
  }
  const databaseUrl = env.DATABASE_URL?.trim();
  return {
    temporal: { address: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE, taskQueue: e.PROBECTL_NOTIFY_TASK_QUEUE },
    ...(databaseUrl ? { databaseUrl: new Secret(databaseUrl) } : {}),
    connectors: new ConnectorDirectory(parseConnectors(env.PROBECTL_NOTIFY_CONNECTORS)),
    apiTokens: parseApiTokens(env.PROBECTL_NOTIFY_API_TOKENS),
    ...(callback ? { callback } : {}),
    api: { host: e.PROBECTL_NOTIFY_API_HOST, port: e.PROBECTL_NOTIFY_API_PORT },
    logLevel: e.LOG_LEVEL,
    pagerReResolveDelayMs: e.PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY,
    httpTimeoutMs: e.PROBECTL_NOTIFY_HTTP_TIMEOUT,
  };
}
