import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { within } from '../shared/within';
import type { ConnectorConfig } from '../config/connectors';
import type { Provider } from '../shared/contract';
import { MAX_RATE_PER_MIN, MIN_RATE_PER_MIN } from '../providers/rate';
import { allProviders, definitionOf, isShipped } from '../providers/registry';
import { MAX_RETRY_AFTER_MS, RATE_LIMIT_BASE_MS, providerRetryAfter } from '../http/classify';
import { FailureType } from '../http/failures';
import { LEAST_URGENT, type PaceClass } from './pace-class';
import { derivePaceKey, paceKeyMaterial, processPaceKeyMaterial, type PaceKeyMaterial } from './pace-key';
import { WaiterQueue } from './pace-queue';
import type { Secret } from '../config/secret';

/**
 * Outbound pacing (docs/providers.md, "Rate pacing"). One token bucket per (provider, connector key), shared by
 * every worker of the deployment through Postgres (src/db/pace-store.ts, migrations/006) when a store is given,
 * else, or while the store is unreachable, kept in this process at its share of the rate (rate ÷ workers). The key
 * is a keyed hash (HMAC, src/activities/pace-key.ts) of the endpoint, the credential and the Slack channel — never the
 * secret itself, and not recomputable without the deployment's PROBECTL_NOTIFY_PACE_KEY_SECRET.
 *
 * Callers wait in this process in priority order (src/activities/pace-class.ts): the next token goes to the
 * most urgent waiting class, oldest first within a class. A waiter that would wait longer than MAX_WAIT_MS gives
 * its activity slot back with a retryable RateLimited failure carrying the time of its likely turn.
 */

/** Default calls per minute per key of the shipped providers (each folder's spec: PagerDuty 100, the others 60). */
export const DEFAULT_RATE_PER_MIN = Object.fromEntries(
  allProviders().filter((d) => isShipped(d.spec.name)).map((d) => [d.spec.name, d.spec.defaultRatePerMin]),
) as Record<Provider, number>;
export { MAX_RATE_PER_MIN, MIN_RATE_PER_MIN };
/**
 * Longest pacing wait an activity spends holding a worker slot. A longer wait gives the slot back (a
 * retryable RateLimited failure whose next retry is at the token's time), so one tenant's storm on its own
 * keys never starves other tenants' pages of worker slots (fairness, docs/providers.md).
 */
export const MAX_WAIT_MS = 2_000;
/** Longest a token take may wait on the shared store before this process paces on its own share instead. */
export const STORE_TIMEOUT_MS = 250;
/** After a store failure, how long this process paces on its own share before it tries the store again. */
export const STORE_CIRCUIT_MS = 5_000;

/**
 * How long a 429 without Retry-After holds the key for every caller: one token interval, at most RATE_LIMIT_BASE_MS.
 * The provider named no time, so the key is not held for the failed call's own (growing) back-off — that counts
 * this activity's attempts, pacing deferrals included, and would block critical pages of every tenant for minutes.
 */
export function shortHoldMs(perMinute: number): number {
  return Math.min(RATE_LIMIT_BASE_MS, Math.ceil(60_000 / perMinute));
}

/** Calls per minute for a connector: its `rate_per_min` option (typed and bounded at load), else the provider default. */
export function rateFor(c: Pick<ConnectorConfig, 'provider' | 'ratePerMin'>): number {
  return c.ratePerMin ?? definitionOf(c.provider).spec.defaultRatePerMin;
}

/**
 * The bucket name of a connector key: a keyed hash (src/activities/pace-key.ts) of its URL, credential and the provider's
 * pace scope (Slack: the channel; ProviderDefinition.paceScope),
 * keyed by the deployment's PROBECTL_NOTIFY_PACE_KEY_SECRET (`material`: paceKeyMaterial(secret)).
 */
export function paceKey(c: Pick<ConnectorConfig, 'provider' | 'url' | 'credential' | 'settings'>, material: PaceKeyMaterial): string {
  return derivePaceKey(material, c.provider, c.url.reveal(), c.credential.reveal(), definitionOf(c.provider).paceScope?.(c.settings) ?? '');
}

/** A bucket's capacity: one second's worth of tokens, at least 1. */
export function capacityFor(perMinute: number): number {
  return Math.max(1, Math.floor(perMinute / 60));
}

