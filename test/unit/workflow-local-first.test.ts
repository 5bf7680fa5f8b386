/**
 * Local first opens (src/workflows/v2/local-first.ts): which failures of the local first attempt go on as the
 * ordinary activity and after how long, and which snapshot values turn it on. Every failure class the SDK hands a
 * workflow for a local activity, and every shape of setting a start input may carry.
 */
import { ActivityFailure, ApplicationFailure, CancelledFailure, DefaultFailureConverter, RetryState, ServerFailure, TerminatedFailure, TimeoutFailure, TimeoutType, defaultPayloadConverter } from '@temporalio/common';
import { loadConfig } from '../../src/config/load';
import { beginConfigDigest, beginSnapshot } from '../../src/activities/begin';
import { fallbackOf, sentNothing } from '../../src/workflows/v2/local-first';
import { permanent, retryable, withAttempt } from '../../src/http/failures';
import { FALLBACK_AFTER_MS, LOCAL_FIRST_OPEN_MS, MAX_LOCAL_FIRST_OPEN_MS, localFirstSetting, withoutLocalFirst } from '../../src/workflows/v2/local-first-setting';
import { begin, initialState } from '../../src/workflows/v2/state';
import { failureOutcome } from '../../src/workflows/v2/failures';
import { classifyFailure, pacedBeforeSending } from '../../src/observability/instrument';
import { LOCAL_COME_BACK } from '../../src/activities/connector-activities';
import { Pacer } from '../../src/activities/pacing';
import { Secret } from '../../src/config/secret';
import type { Incident } from '../../src/shared/contract';

const failed = (cause: Error | undefined) => new ActivityFailure('activity failed', 'openConnector', '1', RetryState.MAXIMUM_ATTEMPTS_REACHED, undefined, cause);
const app = (type: string, nonRetryable = false, nextRetryDelay?: number) => ApplicationFailure.create({ type, message: `${type} failure`, nonRetryable, ...(nextRetryDelay !== undefined ? { nextRetryDelay } : {}) });
/** A 429 as src/http/classify.ts makes it: the Retry-After in the first detail (what reaches a workflow) and as the next retry delay. */
const throttled = (retryAfterMs: number, keepDelay = true) => ApplicationFailure.create({ type: 'RateLimited', message: 'HTTP 429', nonRetryable: false, ...(keepDelay ? { nextRetryDelay: retryAfterMs } : {}), details: [{ retryAfterMs }] });

const on = (afterMs: number, timedOut = false) => ({ afterMs, timedOut });

