/**
 * Every metric that deploy/ reads (the Grafana dashboard's panels and variables, the Prometheus alert rules) is
 * really exported by the running service. The real processes run — `node main.js worker` (with its /metrics port
 * and the Temporal SDK metrics address) and `node main.js api` — on the dev server and Postgres, with PagerDuty
 * and probectl doubles. One scripted lifecycle produces what an operator would see: a page, an acknowledgement
 * held back by pacing, a resolution from PagerDuty reported to probectl, a page PagerDuty refuses for good, an
 * inbound 401, a workflow task that fails (a workflow type the worker does not know), and, at the end, the
 * worker's connection to Temporal cut so its polls fail. Then the three endpoints are scraped and each metric
 * name parsed out of the PromQL must have samples there; a name that has none fails the test by name.
 */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { PagerDutyDouble } from '../../dev/doubles/pagerduty';
import { ProbectlDouble } from '../../dev/doubles/probectl';
import { alertExpressions, dashboardExpressions, promtool } from '../helpers/deploy-files';
import { exposedNames, metricNames } from '../helpers/promql';
import { eventually, uniqueId } from '../helpers/shared';
import { incidentFor, startStack, type TestStack } from '../helpers/stack';
import { CuttableProxy } from '../helpers/tcp-proxy';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';
import { freePort } from '../setup/temporal-server';

/** Series Prometheus writes itself for every target; no service exports them. */
const PROMETHEUS_OWN = new Set(['up']);

const RK_PACED = 'R0UT1NGKEYdeployPaced0000000001';
const RK_PLAIN = 'R0UT1NGKEYdeployPlain0000000002';
const TOKEN = 'tok-deploy-metrics-0123456789abcdef';
const INBOUND_SECRET = 'inbound-secret-deploy-0123456789';
const CALLBACK_SECRET = 'callback-secret-deploy-0123456789';

