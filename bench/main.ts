/**
 * `npm run bench [-- --quick]` (bench/run.sh): latency, throughput and memory of probectl-notify on the real
 * stack (Temporal dev server, Postgres, worker and API as child processes, loopback doubles of all six
 * providers), with a raw fan-out baseline (bench/raw.ts) in the same run. Writes bench/results/<date>.json
 * and .md. Measures; asserts nothing about timings (the quick mode only checks every figure was produced).
 */
import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { temporal } from '@temporalio/proto';
import { Agent, request } from 'undici';
import { CALLBACK_SECRET, Fleet, PROVIDERS, randomSecret, type BenchProvider } from './lib/fleet';
import { load, machine, rssBreakdown, rssOf, type Machine } from './lib/machine';
import type { ThreadMemory } from './lib/memprobe';
import { closedLoop, paced, sleep, type PacedResult } from './lib/pace';
import { BenchStack } from './lib/stack';
import { summarize, type Summary } from './lib/stats';
import { runStep, type KneeRule, type StepSystem } from './lib/steps';
import { FLOOR_TASK_QUEUE } from './floor/contract';
import type { PartContext } from './parts/context';
import { floorPart, floorSystem } from './parts/floor';
import { phasesPart } from './parts/phases';
import { alertmanagerPart } from './parts/alertmanager';
import { renderMarkdown } from './report';
import type { RawPlan } from './raw';

