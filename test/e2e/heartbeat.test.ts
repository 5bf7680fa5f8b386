/**
 * The dead man's switch end to end: the real worker process (`node main.js worker`) on the dev server and
 * Postgres, with PROBECTL_NOTIFY_HEARTBEAT_URL pointing at a loopback heartbeat sink shaped like Opsgenie's
 * Heartbeat API (`/v2/heartbeats/<name>/ping`, `Authorization: GenieKey <key>`). The worker reaches Temporal through
 * a cuttable proxy.
 *
 * Checked: pings arrive at the interval with the Authorization header; while Temporal is unreachable the canary
 * cannot finish and the pings stop, then resume once it is back; a sink that refuses is logged by status only;
 * SIGTERM counts and logs no failed check (no ping after stop() is checked in the scheduler's unit test); the worker's whole log never
 * holds any 8-character window of the heartbeat URL's secret part or of the key; the canary left no incident
 * behind: it is its own workflow type, and no incident workflow ran on the task queue.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { leakedWindows } from '../helpers/leaks';
import { eventually, sleep, uniqueId } from '../helpers/shared';
import { startStack, type TestStack } from '../helpers/stack';
import { CuttableProxy } from '../helpers/tcp-proxy';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';
import { freePort } from '../setup/temporal-server';

// The shortest interval allowed (src/config/heartbeat.ts).
const INTERVAL_MS = 10_000;
const HEARTBEAT_NAME = 'notify-hb-QzQzWvWvXyXy';
const GENIE_KEY = 'GenieKey 0f9e7d6c-QxQx-RyRy-SzSz-TwTwTwTwTwTw';

interface Ping {
  at: number;
  method: string;
  path: string;
  authorization: string | undefined;
}

class HeartbeatSink {
  readonly pings: Ping[] = [];
  /** The status the sink answers with (a heartbeat service that is down answers 5xx). */
  status = 202;
  #server: Server | undefined;

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        this.pings.push({ at: Date.now(), method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization });
        res.writeHead(this.status, { 'content-type': 'application/json' }).end('{"result":"PONG - Heartbeat received","took":0.006,"requestId":"r-1"}');
      });
    });
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', () => r()));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
  }

  after(t: number): Ping[] {
    return this.pings.filter((p) => p.at > t);
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }
}