describe('deploy/: every metric the dashboard and the alert rules read is exported', () => {
  let pd: PagerDutyDouble;
  let probectl: ProbectlDouble;
  let stack: TestStack;
  let proxy: CuttableProxy;
  let worker: WorkerProcess | undefined;
  let api: WorkerProcess | undefined;
  const paced = uniqueId('deploy-paced');
  const plain = uniqueId('deploy-plain');

  beforeAll(async () => {
    pd = await new PagerDutyDouble().start();
    probectl = await new ProbectlDouble(CALLBACK_SECRET).start();
    stack = await startStack({
      worker: false,
      env: {
        // 12 calls a minute: the acknowledgement sent right after the page would wait up to 5 s for its token,
        // over the 2 s an activity may hold its slot, so it is deferred (and goes out about 5 s later).
        PROBECTL_NOTIFY_CONNECTORS: `${paced}|pagerduty|${pd.url}/v2/enqueue?rate_per_min=12|${RK_PACED},${plain}|pagerduty|${pd.url}/v2/enqueue|${RK_PLAIN}`,
        PROBECTL_NOTIFY_API_TOKENS: `${paced}:${TOKEN}`,
        PROBECTL_NOTIFY_INBOUND: `pagerduty:${paced}:pagerduty:${INBOUND_SECRET}`,
        PROBECTL_NOTIFY_CALLBACK_URL: `${probectl.url}/api/notify/events`,
        PROBECTL_NOTIFY_CALLBACK_SECRET: CALLBACK_SECRET,
      },
    });
    proxy = await CuttableProxy.forAddress(stack.env.TEMPORAL_ADDRESS!).start();
  });
  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await api?.kill('SIGKILL');
    await stack?.stop();
    await proxy?.stop();
    await pd?.stop();
    await probectl?.stop();
  });

  test('a lifecycle on the real processes, then every referenced name is found in a scrape', async () => {
    // The expressions first: a parse problem fails before anything starts.
    const expressions = [...dashboardExpressions(), ...alertExpressions()];
    const referenced = new Map<string, string[]>();
    for (const { where, expr } of expressions) for (const n of metricNames(expr)) referenced.set(n, [...(referenced.get(n) ?? []), where]);
    expect(referenced.size).toBeGreaterThan(0);

    const [apiPort, metricsPort, sdkPort] = [await freePort(), await freePort(), await freePort()];
    // The worker reaches Temporal through a proxy the test cuts at the end; the API reaches it directly.
    worker = spawnWorker({
      ...stack.env, TEMPORAL_ADDRESS: proxy.address,
      PROBECTL_NOTIFY_METRICS_PORT: String(metricsPort), PROBECTL_NOTIFY_SDK_METRICS_ADDRESS: `127.0.0.1:${sdkPort}`,
    }, 'worker');
    api = spawnWorker({ ...stack.env, PROBECTL_NOTIFY_API_PORT: String(apiPort) }, 'api');
    await Promise.all([worker.ready, api.ready]);
    expect(worker.output()).toContain('Temporal SDK metrics listening');

    const base = `http://127.0.0.1:${apiPort}`;
    const endpoints = { api: `${base}/metrics`, worker: `http://127.0.0.1:${metricsPort}/metrics`, sdk: `http://127.0.0.1:${sdkPort}/metrics` };
    const scrape = async (url: string) => {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      return res.text();
    };
    const v1 = (path: string, body: object) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

    // 1. A page through the API, then an acknowledgement that pacing defers.
    const a = incidentFor(paced);
    expect((await v1('/v1/incidents', { id: a.id, title: a.title, severity: 'critical' })).status).toBe(201);
    await eventually(async () => (await stack.incidents.getIncident(a.id)).links[0]?.status === 'open', { what: 'A paged' });
    expect((await v1(`/v1/incidents/${a.id}/acknowledge`, { actor: 'alice' })).status).toBe(202);
    await eventually(async () => exposedNames(await scrape(endpoints.worker)).has('probectl_notify_pacing_deferrals_total'), { what: 'a pacing deferral' });

    // 2. PagerDuty resolves it (a verified inbound delivery): probectl is told through the signed callback.
    const inbound = await fetch(`${base}/ingest/itsm/pagerduty/pagerduty`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-probectl-token': INBOUND_SECRET },
      body: JSON.stringify({ external_ref: `probectl-${a.id}`, status: 'resolved' }),
    });
    expect(inbound.status).toBe(202);
    // (The callback goes out once the deferred acknowledgement is through; checked after steps 3 to 5.)

    // 3. PagerDuty refuses a page for good (400).
    const b = incidentFor(plain);
    pd.faults.before = (req) => ((req.json as { dedup_key?: string }).dedup_key === `probectl-${b.id}` ? { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors: ['nope'] } } : undefined);
    await stack.incidents.openIncident(b);
    await eventually(async () => (await stack.incidents.getIncident(b.id)).links[0]?.status === 'failed', { what: 'B failed' });
    pd.faults = {};
    await stack.incidents.resolve(b.id, { tenantId: plain, source: 'probectl', at: new Date().toISOString() });
    await stack.incidents.result(b.id);

    // 4. An inbound delivery without credentials: 401.
    expect((await fetch(`${base}/ingest/itsm/pagerduty/nobody`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);

    // 5. A workflow type this worker does not know: its workflow task fails.
    const stray = await stack.client.workflow.start('noSuchWorkflow', { taskQueue: stack.config.temporal.taskQueue, workflowId: uniqueId('deploy-stray'), args: [] });
    await eventually(async () => exposedNames(await scrape(endpoints.sdk)).has('temporal_workflow_task_execution_failed_total'), { what: 'a failed workflow task' });
    await stray.terminate('test: unknown workflow type');

    await eventually(() => probectl.events.some((e) => e.incidentId === a.id && e.type === 'incident.resolved'), { what: 'callback for A', timeoutMs: 60_000 });

    const apiText = await scrape(endpoints.api);
    const workerText = await scrape(endpoints.worker);
    // 6. The worker loses Temporal: its polls fail.
    proxy.cut();
    const sdkText = await eventually(async () => {
      const t = await scrape(endpoints.sdk);
      return /^temporal_long_request_failure_total\{[^}]*operation="PollWorkflowTaskQueue"/m.test(t) ? t : undefined;
    }, { what: 'failed workflow-task polls' });

    const found = new Map<string, string[]>();
    for (const [endpoint, text] of Object.entries({ api: apiText, worker: workerText, sdk: sdkText })) {
      for (const n of exposedNames(text)) found.set(n, [...(found.get(n) ?? []), endpoint]);
    }
    const notExported = [...referenced.keys()].filter((n) => !found.has(n) && !PROMETHEUS_OWN.has(n)).sort();
    expect({ notExported: notExported.map((n) => `${n} (read by ${referenced.get(n)!.join('; ')})`) }).toEqual({ notExported: [] });

    // The SDK endpoint passes Prometheus' own lint; the service's does, apart from prom-client's default
    // process metrics (which name gauges *_total).
    const lint = (text: string) => spawnSync(promtool(), ['check', 'metrics'], { input: text, encoding: 'utf8' });
    const sdkLint = lint(sdkText);
    expect(`${sdkLint.stdout}${sdkLint.stderr}`.trim()).toBe('');
    for (const text of [apiText, workerText]) {
      const r = lint(text);
      const problems = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() && !/^probectl_notify_(?:nodejs|process)_/.test(l));
      expect(problems).toEqual([]);
    }

    // A new endpoint leaks nothing: no secret, token, tenant or incident id in any scrape.
    for (const text of [apiText, workerText, sdkText]) {
      for (const s of [RK_PACED, RK_PLAIN, TOKEN, INBOUND_SECRET, CALLBACK_SECRET, paced, plain, a.id, b.id]) expect(text).not.toContain(s);
    }
  });

  test('a worker whose SDK metrics address cannot be bound does not start, and says which setting', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const address = `127.0.0.1:${(taken.address() as { port: number }).port}`;
    try {
      const proc = spawnWorker({ ...stack.env, PROBECTL_NOTIFY_SDK_METRICS_ADDRESS: address }, 'worker');
      const code = await new Promise<number | null>((r) => proc.child.once('exit', (c) => r(c)));
      expect(code).toBe(78);
      expect(proc.output()).toContain(`configuration error: PROBECTL_NOTIFY_SDK_METRICS_ADDRESS: cannot serve the Temporal SDK metrics on ${address}`);
      expect(proc.output()).not.toContain('worker started');
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });
});