// ---- options -------------------------------------------------------------------------------------------
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const opt = (name: string, fallback: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=').slice(1).join('=') ?? fallback;
/**
 * core: the figures the bench had before (open latency, raw baseline, history, inbound, step load, memory);
 * floor: the Temporal floor next to ours at each step rate; phases: where the milliseconds of an open go;
 * alertmanager: Alertmanager v0.35.0 on the same doubles at the same rates.
 */
const PARTS = ['core', 'floor', 'phases', 'alertmanager'] as const;
type Part = (typeof PARTS)[number];
if (flag('help')) {
  process.stdout.write(`usage: npm run bench -- [--quick] [--tenants=N] [--steps=5,10,20,...] [--step-seconds=S]
  [--eager-activities=on|off] [--no-eager-activities] [--dynamic-config=key=value ...] [--max-cached-workflows=N] [--inbound-rate=N] [--inbound-seconds=S] [--inbound-concurrency=N]
  [--memory-incidents=N] [--memory-minutes=M] [--memory-settle-seconds=S] [--sqlite-sync=OFF|NORMAL] [--sqlite-journal=WAL] [--keep]
  [--only=PART,...] [--skip=PART,...]   parts: ${PARTS.join(', ')} (default: all)
  [--temporal=dev|cluster] [--co-locate] [--floor-activities=ordinary|local] [--knee-ms=1000] [--phase-rates=5,20] [--phase-seconds=S] [--am-group-interval=10m] [--am-repeat-interval=10m]\n`);
  process.exit(0);
}
const quick = flag('quick');
const O = {
  quick,
  tenants: Number(opt('tenants', quick ? '4' : '20')),
  latencyRate: 20,
  latencySeconds: Number(opt('latency-seconds', quick ? '3' : '30')),
  steps: opt('steps', quick ? '5,20' : '5,10,20,30,40,50,60,75,100').split(',').map(Number),
  stepSeconds: Number(opt('step-seconds', quick ? '3' : '20')),
  resolveSample: Number(opt('resolve-sample', quick ? '10' : '100')),
  inboundSeconds: Number(opt('inbound-seconds', quick ? '2' : '10')),
  inboundConcurrency: Number(opt('inbound-concurrency', '16')),
  inboundRate: Number(opt('inbound-rate', '500')),
  /** PROBECTL_NOTIFY_MAX_CACHED_WORKFLOWS for the worker; empty: the service's default. */
  maxCachedWorkflows: opt('max-cached-workflows', ''),
  memoryIncidents: Number(opt('memory-incidents', quick ? '300' : '10000')),
  memoryMinutes: Number(opt('memory-minutes', quick ? '1' : '8')),
  /** How long the worker idles after the fan-outs before the memory split is read a third time. */
  memorySettleSeconds: Number(opt('memory-settle-seconds', quick ? '15' : '60')),
  /**
   * The Temporal server: `dev` (the dev server on SQLite, as `npm start` and the tests run it) or `cluster` (Temporal
   * server 1.29.1 on the local Postgres with the shipped dynamic config, as docker-compose.yml runs it).
   */
  temporal: opt('temporal', 'dev'),
  sqlite: { journalMode: opt('sqlite-journal', 'WAL'), synchronous: opt('sqlite-sync', 'OFF') },
  /**
   * Eager activity dispatch (--eager-activities=on|off): by default as each server runs for users — on for the dev
   * server (scripts/temporal-dev-server.sh, `npm start`), off on the cluster (deploy/temporal/dynamicconfig.yaml leaves
   * the server's default). --no-eager-activities is --eager-activities=off.
   */
  eagerActivities: flag('no-eager-activities') ? false : opt('eager-activities', opt('temporal', 'dev') === 'dev' ? 'on' : 'off') === 'on',
  /** --dynamic-config=key=value (repeatable): settings added to the server's dynamic config. */
  dynamicConfig: argv.filter((a) => a.startsWith('--dynamic-config=')).map((a) => a.slice('--dynamic-config='.length)),
  keep: flag('keep'),
  /**
   * The floor's calls: `ordinary` activities (the floor as the issue defines it) or `local` activities in the first
   * workflow task (the issue's local-activity lever, measured on the floor alone).
   */
  floorActivities: opt('floor-activities', 'ordinary'),
  /** Worker and API in one process (`main.js all`), as `npm start` runs them, instead of two. */
  coLocate: flag('co-locate'),
  only: opt('only', PARTS.join(',')).split(',').filter(Boolean),
  skip: opt('skip', '').split(',').filter(Boolean),
  /** The knee: p99 open → all reached at or under this, everything delivered (bench/lib/steps.ts). */
  kneeMs: Number(opt('knee-ms', '1000')),
  phaseRates: opt('phase-rates', '5,20').split(',').map(Number),
  phaseSeconds: Number(opt('phase-seconds', quick ? '3' : '20')),
  /** Longer than the Alertmanager part lasts, so no alert is notified twice while it is measured. */
  amGroupInterval: opt('am-group-interval', '10m'),
  amRepeatInterval: opt('am-repeat-interval', '10m'),
};
for (const p of [...O.only, ...O.skip]) {
  if (!(PARTS as readonly string[]).includes(p)) {
    process.stderr.write(`bench: unknown part ${JSON.stringify(p)} (parts: ${PARTS.join(', ')})\n`);
    process.exit(2);
  }
}
if (!['', 'on', 'off'].includes(opt('eager-activities', ''))) {
  process.stderr.write(`bench: --eager-activities=${opt('eager-activities', '')}: expected on or off\n`);
  process.exit(2);
}
if (O.floorActivities !== 'ordinary' && O.floorActivities !== 'local') {
  process.stderr.write(`bench: --floor-activities=${JSON.stringify(O.floorActivities)}: expected ordinary or local\n`);
  process.exit(2);
}
// Each step's figures are keyed by its rate (the floor's steps are matched to ours by it): a rate twice, or one that is
// not a positive number, would report another step's arrivals (negative latencies), so it is refused.
if (O.steps.some((r) => !Number.isFinite(r) || r <= 0) || new Set(O.steps).size !== O.steps.length) {
  process.stderr.write(`bench: --steps=${O.steps.join(',')}: expected distinct positive rates (incidents/s), each once\n`);
  process.exit(2);
}
if (O.temporal !== 'dev' && O.temporal !== 'cluster') {
  process.stderr.write(`bench: --temporal=${JSON.stringify(O.temporal)}: expected dev or cluster\n`);
  process.exit(2);
}
// The dev server's SQLite settings mean nothing to the cluster: refused, not ignored.
const devOnly = argv.filter((a) => /^--(sqlite-sync=|sqlite-journal=)/.test(a));
if (O.temporal === 'cluster' && devOnly.length > 0) {
  process.stderr.write(`bench: ${devOnly.join(' ')} set(s) the dev server's SQLite, not --temporal=cluster (Postgres)\n`);
  process.exit(2);
}
const want = (p: Part) => O.only.includes(p) && !O.skip.includes(p);
const KNEE: KneeRule = { p99Ms: O.kneeMs, waitMs: 30_000 };

/** The worker's node arguments and extra environment in docker-compose.yml (NODE_OPTIONS, MALLOC_ARENA_MAX). */
const WORKER_NODE_ARGS = '--max-old-space-size=256 --max-semi-space-size=8';
const WORKER_ENV = 'MALLOC_ARENA_MAX=2';
/** The API's: the image's NODE_OPTIONS and MALLOC_ARENA_MAX (Dockerfile), which compose leaves to the API. */
const API_NODE_ARGS = '--max-semi-space-size=8';
const API_ENV = 'MALLOC_ARENA_MAX=2';
/**
 * Both workers (ours and the floor's) also preload the request probe (bench/lib/probe.ts): idle unless the
 * phases part turns it on with SIGWINCH.
 */
const PROBE_ARGS = ['--require', join(__dirname, 'lib', 'probe.js'), '--require', join(__dirname, 'lib', 'memprobe.js')];
/**
 * Every process (ours, the API, the floor's worker) preloads the workflow-thread module as the image's entrypoint does
 * (Dockerfile): with PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES off, the default, no promise hook in the workflow threads.
 * BENCH_ENV="PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES=on" measures with it (both workers).
 */
const ENTRY_ARGS = ['--require', join(__dirname, '..', 'src', 'runtime', 'workflow-thread-preload.js')];

const log = (msg: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)} load ${load()[0]}] ${msg}\n`);

// ---- the run -------------------------------------------------------------------------------------------
const runTag = `bn${Date.now().toString(36).slice(-5)}`;
let seq = 0;
const newId = (phase: string) => `${runTag}-${phase}-${++seq}`;

interface Opened {
  id: string;
  tenant: number;
  t0: number;
  apiMs: number;
  status: number;
}

/** "K=V K2=V2" → { K: 'V', K2: 'V2' } (words without "=" are ignored). */
function envPairs(text: string): Record<string, string> {
  return Object.fromEntries(text.split(' ').filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

async function main(): Promise<void> {
  const m: Machine = machine();
  log(`machine: ${m.cpuModel}, ${m.cores} cores, ${m.ramGiB} GiB, node ${m.node}; mode ${quick ? 'quick' : 'full'}`);
  const fleet = await new Fleet(runTag).start();
  const stack = new BenchStack(O.temporal as 'dev' | 'cluster', { sqlite: O.sqlite, dynamicConfig: O.dynamicConfig, eagerActivities: O.eagerActivities, keep: O.keep }, log);
  // Interrupted: the stack is stopped first (the cluster's server runs in its own session, so a Ctrl-C does not reach
  // it; its databases are dropped unless --keep).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping the stack`);
      void stack.stop(O.keep).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
  const results: Record<string, unknown> = {};
  const problems: string[] = [];
  try {
    await stack.startBacking();
    const temporalBytesAtStart = await stack.temporal.storageBytes();
    log(`temporal ${stack.temporal.address}: ${stack.temporal.describe}; postgres db ${stack.dbName}`);

    const tenants = Array.from({ length: O.tenants }, (_, i) => `bt${i}`);
    const tokens = tenants.map(() => `benchtoken-${randomSecret()}`);
    const inboundSecrets = tenants.map(() => `inbound-${randomSecret()}`);
    const apiPort = await stack.freePort();
    const env: Record<string, string> = {
      TEMPORAL_ADDRESS: stack.temporal.address,
      DATABASE_URL: stack.databaseUrl,
      PROBECTL_NOTIFY_TASK_QUEUE: 'probectl-notify-bench',
      PROBECTL_NOTIFY_CONNECTORS: fleet.connectorEntries(tenants).join(','),
      PROBECTL_NOTIFY_API_TOKENS: tenants.map((t, i) => `${t}:${tokens[i]}`).join(','),
      PROBECTL_NOTIFY_INBOUND: tenants.map((t, i) => `pd-${t}:${t}:pagerduty:${inboundSecrets[i]}`).join(','),
      PROBECTL_NOTIFY_CALLBACK_URL: `${fleet.probectl.url}/api/notify/events`,
      PROBECTL_NOTIFY_CALLBACK_SECRET: CALLBACK_SECRET,
      PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: quick ? '1s' : '2s',
      PROBECTL_NOTIFY_API_PORT: String(apiPort),
      PROBECTL_NOTIFY_SHUTDOWN_DELAY: '100ms',
      LOG_LEVEL: 'warn',
      ...(O.maxCachedWorkflows ? { PROBECTL_NOTIFY_MAX_CACHED_WORKFLOWS: O.maxCachedWorkflows } : {}),
      // BENCH_ENV="K=V K2=V2": settings for both the API and the worker (an A/B of a setting, e.g.
      // PROBECTL_NOTIFY_BEGIN_IN_START=off).
      ...envPairs(process.env.BENCH_ENV ?? ''),
    };
    // The worker runs as the compose file runs it (heap capped at 256 MB); BENCH_WORKER_NODE_ARGS replaces the
    // node arguments, e.g. "--cpu-prof --cpu-prof-dir=test-artifacts/prof" to profile it.
    // BENCH_WORKER_ENV="K=V K2=V2" replaces the worker's extra environment (default: as docker-compose.yml).
    const workerEnv = envPairs(process.env.BENCH_WORKER_ENV ?? WORKER_ENV);
    const workerNodeArgs = [...(process.env.BENCH_WORKER_NODE_ARGS ?? WORKER_NODE_ARGS).split(' ').filter(Boolean), ...ENTRY_ARGS, ...PROBE_ARGS];
    const probeEnv = { BENCH_PROBE_DIR: stack.dir };
    const worker = stack.spawn(O.coLocate ? 'all' : 'worker', { ...env, ...workerEnv, ...probeEnv }, workerNodeArgs);
    // Co-located: one process is both; its CPU and RSS are charged once, as the worker's.
    const api = O.coLocate ? worker : stack.spawn('api', { ...env, ...envPairs(API_ENV) }, [...API_NODE_ARGS.split(' '), ...ENTRY_ARGS]);
    const apiBase = `http://127.0.0.1:${apiPort}`;
    const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000 });

    const call = async (method: 'GET' | 'POST', path: string, body?: string, headers: Record<string, string> = {}) => {
      const t = performance.now();
      const r = await request(`${apiBase}${path}`, { method, headers, dispatcher: agent, ...(body !== undefined ? { body } : {}) });
      const text = await r.body.text();
      return { status: r.statusCode, ms: performance.now() - t, text };
    };
    // Ready: the API answers and /readyz sees Postgres, Temporal and a worker polling the task queue.
    const readyBy = Date.now() + 180_000;
    for (;;) {
      for (const c of [worker, api]) {
        if (c.process.exitCode !== null) throw new Error(`${c.name} exited with ${c.process.exitCode}:\n${c.output()}`);
      }
      const r = await call('GET', '/readyz').catch(() => undefined);
      if (r?.status === 200) break;
      if (Date.now() > readyBy) throw new Error(`the stack did not become ready: ${r?.text}\nworker:\n${worker.output()}\napi:\n${api.output()}`);
      await sleep(500);
    }
    log(`worker pid ${worker.process.pid}, api pid ${api.process.pid}: ready`);

    // RSS sampled every second (the figure at 10,000 open incidents is taken at the end of the memory phase).
    const rssSamples: Array<{ at: number; worker?: number; api?: number }> = [];
    const rssTimer = setInterval(() => {
      rssSamples.push({ at: Date.now(), worker: rssOf(worker.process.pid)?.rssMB, api: O.coLocate ? undefined : rssOf(api.process.pid)?.rssMB });
    }, 1000);

    const opened: Opened[] = [];
    let resolvedCount = 0;
    const open = async (phase: string, i: number): Promise<Opened> => {
      const tenant = i % tenants.length;
      const id = newId(phase);
      const t0 = Date.now();
      const r = await call('POST', '/v1/incidents', JSON.stringify({
        id, title: 'Packet loss on edge-router-3 uplink', severity: 'critical', summary: '14% loss towards AS64500 for 5 minutes', source: 'probectl',
      }), { authorization: `Bearer ${tokens[tenant]}`, 'content-type': 'application/json' });
      const o = { id, tenant, t0, apiMs: r.ms, status: r.status };
      if (r.status !== 201) problems.push(`open ${id}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
      opened.push(o);
      return o;
    };
    const openAtRate = async (phase: string, rate: number, seconds: number) => {
      const batch: Opened[] = [];
      const pace = await paced(rate, seconds * 1000, async (i) => void batch.push(await open(phase, i)));
      return { batch, pace };
    };
    const waitAll = async (ids: string[], kind: 'open' | 'resolve', timeoutMs: number, except?: BenchProvider) => {
      const by = Date.now() + timeoutMs;
      while (Date.now() < by && !ids.every((id) => fleet.allReached(id, kind, except))) await sleep(100);
      return ids.filter((id) => !fleet.allReached(id, kind, except)).length;
    };
    const openFigures = (batch: Opened[]) => ({
      firstPage: summarize(batch.map((o) => fleet.latency(o.id, 'open', o.t0, 'pagerduty')).filter((v): v is number => v !== undefined)),
      allSix: summarize(batch.map((o) => fleet.latency(o.id, 'open', o.t0, 'all')).filter((v): v is number => v !== undefined)),
      apiAnswer: summarize(batch.map((o) => o.apiMs)),
      perProvider: Object.fromEntries(PROVIDERS.map((p) => [p, summarize(batch.map((o) => fleet.latency(o.id, 'open', o.t0, p)).filter((v): v is number => v !== undefined))])),
      incomplete: batch.filter((o) => !fleet.allReached(o.id, 'open')).length,
    });

    // ---- warm-up (not reported) --------------------------------------------------------------------------
    const warm = await openAtRate('w', 10, quick ? 1 : 3);
    await waitAll(warm.batch.map((o) => o.id), 'open', 60_000);
    log(`warm-up: ${warm.batch.length} incidents`);

    const deliver = async (tenant: number, incidentId: string, status: 'resolved' | 'acknowledged', deliveryId?: string) => {
      const body = JSON.stringify({ external_ref: `probectl-${incidentId}`, status, actor: 'bench', ...(deliveryId ? { delivery_id: deliveryId } : {}) });
      const sig = createHmac('sha256', inboundSecrets[tenant]!).update(body).digest('hex');
      return call('POST', `/ingest/itsm/pagerduty/pd-${tenants[tenant]}`, body, { 'content-type': 'application/json', 'x-probectl-signature': `sha256=${sig}` });
    };
    const linksOpen = async (o: Opened, n = 6) => {
      const by = Date.now() + 30_000;
      while (Date.now() < by) {
        const r = await call('GET', `/v1/incidents/${o.id}`, undefined, { authorization: `Bearer ${tokens[o.tenant]}` });
        const state = r.status === 200 ? (JSON.parse(r.text) as { links: Array<{ status: string }> }) : undefined;
        if (state && state.links.filter((l) => l.status === 'open').length >= n) return true;
        await sleep(100);
      }
      return false;
    };

    let latBatch: Opened[] = [];
    if (want('core')) {
      // ---- 1. open → first page, open → all six at 20/s --------------------------------------------------------
      const lat = await openAtRate('l', O.latencyRate, O.latencySeconds);
      latBatch = lat.batch;
      await waitAll(lat.batch.map((o) => o.id), 'open', 60_000);
      results.open = { rate: O.latencyRate, seconds: O.latencySeconds, pace: lat.pace, ...openFigures(lat.batch) };
      log(`open @${O.latencyRate}/s: ${JSON.stringify(openFigures(lat.batch).allSix)}`);

      // ---- raw baseline at the same rate, same doubles ------------------------------------------------------
      const rawLat = await runRaw(fleet, tenants, { tag: 'rl', rate: O.latencyRate, durationMs: O.latencySeconds * 1000, resolve: true });
      results.rawOpen = rawLat;
      log(`raw open @${O.latencyRate}/s: ${JSON.stringify((rawLat as { allSix: Summary | null }).allSix)}`);

      // ---- 6. history of one six-connector open + resolve ------------------------------------------------------
      const history = async (wid: string) => {
        const h = await stack.client.workflow.getHandle(wid).fetchHistory();
        const events = h.events ?? [];
        const byType: Record<string, number> = {};
        for (const e of events) {
          const name = (temporal.api.enums.v1.EventType[e.eventType as number] ?? String(e.eventType)).replace(/^EVENT_TYPE_/, '');
          byType[name] = (byType[name] ?? 0) + 1;
        }
        // Where the time goes: each event's offset from the start (ms), first 40 events.
        const ts = (e: (typeof events)[number]) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.round(Number(e.eventTime?.nanos ?? 0) / 1e6);
        const t0 = events[0] ? ts(events[0]) : 0;
        const timeline = events.slice(0, 40).map((e) => {
          const type = (temporal.api.enums.v1.EventType[e.eventType as number] ?? String(e.eventType)).replace(/^EVENT_TYPE_/, '');
          const activity = e.activityTaskScheduledEventAttributes?.activityType?.name;
          return `+${ts(e) - t0} ${type}${activity ? ` ${activity}` : ''}`;
        });
        return { events: events.length, bytes: temporal.api.history.v1.History.encode(h).finish().length, byType, timeline };
      };
      const histories: Record<string, unknown> = {};
      {
        const a = await open('h', 0);
        const aOpen = await linksOpen(a);
        if (!aOpen) problems.push('history: the six links were not open within 30 s; the inbound-resolve history is not a full open + resolve');
        const r = await deliver(a.tenant, a.id, 'resolved', randomUUID());
        if (r.status !== 202) problems.push(`history: inbound resolve answered ${r.status} ${r.text}`);
        await stack.client.workflow.getHandle(`probectl-${a.id}`).result();
        resolvedCount += 1;
        histories.inboundResolve = { sixLinksOpenBeforeResolve: aOpen, via: 'POST /ingest/itsm/pagerduty (origin PagerDuty; 5 resolves, 1 delayed second resolve for Opsgenie, callback to probectl)', ...(await history(`probectl-${a.id}`)) };
        const b = await open('h', 1);
        const bOpen = await linksOpen(b);
        if (!bOpen) problems.push('history: the six links were not open within 30 s; the probectl-resolve history is not a full open + resolve');
        await stack.client.workflow.getHandle(`probectl-${b.id}`).signal('resolve', { tenantId: tenants[b.tenant], source: 'probectl', at: new Date().toISOString() });
        await stack.client.workflow.getHandle(`probectl-${b.id}`).result();
        resolvedCount += 1;
        histories.probectlResolve = { sixLinksOpenBeforeResolve: bOpen, via: 'resolve signal from probectl (6 resolves, 2 delayed second resolves, no callback)', ...(await history(`probectl-${b.id}`)) };
      }
      results.history = histories;
      log(`history: ${JSON.stringify(Object.fromEntries(Object.entries(histories).map(([k, v]) => [k, (v as { events: number }).events])))}`);

      // ---- 2. inbound resolution → HTTP answer, → every other connector resolved -------------------------------
      {
        const sample = lat.batch.filter((o) => fleet.allReached(o.id, 'open')).slice(0, O.resolveSample);
        for (const o of sample.slice(0, 5)) await linksOpen(o); // the mirror has caught up (it is written asynchronously)
        const sent: Array<{ o: Opened; t0: number; ms: number; status: number }> = [];
        const pace = await paced(10, (sample.length * 1000) / 10, async (i) => {
          const o = sample[i]!;
          const t0 = Date.now();
          const r = await deliver(o.tenant, o.id, 'resolved', randomUUID());
          sent.push({ o, t0, ms: r.ms, status: r.status });
        });
        const missing = await waitAll(sample.map((o) => o.id), 'resolve', 60_000, 'pagerduty');
        resolvedCount += sample.length;
        const echoes = sample.filter((o) => fleet.arrivals.get(o.id)?.resolve.pagerduty !== undefined).length;
        results.inboundResolve = {
          route: 'POST /ingest/itsm/pagerduty/{id} (portable contract, X-Probectl-Signature)',
          rate: 10, pace,
          answer: summarize(sent.map((s) => s.ms)),
          othersResolved: summarize(sent.map((s) => fleet.latency(s.o.id, 'resolve', s.t0, 'all', 'pagerduty')).filter((v): v is number => v !== undefined)),
          statuses: countBy(sent.map((s) => String(s.status))),
          incomplete: missing,
          echoesToOrigin: echoes,
        };
        log(`inbound resolve: ${JSON.stringify((results.inboundResolve as { othersResolved: Summary }).othersResolved)}`);
      }

      // ---- 3. sustained incidents/s: step load until p99 open → all six passes 1 s -------------------------------
      const steps: Array<Record<string, unknown>> = [];
      let sustained = 0;
      for (const rate of O.steps) {
        const s = await openAtRate(`s${rate}`, rate, O.stepSeconds);
        const missing = await waitAll(s.batch.map((o) => o.id), 'open', 30_000);
        const f = openFigures(s.batch);
        const ok = missing === 0 && f.allSix !== null && f.allSix.p99 <= 1000 && s.pace.skipped === 0 && s.pace.achievedRate >= rate * 0.95;
        steps.push({ rate, pace: s.pace, ...f, withinTarget: ok });
        log(`step ${rate}/s (achieved ${s.pace.achievedRate}/s): all six ${JSON.stringify(f.allSix)} incomplete ${missing} → ${ok ? 'ok' : 'over'}`);
        if (!ok) break;
        sustained = rate;
        await sleep(2000);
      }
      results.throughput = { stepSeconds: O.stepSeconds, steps, sustainedPerSecond: sustained };

      // raw baseline: the same steps (until its own p99 passes 1 s)
      const rawSteps: Array<Record<string, unknown>> = [];
      let rawSustained = 0;
      for (const rate of O.steps) {
        const r = (await runRaw(fleet, tenants, { tag: `rs${rate}`, rate, durationMs: O.stepSeconds * 1000, resolve: false })) as { allSix: Summary | null; incomplete: number; pace: PacedResult };
        const ok = r.incomplete === 0 && r.allSix !== null && r.allSix.p99 <= 1000 && r.pace.achievedRate >= rate * 0.95;
        rawSteps.push({ rate, ...r, withinTarget: ok });
        log(`raw step ${rate}/s: all six ${JSON.stringify(r.allSix)} → ${ok ? 'ok' : 'over'}`);
        if (!ok) break;
        rawSustained = rate;
      }
      results.rawThroughput = { steps: rawSteps, sustainedPerSecond: rawSustained, note: rawSustained === O.steps[O.steps.length - 1] ? 'the last step was still within 1 s' : undefined };

    }

    // ---- the floor, where the milliseconds go, Alertmanager (bench/parts/*) ---------------------------------
    if (want('floor') || want('phases') || want('alertmanager')) {
      let floorWorker: ReturnType<typeof stack.spawnScript> | undefined;
      const floor: StepSystem = {
        ...floorSystem(stack.client, tenants, runTag, O.floorActivities === 'local'),
        processes: () => ({ worker: floorWorker?.process.pid, temporal: stack.temporal.pid }),
      };
      const ctx: PartContext = {
        fleet, stack, tenants, steps: O.steps, stepSeconds: O.stepSeconds, knee: KNEE, quick, log, problems,
        ours: {
          name: 'ours',
          processes: () => ({ worker: worker.process.pid, ...(O.coLocate ? {} : { api: api.process.pid }), temporal: stack.temporal.pid }),
          async start(tag, i) {
            const o = await open(tag, i);
            return { id: o.id, t0: o.t0, answerMs: o.apiMs, status: String(o.status) };
          },
        },
        worker,
        oursSteps: new Map(),
        async floorWorker() {
          if (floorWorker) return floorWorker;
          floorWorker = stack.spawnScript('floor-worker', join(__dirname, 'floor', 'worker.js'), [], { ...env, ...workerEnv, ...probeEnv }, workerNodeArgs);
          await waitForPoller(stack, FLOOR_TASK_QUEUE, floorWorker);
          log(`floor worker pid ${floorWorker.process.pid}: polling ${FLOOR_TASK_QUEUE}`);
          // Warm-up (not reported), as for ours.
          await runStep(fleet, floor, 'fw', 10, quick ? 1 : 3, KNEE);
          return floorWorker;
        },
      };
      try {
        if (want('floor')) results.floor = await floorPart(ctx, floor, O.floorActivities === 'local');
        if (want('phases')) results.phases = await phasesPart(ctx, floor, O.phaseRates, O.phaseSeconds);
      } finally {
        await floorWorker?.stop();
      }
      if (want('alertmanager')) results.alertmanager = await alertmanagerPart(ctx, runTag, { groupInterval: O.amGroupInterval, repeatInterval: O.amRepeatInterval });
      results.oursSteps = [...ctx.oursSteps.values()].map(({ started: _s, ...f }) => f);
    }

    if (want('core')) {
      // ---- 4. inbound verified deliveries per second -----------------------------------------------------------
      {
        const resolved = latBatch.filter((o) => fleet.allReached(o.id, 'resolve', 'pagerduty'));
        const openOnes = opened.filter((o) => o.id.includes('-s') && fleet.allReached(o.id, 'open') && !fleet.arrivals.get(o.id)?.resolve.opsgenie);
        // The target's question: at an offered 500 deliveries/s (open loop, not waiting for answers), how fast
        // is each answered?
        const atRate = async (kind: 'resolved' | 'acknowledged', pool: readonly Opened[]) => {
          const answers: number[] = [];
          const statuses: string[] = [];
          const p = await paced(O.inboundRate, O.inboundSeconds * 1000, async (i) => {
            const o = pool[i % Math.max(1, pool.length)];
            if (!o) return;
            const r = await deliver(o.tenant, o.id, kind, randomUUID());
            answers.push(r.ms);
            statuses.push(`${r.status} ${safeOutcome(r.text)}`);
          });
          return { offeredPerSecond: O.inboundRate, achievedPerSecond: p.achievedRate, skipped: p.skipped, deliveries: answers.length, answer: summarize(answers), outcomes: countBy(statuses) };
        };
        // First, on a settled stack: the closed-loop acknowledgements below leave fan-outs running.
        const dupAtRate = await atRate('resolved', resolved);
        const ackAtRate = await atRate('acknowledged', openOnes);
        log(`inbound at ${O.inboundRate}/s offered: dup p99 ${dupAtRate.answer?.p99} ms (achieved ${dupAtRate.achievedPerSecond}/s), ack p99 ${ackAtRate.answer?.p99} ms (achieved ${ackAtRate.achievedPerSecond}/s)`);
        const dupAnswers: number[] = [];
        const dupStatus: string[] = [];
        const dup = await closedLoop(O.inboundConcurrency, O.inboundSeconds * 1000, async (i) => {
          const o = resolved[i % resolved.length]!;
          const r = await deliver(o.tenant, o.id, 'resolved', randomUUID());
          dupAnswers.push(r.ms);
          dupStatus.push(`${r.status} ${safeOutcome(r.text)}`);
        });
        const ackAnswers: number[] = [];
        const ackStatus: string[] = [];
        const ack = await closedLoop(O.inboundConcurrency, O.inboundSeconds * 1000, async (i) => {
          const o = openOnes[i % Math.max(1, openOnes.length)];
          if (!o) return;
          const r = await deliver(o.tenant, o.id, 'acknowledged', randomUUID());
          ackAnswers.push(r.ms);
          ackStatus.push(`${r.status} ${safeOutcome(r.text)}`);
        });
        const figure = (done: { done: number; elapsedMs: number }, answers: number[], statuses: string[]) => ({
          deliveries: answers.length,
          perSecond: Math.round((answers.length * 10_000) / done.elapsedMs) / 10,
          answer: summarize(answers),
          outcomes: countBy(statuses),
        });
        results.inboundThroughput = {
          concurrency: O.inboundConcurrency,
          seconds: O.inboundSeconds,
          atRate: { duplicateResolutions: dupAtRate, acknowledgements: ackAtRate },
          duplicateResolutions: { what: 'verified resolution of an already-resolved incident, unique delivery id: verify, record delivery id, mirror lookup, 200 duplicate', ...figure(dup, dupAnswers, dupStatus) },
          acknowledgements: { what: 'verified acknowledgement of an open incident: verify, record delivery id, mirror lookup, signal the workflow, 202', ...figure(ack, ackAnswers, ackStatus) },
        };
        log(`inbound: dup ${figure(dup, dupAnswers, dupStatus).perSecond}/s, ack ${figure(ack, ackAnswers, ackStatus).perSecond}/s`);
      }

      // ---- 5. memory with N open incidents; storage per incident -----------------------------------------------
      {
        // The worker's RSS, how /proc splits it, and each thread's V8 heap (bench/lib/memprobe.ts); "native" is
        // the anonymous memory no V8 heap accounts for (the SDK's core, malloc, thread stacks).
        const workerMemory = () => {
          const pid = worker.process.pid;
          const threads: ThreadMemory[] = readdirSync(stack.dir)
            .filter((f) => f.startsWith(`mem-${pid}-`) && f.endsWith('.json'))
            .flatMap((f) => {
              try {
                return [JSON.parse(readFileSync(join(stack.dir, f), 'utf8')) as ThreadMemory];
              } catch {
                return [];
              }
            })
            // Only threads alive now: each writes every 2 s, so a file older than 10 s is a thread that ended.
            .filter((t) => Date.now() - t.at < 10_000);
          const split = rssBreakdown(pid);
          const heaps = threads.reduce((x, t) => x + t.heapTotalMB + t.mallocedMB, 0);
          return {
            rssMB: rssOf(pid)?.rssMB,
            ...split,
            threads: threads.map(({ at: _at, ...t }) => t),
            nativeAnonMB: split ? Math.round((split.anonMB - heaps) * 10) / 10 : undefined,
          };
        };
        const openNow = () => opened.length - resolvedCount;
        const by = Date.now() + O.memoryMinutes * 60_000;
        let k = 0;
        const fillStart = Date.now();
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            while (openNow() < O.memoryIncidents && Date.now() < by) await open('m', k++);
          }),
        );
        const fillSeconds = (Date.now() - fillStart) / 1000;
        log(`memory: ${openNow()} open incidents after ${Math.round(fillSeconds)} s of filling; waiting for every fan-out`);
        const atFillEnd = workerMemory();
        const missing = await waitAll(opened.filter((o) => o.id.includes('-m-')).map((o) => o.id), 'open', 120_000);
        await sleep(5000);
        const afterFanOuts = workerMemory();
        const w = rssOf(worker.process.pid);
        const a = O.coLocate ? undefined : rssOf(api.process.pid);
        const tables = await stack.tableSizes();
        const pgBytes = Object.values(tables).reduce((x, y) => x + y, 0);
        const temporalBytes = await stack.temporal.storageBytes();
        const running = await stack.client.workflow.count('ExecutionStatus = "Running"').then((c) => c.count).catch(() => undefined);
        // The same split once the worker has been idle a while: what stays is held, not in flight.
        await sleep(O.memorySettleSeconds * 1000);
        const settled = workerMemory();
        results.memory = {
          targetOpenIncidents: O.memoryIncidents,
          openIncidents: openNow(),
          runningWorkflows: running,
          fill: { incidents: k, seconds: Math.round(fillSeconds), perSecond: Math.round((k / fillSeconds) * 10) / 10, concurrency: 8, incompleteFanOuts: missing },
          workerRssMB: w?.rssMB, workerPeakRssMB: w?.peakMB,
          apiRssMB: a?.rssMB, apiPeakRssMB: a?.peakMB,
          workerSplit: { atFillEnd, afterFanOuts, [`after${O.memorySettleSeconds}sIdle`]: settled },
          incidentsInRun: opened.length,
          postgres: { bytes: pgBytes, perIncidentBytes: Math.round(pgBytes / opened.length), tables },
          temporalStorage: {
            bytesDelta: temporalBytes - temporalBytesAtStart, perIncidentBytes: Math.round((temporalBytes - temporalBytesAtStart) / opened.length),
            what: stack.temporal.kind === 'cluster' ? 'the two Temporal databases (pg_database_size)' : 'SQLite main file + WAL',
          },
        };
        log(`memory: ${JSON.stringify(results.memory)}`);
      }
    }
    clearInterval(rssTimer);
    results.rssTimeline = rssSamples.filter((_, i) => i % 5 === 0);
    results.requestCounts = fleet.requestCounts;
    results.callbacks = { accepted: fleet.probectl.accepted().length, rejected: fleet.probectl.rejected };
  } catch (err) {
    problems.push(`run failed: ${(err as Error).stack ?? String(err)}`);
    log(`FAILED: ${(err as Error).message}`);
  } finally {
    m.loadAvgAtEnd = load();
    await stack.stop(O.keep).catch((e: unknown) => problems.push(`stop: ${(e as Error).message}`));
    await fleet.stop();
  }

  const report = {
    date: new Date().toISOString(),
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    mode: quick ? 'quick' : 'full',
    machine: m,
    parts: PARTS.filter(want),
    settings: { ...O, workerNodeArgs: `${process.env.BENCH_WORKER_NODE_ARGS ?? WORKER_NODE_ARGS} --require src/runtime/workflow-thread-preload.js (as the image's entrypoint) --require bench/lib/probe.js (idle unless the phases part runs) --require bench/lib/memprobe.js (each thread's heap figures every 2 s)`, workerEnv: process.env.BENCH_WORKER_ENV ?? WORKER_ENV, env: process.env.BENCH_ENV ?? '', temporalServer: stack.temporal?.describe ?? O.temporal, ...(O.temporal === 'dev' ? { sqlitePragmas: `journal_mode=${O.sqlite.journalMode}, synchronous=${O.sqlite.synchronous}` } : {}), pacing: 'rate_per_min=6000 on every connector', logLevel: 'warn' },
    results,
    problems: problems.slice(0, 50),
    missingFigures: missingFigures(results),
  };
  const dir = join(__dirname, '..', '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${report.date.slice(0, 19).replace(/:/g, '-')}${quick ? '-quick' : ''}`);
  writeFileSync(`${base}.json`, JSON.stringify(report, null, 2));
  const md = renderMarkdown(report);
  writeFileSync(`${base}.md`, md);
  process.stdout.write(`\n${md}\nwritten: ${base}.json, ${base}.md\n`);
  if (report.missingFigures.length > 0) {
    process.stderr.write(`bench: figures missing: ${report.missingFigures.join(', ')}\n`);
    process.exit(1);
  }
  process.exit(0);
}