describe('after a failed local first attempt', () => {
  test.each([
    ['a start-to-close time-out goes on after the back-off, its answer unknown', failed(new TimeoutFailure('timed out', undefined, TimeoutType.START_TO_CLOSE)), on(FALLBACK_AFTER_MS, true)],
    ['a schedule-to-close time-out likewise', failed(new TimeoutFailure('timed out', undefined, TimeoutType.SCHEDULE_TO_CLOSE)), on(FALLBACK_AFTER_MS, true)],
    ['a transport error goes on', failed(app('TransportError')), on(FALLBACK_AFTER_MS)],
    ['a provider 5xx goes on', failed(app('ProviderUnavailable')), on(FALLBACK_AFTER_MS)],
    ['a malformed answer goes on', failed(app('MalformedResponse')), on(FALLBACK_AFTER_MS)],
    ['an unexpected error (a TypeError in the activity) goes on', failed(app('TypeError')), on(FALLBACK_AFTER_MS)],
    ['a 429 with a next retry delay of 30 s waits 30 s', failed(app('RateLimited', false, 30_000)), on(30_000)],
    ['a 429 asking less than the back-off waits the back-off', failed(app('RateLimited', false, 200)), on(FALLBACK_AFTER_MS)],
    ['a 429 asking 0 waits the back-off', failed(app('RateLimited', false, 0)), on(FALLBACK_AFTER_MS)],
    ['a provider refusal is the outcome', failed(app('ProviderRejected', true)), undefined],
    ['an auth refusal is the outcome', failed(app('AuthRejected', true)), undefined],
    ['a removed connector is the outcome', failed(app('ConnectorRemoved', true)), undefined],
    ['invalid input is the outcome', failed(app('InvalidInput', true)), undefined],
    ['a non-retryable type marked retryable is still the outcome', failed(app('ProviderRejected', false)), undefined],
    ['any failure marked non-retryable is the outcome', failed(app('Whatever', true)), undefined],
    ['a cancellation (a resolve overtook the open) is the outcome', failed(new CancelledFailure('cancelled')), undefined],
    ['a bare cancellation is the outcome', new CancelledFailure('cancelled'), undefined],
    // Unknown shapes go on: one more idempotent attempt costs less than a lost page.
    ['a terminated cause goes on', failed(new TerminatedFailure('terminated')), on(FALLBACK_AFTER_MS)],
    ['a server failure cause goes on', failed(new ServerFailure('server', false)), on(FALLBACK_AFTER_MS)],
    ['an activity failure without a cause goes on', failed(undefined), on(FALLBACK_AFTER_MS)],
    ['something not a Temporal failure goes on', new Error('boom'), on(FALLBACK_AFTER_MS)],
    ['a non-error goes on', 'boom', on(FALLBACK_AFTER_MS)],
    // As the SDK hands a workflow a local activity's failure once its attempts are used up: unwrapped.
    ['unwrapped: a 5xx goes on', app('ProviderUnavailable'), on(FALLBACK_AFTER_MS)],
    ['unwrapped: a 429 with a next retry delay of 4 s waits 4 s', app('RateLimited', false, 4_000), on(4_000)],
    ['unwrapped: a time-out goes on, its answer unknown', new TimeoutFailure('timed out', undefined, TimeoutType.START_TO_CLOSE), on(FALLBACK_AFTER_MS, true)],
    ['unwrapped: a refusal is the outcome', app('ProviderRejected', true), undefined],
    ['unwrapped: a removed connector is the outcome', app('ConnectorRemoved', true), undefined],
    ['a 429 whose Retry-After (3 s) is only in its details, as a workflow receives it', throttled(3_000, false), on(3_000)],
    ['a 429 with Retry-After 3 s in both', throttled(3_000), on(3_000)],
    ['wrapped: a 429 with Retry-After 10 s in its details', failed(throttled(10_000, false)), on(10_000)],
    ['a 429 with Retry-After 0 waits the back-off', throttled(0, false), on(FALLBACK_AFTER_MS)],
    ['a failure made by retryable() with its delay (5 s) in its details', retryable('RateLimited', 'HTTP 429', 5_000), on(5_000)],
    ['a malformed Retry-After detail falls back to the delay', ApplicationFailure.create({ type: 'RateLimited', nonRetryable: false, nextRetryDelay: 2_000, details: [{ retryAfterMs: 'soon' }] }), on(2_000)],
    ['a detail that is not an object is ignored', ApplicationFailure.create({ type: 'RateLimited', nonRetryable: false, details: ['x'] }), on(FALLBACK_AFTER_MS)],
  ])('%s', (_what, err, expected) => {
    expect(fallbackOf(err)).toEqual(expected);
  });
});

