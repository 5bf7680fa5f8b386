/**
 * The production topology of docker-compose.yml as real processes on the cluster suite's Temporal server:
 * three workers and two API replicas (`node --require ./dist/runtime/workflow-thread-preload.js dist/main.js
 * worker|api`, as the image starts them; one task queue), the loopback doubles of
 * all six providers, one tenant with an API token and inbound entries. The test process keeps its own
 * Temporal client and mirror reader (startStack without a worker) for waiting and counting.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { FAST_ENV, PROVIDER_KEYS, Providers, linksSettled } from '../faults/harness';
import { freePort } from '../setup/temporal-server';
import { sharedStack, sleep, uniqueId } from '../helpers/shared';
import { startStack, type TestStack } from '../helpers/stack';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';
import { ROOT, clusterScript, type ClusterInfo } from './server';

export const DIST_MAIN = join(ROOT, 'dist', 'main.js');
export const DIST_CLI = join(ROOT, 'dist', 'cli', 'main.js');
/** As the image's entrypoint starts every process (Dockerfile): the workflow-thread preload first. */
export const ENTRY_ARGS = ['--require', join(ROOT, 'dist', 'runtime', 'workflow-thread-preload.js')];

/** CLUSTER_MODE=reduced (what CI runs) or full (the default of `npm run test:cluster`). */
export const CLUSTER_MODE: 'reduced' | 'full' = process.env.CLUSTER_MODE === 'reduced' ? 'reduced' : 'full';
export const byMode = <T>(reduced: T, full: T): T => (CLUSTER_MODE === 'reduced' ? reduced : full);

export function clusterInfo(): ClusterInfo {
  return (sharedStack() as ReturnType<typeof sharedStack> & { cluster: ClusterInfo }).cluster;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Stop and start the Temporal server with the script, as an operator would; checks it was really down. */
export async function restartTemporal(downMs: number): Promise<{ stopSeconds: number; startSeconds: number }> {
  const env = clusterInfo().scriptEnv;
  const stopped = await clusterScript('stop', env);
  if (await portOpen(Number(env.TEMPORAL_CLUSTER_PORT))) throw new Error('the Temporal frontend still accepts connections after stop');
  await sleep(downMs);
  const started = await clusterScript('start', env);
  return { stopSeconds: stopped.seconds, startSeconds: started.seconds };
}

interface Proc {
  name: string;
  proc: WorkerProcess;
  port?: number;
}

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
  replica: number;
}

export class Topology {
  readonly tenant = uniqueId('cl');
  readonly token = `tok-cluster-${randomBytes(8).toString('hex')}`;
  /** One inbound entry per ticketing/paging provider: `<provider>:<tenant>:<provider>:<secret>`. */
  readonly inboundSecret = `inbound-cluster-${randomBytes(12).toString('hex')}`;
  providers!: Providers;
  stack!: TestStack;
  workers: Proc[] = [];
  apis: Proc[] = [];
  private readonly all: Proc[] = [];
  /** Requests the clients had to retry (a network error or a 5xx): /v1 calls and inbound deliveries. */
  readonly retried = { api: 0, inbound: 0 };
  private spawned = 0;

  constructor(private readonly name: string) {}

  /**
   * `ratePerMin` raises every connector's pacing (`?rate_per_min=`, for the whole deployment) above the providers'
   * defaults (60–100 calls/min), for scenarios about restarts rather than rate limits.
   */
  async start(opts: { workers?: number; apis?: number; ratePerMin?: number; env?: Record<string, string> } = {}): Promise<this> {
    this.providers = await new Providers().start();
    const inbound = ['pagerduty', 'opsgenie', 'servicenow', 'jira'].map((p) => `${p}:${this.tenant}:${p}:${this.inboundSecret}`).join(',');
    const connectors = this.providers.entries(this.tenant).map((e) => (opts.ratePerMin ? withRate(e, opts.ratePerMin) : e));
    this.stack = await startStack({
      worker: false,
      env: {
        ...FAST_ENV,
        PROBECTL_NOTIFY_CONNECTORS: connectors.join(','),
        PROBECTL_NOTIFY_API_TOKENS: `${this.tenant}:${this.token}`,
        PROBECTL_NOTIFY_INBOUND: inbound,
        ...opts.env,
      },
    });
    this.workers = await Promise.all(Array.from({ length: opts.workers ?? 3 }, () => this.spawn('worker')));
    this.apis = await Promise.all(Array.from({ length: opts.apis ?? 2 }, () => this.spawn('api')));
    return this;
  }

