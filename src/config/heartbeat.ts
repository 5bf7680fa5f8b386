/**
 * The dead man's switch (docs/configuration.md, "Heartbeat"): off unless PROBECTL_NOTIFY_HEARTBEAT_URL is set.
 * The URL is a secret (a healthchecks-style URL is its own credential) and so is the optional Authorization
 * header (Opsgenie's `GenieKey <key>`): both have a `_FILE` form and no error ever quotes them. Pure apart from
 * reading a `_FILE`.
 */
import { z } from 'zod';
import { parseDuration } from '../shared/duration';
import { ConfigError } from './errors';
import { Secret } from './secret';
import { secretSetting } from './secret-source';
import { urlSchemeProblem } from './url-policy';

type Env = Record<string, string | undefined>;

export interface HeartbeatSettings {
  url: Secret;
  method: 'GET' | 'POST';
  /** The value of the ping's Authorization header, if any. */
  authorization?: Secret;
  /** How often the synthetic check runs (and, after each success, pings). */
  intervalMs: number;
}

/**
 * At least 10 s: every check leaves one closed canary workflow in Temporal visibility for the namespace's retention —
 * 8,640 a day per worker at 10 s, 1,440 at the 60 s default.
 */
const MIN_INTERVAL_MS = 10_000;
const MAX_INTERVAL_MS = 24 * 3_600_000;

const schema = z.object({
  PROBECTL_NOTIFY_HEARTBEAT_INTERVAL: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z
      .string()
      .default('60s')
      .transform((v, ctx) => {
        const ms = parseDuration(v);
        if (ms === undefined || ms < MIN_INTERVAL_MS || ms > MAX_INTERVAL_MS) {
          ctx.addIssue({ code: 'custom', message: 'PROBECTL_NOTIFY_HEARTBEAT_INTERVAL must be a duration from 10s to 24h, such as 30s or 5m' });
          return z.NEVER;
        }
        return ms;
      }),
  ),
  PROBECTL_NOTIFY_HEARTBEAT_METHOD: z.preprocess(
    (v) => (typeof v === 'string' ? (v.trim() === '' ? undefined : v.trim().toUpperCase()) : v),
    z.enum(['GET', 'POST'], { message: 'PROBECTL_NOTIFY_HEARTBEAT_METHOD must be GET or POST' }).default('GET'),
  ),
});

/** The heartbeat settings, or undefined when PROBECTL_NOTIFY_HEARTBEAT_URL (and its _FILE) is unset. */
export function heartbeatSettings(env: Env): HeartbeatSettings | undefined {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const setting = String(parsed.error.issues[0]!.path[0] ?? 'environment');
    throw new ConfigError(setting, parsed.error.issues.filter((i) => String(i.path[0]) === setting).map((i) => i.message));
  }
  const rawUrl = secretSetting(env, 'PROBECTL_NOTIFY_HEARTBEAT_URL')?.trim();
  const rawAuth = secretSetting(env, 'PROBECTL_NOTIFY_HEARTBEAT_AUTHORIZATION')?.trim();
  if (!rawUrl) {
    if (rawAuth) throw new ConfigError('PROBECTL_NOTIFY_HEARTBEAT_AUTHORIZATION', ['set without PROBECTL_NOTIFY_HEARTBEAT_URL (the heartbeat is off)']);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new ConfigError('PROBECTL_NOTIFY_HEARTBEAT_URL', ['not a valid absolute URL']);
  }
  const problem = urlSchemeProblem(url);
  if (problem) throw new ConfigError('PROBECTL_NOTIFY_HEARTBEAT_URL', [problem]);
  if (url.username || url.password) {
    throw new ConfigError('PROBECTL_NOTIFY_HEARTBEAT_URL', ['must not carry user:password; use PROBECTL_NOTIFY_HEARTBEAT_AUTHORIZATION']);
  }
  if (rawAuth !== undefined && rawAuth !== '' && /[\r\n\0]/.test(rawAuth)) {
    throw new ConfigError('PROBECTL_NOTIFY_HEARTBEAT_AUTHORIZATION', ['must be one line (a header value)']);
  }
  return {
    url: new Secret(url.toString()),
    method: parsed.data.PROBECTL_NOTIFY_HEARTBEAT_METHOD,
    ...(rawAuth ? { authorization: new Secret(rawAuth) } : {}),
    intervalMs: parsed.data.PROBECTL_NOTIFY_HEARTBEAT_INTERVAL,
  };
}