/**
 * Shared store only: how long a class that was refused a token holds back every less urgent class on the same key
 * (whichever worker they wait in): two token intervals, at least 0.5 s, at most MAX_WAIT_MS.
 */
export function urgencyWindowMs(perMinute: number): number {
  return Math.min(MAX_WAIT_MS, Math.max(500, Math.ceil((2 * 60_000) / perMinute)));
}

/** One take: a token, or none and roughly how long until one could be had (≥ 1 ms). */
export interface TakeAnswer {
  granted: boolean;
  waitMs: number;
  /** When granted: the grant's time by the clock that decided it (the database's for the shared store), epoch ms. */
  at?: number;
}

/**
 * A token bucket anchored at (tokens, at): its level at time t is min(capacity, tokens + (t − at) × rate), and a
 * take succeeds when the level is at least 1. An anchor in the future (a provider's Retry-After) makes the level
 * negative until then. The shared store (migrations/006) computes the same level in SQL, with the hold kept apart
 * (held_until) so the refill never counts negative time.
 */
export class TokenBucket {
  #tokens: number;
  #at: number;
  #perMinute: number;
  #capacity: number;

  constructor(perMinute: number, now: number) {
    this.#perMinute = perMinute;
    this.#capacity = capacityFor(perMinute);
    this.#tokens = this.#capacity;
    this.#at = now;
  }