describe('the setting as a snapshot carries it', () => {
  test.each([
    ['the shipped limit', LOCAL_FIRST_OPEN_MS, { localFirstOpenMs: LOCAL_FIRST_OPEN_MS }],
    ['the largest limit taken', MAX_LOCAL_FIRST_OPEN_MS, { localFirstOpenMs: MAX_LOCAL_FIRST_OPEN_MS }],
    ['the smallest limit taken', 100, { localFirstOpenMs: 100 }],
    ['above the largest: off (the task would need heartbeats)', MAX_LOCAL_FIRST_OPEN_MS + 1, {}],
    ['below the smallest: off', 99, {}],
    ['zero: off', 0, {}],
    ['negative: off', -5_000, {}],
    ['a fraction: off', 5000.5, {}],
    ['not finite: off', Number.POSITIVE_INFINITY, {}],
    ['NaN: off', Number.NaN, {}],
    ['a string: off', '5000', {}],
    ['true: off', true, {}],
    ['null: off', null, {}],
    ['absent: off', undefined, {}],
    ['an object: off', { ms: 5000 }, {}],
  ])('%s', (_what, value, expected) => {
    expect(localFirstSetting(value)).toEqual(expected);
  });

  const incident: Incident = { id: 'inc-1', tenantId: 't1', title: 't', severity: 'critical', openedAt: '2026-12-02T00:00:00.000Z' };
  const base = { PROBECTL_NOTIFY_CONNECTORS: 't1|pagerduty|http://127.0.0.1:9/v2/enqueue|RKEY-local-first-000000000000001' };

  test.each([
    ['unset (on by default)', undefined, true],
    ['off', 'off', false],
    ['on', 'on', true],
    [' on (spaces)', ' on ', true],
    ['empty (the default)', '', true],
    [' off (spaces)', ' off ', false],
  ])('PROBECTL_NOTIFY_LOCAL_FIRST_OPENS %s', (_what, value, on) => {
    const config = loadConfig({ ...base, ...(value !== undefined ? { PROBECTL_NOTIFY_LOCAL_FIRST_OPENS: value } : {}) });
    expect(config.localFirstOpens).toBe(on);
    const settings = beginSnapshot(config, incident).settings;
    expect(settings.localFirstOpenMs).toBe(on ? LOCAL_FIRST_OPEN_MS : undefined);
    // On changes the digest (a worker of an earlier release, or with it off, keeps the API's gate shut)…
    if (on) expect(beginConfigDigest(config)).not.toBe(beginConfigDigest(loadConfig({ ...base, PROBECTL_NOTIFY_LOCAL_FIRST_OPENS: 'off' })));
    // …because off adds nothing to the settings an earlier release's digest was computed over.
    if (!on) expect(Object.keys(settings).sort()).toEqual(['pagerReResolveDelayMs', 'reconcileIntervalMs', 'reissueGuardMs']);
    // The state machine keeps it as carried.
    const s = initialState(incident, 'chain-1');
    begin(s, { connectors: [], settings, mirror: { available: true } }, '2026-12-02T00:00:00.000Z');
    expect(s.settings.localFirstOpenMs).toBe(on ? LOCAL_FIRST_OPEN_MS : undefined);
  });

  test.each(['yes', 'true', '1', 'ON', 'auto'])('PROBECTL_NOTIFY_LOCAL_FIRST_OPENS=%s is refused at start, naming the setting', (value) => {
    expect(() => loadConfig({ ...base, PROBECTL_NOTIFY_LOCAL_FIRST_OPENS: value })).toThrow(/PROBECTL_NOTIFY_LOCAL_FIRST_OPENS must be on or off/);
  });
});

describe('a snapshot the run did not take checked', () => {
  const settings: { pagerReResolveDelayMs: number; reconcileIntervalMs: number; reissueGuardMs: number; localFirstOpenMs?: number } = { pagerReResolveDelayMs: 1_000, reconcileIntervalMs: 0, reissueGuardMs: 20_000 };
  test.each([
    ['with the setting: dropped, the rest kept', { connectors: [], mirror: { available: true }, settings: { ...settings, localFirstOpenMs: LOCAL_FIRST_OPEN_MS } }],
    ['with a malformed setting: dropped', { connectors: [], mirror: { available: false }, settings: { ...settings, localFirstOpenMs: 'x' as unknown as number } }],
    ['without it: unchanged', { connectors: [], mirror: { available: true }, settings }],
  ])('%s', (_what, b) => {
    const out = withoutLocalFirst(b);
    expect(out.settings).toEqual(settings);
    expect(out.connectors).toBe(b.connectors);
    expect(out.mirror).toBe(b.mirror);
    expect('localFirstOpenMs' in out.settings).toBe(false);
  });
});

describe('what a local first attempt that failed for good means for the state machine (failures.ts)', () => {
  test.each([
    ['unwrapped refusal: failed, with its type', app('ProviderRejected', true), { ok: false, reason: 'ProviderRejected failure', type: 'ProviderRejected' }],
    ['unwrapped removed connector: its type, so the link is orphaned', app('ConnectorRemoved', true), { ok: false, reason: 'ConnectorRemoved failure', type: 'ConnectorRemoved' }],
    ['wrapped removed connector: the same', failed(app('ConnectorRemoved', true)), { ok: false, reason: 'ConnectorRemoved failure', type: 'ConnectorRemoved' }],
    ['unwrapped cancellation: cancelled', new CancelledFailure('cancelled'), { ok: false, cancelled: true }],
    ['wrapped cancellation: cancelled', failed(new CancelledFailure('cancelled')), { ok: false, cancelled: true }],
  ])('%s', (_what, err, expected) => {
    expect(failureOutcome(err)).toEqual(expected);
  });
});