  /** A new worker or API process (an API replica keeps `port` when it replaces another); resolves once ready. */
  async spawn(role: 'worker' | 'api', port?: number): Promise<Proc> {
    this.spawned += 1;
    const name = `${role}-${this.spawned}`;
    const extra: Record<string, string> = {};
    if (role === 'api') extra.PROBECTL_NOTIFY_API_PORT = String(port ?? (await freePort()));
    const p: Proc = {
      name,
      proc: spawnWorker({ ...this.stack.env, ...extra }, role, DIST_MAIN, ENTRY_ARGS),
      ...(role === 'api' ? { port: Number(extra.PROBECTL_NOTIFY_API_PORT) } : {}),
    };
    this.all.push(p);
    await p.proc.ready;
    return p;
  }

  /** Replace worker `i`: SIGTERM (a graceful drain) or SIGKILL (a crash), then a new process. */
  async replaceWorker(i: number, signal: 'SIGTERM' | 'SIGKILL'): Promise<number | null> {
    const code = await this.workers[i]!.proc.kill(signal);
    this.workers[i] = await this.spawn('worker');
    return code;
  }

  /** Replace API replica `i` on the same port (a restarted container keeps its port). */
  async replaceApi(i: number, signal: 'SIGTERM' | 'SIGKILL'): Promise<number | null> {
    const old = this.apis[i]!;
    const code = await old.proc.kill(signal);
    this.apis[i] = await this.spawn('api', old.port);
    return code;
  }

  apiUrl(i: number): string {
    return `http://127.0.0.1:${this.apis[i]!.port}`;
  }

  /**
   * A client of the API replicas: tries replica `first`, and on a network error or a 5xx the next one,
   * until an answer below 500 (a load balancer with retries). Gives up after `timeoutMs`.
   */
  async api(method: 'GET' | 'POST', path: string, body?: object, first = 0, timeoutMs = 120_000): Promise<ApiAnswer> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (let attempt = 0; ; attempt++) {
      const replica = (first + attempt) % this.apis.length;
      try {
        const res = await fetch(`${this.apiUrl(replica)}${path}`, {
          method,
          headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        if (res.status < 500) return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, replica };
        last = `${res.status} ${text.slice(0, 200)}`;
      } catch (err) {
        last = (err as Error).message;
      }
      this.retried.api += 1;
      if (Date.now() > deadline) throw new Error(`${method} ${path}: no answer below 500 from any replica within ${timeoutMs} ms (last: ${last})`);
      await sleep(attempt < this.apis.length ? 50 : 250);
    }
  }

  /** POST /v1/incidents through the replicas; 201 (started) or 200 (a retry found it started). */
  async open(id: string, first = 0): Promise<ApiAnswer> {
    const a = await this.api('POST', '/v1/incidents', { id, title: `Packet loss ${id}`, severity: 'critical', summary: 'loss on the uplink' }, first);
    if (a.status !== 201 && a.status !== 200) throw new Error(`open ${id}: ${a.status} ${JSON.stringify(a.body)}`);
    return a;
  }

  /** POST /v1/incidents/:id/resolve through the replicas; 202 (signalled) or 200 (already resolved). */
  async resolve(id: string, first = 0): Promise<ApiAnswer> {
    const a = await this.api('POST', `/v1/incidents/${id}/resolve`, { actor: 'cluster-test', reason: 'fixed' }, first);
    if (a.status !== 202 && a.status !== 200) throw new Error(`resolve ${id}: ${a.status} ${JSON.stringify(a.body)}`);
    return a;
  }