  get perMinute(): number {
    return this.#perMinute;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** A new rate from now on, keeping what the bucket holds (at most the new capacity) and any hold: never a refill. */
  retune(perMinute: number, now: number): void {
    if (now >= this.#at) {
      this.#tokens = this.level(now);
      this.#at = now;
    }
    this.#perMinute = perMinute;
    this.#capacity = capacityFor(perMinute);
    this.#tokens = Math.min(this.#tokens, this.#capacity);
  }

  level(now: number): number {
    return Math.min(this.#capacity, this.#tokens + ((now - this.#at) * this.#perMinute) / 60_000);
  }

  /** Milliseconds until a token is there (0: now). */
  waitFor(now: number): number {
    const level = this.level(now);
    return level >= 1 ? 0 : Math.max(1, Math.ceil(((1 - level) * 60_000) / this.perMinute));
  }

  /** Take a token when there is one; otherwise nothing changes. */
  tryTake(now: number): TakeAnswer {
    const level = this.level(now);
    if (level < 1) return { granted: false, waitMs: this.waitFor(now) };
    this.#tokens = level - 1;
    this.#at = now;
    return { granted: true, waitMs: 0, at: now };
  }

  /** Start empty now (keeps a later hold): the fallback starts so, adding no burst of its own to the shared one. */
  empty(now: number): void {
    if (this.#at > now) return;
    this.#tokens = 0;
    this.#at = now;
  }

  /** Give back a token that was taken and not used. */
  giveBack(now: number): void {
    if (now >= this.#at) {
      this.#tokens = Math.min(this.capacity, this.level(now) + 1);
      this.#at = now;
    } else {
      this.#tokens = Math.min(this.capacity, this.#tokens + 1);
    }
  }

  /** The provider said "not before `until`" (a 429's Retry-After): the first token after it is at `until`. */
  hold(until: number): void {
    if (until <= this.#at) return;
    this.#tokens = Math.min(1, this.level(until));
    this.#at = until;
  }
}

/** Where the deployment's buckets live (src/db/pace-store.ts). Its calls may fail or hang; the pacer bounds them. */
export interface SharedPaceStore {
  /**
   * Take one token of `key` for a caller of class `cls`, atomically; the answer says whether it got one. `drain`:
   * this worker's first take of the key after pacing on its own share — the bucket counts at most one token, so
   * what it gathered meanwhile is not spent as a burst on top of what the workers' shares just sent.
   */
  take(key: string, perMinute: number, cls: PaceClass, urgencyWindowMs: number, drain?: boolean): Promise<TakeAnswer>;
  /** No token of `key` before `ms` from now (a provider's Retry-After). */
  hold(key: string, perMinute: number, ms: number): Promise<void>;
  /**
   * A caller of class `cls` (< LEAST_URGENT) was deferred to its turn `ms` from now: until that turn has passed by the
   * urgency window, every less urgent class of `key` is refused, on every worker (a promised turn binds them).
   */
  reserve(key: string, cls: PaceClass, ms: number): Promise<void>;
}

/** Told of each pacing decision (the worker's /metrics: probectl_notify_pacing_wait_seconds and _deferrals_total). */
export type PacingRecorder = (provider: Provider, waited: number | 'deferred', cls: PaceClass) => void;

export interface PacerOptions {
  now?: () => number;
  maxWaitMs?: number;
  record?: PacingRecorder;
  /** The deployment's shared buckets; absent: pacing is in this process only (at rate ÷ workers). Needs keySecret. */
  store?: SharedPaceStore;
  /**
   * PROBECTL_NOTIFY_PACE_KEY_SECRET: keys the bucket names (src/activities/pace-key.ts), the same on every worker.
   * Required with a store; without one a random per-process key is used (the names never leave the process).
   */
  keySecret?: Secret;
  /** PROBECTL_NOTIFY_PACE_WORKERS: the share of a key's rate this process uses on its own is rate ÷ workers. */
  workers?: number;
  storeTimeoutMs?: number;
  storeCircuitMs?: number;
  /** The store failed (`fallback`, with the error) or answered again after a failure (`shared`). */
  onStoreState?: (state: 'shared' | 'fallback', err?: unknown) => void;
  /** A token was granted by this process's own bucket because the store was unreachable. */
  onFallbackTake?: (provider: Provider) => void;
  /** Every take the pacer waited on the store for: how long it waited (never past storeTimeoutMs) and the outcome. */
  onStoreWait?: (ms: number, outcome: 'ok' | 'failed') => void;
  /** Every grant: its bucket (the keyed name), where it came from and when (by the deciding clock, epoch ms). For tests and tracing. */
  onGrant?: (grant: { provider: Provider; key: string; cls: PaceClass; source: 'shared' | 'local'; at: number }) => void;
}

export interface TakeOptions {
  /** Priority class (src/activities/pace-class.ts); 1 when not said. */
  cls?: PaceClass;
  /** Ends the wait (the activity's cancellation, the runner's stop); the take rejects with its reason. */
  signal?: AbortSignal;
  /** A shorter longest wait than the pacer's own (an open's local first attempt: its time limit is short). */
  maxWaitMs?: number;
  /**
   * Refused, the caller comes back at its estimated turn (at least `comeBackMs` from now), not one interval past it:
   * an open's local first attempt, whose ordinary open then waits in this queue like any other call. Its class's
   * promised turn (and so the hold on less urgent classes) is that come-back time.
   */
  comeBackAtTurn?: { comeBackMs: number };
}

type Paced = Pick<ConnectorConfig, 'provider' | 'url' | 'credential' | 'settings' | 'ratePerMin' | 'id'>;

interface Waiter {
  readonly cls: PaceClass;
  grant(): void;
}

interface KeyState {
  readonly key: string;
  readonly provider: Provider;
  perMinute: number;
  /** This process's own bucket at rate ÷ workers: the whole pacing without a store, the fallback with one. */
  local: TokenBucket;
  readonly queue: WaiterQueue<Waiter>;
  pumping: boolean;
  /** While the pump sleeps after a refusal for class `sleepingFor`: ends the sleep early. */
  wake?: () => void;
  sleepingFor?: PaceClass;
  /** Per class, the latest turn promised to a deferred caller (so deferred callers come back spread out). */
  readonly deferredUntil: number[];
  /** When the shared store last refused: the time it named for its next token (a 429's hold, other workers' use). */
  sharedNextAt: number;
  /** The class that refusal was for: it says nothing about more urgent classes (they may not have to yield). */
  sharedNextCls: PaceClass;
  /** This process paced the key on its own share since its last shared take: the next one drains the bucket. */
  drainNext: boolean;
}

function reasonOf(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new CancelledFailure('the pacing wait was cancelled');
}

const storeWithin = <T>(p: Promise<T>, ms: number): Promise<T> => within(p, ms, () => new Error(`the pacing store did not answer within ${ms} ms`));

export class Pacer {
  readonly #keys = new Map<string, KeyState>();
  readonly #now: () => number;
  readonly #maxWaitMs: number;
  readonly #record: PacingRecorder;
  readonly #store: SharedPaceStore | undefined;
  readonly #workers: number;
  readonly #storeTimeoutMs: number;
  readonly #storeCircuitMs: number;
  readonly #opts: PacerOptions;
  readonly #keyMaterial: PaceKeyMaterial;
  #storeDownUntil = 0;
  #inFallback = false;

  constructor(opts: PacerOptions = {}) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#maxWaitMs = opts.maxWaitMs ?? MAX_WAIT_MS;
    this.#record = opts.record ?? (() => undefined);
    this.#store = opts.store;
    if (opts.store && (!opts.keySecret || opts.keySecret.isEmpty)) throw new Error('a shared pacing store needs the deployment\'s key secret (PROBECTL_NOTIFY_PACE_KEY_SECRET)');
    this.#keyMaterial = opts.keySecret && !opts.keySecret.isEmpty ? paceKeyMaterial(opts.keySecret.reveal()) : processPaceKeyMaterial();
    this.#workers = Math.max(1, opts.workers ?? 1);
    this.#storeTimeoutMs = opts.storeTimeoutMs ?? STORE_TIMEOUT_MS;
    this.#storeCircuitMs = opts.storeCircuitMs ?? STORE_CIRCUIT_MS;
  }

  /** The bucket name this pacer uses for a connector (tests, and the store's rows). */
  keyOf(c: Pick<ConnectorConfig, 'provider' | 'url' | 'credential' | 'settings'>): string {
    return paceKey(c, this.#keyMaterial);
  }

  /** True while this process paces on its own share because the shared store failed. */
  get inFallback(): boolean {
    return this.#inFallback;
  }

  /**
   * Wait for this connector's next token, in priority order. Resolves with the milliseconds waited; a wait that
   * would pass maxWaitMs is refused (up front, or when it passes) with a retryable RateLimited failure carrying
   * the delay to retry after; an aborted wait rejects with the signal's reason and leaves the queue.
   */
  take(c: Paced, opts: TakeOptions = {}): Promise<number> {
    const cls = opts.cls ?? 1;
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(reasonOf(signal));
    const s = this.#state(c);
    const since = this.#now();
    const ahead = s.queue.aheadOfNew(cls);
    const estimate = ahead * this.#intervalMs(s) + Math.max(this.#tokenWait(s, cls, since), this.#reservedFor(s, cls, since));
    const maxWaitMs = Math.min(opts.maxWaitMs ?? this.#maxWaitMs, this.#maxWaitMs);
    const atTurn = opts.comeBackAtTurn;
    if (estimate >= maxWaitMs) return Promise.reject(this.#defer(c, s, cls, ahead, atTurn && Math.max(estimate, atTurn.comeBackMs)));
    return new Promise<number>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const w: Waiter = {
        cls,
        grant: () => {
          finish();
          const waited = Math.max(0, this.#now() - since);
          this.#record(c.provider, waited, cls);
          resolve(waited);
        },
      };
      const timer = setTimeout(() => {
        const before = s.queue.ahead(w);
        if (!s.queue.remove(w)) return;
        finish();
        const at = this.#now();
        const turn = before * this.#intervalMs(s) + Math.max(this.#tokenWait(s, cls, at), this.#reservedFor(s, cls, at));
        reject(this.#defer(c, s, cls, before, atTurn && Math.max(turn, atTurn.comeBackMs)));
      }, maxWaitMs);
      const onAbort = () => {
        if (!s.queue.remove(w)) return;
        finish();
        reject(reasonOf(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      s.queue.push(w);
      if (s.sleepingFor !== undefined && cls < s.sleepingFor) s.wake?.();
      void this.#pump(s);
    });
  }

  /**
   * The provider answered 429 with a delay: no token of this key before it, in this process and (when reachable)
   * in the shared store, so every worker's next call on the key waits for the provider's time as well.
   */
  async hold(c: Paced, ms: number): Promise<void> {
    if (!(ms > 0)) return;
    ms = Math.min(ms, MAX_RETRY_AFTER_MS);
    const s = this.#state(c);
    s.local.hold(this.#now() + ms);
    if (!this.#sharedActive()) return;
    try {
      await storeWithin(this.#store!.hold(s.key, s.perMinute, ms), this.#storeTimeoutMs);
    } catch (err) {
      this.#storeFailed(err);
    }
  }

  #state(c: Paced): KeyState {
    const key = paceKey(c, this.#keyMaterial);
    const rate = rateFor(c);
    let s = this.#keys.get(key);
    if (!s) {
      s = {
        key, provider: c.provider, perMinute: rate, local: new TokenBucket(rate / this.#workers, this.#now()),
        queue: new WaiterQueue<Waiter>(), pumping: false, deferredUntil: new Array<number>(LEAST_URGENT + 1).fill(0), sharedNextAt: 0, sharedNextCls: 0, drainNext: this.#inFallback,
      };
      this.#keys.set(key, s);
    } else if (rate < s.perMinute) {
      // One rate per key: connectors sharing a key (same URL, credential and channel) with different rate_per_min
      // are paced at the lowest seen, and the bucket keeps what it holds — a switch never refills it.
      s.perMinute = rate;
      s.local.retune(rate / this.#workers, this.#now());
    }
    return s;
  }

  #sharedActive(): boolean {
    return this.#store !== undefined && this.#now() >= this.#storeDownUntil;
  }

  /** How long until the key's next token as far as this process knows: the shared store's last word, or its own bucket. */
  #tokenWait(s: KeyState, cls: PaceClass, now: number): number {
    if (!this.#sharedActive()) return s.local.waitFor(now);
    return cls >= s.sharedNextCls ? Math.max(0, s.sharedNextAt - now) : 0;
  }

  /**
   * How long a caller of class `cls` must still leave the key's tokens to a more urgent class's deferred callers: a
   * promised turn binds every less urgent class until it has passed by the urgency window (the deferred caller comes
   * back at its turn plus Temporal's jitter). 0: nothing reserved.
   */
  #reservedFor(s: KeyState, cls: PaceClass, now: number): number {
    let until = 0;
    for (let k = 0; k < cls; k += 1) if (s.deferredUntil[k]! > 0) until = Math.max(until, s.deferredUntil[k]! + urgencyWindowMs(s.perMinute));
    return Math.max(0, until - now);
  }

  /** The spacing of this key's tokens as this process sees them: the whole rate through the store, else its share. */
  #intervalMs(s: KeyState): number {
    return 60_000 / (this.#sharedActive() ? s.perMinute : s.perMinute / this.#workers);
  }

  /**
   * A refusal: the caller retries at its likely turn, later than every turn already promised to its class or a more
   * urgent one. `turnInMs`: when it comes back (TakeOptions.comeBackAtTurn); else one interval past its turn.
   */
  #defer(c: Paced, s: KeyState, cls: PaceClass, ahead: number, turnInMs?: number) {
    const now = this.#now();
    const interval = this.#intervalMs(s);
    let at = turnInMs !== undefined ? now + turnInMs : now + (ahead + 1) * interval + Math.max(this.#tokenWait(s, cls, now), this.#reservedFor(s, cls, now));
    for (let k = 0; k <= cls; k += 1) at = Math.max(at, s.deferredUntil[k]! + interval);
    s.deferredUntil[cls] = at;
    const delay = Math.max(1, Math.ceil(at - now));
    if (cls < LEAST_URGENT && this.#sharedActive()) void this.#reserveShared(s, cls, delay);
    this.#record(c.provider, 'deferred', cls);
    // `paced`: refused before anything was sent (a local first attempt's refusal is then not counted as a delivery).
    return ApplicationFailure.create({
      type: FailureType.RateLimited,
      message: `connector ${c.id}: paced to ${s.perMinute} calls/min; next slot in ${Math.ceil(delay / 1000)} s`,
      nonRetryable: false,
      nextRetryDelay: delay,
      details: [{ nextRetryDelayMs: delay, paced: true }],
    });
  }

  /** Hands tokens to this key's waiters, most urgent first, until none is waiting (one pump per key at a time). */
  async #pump(s: KeyState): Promise<void> {
    if (s.pumping) return;
    s.pumping = true;
    try {
      for (;;) {
        const head = s.queue.peek();
        if (!head) return;
        const reserved = this.#reservedFor(s, head.cls, this.#now());
        if (reserved > 0) {
          await this.#sleep(s, head.cls, reserved);
          continue;
        }
        const answer = await this.#takeToken(s, head.cls);
        if (answer.granted) {
          const w = s.queue.shift();
          // A local token whose waiter left meanwhile (it gave up while the pump waited on the store) goes back to the
          // bucket and is not a grant; a shared one is not given back — the bucket counts it, and the error is one call
          // fewer — so it is reported as the grant it was.
          if (w || answer.source === 'shared') this.#opts.onGrant?.({ provider: s.provider, key: s.key, cls: head.cls, source: answer.source, at: answer.at ?? this.#now() });
          if (w) w.grant();
          else if (answer.source === 'local') s.local.giveBack(this.#now());
          continue;
        }
        await this.#sleep(s, head.cls, answer.waitMs);
      }
    } catch {
      // #takeToken never throws; a waiter still queued is refused at its own deadline.
    } finally {
      s.pumping = false;
    }
  }

  async #takeToken(s: KeyState, cls: PaceClass): Promise<TakeAnswer & { source: 'shared' | 'local' }> {
    if (this.#sharedActive()) {
      const t0 = this.#now();
      try {
        const answer = await storeWithin(this.#store!.take(s.key, s.perMinute, cls, urgencyWindowMs(s.perMinute), s.drainNext), this.#storeTimeoutMs);
        this.#opts.onStoreWait?.(this.#now() - t0, 'ok');
        if (answer.granted) s.drainNext = false;
        s.sharedNextAt = answer.granted ? 0 : this.#now() + Math.min(answer.waitMs, MAX_RETRY_AFTER_MS);
        s.sharedNextCls = cls;
        if (this.#inFallback) {
          this.#inFallback = false;
          this.#opts.onStoreState?.('shared');
        }
        return { ...answer, waitMs: Math.min(Math.max(1, answer.waitMs), MAX_RETRY_AFTER_MS), source: 'shared' };
      } catch (err) {
        this.#opts.onStoreWait?.(this.#now() - t0, 'failed');
        this.#storeFailed(err);
      }
    }
    const answer = s.local.tryTake(this.#now());
    if (answer.granted && this.#store) this.#opts.onFallbackTake?.(s.provider);
    // While on the fallback, look at the store again when its circuit closes.
    const waitMs = this.#store && !answer.granted ? Math.min(answer.waitMs, Math.max(1, this.#storeDownUntil - this.#now())) : answer.waitMs;
    return { ...answer, waitMs: Math.max(1, waitMs), source: 'local' };
  }

  /** Tell the other workers of a promised turn (bounded like every store call; a failure opens the circuit). */
  async #reserveShared(s: KeyState, cls: PaceClass, ms: number): Promise<void> {
    try {
      await storeWithin(this.#store!.reserve(s.key, cls, ms), this.#storeTimeoutMs);
    } catch (err) {
      this.#storeFailed(err);
    }
  }

  #storeFailed(err: unknown): void {
    this.#storeDownUntil = this.#now() + this.#storeCircuitMs;
    if (!this.#inFallback) {
      this.#inFallback = true;
      // Every key's own bucket starts empty: the shared bucket may just have granted its burst, and the fallback
      // must not add one of its own, so no window spanning the switch sees more than rate/60 + capacity.
      const now = this.#now();
      for (const s of this.#keys.values()) {
        s.local.empty(now);
        s.drainNext = true;
      }
      this.#opts.onStoreState?.('fallback', err);
    }
  }

  #sleep(s: KeyState, cls: PaceClass, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        s.wake = undefined;
        s.sleepingFor = undefined;
        resolve();
      };
      // A store's answer is bounded, but a timer past 2^31-1 ms would fire at once (a busy loop on the store).
      const timer = setTimeout(done, Math.min(Math.max(1, ms), MAX_RETRY_AFTER_MS));
      s.wake = done;
      s.sleepingFor = cls;
    });
  }
}

/**
 * Run a paced call; when the provider answers 429 (a RateLimited failure from src/http/classify.ts), hold
 * the key's bucket before the failure goes on to Temporal, which retries this call after the failure's own delay.
 * With a Retry-After the key is held until the provider's time (capped at MAX_RETRY_AFTER_MS) for every caller of
 * the key; without one only briefly (shortHoldMs: one token interval, at most RATE_LIMIT_BASE_MS).
 */
export async function holdOnRateLimit<T>(pacer: Pacer, c: Paced, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === FailureType.RateLimited) {
      const ms = providerRetryAfter(err);
      await pacer.hold(c, ms ?? shortHoldMs(rateFor(c)));
    } else if (err instanceof ApplicationFailure && err.type === FailureType.ProviderUnavailable) {
      // A 5xx that names a time to come back (Jira Cloud's 503 at a resource limit) holds the key until then; one
      // that names none says nothing about the key and holds nothing (docs/providers.md, "A 503's Retry-After").
      const ms = providerRetryAfter(err);
      if (ms !== undefined) await pacer.hold(c, ms);
    }
    throw err;
  }
}