/** The raw baseline in its own process (bench/raw.ts); latencies are stamped by the same doubles. */
async function runRaw(fleet: Fleet, tenants: string[], p: Pick<RawPlan, 'tag' | 'rate' | 'durationMs' | 'resolve'>): Promise<Record<string, unknown>> {
  const plan: RawPlan = { connectors: fleet.connectorEntries(tenants).join(','), tenants, idPrefix: runTag, ...p };
  const child = spawn(process.execPath, [join(__dirname, 'raw.js'), JSON.stringify(plan)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => void (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => void (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`raw baseline exited with ${code}: ${err}`);
  const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; id: string; t0: number; pace?: PacedResult; resolvePace?: PacedResult; failures?: number });
  const opens = lines.filter((l) => l.kind === 'open');
  const resolves = lines.filter((l) => l.kind === 'resolve');
  const done = lines.find((l) => l.kind === 'done')!;
  await sleep(200);
  const lat = (kind: 'open' | 'resolve', rows: typeof opens, provider: BenchProvider | 'all', except?: BenchProvider) =>
    summarize(rows.map((l) => fleet.latency(l.id, kind, l.t0, provider, except)).filter((v): v is number => v !== undefined));
  return {
    rate: p.rate,
    pace: done.pace,
    failures: done.failures,
    firstPage: lat('open', opens, 'pagerduty'),
    allSix: lat('open', opens, 'all'),
    incomplete: opens.filter((l) => !fleet.allReached(l.id, 'open')).length,
    ...(p.resolve ? { othersResolved: lat('resolve', resolves, 'all', 'pagerduty'), resolvePace: done.resolvePace } : {}),
  };
}

/** Until a worker polls `taskQueue` (workflow tasks), or `child` exits, or 120 s. */
async function waitForPoller(stack: BenchStack, taskQueue: string, child: { name: string; process: { exitCode: number | null }; output(): string }): Promise<void> {
  const by = Date.now() + 120_000;
  for (;;) {
    if (child.process.exitCode !== null) throw new Error(`${child.name} exited with ${child.process.exitCode}:\n${child.output()}`);
    const d = await stack.client.workflowService.describeTaskQueue({
      namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    }).catch(() => undefined);
    if ((d?.pollers?.length ?? 0) > 0) return;
    if (Date.now() > by) throw new Error(`no worker polled ${taskQueue} within 120 s:\n${child.output()}`);
    await sleep(250);
  }
}

function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

function safeOutcome(text: string): string {
  try {
    return String((JSON.parse(text) as { outcome?: string; error?: string }).outcome ?? (JSON.parse(text) as { error?: string }).error ?? '');
  } catch {
    return '';
  }
}

/** Every figure the selected parts report; the quick mode fails when one is missing (never on a timing). */
function missingFigures(r: Record<string, any>): string[] {
  const need: Array<[string, unknown]> = [];
  if (want('floor')) {
    const first = r.floor?.steps?.[0];
    need.push(
      ['floor.steps', r.floor?.steps?.length ? r.floor.steps : undefined],
      ['floor.steps[0].ours.all', first?.ours?.all],
      ['floor.steps[0].floor.all', first?.floor?.all],
      ['floor.steps[0].floor.firstPage', first?.floor?.firstPage],
      ['floor.steps[0].allSixRatio', first?.allSixRatio?.p50],
    );
  }
  if (want('phases')) {
    for (const rate of O.phaseRates) {
      for (const sys of ['ours', 'floor']) {
        const run = r.phases?.runs?.find((x: any) => x.system === sys && x.rate === rate);
        // A system whose opens ran locally first (ours by default) has the local rows instead of the activity rows.
        const activityRows = ['opens scheduled → activity started', 'activity started → request sent', 'request sent → double received it', 'double received → answer at worker', 'answer at worker → activity completed'];
        const localRows = ['local: first workflow task started → request sent', 'local: request sent → double received it', 'local: double received → answer at worker', 'local: answer at worker → first task completed'];
        for (const phase of ['sent → start accepted', ...((run?.localOpens ?? 0) > 0 && (run?.activities ?? 0) === 0 ? localRows : activityRows), 'sent → first page reached']) {
          need.push([`phases.${sys}@${rate}.${phase}`, run?.phases?.[phase]?.p50]);
        }
      }
    }
  }
  if (want('alertmanager') && !r.alertmanager?.skipped) {
    const first = r.alertmanager?.steps?.[0];
    need.push(
      ['alertmanager.steps', r.alertmanager?.steps?.length ? r.alertmanager.steps : undefined],
      ['alertmanager.steps[0].firstPage', first?.alertmanager?.firstPage],
      ['alertmanager.steps[0].allFive', first?.alertmanager?.all],
      ...(['opsgenie', 'slack', 'teams', 'jira'] as const).map((p): [string, unknown] => [`alertmanager.steps[0].${p}`, first?.alertmanager?.perProvider?.[p]]),
      ['alertmanager.steps[0].ours', first?.ours?.allSix],
    );
  }
  if (!want('core')) return need.filter(([, v]) => v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v))).map(([k]) => k);
  need.push(
    ['open.firstPage', r.open?.firstPage],
    ['open.allSix', r.open?.allSix],
    ['rawOpen.allSix', r.rawOpen?.allSix],
    ['inboundResolve.answer', r.inboundResolve?.answer],
    ['inboundResolve.othersResolved', r.inboundResolve?.othersResolved],
    ['rawOpen.othersResolved', r.rawOpen?.othersResolved],
    ['throughput.steps', r.throughput?.steps?.length ? r.throughput.steps : undefined],
    ['rawThroughput.steps', r.rawThroughput?.steps?.length ? r.rawThroughput.steps : undefined],
    ['inboundThroughput.duplicateResolutions', r.inboundThroughput?.duplicateResolutions?.answer],
    ['inboundThroughput.acknowledgements', r.inboundThroughput?.acknowledgements?.answer],
    ['inboundThroughput.atRate.duplicateResolutions', r.inboundThroughput?.atRate?.duplicateResolutions?.answer],
    ['inboundThroughput.atRate.acknowledgements', r.inboundThroughput?.atRate?.acknowledgements?.answer],
    ['memory.workerRssMB', r.memory?.workerRssMB],
    ['memory.apiRssMB', r.memory?.apiRssMB],
    ['memory.postgres', r.memory?.postgres?.perIncidentBytes],
    ['memory.temporalStorage', r.memory?.temporalStorage?.perIncidentBytes],
    ['history.inboundResolve', r.history?.inboundResolve?.events],
  );
  return need.filter(([, v]) => v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v))).map(([k]) => k);
}

void main();
