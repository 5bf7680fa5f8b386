/**
 * The heartbeat scheduler (src/observability/heartbeat.ts) against a fake Temporal client and a fake HTTP
 * client, so the moment stop() comes is chosen exactly: before the canary answers (with the nonce, or with the
 * abort), while the ping is in flight. Whatever the moment, no ping is sent after stop(), and a graceful
 * shutdown counts no failure and logs no warning. Plus the ordinary outcomes, for contrast.
 */
import type { Client } from '@temporalio/client';
import type { HttpClient } from '../../src/http/client';
import { Secret } from '../../src/config/secret';
import type { Logger } from '../../src/observability/logger';
import type { NotifyMetrics } from '../../src/observability/metrics';
import { HeartbeatScheduler } from '../../src/observability/heartbeat';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}
const tick = () => new Promise((r) => setImmediate(r));

function harness() {
  const canaries: Array<{ nonce: string; answer: Deferred<string>; signal: AbortSignal }> = [];
  const pings: Array<{ answer: Deferred<{ status: number }>; signal?: AbortSignal }> = [];
  let signal: AbortSignal | undefined;
  const client = {
    withAbortSignal: <R>(s: AbortSignal, fn: () => Promise<R>) => {
      signal = s;
      return fn();
    },
    withDeadline: <R>(_d: number, fn: () => Promise<R>) => fn(),
    workflow: {
      execute: (_type: string, opts: { args: [string] }) => {
        const answer = deferred<string>();
        canaries.push({ nonce: opts.args[0], answer, signal: signal! });
        return answer.promise;
      },
    },
  } as unknown as Client;
  const http = {
    send: (_req: unknown, _secrets: unknown, s?: AbortSignal) => {
      const answer = deferred<{ status: number }>();
      pings.push({ answer, ...(s ? { signal: s } : {}) });
      return answer.promise;
    },
  } as unknown as HttpClient;
  const counted: string[] = [];
  const warnings: unknown[] = [];
  const metrics = { heartbeatChecks: { inc: ({ outcome }: { outcome: string }) => counted.push(outcome) }, heartbeatLastSuccess: { set: () => undefined } } as unknown as NotifyMetrics;
  const log = { info: () => undefined, warn: (...a: unknown[]) => warnings.push(a) } as unknown as Logger;
  const scheduler = new HeartbeatScheduler({
    settings: { url: new Secret('https://hc.example.com/ping/abc'), method: 'GET', intervalMs: 60_000 },
    client, taskQueue: 'tq', http, log, metrics, canaryTimeoutMs: 60_000,
  });
  return { scheduler, canaries, pings, counted, warnings };
}

describe('heartbeat scheduler: stop() at any moment of a check', () => {
  // How the canary in flight ends once stop() was called.
  test.each<[string, (c: { nonce: string; answer: Deferred<string> }) => void]>([
    ['the canary answers with its nonce after stop()', (c) => c.answer.resolve(c.nonce)],
    ['the canary is aborted by stop()', (c) => c.answer.reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))],
    ['the canary fails after stop()', (c) => c.answer.reject(new Error('workflow failed'))],
  ])('%s: no ping, no failure counted, no warning', async (_what, settle) => {
    const h = harness();
    h.scheduler.start();
    await tick();
    expect(h.canaries).toHaveLength(1);
    const stopped = h.scheduler.stop();
    expect(h.canaries[0]!.signal.aborted).toBe(true);
    settle(h.canaries[0]!);
    await stopped;
    await tick();
    expect(h.pings).toHaveLength(0);
    expect(h.counted).toEqual([]);
    expect(h.warnings).toEqual([]);
  });

  test.each<[string, (p: Deferred<{ status: number }>) => void]>([
    ['the ping in flight is aborted by stop()', (p) => p.reject(Object.assign(new Error('aborted'), { code: 'ECANCELLED' }))],
    ['the ping in flight answers after stop()', (p) => p.resolve({ status: 200 })],
  ])('%s: no failure counted, no warning, no further ping', async (_what, settle) => {
    const h = harness();
    h.scheduler.start();
    await tick();
    h.canaries[0]!.answer.resolve(h.canaries[0]!.nonce);
    await tick();
    expect(h.pings).toHaveLength(1);
    const stopped = h.scheduler.stop();
    expect(h.pings[0]!.signal?.aborted).toBe(true);
    settle(h.pings[0]!.answer);
    await stopped;
    expect(h.pings).toHaveLength(1);
    expect(h.counted.filter((o) => o !== 'ok')).toEqual([]);
    expect(h.warnings).toEqual([]);
  });

  // For contrast: without stop(), the same events are counted and logged.
  test.each<[string, (h: ReturnType<typeof harness>) => void, string, number]>([
    ['a canary that fails', (h) => h.canaries[0]!.answer.reject(new Error('workflow failed')), 'canary_failed', 0],
    ['a ping refused', (h) => h.canaries[0]!.answer.resolve(h.canaries[0]!.nonce), 'ping_failed', 1],
    ['a check that works', (h) => h.canaries[0]!.answer.resolve(h.canaries[0]!.nonce), 'ok', 1],
  ])('no stop: %s is counted and logged', async (what, canary, outcome, pingCount) => {
    const h = harness();
    const check = h.scheduler.check();
    await tick();
    canary(h);
    await tick();
    expect(h.pings).toHaveLength(pingCount);
    if (pingCount > 0) h.pings[0]!.answer.resolve({ status: what === 'a ping refused' ? 503 : 200 });
    expect(await check).toBe(outcome);
    expect(h.counted).toEqual([outcome]);
    expect(h.warnings.length > 0).toBe(outcome !== 'ok');
  });
});
