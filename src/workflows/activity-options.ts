/**
 * Activity proxies with a bounded, documented retry policy per capability (docs/delivery.md). A page that
 * is hours late is worth less than a ticket that is, so pages and posts give up sooner than tickets;
 * resolves are retried longest because a lost resolve leaves someone paged. Only types are imported from
 * the activities.
 */
import type { Duration } from '@temporalio/common';
import {
  ActivityCancellationType, proxyActivities, proxyLocalActivities, type ActivityInterfaceFor, type ActivityOptions,
  type LocalActivityInterfaceFor,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ConnectorRef } from '../config/connectors';
import { isTicket } from './capabilities';

/** Failure types that are never retried (mirrors NON_RETRYABLE in src/http/failures.ts). */
const NON_RETRYABLE = ['ProviderRejected', 'AuthRejected', 'ConnectorRemoved', 'InvalidInput'];

const base = (scheduleToClose: Duration, maximumInterval: Duration): ActivityOptions => ({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  scheduleToCloseTimeout: scheduleToClose,
  // A resolve that overtakes an open waits until the open attempt has really stopped.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    // Not a cap on an honoured Retry-After: the server honours a failure's next-retry delay beyond it (classify.ts).
    maximumInterval,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});

/** The open's longest back-off (`maximumInterval`, ms): pages and posts, tickets. Also caps a local first attempt's fallback. */
export const PAGE_MAX_BACKOFF_MS = 60_000;
export const TICKET_MAX_BACKOFF_MS = 300_000;
/** Opening: pages and posts for 30 minutes, tickets for 12 hours. */
const openPage = proxyActivities<Activities>(base('30 minutes', PAGE_MAX_BACKOFF_MS));
const openTicket = proxyActivities<Activities>(base('12 hours', TICKET_MAX_BACKOFF_MS));
/** Acknowledge for an hour; resolve for a day. */
export const acknowledging = proxyActivities<Activities>(base('1 hour', '5 minutes'));
export const resolving = proxyActivities<Activities>(base('24 hours', '5 minutes'));

/** The open budget by the connector's kind (its snapshot's caps): tickets 12 hours, pages and posts 30 minutes. */
export function opening(ref: Pick<ConnectorRef, 'provider' | 'caps'>): ActivityInterfaceFor<Activities> {
  return isTicket(ref) ? openTicket : openPage;
}

/**
 * Since `local-first-opens-v1`: an open's first attempt as a local activity, within `ms` (pacing wait included), one
 * attempt only (what it does not finish goes on as the ordinary activity above: v2/local-first.ts). A resolve waits
 * until the attempt has really stopped, as for the ordinary one.
 */
export function openingLocally(ms: number): LocalActivityInterfaceFor<Activities> {
  return proxyLocalActivities<Activities>({
    startToCloseTimeout: ms,
    scheduleToCloseTimeout: ms,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { maximumAttempts: 1, nonRetryableErrorTypes: NON_RETRYABLE },
  });
}

/** Reading the connector snapshot and the mirror at open: quick, and never blocks a page for long. */
const BEGIN_OPTIONS = {
  startToCloseTimeout: '20 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '10 seconds' },
} as const;
/** Runs from before the `lean-history-v1` patch: an ordinary activity on the task queue. */
export const beginning = proxyActivities<Activities>(BEGIN_OPTIONS);
/**
 * Since `lean-history-v1`: a local activity in the first workflow task (one marker event instead of three
 * events, no queue wait, no second workflow task before the first page). It only reads the configuration and
 * one mirror row, and answers `mirror.available = false` itself when Postgres is down.
 */
export const beginningLocal = proxyLocalActivities<Activities>(BEGIN_OPTIONS);

/** Reconciliation reads: a few quick tries; a round that fails is simply tried again next interval. */
export const reconciling = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: '10 seconds',
  scheduleToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Mirror writes retry until they land: a Postgres outage delays the mirror, never loses it. */
const MIRROR_RETRY = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' } as const;
export const mirroring = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', retry: MIRROR_RETRY });
/**
 * Since `lean-history-v1`, small writes caused by a fan-out: the same write as a local activity (one marker
 * event; no task-queue round trip, no workflow task of its own). Each retry waits on a workflow timer
 * (`localRetryThreshold: 0`), so during a Postgres outage the workflow task is held for at most one attempt
 * (the pool's 3 s connect timeout, 5 s statement timeout) and the commands next to it still go out.
 */
export const mirroringLocal = proxyLocalActivities<Activities>({ startToCloseTimeout: '10 seconds', localRetryThreshold: 0, retry: MIRROR_RETRY });

/** The callback to probectl retries until it is delivered: no attempt limit, at most a minute apart. */
export const reporting = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * Since `state-machine-v1`: what the workflow owes Postgres and no provider call carried (v2/flusher.ts). An
 * ordinary activity with a few quick tries: when they fail (Postgres down) the flusher takes over the follow-ups
 * the write carried (the workflow carries them out itself), keeps the rest owed and tries again after a back-off.
 */
export const recording = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 seconds', maximumAttempts: 3 },
});

/** Follow-ups the workflow carries out itself (Postgres could not take them): as the calls they stand for. */
export const followingUp = resolving;

/**
 * A callback the workflow sends itself (Postgres could not take it as a follow-up): a few tries only. When they
 * fail it goes back to what the workflow owes Postgres, so the runner takes it (and its 7-day window) as soon as
 * Postgres does; the run is never held open by a probectl that refuses it.
 */
export const reportingOnce = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3 },
});
