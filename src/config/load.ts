import { z } from 'zod';
import { parseApiTokens, type ApiToken } from './api-tokens';
import { ConnectorDirectory, parseConnectors } from './connectors';
import { ConfigError } from './errors';
import { durationSetting, optionalWholeNumberSetting, plainTextProblem, wholeNumberSetting, type DurationRule } from './plain-settings';
import { heartbeatSettings, type HeartbeatSettings } from './heartbeat';
import { InboundDirectory, parseInbound } from './inbound';
import { Secret } from './secret';
import { secretSetting } from './secret-source';
import { temporalClientSettings, type TemporalSettings } from './temporal';
import { tracingSettings, type TracingSettings } from './tracing';
import { socketAddressProblem } from './socket-address';
import { urlSchemeProblem } from './url-policy';

export interface AppConfig {
  temporal: TemporalSettings;
  /** Start-up notices (settings under an alias name); each is logged once, as a warning, by whoever starts. */
  notices: string[];
  /** Unset: no mirror configured (the demo starts an embedded database). */
  databaseUrl?: Secret;
  connectors: ConnectorDirectory;
  apiTokens: ApiToken[];
  /** PROBECTL_NOTIFY_INBOUND entries; empty: every inbound delivery is refused (401). */
  inbound: InboundDirectory;
  /** `signature`: the timestamped form (default) or the body-only form (PROBECTL_NOTIFY_CALLBACK_SIGNATURE). */
  callback?: { url: Secret; secret: Secret; signature: 'timestamped' | 'body' };
  api: { host: string; port: number };
  /** The worker's own /metrics endpoint (PROBECTL_NOTIFY_METRICS_PORT); unset: off (the API serves /metrics). */
  metrics: { host: string; port?: number };
  /**
   * Where the Temporal SDK's own metrics (task slots, polls, workflow task latency, sticky cache) are served
   * for Prometheus (`ip:port`, PROBECTL_NOTIFY_SDK_METRICS_ADDRESS); unset: not exported. Worker processes only.
   */
  sdkMetricsAddress?: string;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /** Delay before the second resolve sent to pagers (design.md, "No trigger after its resolve"). */
  pagerReResolveDelayMs: number;
  /** While an incident is open, how often its tickets' and alerts' states are read back (0 = never). */
  reconcileIntervalMs: number;
  /**
   * `per-incident`: each incident's workflow reads its own links back every interval (one read per open readable
   * link). `per-connector`: new incidents get no per-incident loop; the worker's connector reconciler asks each
   * readable connector once per interval what changed (src/reconcile/).
   */
  reconcileMode: 'per-incident' | 'per-connector';
  /**
   * PROBECTL_NOTIFY_BEGIN_IN_START (auto, the default; `on` is the same; off): the API passes a new run its begin
   * snapshot with the digest of its configuration, taken by a worker with the same digest (src/activities/begin.ts).
   */
  beginInStart: boolean;
  /**
   * PROBECTL_NOTIFY_EAGER_START (auto, the default; off): where the API runs beside a worker of the same task queue
   * (`all`), it starts new runs on that worker's connection asking for an eager start — the server hands the first
   * workflow task back in the start's answer, to that worker, instead of through matching. Roles apart: no effect.
   */
  eagerStart: boolean;
  /**
   * PROBECTL_NOTIFY_LOCAL_FIRST_OPENS (on, the default; off): a new incident's opens make their first attempt as
   * local activities in the run's first workflow task (src/workflows/v2/local-first.ts) when the run took the API's
   * checked begin snapshot; carried in that snapshot and its digest, so the API and the workers must agree.
   */
  localFirstOpens: boolean;
  /**
   * PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES (off, the default; on): whether the SDK's workflow threads capture a stack
   * trace for every promise a workflow makes (the `__stack_trace` query). Applied by the thread preload
   * (src/runtime/workflow-thread-preload.ts), which the image's entrypoint and `npm start` load; without it, on.
   */
  workflowStackTraces: 'on' | 'off';
  /** Request timeout for one provider call. */
  httpTimeoutMs: number;
  /** Workflows kept in the worker's cache (memory bound). */
  maxCachedWorkflows: number;
  /**
   * PROBECTL_NOTIFY_PACE_WORKERS: how many workers share each connector key. A worker that cannot reach the shared
   * pacing store (Postgres) paces on its own at rate ÷ this (docs/providers.md, "Rate pacing").
   */
  paceWorkers: number;
  /**
   * PROBECTL_NOTIFY_PACE_KEY_SECRET (or _FILE): keys the names of the shared pacing buckets (src/activities/pace-key.ts);
   * the same on every worker, never stored in Postgres. Unset: no shared store, each worker paces at rate ÷ workers.
   */
  paceKeySecret?: Secret;
  /** On SIGTERM the API answers /readyz 503 for this long before it stops taking requests. */
  shutdownDelayMs: number;
  /** How long an accepted inbound delivery's signal is tried inline before it is answered as queued. */
  inboundInlineDeadlineMs: number;
  /** OpenTelemetry trace export (OTEL_EXPORTER_OTLP_*); unset: no tracing SDK is started. */
  tracing?: TracingSettings;
  /** The dead man's switch (PROBECTL_NOTIFY_HEARTBEAT_*); unset: off. Worker processes only. */
  heartbeat?: HeartbeatSettings;
}

