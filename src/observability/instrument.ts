/**
 * Delivery metrics for the activities, without touching their code: `instrument(activities, …)` wraps the
 * provider-calling activities (open, acknowledge, resolve, the callback to probectl) and records each
 * attempt's outcome and duration. Whether a failed attempt is retried is decided the way the server decides
 * it: a non-retryable failure (flagged, or a type the retry policy lists), the last allowed attempt, or a
 * next attempt that would start after the schedule-to-close deadline means "permanent"; anything else
 * "retried". The failure itself is logged once, by the SDK's worker logger (`Activity failed`, routed to the
 * JSON log by src/observability/sdk-logger.ts), with its scrubbed message.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { msOptionalToNumber } from '@temporalio/common/lib/time';
import type { DeliveryAction, DeliveryOutcome, NotifyMetrics } from './metrics';

const ACTIONS: Record<string, DeliveryAction> = {
  openConnector: 'open',
  acknowledgeConnector: 'acknowledge',
  resolveConnector: 'resolve',
  reportToProbectl: 'callback',
};

export interface InstrumentOptions {
  metrics: NotifyMetrics;
  /** The provider of a connector call (from the worker's configuration); undefined when unknown. */
  providerOf(call: { incident?: { tenantId?: string }; connectorId?: string }): string | undefined;
}

interface AttemptInfo {
  attempt: number;
  /** A local activity: an open's local first attempt (src/workflows/v2/local-first.ts), which the workflow follows with the ordinary activity when retryable. */
  isLocal?: boolean;
  scheduledTimestampMs: number;
  scheduleToCloseTimeoutMs: number;
  retryPolicy?: { initialInterval?: unknown; backoffCoefficient?: number; maximumInterval?: unknown; maximumAttempts?: number; nonRetryableErrorTypes?: string[] };
}

const ms = (v: unknown): number | undefined => {
  try {
    return msOptionalToNumber(v as never);
  } catch {
    return undefined;
  }
};

/** The outcome of a failed attempt and its failure type. Exported for unit tests. */
export function classifyFailure(err: unknown, info: AttemptInfo, cancelled: boolean, nowMs = Date.now(), timedOut = false): { outcome: DeliveryOutcome; reason: string } {
  // A local first attempt cut by its time limit: the workflow goes on with the ordinary activity.
  if (info.isLocal && timedOut) return { outcome: 'retried', reason: 'TimedOut' };
  if (cancelled || err instanceof CancelledFailure) return { outcome: 'cancelled', reason: 'Cancelled' };
  const type = err instanceof ApplicationFailure ? err.type ?? 'Error' : err instanceof Error ? err.name || 'Error' : 'Error';
  const policy = info.retryPolicy;
  if (err instanceof ApplicationFailure && err.nonRetryable) return { outcome: 'permanent', reason: type };
  if (policy?.nonRetryableErrorTypes?.includes(type)) return { outcome: 'permanent', reason: type };
  // A local first attempt is one attempt only; the workflow goes on with the ordinary activity.
  if (info.isLocal) return { outcome: 'retried', reason: type };
  if (policy?.maximumAttempts && info.attempt >= policy.maximumAttempts) return { outcome: 'permanent', reason: type };
  if (info.scheduleToCloseTimeoutMs > 0) {
    const initial = ms(policy?.initialInterval) ?? 1000;
    const max = ms(policy?.maximumInterval) ?? initial * 100;
    const backoff = Math.min(initial * Math.pow(policy?.backoffCoefficient ?? 2, Math.max(info.attempt - 1, 0)), max);
    const hinted = err instanceof ApplicationFailure ? ms(err.nextRetryDelay) : undefined;
    // A failure's own delay is honoured as given: the server does not cap it by maximumInterval.
    const next = hinted !== undefined ? hinted : backoff;
    if (nowMs + next >= info.scheduledTimestampMs + info.scheduleToCloseTimeoutMs) return { outcome: 'permanent', reason: type };
  }
  return { outcome: 'retried', reason: type };
}

/** A pacer's refusal (src/activities/pacing.ts): nothing was sent. Exported for unit tests. */
export function pacedBeforeSending(err: unknown): boolean {
  const d: unknown = err instanceof ApplicationFailure ? err.details?.[0] : undefined;
  return typeof d === 'object' && d !== null && (d as { paced?: unknown }).paced === true;
}

type ActivityFn = (...args: any[]) => Promise<any>;

export function instrument<T extends Record<string, ActivityFn>>(activities: T, opts: InstrumentOptions): T {
  const out: Record<string, ActivityFn> = { ...activities };
  for (const [name, action] of Object.entries(ACTIONS)) {
    const fn = activities[name];
    if (!fn) continue;
    out[name] = async (...args: unknown[]) => {
      const call = (args[0] ?? {}) as { incident?: { tenantId?: string }; connectorId?: string };
      let provider = 'probectl';
      if (action !== 'callback') {
        try {
          provider = opts.providerOf(call) ?? 'other';
        } catch {
          provider = 'other';
        }
      }
      const started = process.hrtime.bigint();
      const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
      try {
        const result = await fn(...args);
        // No callback URL configured: nothing was delivered, nothing to count.
        if (action === 'callback' && (result as { delivered?: boolean } | undefined)?.delivered === false) return result;
        opts.metrics.delivery({ provider, action, outcome: 'ok', seconds: seconds() });
        return result;
      } catch (err) {
        let ctx: Context | undefined;
        try {
          ctx = Context.current();
        } catch {
          ctx = undefined;
        }
        // A local first attempt the pacer refused sent nothing: the ordinary activity that follows makes the call.
        if (ctx?.info.isLocal && pacedBeforeSending(err)) throw err;
        const info: AttemptInfo = ctx?.info ?? { attempt: 1, scheduledTimestampMs: 0, scheduleToCloseTimeoutMs: 0 };
        const { outcome, reason } = classifyFailure(err, info, ctx?.cancellationSignal.aborted ?? false, Date.now(), ctx?.cancellationDetails?.timedOut ?? false);
        opts.metrics.delivery({ provider, action, outcome, seconds: seconds(), reason });
        throw err;
      }
    };
  }
  return out as T;
}