describe('dead man\'s switch: pings only while the worker gets a canary through Temporal', () => {
  let sink: HeartbeatSink;
  let proxy: CuttableProxy;
  let stack: TestStack;
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    sink = await new HeartbeatSink().start();
    // The stack provides the database, task queue and dev server; the worker under test is a child process.
    stack = await startStack({ worker: false, env: { PROBECTL_NOTIFY_CONNECTORS: `${uniqueId('hb')}|pagerduty|http://127.0.0.1:9/v2/enqueue|RK-heartbeat-unused-0000000` } });
    proxy = await CuttableProxy.forAddress(stack.env.TEMPORAL_ADDRESS!).start();
  });
  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await stack?.stop();
    await proxy?.stop();
    await sink?.stop();
  });

  test('pings at the interval with the key; none while Temporal is cut off; a graceful stop counts no failure; never logged', async () => {
    const metricsPort = await freePort();
    const url = `${sink.url}/v2/heartbeats/${HEARTBEAT_NAME}/ping`;
    worker = spawnWorker({
      ...stack.env,
      TEMPORAL_ADDRESS: proxy.address,
      PROBECTL_NOTIFY_HEARTBEAT_URL: url,
      PROBECTL_NOTIFY_HEARTBEAT_AUTHORIZATION: GENIE_KEY,
      PROBECTL_NOTIFY_HEARTBEAT_INTERVAL: `${INTERVAL_MS}ms`,
      PROBECTL_NOTIFY_METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'debug',
    });
    await worker.ready;

    // Pings arrive (the first check runs at start, then one per interval), each a GET to the configured path with the key.
    await eventually(() => sink.pings.length >= 2, { what: 'two pings', timeoutMs: 60_000 });
    for (const p of sink.pings) {
      expect(p.method).toBe('GET');
      expect(p.path).toBe(`/v2/heartbeats/${HEARTBEAT_NAME}/ping`);
      expect(p.authorization).toBe(GENIE_KEY);
    }
    const metrics = async () => (await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
    const sample = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    const before = await metrics();
    expect(sample(before, 'probectl_notify_heartbeat_checks_total\\{outcome="ok"\\}')).toBeGreaterThanOrEqual(2);
    expect(sample(before, 'probectl_notify_heartbeat_last_success_timestamp_seconds')).toBeGreaterThan(0);

    // Temporal unreachable: the canary cannot finish, so no ping (a ping already on its way at the cut may still
    // arrive, hence the settle time); the process itself is alive all along. A check started during the cut fails
    // after its canary's deadline (at most the interval plus the canary timeout, 10 s, plus 1 s).
    proxy.cut();
    const cutAt = Date.now();
    await sleep(2_000);
    const quietFrom = Date.now();
    await eventually(async () => sample(await metrics(), 'probectl_notify_heartbeat_checks_total\\{outcome="canary_failed"\\}') >= 1, { what: 'canary_failed counted', timeoutMs: 40_000 });
    await sleep(INTERVAL_MS);
    expect(sink.after(quietFrom)).toEqual([]);
    expect(worker.child.exitCode).toBeNull();
    proxy.restore();
    const restoredAt = Date.now();
    await eventually(() => sink.after(restoredAt).length >= 1, { what: 'a ping after Temporal is back', timeoutMs: 60_000 });
    expect(cutAt).toBeLessThan(restoredAt);

    // A heartbeat service that refuses: the check is counted as ping_failed and logged by status.
    sink.status = 503;
    const refusedFrom = Date.now();
    await eventually(() => sink.after(refusedFrom).length >= 1, { what: 'a refused ping', timeoutMs: 30_000 });
    await eventually(async () => sample(await metrics(), 'probectl_notify_heartbeat_checks_total\\{outcome="ping_failed"\\}') >= 1, { what: 'ping_failed counted' });
    expect(worker.output()).toContain('the heartbeat URL refused the ping');
    sink.status = 202;

    // SIGTERM: a graceful stop counts and logs no failed check. (That no ping follows stop(), whatever the moment —
    // canary in flight, answering after stop(), ping in flight — is checked exactly in
    // test/unit/heartbeat-scheduler.test.ts; a process that has exited cannot ping, so it is not re-checked here.)
    const exited = new Promise<number | null>((r) => worker!.child.once('exit', (code) => r(code)));
    worker.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const shutdownLog = worker.output().slice(worker.output().indexOf('shutting down'));
    expect(shutdownLog).toContain('shutting down');
    expect(shutdownLog).not.toContain('heartbeat: check failed');
    expect(shutdownLog).not.toContain('heartbeat: the canary did not finish');

    // The log (debug level) never holds the key or the secret part of the URL, whole or in part.
    const log = worker.output();
    expect(log).toContain('heartbeat: dead man\'s switch on');
    expect(leakedWindows([GENIE_KEY, HEARTBEAT_NAME, GENIE_KEY.slice('GenieKey '.length)], log, 'worker log')).toEqual([]);

    // The canary created nothing for any tenant: it is its own workflow type, never an incident.
    const tq = stack.config.temporal.taskQueue;
    await eventually(async () => (await stack.client.workflow.count(`WorkflowType = 'heartbeatCanaryWorkflow' AND TaskQueue = '${tq}'`)).count >= 2, { what: 'the canaries in visibility' });
    expect((await stack.client.workflow.count(`WorkflowType = 'incidentWorkflow' AND TaskQueue = '${tq}'`)).count).toBe(0);
    // It starts at the most urgent task-queue priority, so a storm's backlog does not hold it back (configuration.md).
    const canary = (await stack.client.workflow.list({ query: `WorkflowType = 'heartbeatCanaryWorkflow' AND TaskQueue = '${tq}'` })[Symbol.asyncIterator]().next()).value;
    expect((await stack.client.workflow.getHandle(canary.workflowId, canary.runId).describe()).raw.workflowExecutionInfo?.priority?.priorityKey).toBe(1);
  });
});