describe('the delivery metric of a local first attempt (src/observability/instrument.ts)', () => {
  const local = { attempt: 1, isLocal: true, scheduledTimestampMs: 0, scheduleToCloseTimeoutMs: 5_000, retryPolicy: { maximumAttempts: 1, nonRetryableErrorTypes: ['ProviderRejected', 'AuthRejected', 'ConnectorRemoved', 'InvalidInput'] } };
  const ordinaryLast = { ...local, isLocal: false };
  test.each([
    ['a 5xx: retried (the ordinary activity follows)', app('ProviderUnavailable'), local, 'retried'],
    ['a 429: retried', app('RateLimited', false, 3_000), local, 'retried'],
    ['a transport error: retried', app('TransportError'), local, 'retried'],
    ['a refusal: permanent', app('ProviderRejected', true), local, 'permanent'],
    ['a non-retryable type: permanent', app('AuthRejected'), local, 'permanent'],
    ['cancelled by the workflow: cancelled', new CancelledFailure('cancelled'), local, 'cancelled'],
    ['an ordinary activity on its last allowed attempt: permanent, as before', app('ProviderUnavailable'), ordinaryLast, 'permanent'],
  ])('%s', (_what, err, info, outcome) => {
    expect(classifyFailure(err, info, false, 0).outcome).toBe(outcome);
  });

  test.each([
    ['a local attempt cut by its time limit (its signal aborted): retried', local, true, 'retried'],
    ['an ordinary attempt whose signal is aborted by a time-out: cancelled, as before', ordinaryLast, true, 'cancelled'],
  ])('%s', (_what, info, timedOut, outcome) => {
    expect(classifyFailure(new CancelledFailure('TIMED_OUT'), info, true, 0, timedOut).outcome).toBe(outcome);
  });
});

// What a workflow really receives: the failure as the SDK's converter turns it into a payload and back.
// An open's refusal names its attempt (src/activities/connector-activities.ts): the state machine leaves a link alone at
// the resolve only for a refusal on the first try (state.ts refusedForGood). Through the failure converter, wrapped
// as an ordinary activity's failure and unwrapped as a local attempt's, exactly as the workflow receives it.
describe('the attempt a refusal came on, as the workflow receives it', () => {
  const conv = new DefaultFailureConverter();
  const roundTrip = (err: Error) => conv.failureToError(conv.errorToFailure(err, defaultPayloadConverter), defaultPayloadConverter);
  test.each([
    ['a 400 on attempt 1', permanent('ProviderRejected', 'HTTP 400'), 1, 1],
    ['a 401 on attempt 1', permanent('AuthRejected', 'HTTP 401'), 1, 1],
    ['a 403 on attempt 7', permanent('AuthRejected', 'HTTP 403'), 7, 7],
    ['a refusal with details of its own keeps them and adds the attempt', ApplicationFailure.create({ type: 'ProviderRejected', message: 'x', nonRetryable: true, details: [{ retryAfterMs: 5 }] }), 2, 2],
    ['a removed connector: not a refusal, no attempt', permanent('ConnectorRemoved', 'gone'), 1, undefined],
    ['a 5xx: not a refusal, no attempt', retryable('ProviderUnavailable', 'HTTP 503'), 1, undefined],
    ['not an ApplicationFailure: as it is', new Error('boom'), 1, undefined],
  ] as const)('%s', (_what, err, attempt, expected) => {
    const named = withAttempt(err, attempt) as Error;
    if (!(err instanceof ApplicationFailure) || !['ProviderRejected', 'AuthRejected'].includes(err.type ?? '')) expect(named).toBe(err);
    else expect(named).toMatchObject({ type: err.type, message: err.message, nonRetryable: err.nonRetryable });
    for (const received of [roundTrip(named), failed(roundTrip(named) as ApplicationFailure)]) {
      const out = failureOutcome(received) as { attempt?: number; type?: string };
      expect(out.attempt).toBe(expected);
    }
  });
  test('a refusal without the detail (an activity of an earlier release) has no attempt', () => {
    expect((failureOutcome(failed(app('ProviderRejected', true))) as { attempt?: number }).attempt).toBeUndefined();
    expect((failureOutcome(app('AuthRejected', true)) as { attempt?: number }).attempt).toBeUndefined();
  });
});