  /**
   * A signed inbound delivery (portable contract, `X-Probectl-Signature: sha256=<hmac>`) to one replica,
   * retried like a provider retries a 5xx.
   */
  async deliver(replica: number, provider: string, payload: object, timeoutMs = 120_000): Promise<{ status: number; body: Record<string, unknown> }> {
    const raw = JSON.stringify(payload);
    const signature = `sha256=${createHmac('sha256', this.inboundSecret).update(raw).digest('hex')}`;
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        const res = await fetch(`${this.apiUrl(replica)}/ingest/itsm/${provider}/${provider}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-probectl-signature': signature },
          body: raw,
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        if (res.status < 500) return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
        last = `${res.status} ${text.slice(0, 200)}`;
      } catch (err) {
        last = (err as Error).message;
      }
      this.retried.inbound += 1;
      if (Date.now() > deadline) throw new Error(`inbound ${provider} on replica ${replica}: still failing after ${timeoutMs} ms (last: ${last})`);
      await sleep(500);
    }
  }

  /**
   * For every incident still running: its history into test-artifacts/cluster-<pid>/histories/ (kept when the
   * run fails; `Worker.runReplayHistory` replays it) and its last workflow-task failure, printed.
   */
  async saveRunning(ids: readonly string[]): Promise<string[]> {
    const dir = join(clusterInfo().artifactsDir, 'histories');
    const found: string[] = [];
    for (const id of ids) {
      const handle = this.stack.client.workflow.getHandle(`probectl-${id}`);
      const d = await handle.describe().catch(() => undefined);
      if (d?.status.name !== 'RUNNING') continue;
      const history = await handle.fetchHistory();
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `probectl-${id}.json`), JSON.stringify(history));
      const failed = [...(history.events ?? [])].reverse().find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes;
      const line = `${id}: still running after ${history.events?.length ?? 0} events; last workflow task failure: ${failed?.failure?.message ?? 'none'}`;
      process.stdout.write(`[cluster] ${line}\n`);
      found.push(line);
    }
    return found;
  }

  /** Every incident's links settled (none pending), one after the other; otherwise the running ones are saved and it throws. */
  async linksSettled(ids: readonly string[], timeoutMs = 180_000): Promise<void> {
    for (const id of ids) {
      try {
        await linksSettled(this.stack, id, PROVIDER_KEYS.length, timeoutMs);
      } catch (err) {
        await this.saveRunning(ids);
        throw err;
      }
    }
  }

  /** Every process's output into test-artifacts/cluster-<pid>/processes/ (kept only when the run fails). */
  saveLogs(): void {
    const dir = join(clusterInfo().artifactsDir, 'processes', this.name);
    mkdirSync(dir, { recursive: true });
    for (const p of this.all) writeFileSync(join(dir, `${p.name}.log`), p.proc.output());
  }

  async stop(): Promise<void> {
    this.saveLogs();
    // After a failed scenario some incidents may still run, with the test's result() calls waiting on them:
    // end them, so those calls settle before the connection closes (instead of failing the next file).
    const running: string[] = [];
    for await (const w of this.stack.client.workflow.list({ query: `ProbectlTenant = '${this.tenant}' AND ExecutionStatus = 'Running'` })) running.push(w.workflowId);
    for (const id of running) await this.stack.client.workflow.getHandle(id).terminate('cluster suite teardown').catch(() => undefined);
    if (running.length > 0) await sleep(2_000);
    for (const p of this.all) await p.proc.kill('SIGKILL');
    this.providers?.heal();
    await this.stack?.stop();
    await this.providers?.stop();
  }
}

/** A PROBECTL_NOTIFY_CONNECTORS entry (`tenant|provider|url|credential[|name]`) with `rate_per_min` set on its URL. */
function withRate(entry: string, perMin: number): string {
  const parts = entry.split('|');
  const url = new URL(parts[2]!);
  url.searchParams.set('rate_per_min', String(perMin));
  parts[2] = url.toString();
  return parts.join('|');
}