type Env = Record<string, string | undefined>;

/**
 * The ranges of the duration settings (docs/configuration.md). Every one stays far below MAX_TIMER_MS (Node's
 * 2^31 - 1 ms timer limit), past which a setTimeout fires after 1 ms and AbortSignal.timeout throws.
 */
const DURATION_RULES = {
  // One provider request. At least 100 ms (0 failed every request at once); at most 60 s, half an activity
  // attempt's 2-minute limit, so an attempt still has room for a second request (a ticket's lookup and create);
  // the hand-over guard is 10 s + this + 5 s.
  PROBECTL_NOTIFY_HTTP_TIMEOUT: { min: 100, max: 60_000 },
  // 0s: off. Else at least 1 s, the floor the connector reconciler already gives its lease and deadlines
  // (src/reconcile/connector-reconciler.ts), at most a day.
  PROBECTL_NOTIFY_RECONCILE_INTERVAL: { min: 1_000, max: 24 * 3_600_000, off: true },
  // At most 10 min: a stop takes this delay + the last requests + up to 20 s, within the container's grace period.
  PROBECTL_NOTIFY_SHUTDOWN_DELAY: { min: 0, max: 10 * 60_000 },
  // 0s: no second resolve to pagers (a ticket's lookup-and-close passes are then 1 s apart). Else at least 1 s, the
  // floor the ticket passes already take (Math.max(delay, 1_000) in the workflow and the follow-up runner).
  PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: { min: 1_000, max: 24 * 3_600_000, off: true },
  PROBECTL_NOTIFY_INBOUND_INLINE_DEADLINE: { min: 50, max: 10_000 },
} satisfies Record<string, DurationRule>;

const duration = (setting: keyof typeof DURATION_RULES, fallback: string) => durationSetting(setting, fallback, DURATION_RULES[setting]);

/**
 * The callback's HMAC key: at least 16 characters, as since the first release (raising it would stop running
 * deployments); docs/configuration.md recommends 32+ random characters.
 */
const MIN_CALLBACK_SECRET_LENGTH = 16;

/** Plain text settings, checked before the schema (plainTextProblem): not blank, no whitespace at either end. */
const TEXT_SETTINGS = ['PROBECTL_NOTIFY_TASK_QUEUE', 'PROBECTL_NOTIFY_API_HOST', 'PROBECTL_NOTIFY_METRICS_HOST'] as const;