test.each([
  ['a 429 with Retry-After', throttled(3_000)],
  ['a 5xx', app('ProviderUnavailable')],
  ['a time-out', failed(new TimeoutFailure('timed out', undefined, TimeoutType.START_TO_CLOSE))],
  ['a retryable failure with a delay', retryable('RateLimited', 'HTTP 429', 5_000)],
])('%s may have reached the provider: not "sent nothing"', (_what, err) => {
  const conv = new DefaultFailureConverter();
  expect(sentNothing(conv.failureToError(conv.errorToFailure(err, defaultPayloadConverter), defaultPayloadConverter))).toBe(false);
});

describe('a local attempt\'s failure through the failure converter, as the workflow receives it', () => {
  const roundTrip = (err: Error) => {
    const c = new DefaultFailureConverter();
    return c.failureToError(c.errorToFailure(err, defaultPayloadConverter), defaultPayloadConverter);
  };
  test.each([
    ['a 429 with Retry-After 3 s', throttled(3_000), on(3_000)],
    ['a 429 with Retry-After 45 s', throttled(45_000), on(45_000)],
    ['a 429 without Retry-After, its back-off (5 s) as retryable() carries it', retryable('RateLimited', 'HTTP 429', 5_000), on(5_000)],
    ['a retryable failure with a 7 s delay', retryable('RateLimited', 'paced', 7_000), on(7_000)],
    ['a delay carried only as the next retry delay is lost on the way (1 s)', app('RateLimited', false, 2_000), on(FALLBACK_AFTER_MS)],
    ['a 5xx', app('ProviderUnavailable'), on(FALLBACK_AFTER_MS)],
    ['a refusal', app('ProviderRejected', true), undefined],
    ['a time-out', failed(new TimeoutFailure('timed out', undefined, TimeoutType.START_TO_CLOSE)), on(FALLBACK_AFTER_MS, true)],
  ])('%s', (_what, err, expected) => {
    expect(fallbackOf(roundTrip(err))).toEqual(expected);
  });
});

