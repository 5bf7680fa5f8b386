/**
 * Pacing (src/activities/pacing.ts, pace-class.ts, pace-queue.ts) without a database: the bucket's bound over
 * rates and call patterns, the priority queue, the class of every (provider, operation, severity), the pacer's
 * priority order, deferrals, cancellation, a 429's hold, and the fallback when the shared store fails or hangs.
 * The shared store on real Postgres: test/unit/db/pace-store.test.ts.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { LEAST_URGENT, PACE_CLASSES, paceClass, paceClassName, type PaceClass, type PaceOperation } from '../../../src/activities/pace-class';
import { WaiterQueue } from '../../../src/activities/pace-queue';
import {
  DEFAULT_RATE_PER_MIN, Pacer, TokenBucket, capacityFor, holdOnRateLimit, paceKey, rateFor, type SharedPaceStore, type TakeAnswer,
} from '../../../src/activities/pacing';
import { FailureType, retryable } from '../../../src/http/failures';
import { MAX_RETRY_AFTER_MS, RATE_LIMIT_BASE_MS, failureFor, rateLimitDelay } from '../../../src/http/classify';
import { SHIPPED_PROVIDERS as PROVIDERS } from '../../../src/providers/registry';
import { SEVERITIES } from '../../../src/shared/contract';
import { connectorFrom } from '../../helpers/retry-table';
import { createHash, createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { derivePaceKey, paceKeyMaterial } from '../../../src/activities/pace-key';
import { Secret } from '../../../src/config/secret';
import { maxInWindow } from '../../helpers/pacing-grants';

const KEY_SECRET = new Secret('unit-test-pace-key-secret-0123456789abcdef');

/** A small deterministic PRNG, so a failing case can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const pd = (rate: number, n = 1) => connectorFrom(`acme|pagerduty|https://events.pagerduty.com/v2/enqueue?rate_per_min=${rate}|R0UT1NGKEY${String(n).padStart(22, '0')}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('TokenBucket', () => {
  test.each([1, 7, 60, 100, 120, 600, 1_000, 6_000])('at %i/min, greedy callers at random instants: no 60 s window over rate + capacity, no 1 s window over rate/60 + capacity, and the rate is used', (rate) => {
    const random = rng(rate);
    const b = new TokenBucket(rate, 0);
    const grants: number[] = [];
    const horizon = 5 * 60_000;
    for (let t = 0; t < horizon; t += Math.ceil(random() * 40)) if (b.tryTake(t).granted) grants.push(t);
    const cap = capacityFor(rate);
    expect(maxInWindow(grants, 60_000)).toBeLessThanOrEqual(rate + cap);
    expect(maxInWindow(grants, 1_000)).toBeLessThanOrEqual(Math.ceil(rate / 60) + cap);
    // Callers every ≤ 40 ms use nearly the whole rate (one refusal costs at most one step per token).
    expect(grants.length).toBeGreaterThanOrEqual(Math.floor((rate * horizon) / 60_000 / (1 + (rate * 40) / 60_000)) - 1);
  });

  test('a refusal says when the next token is there; a hold delays the next token to exactly its time; give-back restores one', () => {
    for (const rate of [60, 100, 600]) {
      const b = new TokenBucket(rate, 0);
      for (let i = 0; i < capacityFor(rate); i += 1) expect(b.tryTake(0).granted).toBe(true);
      const refused = b.tryTake(0);
      expect(refused.granted).toBe(false);
      expect(b.tryTake(refused.waitMs - 1).granted).toBe(false);
      expect(b.tryTake(refused.waitMs).granted).toBe(true);
      const t = refused.waitMs;
      b.hold(t + 30_000);
      expect(b.tryTake(t + 29_999).granted).toBe(false);
      expect(b.waitFor(t + 29_000)).toBeGreaterThanOrEqual(1_000);
      expect(b.tryTake(t + 30_000).granted).toBe(true);
      expect(b.tryTake(t + 30_000).granted).toBe(false);
      b.giveBack(t + 30_000);
      expect(b.tryTake(t + 30_000).granted).toBe(true);
      // An earlier hold never shortens a later one.
      b.hold(t + 90_000);
      b.hold(t + 40_000);
      expect(b.tryTake(t + 89_000).granted).toBe(false);
    }
  });
});

describe('priority classes', () => {
  const OPERATIONS: PaceOperation[] = ['open', 'acknowledge', 'resolve', 'reconcile'];
  const PAGERS = new Set(['pagerduty', 'opsgenie']);
  const CHAT = new Set(['slack', 'teams']);
  const cases = PROVIDERS.flatMap((p) => OPERATIONS.flatMap((op) => SEVERITIES.map((sev) => [p, op, sev] as const)));

  test.each(cases)('%s %s of a %s incident', (provider, op, severity) => {
    const c = paceClass(provider, op, severity);
    const expected: PaceClass = op === 'reconcile' ? 3 : CHAT.has(provider) ? 2 : PAGERS.has(provider) && severity === 'critical' ? 0 : 1;
    expect(c).toBe(expected);
    expect(PACE_CLASSES[c]).toBe(paceClassName(c));
  });

  test('the order holds over the whole table: critical pages < other pages and tickets < chat < reconcile reads', () => {
    const of = (pred: (p: string, op: PaceOperation, s: string) => boolean) => cases.filter(([p, op, s]) => pred(p, op, s)).map(([p, op, s]) => paceClass(p, op, s));
    const criticalPages = of((p, op, s) => PAGERS.has(p) && op !== 'reconcile' && s === 'critical');
    const otherWork = of((p, op, s) => !CHAT.has(p) && op !== 'reconcile' && !(PAGERS.has(p) && s === 'critical'));
    const chat = of((p, op) => CHAT.has(p) && op !== 'reconcile');
    const reads = of((_p, op) => op === 'reconcile');
    expect(Math.max(...criticalPages)).toBeLessThan(Math.min(...otherWork));
    expect(Math.max(...otherWork)).toBeLessThan(Math.min(...chat));
    expect(Math.max(...chat)).toBeLessThan(Math.min(...reads));
    expect(Math.max(...reads)).toBe(LEAST_URGENT);
  });
});

describe('WaiterQueue', () => {
  test('over random pushes and removals, waiters come out most urgent class first, oldest first within a class', () => {
    for (let seed = 1; seed <= 50; seed += 1) {
      const random = rng(seed);
      const q = new WaiterQueue<{ cls: PaceClass; seq: number }>();
      const live: Array<{ cls: PaceClass; seq: number }> = [];
      for (let seq = 0; seq < 200; seq += 1) {
        const r = random();
        if (r < 0.6) {
          const w = { cls: Math.floor(random() * 4) as PaceClass, seq };
          const expectedAhead = live.filter((x) => x.cls <= w.cls).length;
          expect(q.aheadOfNew(w.cls)).toBe(expectedAhead);
          q.push(w);
          live.push(w);
          expect(q.ahead(w)).toBe(expectedAhead);
        } else if (r < 0.8 && live.length > 0) {
          const w = live.splice(Math.floor(random() * live.length), 1)[0]!;
          expect(q.remove(w)).toBe(true);
          expect(q.remove(w)).toBe(false);
        } else if (live.length > 0) {
          const best = [...live].sort((a, b) => a.cls - b.cls || a.seq - b.seq)[0]!;
          expect(q.peek()).toBe(best);
          expect(q.shift()).toBe(best);
          live.splice(live.indexOf(best), 1);
        }
        expect(q.size).toBe(live.length);
      }
    }
  });
});

describe('Pacer (in process)', () => {
  test('a waiting caller of a more urgent class takes the next token before every less urgent one, whatever the arrival order', async () => {
    const rate = 1_200; // a token every 50 ms, capacity 20
    const pacer = new Pacer({ maxWaitMs: 60_000 });
    const c = pd(rate);
    for (let i = 0; i < capacityFor(rate); i += 1) await pacer.take(c, { cls: 3 });
    const random = rng(7);
    const arrivals = Array.from({ length: 24 }, (_, i) => ({ i, cls: Math.floor(random() * 4) as PaceClass }));
    const served: Array<{ i: number; cls: PaceClass }> = [];
    await Promise.all(arrivals.map((a) => pacer.take(c, { cls: a.cls }).then(() => void served.push(a))));
    expect(served).toEqual([...arrivals].sort((a, b) => a.cls - b.cls || a.i - b.i));
  });

  test('nothing is dropped: a long wait is refused up front, retryably, with a later turn for each later caller; an overtaken waiter is refused at the limit', async () => {
    const recorded: Array<[string, number | 'deferred', PaceClass]> = [];
    const pacer = new Pacer({ maxWaitMs: 300, record: (p, w, cls) => void recorded.push([p, w, cls]) });
    const c = pd(600); // a token every 100 ms, capacity 10
    for (let i = 0; i < 10; i += 1) await pacer.take(c, { cls: 1 });
    const refusals: ApplicationFailure[] = [];
    const turns: number[] = []; // when each refused caller is told to come back (absolute)
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => pacer.take(c, { cls: 1 }).catch((e: ApplicationFailure) => {
      turns.push(Date.now() + (e.nextRetryDelay as number));
      throw e;
    })));
    for (const r of results) if (r.status === 'rejected') refusals.push(r.reason as ApplicationFailure);
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(2);
    expect(refusals.length).toBeGreaterThanOrEqual(4);
    for (const f of refusals) {
      expect(f).toBeInstanceOf(ApplicationFailure);
      expect(f.type).toBe(FailureType.RateLimited);
      expect(f.nonRetryable).toBe(false);
      expect(f.message).not.toContain('R0UT1NGKEY');
    }
    // Each refused caller is sent back later than the one before (they come back spread, not all at once).
    for (let i = 1; i < turns.length; i += 1) expect(turns[i]!).toBeGreaterThan(turns[i - 1]!);
    for (const f of refusals) expect(f.nextRetryDelay as number).toBeGreaterThan(0);
    expect(recorded.filter(([, w]) => w === 'deferred').length).toBe(refusals.length);
    expect(new Set(recorded.map(([p]) => p))).toEqual(new Set(['pagerduty']));

    // A reconcile read that was admitted, then overtaken by critical pages until its limit passed, is refused
    // retryably (its caller retries later), never dropped silently.
    await sleep(1_500);
    const c2 = pd(600, 2);
    for (let i = 0; i < 10; i += 1) await pacer.take(c2, { cls: 0 });
    const read = pacer.take(c2, { cls: 3 }).then(() => 'granted', (e: unknown) => e);
    const pages = Array.from({ length: 2 }, () => pacer.take(c2, { cls: 0 }));
    const later = sleep(120).then(() => Promise.allSettled([pacer.take(c2, { cls: 0 }), pacer.take(c2, { cls: 0 })]));
    await Promise.allSettled(pages);
    await later;
    const outcome = await read;
    expect(outcome).toBeInstanceOf(ApplicationFailure);
    expect((outcome as ApplicationFailure).type).toBe(FailureType.RateLimited);
  });

  test('a cancelled wait leaves the queue with the signal\'s reason, and the next waiter gets its token', async () => {
    const pacer = new Pacer({ maxWaitMs: 5_000 });
    const c = pd(600, 3);
    for (let i = 0; i < 10; i += 1) await pacer.take(c, {});
    const ac = new AbortController();
    const cancelled = pacer.take(c, { cls: 0, signal: ac.signal });
    const next = pacer.take(c, { cls: 1 });
    ac.abort(new CancelledFailure('activity cancelled'));
    await expect(cancelled).rejects.toThrow('activity cancelled');
    await expect(next).resolves.toBeGreaterThanOrEqual(0);
    await expect(pacer.take(c, { signal: ac.signal })).rejects.toBeInstanceOf(CancelledFailure);
  });

  test('rate_per_min overrides the default', () => {
    const a = connectorFrom('acme|pagerduty|https://events.pagerduty.com/v2/enqueue|R0UT1NGKEYaaaaaaaaaaaaaaaaaaaaaa1');
    expect(rateFor(a)).toBe(DEFAULT_RATE_PER_MIN.pagerduty);
    expect(DEFAULT_RATE_PER_MIN.pagerduty).toBeLessThan(120);
    expect(DEFAULT_RATE_PER_MIN.slack).toBeLessThanOrEqual(60);
    expect(rateFor(connectorFrom('acme|slack|https://hooks.slack.com/services/T/B/x?rate_per_min=20|'))).toBe(20);
  });
});

describe('a retried 5xx holds the key only when it names a time to come back', () => {
  const unavailable = (status: number, retryAfter: string | undefined) =>
    failureFor({ status, headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter }, text: '' }, { label: 'Jira', action: 'search', secrets: [], attempt: 1 })!;
  const cases = [500, 502, 503, 504].flatMap((status) => [undefined, '0', 'soon', '3', '45'].map((ra) => [status, ra] as const));

  test.each(cases)('HTTP %i with Retry-After %s: a critical take afterwards waits for that time, or not at all', async (status, retryAfter) => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const pacer = new Pacer({ maxWaitMs: 20 * 60_000 });
      const c = pd(600, 300 + status);
      const failure = unavailable(status, retryAfter);
      expect(failure.type).toBe('ProviderUnavailable');
      await expect(holdOnRateLimit(pacer, c, () => Promise.reject(failure))).rejects.toBe(failure);
      const t0 = Date.now();
      let waited: number | undefined;
      void pacer.take(c, { cls: 0 }).then(() => (waited = Date.now() - t0));
      while (waited === undefined) await jest.advanceTimersByTimeAsync(10);
      const named = retryAfter !== undefined && /^[1-9]/.test(retryAfter) ? Number(retryAfter) * 1000 : undefined;
      if (named === undefined) expect(waited).toBeLessThanOrEqual(10);
      else {
        expect(waited).toBeGreaterThanOrEqual(named);
        expect(waited).toBeLessThanOrEqual(named + 10);
      }
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('a 429 holds the key', () => {
  // The provider's answer as the connectors classify it (src/http/classify.ts), at any activity attempt
  // (pacing deferrals count as attempts, so the attempt number says nothing about the key).
  const limited = (attempt: number, retryAfter: string | undefined) =>
    failureFor({ status: 429, headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter }, text: '' }, { label: 'PagerDuty', action: 'trigger', secrets: [], attempt })!;
  const cases = [1, 20, 100, 600].flatMap((rate) => [1, 2, 5, 9, 14].flatMap((attempt) => [undefined, '3', '45'].map((ra) => [rate, attempt, ra] as const)));

  test.each(cases)('at %i/min, attempt %i, Retry-After %s: a critical take afterwards waits for the provider\'s time only when it gave one, else one short hold', async (rate, attempt, retryAfter) => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const pacer = new Pacer({ maxWaitMs: 20 * 60_000 });
      const c = pd(rate, 100 + attempt);
      const failure = limited(attempt, retryAfter);
      await expect(holdOnRateLimit(pacer, c, () => Promise.reject(failure))).rejects.toBe(failure);
      // The call itself keeps its own back-off.
      expect(failure.nextRetryDelay).toBe(retryAfter === undefined ? rateLimitDelay(attempt) : Number(retryAfter) * 1000);
      const t0 = Date.now();
      let waited: number | undefined;
      void pacer.take(c, { cls: 0 }).then(() => (waited = Date.now() - t0));
      while (waited === undefined) await jest.advanceTimersByTimeAsync(10);
      const shortHold = Math.min(RATE_LIMIT_BASE_MS, Math.ceil(60_000 / rate));
      if (retryAfter === undefined) expect(waited).toBeLessThanOrEqual(shortHold + 10);
      else {
        expect(waited).toBeGreaterThanOrEqual(Number(retryAfter) * 1000);
        expect(waited).toBeLessThanOrEqual(Number(retryAfter) * 1000 + 10);
      }
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('low rates: a deferred caller\'s turn binds less urgent classes', () => {
  // Below ~30/min the token interval exceeds MAX_WAIT_MS, so a critical caller is deferred to its turn; a less urgent
  // caller that arrives within 2 s of the next token must not take it (nor the one at the critical's turn).
  const cases = [1, 5, 20, 29].flatMap((rate) => [0.2, 0.5, 0.9].flatMap((frac) => ([1, 2, 3] as PaceClass[]).map((cls) => [rate, frac, cls] as const)));

  test.each(cases)('at %i/min, a class-0 caller deferred at once; callers of a less urgent class arriving 1.5 s before the next token and at %s of the interval (class %i): the class-0 caller is served first', async (rate, frac, lessUrgent) => {
    jest.useFakeTimers({ now: 5_000_000 });
    try {
      const pacer = new Pacer({});
      const c = pd(rate, 200 + rate);
      const t0 = Date.now();
      await pacer.take(c, { cls: 1 }); // the one token
      const interval = 60_000 / rate;
      const served: Array<{ cls: PaceClass; at: number }> = [];
      const random = rng(rate * 31 + lessUrgent);
      // Each caller comes back at its promised turn plus Temporal's jitter (up to 300 ms), as a retried activity does.
      const attempt = (cls: PaceClass) => {
        pacer.take(c, { cls }).then(
          () => void served.push({ cls, at: Date.now() - t0 }),
          (e: ApplicationFailure) => void setTimeout(() => attempt(cls), (e.nextRetryDelay as number) + Math.floor(random() * 300)),
        );
      };
      attempt(0);
      setTimeout(() => attempt(lessUrgent), Math.max(0, Math.round(interval) - 1_500));
      setTimeout(() => attempt(lessUrgent), Math.round(interval * frac));
      while (served.length < 3) await jest.advanceTimersByTimeAsync(100);
      expect(served[0]!.cls).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('pace keys (src/activities/pace-key.ts): keyed by the deployment secret', () => {
  const connectors = [
    'acme|pagerduty|https://events.pagerduty.com/v2/enqueue|R0UT1NGKEYaaaaaaaaaaaaaaaaaaaaaa1',
    'acme|pagerduty|https://events.pagerduty.com/v2/enqueue|R0UT1NGKEYbbbbbbbbbbbbbbbbbbbbbb2',
    'acme|servicenow|https://acme.service-now.com|admin:hunter2',
    'acme|servicenow|https://acme.service-now.com|admin:hunter3',
    'acme|slack|https://slack.com/api/chat.postMessage?channel=C0NOC|xoxb-1-token',
    'acme|slack|https://slack.com/api/chat.postMessage?channel=C0OPS|xoxb-1-token',
  ].map((e) => connectorFrom(e));
  const material = paceKeyMaterial(KEY_SECRET.reveal());

  test('per endpoint, credential and channel; the shape migrations/006 accepts; never the credential', () => {
    const keys = connectors.map((c) => paceKey(c, material));
    expect(new Set(keys).size).toBe(connectors.length);
    for (const [i, k] of keys.entries()) {
      expect(k).toMatch(/^[a-z]{1,20}:[0-9a-f]{24}$/);
      expect(k.startsWith(`${connectors[i]!.provider}:`)).toBe(true);
      expect(k).not.toContain(connectors[i]!.credential.reveal().slice(0, 8) || '\u0000');
    }
  });

  // Golden keys: printed by the code of commit 40cdcc6 (before the pace scope moved into the provider definitions)
  // for this secret. A shared store holds its buckets by these names: any change to how a key is derived (the
  // hash, the URL's normal form, the scope) renames every bucket and must fail here.
  test.each([
    ['acme|pagerduty|https://events.pagerduty.com/v2/enqueue|R0UT1NGKEYaaaaaaaaaaaaaaaaaaaaaa1', 'pagerduty:78283803de7b826e52309aca'],
    ['acme|servicenow|https://acme.service-now.com|admin:hunter2', 'servicenow:036eef96b021db7af0577668'],
    ['acme|slack|https://slack.com/api/chat.postMessage?channel=C0NOC|xoxb-1-token', 'slack:2e98a1891ad88eab89d19c39'],
    ['acme|slack|https://slack.com/api/chat.postMessage?channel=c0noc%20x|xoxb-1-token', 'slack:9b1507a3d6f1fd877cebb347'],
    ['acme|slack|https://hooks.slack.com/services/T0/B0/XXXXXXXX|', 'slack:6c4e612e1b9bb497e26da86f'],
    ['acme|teams|https://prod-12.westus.logic.azure.com/workflows/0123abcd/triggers/manual/paths/invoke?api-version=2016-06-01&sig=SIGs1gS1Gs1g0123456789|-', 'teams:b215d93b7e09301f6c1d3033'],
    ['acme|opsgenie|https://api.opsgenie.com/v2/alerts?tags=noc|GenieKey-1', 'opsgenie:61e2741723a207bbd91ed1fd'],
    ['acme|jira|https://acme.atlassian.net?project=OPS|ops@acme.test:tok', 'jira:2e0f10a339f7afe1def930ae'],
  ])('a key keeps the name earlier releases gave it: %s', (entry, golden) => {
    expect(paceKey(connectorFrom(entry), paceKeyMaterial('pinned-pace-key-secret-for-the-golden-keys-0001'))).toBe(golden);
  });

  test('no unkeyed hash of the guessable inputs gives the stored name (no offline guessing oracle)', () => {
    for (const c of connectors) {
      const k = paceKey(c, material).split(':')[1]!;
      const url = c.url.reveal();
      const cred = c.credential.reveal();
      const ch = c.options.channel ?? '';
      const inputs = [`${url}\u0000${cred}\u0000${ch}`, `${url}\u0000${cred}`, `${url}${cred}${ch}`, cred, `${url}|${cred}|${ch}`];
      for (const input of inputs) {
        for (const alg of ['sha256', 'sha512', 'sha1', 'md5', 'sha3-256']) {
          expect(createHash(alg).update(input).digest('hex')).not.toContain(k);
          // An HMAC keyed by anything stored next to the row (the provider name, the key's prefix) is no secret either.
          expect(createHmac(alg, c.provider).update(input).digest('hex')).not.toContain(k);
        }
      }
    }
  });

  test('the same secret names every key the same in another process; another secret names them differently', () => {
    const other = paceKeyMaterial('another-deployment-secret-0123456789abcdef');
    const script = `
      const ts = require('typescript'); const fs = require('fs');
      const out = ts.transpileModule(fs.readFileSync(process.argv[1], 'utf8'), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
      const m = { exports: {} }; new Function('require', 'module', 'exports', out)(require, m, m.exports);
      const input = JSON.parse(process.argv[2]);
      process.stdout.write(JSON.stringify(input.rows.map((r) => m.exports.derivePaceKey(m.exports.paceKeyMaterial(input.secret), ...r))));`;
    const rows = connectors.map((c) => [c.provider, c.url.reveal(), c.credential.reveal(), c.options.channel ?? '']);
    const run = (secret: string) => JSON.parse(execFileSync(process.execPath, ['-e', script, require.resolve('../../../src/activities/pace-key.ts'), JSON.stringify({ secret, rows })], { cwd: process.cwd(), encoding: 'utf8' })) as string[];
    const here = connectors.map((c) => paceKey(c, material));
    expect(run(KEY_SECRET.reveal())).toEqual(here);
    const elsewhere = run('another-deployment-secret-0123456789abcdef');
    expect(elsewhere).toEqual(connectors.map((c) => paceKey(c, other)));
    for (let i = 0; i < here.length; i += 1) expect(elsewhere[i]).not.toBe(here[i]);
    expect(derivePaceKey(material, 'pagerduty', 'u', 'c', '')).not.toBe(derivePaceKey(other, 'pagerduty', 'u', 'c', ''));
  });

  test('a pacer with a shared store refuses to start without the secret; without a store it keys per process', () => {
    const store: SharedPaceStore = { take: () => Promise.resolve({ granted: true, waitMs: 0 }), hold: () => Promise.resolve(), reserve: () => Promise.resolve() };
    expect(() => new Pacer({ store })).toThrow('PROBECTL_NOTIFY_PACE_KEY_SECRET');
    expect(() => new Pacer({ store, keySecret: new Secret('') })).toThrow('PROBECTL_NOTIFY_PACE_KEY_SECRET');
    expect(new Pacer({ store, keySecret: KEY_SECRET }).keyOf(connectors[0]!)).toBe(paceKey(connectors[0]!, material));
    expect(new Pacer().keyOf(connectors[0]!)).not.toBe(new Pacer().keyOf(connectors[0]!));
  });
});

describe('one rate per key: connectors sharing a key with different rate_per_min', () => {
  test.each([[60, 61], [1, 600], [100, 6_000], [20, 30], [600, 59]])('rates %i and %i alternating on one key: the key is paced at the lower rate, its bucket never refilled by the switch', async (r1, r2) => {
    const key = `R0UT1NGKEY${String(r1 * 10_000 + r2).padStart(22, '0')}`;
    const a = connectorFrom(`acme|pagerduty|https://events.pagerduty.com/v2/enqueue?rate_per_min=${r1}|${key}`);
    const b = connectorFrom(`other|pagerduty|https://events.pagerduty.com/v2/enqueue?rate_per_min=${r2}|${key}`);
    const pacer = new Pacer({ maxWaitMs: 5 });
    const low = Math.min(r1, r2);
    let granted = 0;
    const t0 = Date.now();
    for (let i = 0; i < 60; i += 1) {
      try {
        await pacer.take(i % 2 ? a : b, { cls: 1 });
        granted += 1;
      } catch {
        // deferred
      }
    }
    const elapsed = Date.now() - t0;
    // At most the larger of the two capacities at once (the first connector seen may start full at its own), then the
    // lower rate for the time that passed.
    expect(granted).toBeLessThanOrEqual(Math.max(capacityFor(r1), capacityFor(r2)) + Math.ceil((elapsed * low) / 60_000) + 1);
    const refused = (await pacer.take(a, { cls: 1 }).catch((e: unknown) => e)) as ApplicationFailure;
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused.message).toContain(`paced to ${low} calls/min`);
  });
});

/** A shared store double: scripted answers, every call recorded. */
class FakeStore implements SharedPaceStore {
  takes: Array<{ key: string; cls: PaceClass; drain: boolean }> = [];
  holds: Array<{ key: string; ms: number }> = [];
  constructor(private readonly answer: (n: number) => Promise<TakeAnswer>) {}
  take(key: string, _rate: number, cls: PaceClass, _window?: number, drain = false): Promise<TakeAnswer> {
    this.takes.push({ key, cls, drain });
    return this.answer(this.takes.length);
  }
  hold(key: string, _rate: number, ms: number): Promise<void> {
    this.holds.push({ key, ms });
    return Promise.resolve();
  }
  reserves: Array<{ key: string; cls: PaceClass; ms: number }> = [];
  reserve(key: string, cls: PaceClass, ms: number): Promise<void> {
    this.reserves.push({ key, cls, ms });
    return Promise.resolve();
  }
}