const schema = z.object({
  PROBECTL_NOTIFY_TASK_QUEUE: z.string().min(1).default('probectl-notify'),
  PROBECTL_NOTIFY_API_HOST: z.string().min(1).default('127.0.0.1'),
  // 0: any free port (the demo and the tests use it).
  PROBECTL_NOTIFY_API_PORT: wholeNumberSetting('PROBECTL_NOTIFY_API_PORT', 8080, 0, 65535, ' (0: any free port)'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: duration('PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY', '60s'),
  PROBECTL_NOTIFY_HTTP_TIMEOUT: duration('PROBECTL_NOTIFY_HTTP_TIMEOUT', '10s'),
  // Empty means unset (compose files pass `${VAR:-}`).
  PROBECTL_NOTIFY_METRICS_PORT: optionalWholeNumberSetting('PROBECTL_NOTIFY_METRICS_PORT', 1, 65535, ', or empty (off)'),
  PROBECTL_NOTIFY_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  // Empty means unset, like the metrics port.
  PROBECTL_NOTIFY_SDK_METRICS_ADDRESS: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v),
    z
      .string()
      .superRefine((v, ctx) => {
        const problem = socketAddressProblem(v);
        if (problem) ctx.addIssue({ code: 'custom', message: `PROBECTL_NOTIFY_SDK_METRICS_ADDRESS ${problem}` });
      })
      .optional(),
  ),
  PROBECTL_NOTIFY_SHUTDOWN_DELAY: duration('PROBECTL_NOTIFY_SHUTDOWN_DELAY', '5s'),
  PROBECTL_NOTIFY_INBOUND_INLINE_DEADLINE: duration('PROBECTL_NOTIFY_INBOUND_INLINE_DEADLINE', '300ms'),
  PROBECTL_NOTIFY_MAX_CACHED_WORKFLOWS: wholeNumberSetting('PROBECTL_NOTIFY_MAX_CACHED_WORKFLOWS', 250, 0, 100_000),
  PROBECTL_NOTIFY_RECONCILE_INTERVAL: duration('PROBECTL_NOTIFY_RECONCILE_INTERVAL', '5m'),
  PROBECTL_NOTIFY_RECONCILE_MODE: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v),
    z.enum(['per-incident', 'per-connector'], { message: 'PROBECTL_NOTIFY_RECONCILE_MODE must be per-incident or per-connector' }).default('per-incident'),
  ),
  PROBECTL_NOTIFY_BEGIN_IN_START: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v),
    z.enum(['auto', 'on', 'off'], { message: 'PROBECTL_NOTIFY_BEGIN_IN_START must be auto, on or off' }).default('auto'),
  ),
  PROBECTL_NOTIFY_LOCAL_FIRST_OPENS: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v),
    z.enum(['on', 'off'], { message: 'PROBECTL_NOTIFY_LOCAL_FIRST_OPENS must be on or off' }).default('on'),
  ),
  PROBECTL_NOTIFY_EAGER_START: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v),
    z.enum(['auto', 'off'], { message: 'PROBECTL_NOTIFY_EAGER_START must be auto or off' }).default('auto'),
  ),
  PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v),
    z.enum(['on', 'off'], { message: 'PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES must be on or off' }).default('off'),
  ),
  PROBECTL_NOTIFY_PACE_WORKERS: wholeNumberSetting('PROBECTL_NOTIFY_PACE_WORKERS', 1, 1, 1_000),
  PROBECTL_NOTIFY_CALLBACK_SIGNATURE: z.enum(['timestamped', 'body'], { message: 'must be timestamped or body' }).default('timestamped'),
});

