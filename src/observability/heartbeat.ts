/**
 * The dead man's switch (PROBECTL_NOTIFY_HEARTBEAT_URL; docs/configuration.md, "Heartbeat"). Every interval the
 * worker process starts a canary workflow on its own task queue (src/workflows/heartbeat-canary.ts: one
 * activity that only answers) and waits for its result; only when the result comes back in time does it ping
 * the heartbeat URL (Opsgenie's Heartbeat API, healthchecks.io, any such URL). So the pings stop when the worker
 * stops or wedges, when it cannot reach Temporal, or when Temporal does not dispatch tasks — and the heartbeat
 * service pages.
 *
 * The canary goes through Temporal like an incident's first step: a workflow task and an activity task, each
 * polled from the task queue. It never calls a provider, never writes to Postgres and belongs to no tenant. With
 * several workers on the queue any of them may run a canary: a check proves the queue is served, not that this
 * very process polls.
 *
 * The ping goes through the provider HTTP client (URL policy, timeout, proxy, bounded answer, scrubbing). The URL
 * and the Authorization header are secrets: logs name the outcome (an HTTP status, an error code), never them.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { HttpClient } from '../http/client';
import type { HeartbeatSettings } from '../config/heartbeat';
import type { Logger } from './logger';
import type { NotifyMetrics } from './metrics';


/** The canary's task-queue priority: 1, the most urgent (docs/configuration.md, "Heartbeat"). */
export const CANARY_PRIORITY = { priorityKey: 1 } as const;
/** src/workflows/heartbeat-canary.ts (named here so this module does not load workflow code). */
const CANARY_WORKFLOW_TYPE = 'heartbeatCanaryWorkflow';

export type HeartbeatOutcome = 'ok' | 'canary_failed' | 'ping_failed';

export interface HeartbeatOptions {
  settings: HeartbeatSettings;
  /** A client on the worker's connection and namespace. */
  client: Client;
  taskQueue: string;
  http: HttpClient;
  log: Logger;
  metrics: NotifyMetrics;
  /** How long a canary may take, start to result (default: the interval, at least 5 s, at most 30 s). */
  canaryTimeoutMs?: number;
}

/** Canary workflow ids: `/` never appears in an incident workflow id (`probectl-<id>`), so they cannot collide. */
export function canaryWorkflowId(taskQueue: string, nonce: string): string {
  return `heartbeat-canary/${taskQueue}/${nonce}`;
}

export class HeartbeatScheduler {
  readonly #opts: HeartbeatOptions;
  readonly #canaryTimeoutMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<HeartbeatOutcome | 'stopped'> | undefined;
  #stopped = false;
  readonly #abort = new AbortController();

  constructor(opts: HeartbeatOptions) {
    this.#opts = opts;
    this.#canaryTimeoutMs = opts.canaryTimeoutMs ?? Math.min(30_000, Math.max(5_000, opts.settings.intervalMs));
  }

  /** The first check runs at once, then one every interval (a check still running when the next is due is not doubled). */
  start(): void {
    if (this.#stopped || this.#timer) return;
    const { log, settings } = this.#opts;
    log.info({ intervalMs: settings.intervalMs, method: settings.method, authorization: settings.authorization !== undefined }, 'heartbeat: dead man\'s switch on');
    const tick = () => {
      if (this.#stopped) return;
      if (!this.#running) {
        this.#running = this.check().finally(() => (this.#running = undefined));
      }
      this.#timer = setTimeout(tick, settings.intervalMs);
    };
    tick();
  }

  /** No check starts after this; one in flight is abandoned (no ping follows it). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort.abort();
    await this.#running?.catch(() => undefined);
  }

  /**
   * One check: the canary through Temporal, then, only if it came back, the ping. A check that stop() cut short
   * (its canary or its ping abandoned) is `stopped`: neither counted nor logged as a failure, and never pings.
   */
  async check(): Promise<HeartbeatOutcome | 'stopped'> {
    const { log, metrics } = this.#opts;
    const outcome = await this.#check();
    if (outcome === 'stopped') return outcome;
    metrics.heartbeatChecks.inc({ outcome });
    if (outcome === 'ok') metrics.heartbeatLastSuccess.set(Date.now() / 1000);
    else log.warn({ outcome }, 'heartbeat: check failed; no ping sent');
    return outcome;
  }

  async #check(): Promise<HeartbeatOutcome | 'stopped'> {
    const { client, taskQueue, log, settings, http } = this.#opts;
    const nonce = randomUUID();
    try {
      // Aborted by stop(): a shutting-down worker neither waits for its canary nor pings after it.
      const canary = client.withAbortSignal(this.#abort.signal, () => client.withDeadline(Date.now() + this.#canaryTimeoutMs, () =>
        client.workflow.execute(CANARY_WORKFLOW_TYPE, {
          taskQueue,
          workflowId: canaryWorkflowId(taskQueue, nonce),
          args: [nonce],
          // The server ends a canary nobody ran, so none lingers after a check gave up on it.
          workflowExecutionTimeout: this.#canaryTimeoutMs,
          // The most urgent task-queue priority, as a critical incident's (src/client/priority.ts): the canary asks
          // whether the worker serves tasks at all, so a storm's backlog of incidents does not hold it back.
          priority: CANARY_PRIORITY,
        }),
      ));
      // The client may retry a call past its deadline; the check does not wait longer than its own.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no result within ${this.#canaryTimeoutMs} ms`)), this.#canaryTimeoutMs + 1_000);
      });
      const result = await Promise.race([canary, late]).finally(() => clearTimeout(timer));
      if (result !== nonce) throw new Error('the canary answered something else');
    } catch (err) {
      if (this.#stopped) return 'stopped';
      log.warn({ err: { name: (err as Error)?.name, message: String((err as Error)?.message ?? err).split('\n')[0]!.slice(0, 200) } }, 'heartbeat: the canary did not finish through Temporal in time');
      return 'canary_failed';
    }
    if (this.#stopped) return 'stopped';
    const url = settings.url.reveal();
    const auth = settings.authorization?.reveal();
    try {
      const res = await http.send(
        { method: settings.method, url, headers: { ...(auth ? { authorization: auth } : {}), ...(settings.method === 'POST' ? { 'content-type': 'text/plain' } : {}) }, ...(settings.method === 'POST' ? { body: '' } : {}) },
        auth ? [url, auth] : [url],
        this.#abort.signal,
        { provider: 'heartbeat' },
      );
      if (res.status < 200 || res.status >= 300) {
        log.warn({ status: res.status }, 'heartbeat: the heartbeat URL refused the ping');
        return 'ping_failed';
      }
      return 'ok';
    } catch (err) {
      if (this.#stopped) return 'stopped';
      // TransportError messages are already scrubbed of the URL and the header; only the code is logged.
      log.warn({ code: (err as { code?: unknown }).code ?? 'error' }, 'heartbeat: the heartbeat URL did not answer');
      return 'ping_failed';
    }
  }
}