describe('Pacer with a shared store', () => {
  test('a 429 with a delay holds the key locally and in the store; the failure still goes to Temporal with its delay', async () => {
    const store = new FakeStore(async () => ({ granted: true, waitMs: 0 }));
    const pacer = new Pacer({ store, keySecret: KEY_SECRET });
    const c = pd(600, 4);
    const failure = failureFor({ status: 429, headers: { 'retry-after': '30' }, text: '' }, { label: 'PagerDuty', action: 'trigger', secrets: [] })!;
    await expect(holdOnRateLimit(pacer, c, () => Promise.reject(failure))).rejects.toBe(failure);
    expect(store.holds).toEqual([{ key: pacer.keyOf(c), ms: 30_000 }]);
    // Other failures hold nothing.
    await expect(holdOnRateLimit(pacer, c, () => Promise.reject(retryable(FailureType.ProviderUnavailable, 'HTTP 503')))).rejects.toThrow('503');
    expect(store.holds).toHaveLength(1);
    // Locally too: with the store gone, the key's own bucket waits for the provider's time.
    const local = new Pacer({ maxWaitMs: 1_000 });
    await holdOnRateLimit(local, c, () => Promise.reject(failure)).catch(() => undefined);
    const refused = await local.take(c, { cls: 0 }).catch((e: unknown) => e);
    expect((refused as ApplicationFailure).nextRetryDelay as number).toBeGreaterThan(25_000);
  });

  test('a refusal of the store names its next token (a 429 held by another worker): deferrals carry that time, for that class and less urgent ones only', async () => {
    const holdMs = 30_000;
    const store = new FakeStore(async () => ({ granted: false, waitMs: holdMs }));
    const urgentOk: SharedPaceStore = {
      take: (key, rate, cls) => (cls === 0 ? Promise.resolve({ granted: true, waitMs: 0 }) : store.take(key, rate, cls)),
      hold: () => Promise.resolve(),
      reserve: () => Promise.resolve(),
    };
    const pacer = new Pacer({ store: urgentOk, keySecret: KEY_SECRET, maxWaitMs: 200 });
    const c = pd(600, 7);
    const first = (await pacer.take(c, { cls: 2 }).catch((e: unknown) => e)) as ApplicationFailure;
    expect(first.type).toBe(FailureType.RateLimited);
    expect(first.nextRetryDelay as number).toBeGreaterThan(holdMs - 1_000);
    const calls = store.takes.length;
    const upFront = (await pacer.take(c, { cls: 3 }).catch((e: unknown) => e)) as ApplicationFailure;
    expect(upFront.nextRetryDelay as number).toBeGreaterThan(holdMs - 1_000);
    expect(store.takes.length).toBe(calls); // refused without asking the store again
    await expect(pacer.take(c, { cls: 0 })).resolves.toBeGreaterThanOrEqual(0); // a more urgent class still asks
  });

  test.each([2 ** 31, 2 ** 40, Number.MAX_SAFE_INTEGER])('a store answering a wait of %i ms (past setTimeout\'s limit): the pacer neither spins on the store nor promises a turn past the cap', async (waitMs) => {
    const store = new FakeStore(async (n) => (n === 1 ? { granted: true, waitMs: 0 } : { granted: false, waitMs }));
    const pacer = new Pacer({ store, keySecret: KEY_SECRET, maxWaitMs: 300 });
    const c = pd(600, 40);
    await pacer.take(c, { cls: 1 });
    const refused = (await pacer.take(c, { cls: 0 }).catch((e: unknown) => e)) as ApplicationFailure;
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(store.takes.length).toBeLessThanOrEqual(3); // one refusal, then asleep — not a call per millisecond
    expect(refused.nextRetryDelay as number).toBeLessThanOrEqual(MAX_RETRY_AFTER_MS + 60_000);
  });

  test.each([
    ['fails', () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1'))],
    ['hangs', () => new Promise<TakeAnswer>(() => undefined)],
  ])('a store that %s: takes go on at this process\'s share (rate ÷ workers), and the store is not tried again until its circuit closes', async (_what, answer) => {
    const store = new FakeStore(answer);
    const states: string[] = [];
    const fallbackTakes: string[] = [];
    const workers = 3;
    const pacer = new Pacer({
      store, keySecret: KEY_SECRET, workers, maxWaitMs: 60_000, storeTimeoutMs: 50, storeCircuitMs: 60_000,
      onStoreState: (s) => void states.push(s), onFallbackTake: (p) => void fallbackTakes.push(p),
    });
    const rate = 3_600; // 60/s for the deployment; this process's share is 20/s (capacity 20)
    const c = pd(rate, 5);
    const grants: number[] = [];
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 100 }, () => pacer.take(c, { cls: 1 }).then(() => void grants.push(Date.now() - t0))));
    expect(store.takes).toHaveLength(1);
    expect(states).toEqual(['fallback']);
    expect(fallbackTakes).toHaveLength(100);
    expect(pacer.inFallback).toBe(true);
    grants.sort((a, b) => a - b);
    // The process's share: capacity capacityFor(rate/workers) at once, then rate/workers per minute.
    const share = rate / workers;
    expect(maxInWindow(grants, 1_000)).toBeLessThanOrEqual(Math.ceil(share / 60) + capacityFor(share));
  });

  test('the store answers again after the circuit: the pacer goes back to it, its first take there draining the bucket', async () => {
    let down = true;
    const store = new FakeStore(async () => {
      if (down) throw new Error('down');
      return { granted: true, waitMs: 0 };
    });
    const states: string[] = [];
    const pacer = new Pacer({ store, keySecret: KEY_SECRET, storeCircuitMs: 100, onStoreState: (s) => void states.push(s) });
    const c = pd(6_000, 6);
    await pacer.take(c, {});
    down = false;
    await sleep(150);
    await pacer.take(c, {});
    await pacer.take(c, {});
    expect(states).toEqual(['fallback', 'shared']);
    expect(pacer.inFallback).toBe(false);
    expect(store.takes.map((t) => t.drain)).toEqual([false, true, false]);
  });
});