/** Read and validate the whole configuration once; throws ConfigError naming the setting. */
export function loadConfig(env: Env = process.env): AppConfig {
  for (const setting of TEXT_SETTINGS) {
    const value = env[setting];
    const problem = value === undefined ? undefined : plainTextProblem(setting, value);
    if (problem) throw new ConfigError(setting, [problem]);
  }
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const setting = String(issue.path[0] ?? 'environment');
    // zod messages describe the rule, never the value.
    throw new ConfigError(setting, parsed.error.issues.filter((i) => String(i.path[0]) === setting).map((i) => i.message));
  }
  const e = parsed.data;
  const callbackUrl = env.PROBECTL_NOTIFY_CALLBACK_URL?.trim();
  const callbackSecret = secretSetting(env, 'PROBECTL_NOTIFY_CALLBACK_SECRET');
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
    // The HTTP client (undici) does not send a URL's user:password: every callback would be refused (401) for its whole 7-day window.
    if (url.username || url.password) {
      throw new ConfigError('PROBECTL_NOTIFY_CALLBACK_URL', ['must not carry user:password (it is not sent); probectl authenticates the callback by its signature (PROBECTL_NOTIFY_CALLBACK_SECRET)']);
    }
    // As the API tokens and inbound secrets: whitespace in a key is a paste mistake (or 16 spaces).
    if (!callbackSecret || callbackSecret.length < MIN_CALLBACK_SECRET_LENGTH || /\s/.test(callbackSecret)) {
      throw new ConfigError('PROBECTL_NOTIFY_CALLBACK_SECRET', [
        `required when PROBECTL_NOTIFY_CALLBACK_URL is set: at least ${MIN_CALLBACK_SECRET_LENGTH} characters without whitespace, also at either end (a _FILE's one final newline is dropped; 32+ random characters recommended)`,
      ]);
    }
    callback = { url: new Secret(url.toString()), secret: new Secret(callbackSecret), signature: e.PROBECTL_NOTIFY_CALLBACK_SIGNATURE };
  }
  const databaseUrl = secretSetting(env, 'DATABASE_URL')?.trim();
  const paceKeySecret = secretSetting(env, 'PROBECTL_NOTIFY_PACE_KEY_SECRET')?.trim();
  if (paceKeySecret !== undefined && paceKeySecret !== '' && paceKeySecret.length < 32) {
    throw new ConfigError('PROBECTL_NOTIFY_PACE_KEY_SECRET', ['must be at least 32 characters (e.g. `openssl rand -hex 32`), the same on every worker']);
  }
  const temporal = temporalClientSettings(env);
  const tracing = tracingSettings(env);
  const heartbeat = heartbeatSettings(env);
  return {
    temporal: { ...temporal.settings, taskQueue: e.PROBECTL_NOTIFY_TASK_QUEUE },
    notices: temporal.notices,
    ...(databaseUrl ? { databaseUrl: new Secret(databaseUrl) } : {}),
    connectors: new ConnectorDirectory(parseConnectors(secretSetting(env, 'PROBECTL_NOTIFY_CONNECTORS'))),
    apiTokens: parseApiTokens(secretSetting(env, 'PROBECTL_NOTIFY_API_TOKENS')),
    inbound: new InboundDirectory(parseInbound(secretSetting(env, 'PROBECTL_NOTIFY_INBOUND'))),
    ...(callback ? { callback } : {}),
    api: { host: e.PROBECTL_NOTIFY_API_HOST, port: e.PROBECTL_NOTIFY_API_PORT },
    metrics: { host: e.PROBECTL_NOTIFY_METRICS_HOST, ...(e.PROBECTL_NOTIFY_METRICS_PORT !== undefined ? { port: e.PROBECTL_NOTIFY_METRICS_PORT } : {}) },
    ...(e.PROBECTL_NOTIFY_SDK_METRICS_ADDRESS !== undefined ? { sdkMetricsAddress: e.PROBECTL_NOTIFY_SDK_METRICS_ADDRESS } : {}),
    logLevel: e.LOG_LEVEL,
    pagerReResolveDelayMs: e.PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY,
    reconcileIntervalMs: e.PROBECTL_NOTIFY_RECONCILE_INTERVAL,
    reconcileMode: e.PROBECTL_NOTIFY_RECONCILE_MODE,
    // `on` (what earlier releases called it) is `auto`: the snapshot is always checked now.
    beginInStart: e.PROBECTL_NOTIFY_BEGIN_IN_START !== 'off',
    eagerStart: e.PROBECTL_NOTIFY_EAGER_START !== 'off',
    localFirstOpens: e.PROBECTL_NOTIFY_LOCAL_FIRST_OPENS === 'on',
    workflowStackTraces: e.PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES,
    httpTimeoutMs: e.PROBECTL_NOTIFY_HTTP_TIMEOUT,
    shutdownDelayMs: e.PROBECTL_NOTIFY_SHUTDOWN_DELAY,
    inboundInlineDeadlineMs: e.PROBECTL_NOTIFY_INBOUND_INLINE_DEADLINE,
    maxCachedWorkflows: e.PROBECTL_NOTIFY_MAX_CACHED_WORKFLOWS,
    ...(tracing ? { tracing } : {}),
    ...(heartbeat ? { heartbeat } : {}),
    paceWorkers: e.PROBECTL_NOTIFY_PACE_WORKERS,
    ...(paceKeySecret ? { paceKeySecret: new Secret(paceKeySecret) } : {}),
  };
}