// A local first attempt's pacing wait is short (src/activities/connector-activities.ts): a turn further off is refused
// at once, marked as refused before sending, with the turn in its details for the workflow's back-off.
describe('the pacer\'s longest wait for one take', () => {
  const c = { id: 'pd', provider: 'pagerduty' as const, url: new Secret('https://events.example/v2/enqueue'), credential: new Secret('R0UT1NG'), settings: {}, ratePerMin: 60 } as unknown as Parameters<Pacer['take']>[0];

  test.each([100, 500, 900])('a turn further off than %i ms is refused at once; the pacer\'s own 2 s wait is not', async (maxWaitMs) => {
    const pacer = new Pacer();
    // Take the bucket's burst; then the next turn is about a second off (60/min).
    let refusal: unknown;
    let refusedAfterMs = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 100 && refusal === undefined; i++) {
      const t0 = Date.now();
      await pacer.take(c, { maxWaitMs }).catch((err: unknown) => { refusal = err; refusedAfterMs = Date.now() - t0; });
    }
    // Refused up front, not after waiting out the short wait.
    expect(refusedAfterMs).toBeLessThan(maxWaitMs);
    expect(refusal).toBeInstanceOf(ApplicationFailure);
    const f = refusal as ApplicationFailure;
    expect([f.type, pacedBeforeSending(f)]).toEqual(['RateLimited', true]);
    const turn = (f.details?.[0] as { nextRetryDelayMs: number }).nextRetryDelayMs;
    expect(turn).toBeGreaterThan(maxWaitMs);
    expect(fallbackOf(f)).toEqual(on(turn));
    // …and so does the workflow, which gets the refusal through the failure converter.
    const conv = new DefaultFailureConverter();
    expect(fallbackOf(conv.failureToError(conv.errorToFailure(f, defaultPayloadConverter), defaultPayloadConverter))).toEqual(on(turn));
    // It sent nothing, so the ordinary open after it is still the open's first try (a refusal there leaves the link alone).
    expect(sentNothing(conv.failureToError(conv.errorToFailure(f, defaultPayloadConverter), defaultPayloadConverter))).toBe(true);
    // Without the short wait the same take waits in the queue (ended here by its signal).
    const stop = new AbortController();
    const waiting = pacer.take(c, { signal: stop.signal });
    stop.abort(new Error('test over'));
    await expect(waiting).rejects.toThrow('test over');
  });

  // A local attempt's refusal names its turn itself (at least the workflow's 1 s back-off): the ordinary open it goes on
  // as then waits in the queue like any other. A refusal past the pacer's own wait names one interval beyond the turn.
  const paced6 = { ...c, ratePerMin: 6 } as typeof c;
  const takeNow = async (pacer: Pacer, opts: Parameters<Pacer['take']>[1]) => {
    const stop = new AbortController();
    const outcome = await Promise.race([
      pacer.take(paced6, { ...opts, signal: stop.signal }).then(() => 'granted', (err: unknown) => err),
      new Promise((r) => setTimeout(() => r('waiting'), 50)),
    ]);
    stop.abort(new Error('test over'));
    return outcome;
  };
  const told = (outcome: unknown) => (outcome as ApplicationFailure).details?.[0];

  test.each([
    ['the bucket just emptied (turn 10 s off)', 0, 10_000],
    ['4 s after (turn 6 s off)', 4_000, 6_000],
    ['9.3 s after (turn 0.7 s off): the workflow\'s 1 s back-off', 9_300, 1_000],
    ['9.9 s after (turn 0.1 s off: waited for, not refused)', 9_900, undefined],
  ])('6 a minute, %s: a local attempt is refused with its turn', async (_what, elapsedMs, turnMs) => {
    expect(LOCAL_COME_BACK).toEqual({ comeBackMs: FALLBACK_AFTER_MS });
    let now = 1_000_000;
    const pacer = new Pacer({ now: () => now, maxWaitMs: 30_000 });
    await pacer.take(paced6); // the bucket's one token
    now += elapsedMs;
    const outcome = await takeNow(pacer, { maxWaitMs: 500, comeBackAtTurn: LOCAL_COME_BACK });
    if (turnMs === undefined) return expect(outcome).toBe('waiting');
    expect(told(outcome)).toEqual({ nextRetryDelayMs: turnMs, paced: true });
    // The same short wait without comeBackAtTurn, and the pacer's own wait, name one interval past the turn.
    const own = new Pacer({ now: () => now, maxWaitMs: 500 });
    await own.take(paced6);
    expect(told(await takeNow(own, {}))).toEqual({ nextRetryDelayMs: 20_000, paced: true });
  });

  test('the turn promised to a refused local page holds back less urgent classes until it has passed by the urgency window', async () => {
    let now = 1_000_000;
    const pacer = new Pacer({ now: () => now, maxWaitMs: 30_000 });
    await pacer.take(paced6);
    now += 4_000;
    expect(told(await takeNow(pacer, { cls: 0, maxWaitMs: 500, comeBackAtTurn: LOCAL_COME_BACK }))).toEqual({ nextRetryDelayMs: 6_000, paced: true });
    // Just past the token's time: a less urgent call waits (the page is on its way back); the page, back, is granted.
    now += 6_100;
    expect(await takeNow(pacer, { cls: 2 })).toBe('waiting');
    expect(await takeNow(pacer, { cls: 0 })).toBe('granted');
  });

  test.each([
    ['a pacer refusal', { details: [{ nextRetryDelayMs: 800, paced: true }] }, true],
    ['a 429 with Retry-After', { details: [{ retryAfterMs: 800 }] }, false],
    ['a retryable failure with its delay', { details: [{ nextRetryDelayMs: 800 }] }, false],
    ['no details', {}, false],
    ['paced not true', { details: [{ paced: 'yes' }] }, false],
  ])('refused before sending: %s → %p', (_what, extra, expected) => {
    expect(pacedBeforeSending(ApplicationFailure.create({ type: 'RateLimited', nonRetryable: false, ...extra }))).toBe(expected);
  });
});
