#!/usr/bin/env node
/**
 * `npm run demo` (docs/demo.md): the whole service on one machine with nothing but Node — the Temporal dev
 * server, the embedded database (or DATABASE_URL), loopback doubles of every implemented provider for one
 * demo tenant, the worker and the API in this process. It opens an incident through /v1, shows each link
 * as it appears, plays an on-call engineer closing the ServiceNow ticket (signed inbound delivery), shows
 * the loop-protected fan-out, prints the Temporal UI link, stops everything and exits 0.
 *
 *   node dist-dev/dev/demo/main.js [--keep]     --keep: leave it all running until Ctrl-C, to look around
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { IncidentClient } from '../../src/client';
import { probectlSignature } from '../../src/cli/commands/sign';
import { loadConfig } from '../../src/config/load';
import type { Secret } from '../../src/config/secret';
import { migrate } from '../../src/db/migrate';
import { createLogger } from '../../src/observability/logger';
import { freePort, findTemporalCli, projectRoot, startDevServer } from '../dev-server';
import { startEmbeddedDb } from '../../src/runtime/embedded-db';
import { eagerStartFor, processParts, runApi, runWorker } from '../../src/runtime/processes';
import type { IncidentStateView, Link } from '../../src/shared/contract';
import { serviceNowTicket, startSandbox } from './doubles';

const TENANT = 'demo';
const API_TOKEN = 'demo-token-0123456789abcdef';
const INBOUND_ID = 'snow-demo';
const INBOUND_SECRET = 'demo-inbound-secret-0123456789abcdef';

const t0 = Date.now();
const secs = (from = t0) => `${((Date.now() - from) / 1000).toFixed(1).padStart(5)}s`;
const say = (text: string) => process.stdout.write(`[${secs()}] ${text}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const stack: Array<{ what: string; stop: () => Promise<unknown> }> = [];
const onStop = (what: string, stop: () => Promise<unknown>) => stack.push({ what, stop });

async function stopAll(): Promise<void> {
  while (stack.length > 0) {
    const { what, stop } = stack.pop()!;
    try {
      await stop();
    } catch (err) {
      process.stdout.write(`  (stopping ${what}: ${(err as Error).message})\n`);
    }
  }
}

async function main(): Promise<number> {
  const keep = process.argv.includes('--keep');
  const root = projectRoot();
  const dataDir = join(root, '.data');
  mkdirSync(dataDir, { recursive: true });
  say('probectl-notify demo: one tenant, every implemented connector against loopback doubles; nothing leaves this machine');

  // ---- Temporal -------------------------------------------------------------------------------------------
  let temporalAddress = process.env.TEMPORAL_ADDRESS;
  let uiBase = process.env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233';
  if (!temporalAddress) {
    say('finding the Temporal CLI (scripts/temporal-cli.sh; a first build with Go takes minutes)…');
    const cli = findTemporalCli(root);
    const port = await freePort(7233);
    const uiPort = await freePort(8233);
    say(`starting the Temporal dev server on 127.0.0.1:${port} (in memory, UI on :${uiPort})…`);
    const dev = await startDevServer({ cli, port, uiPort, root });
    onStop('the Temporal dev server', () => dev.stop());
    temporalAddress = dev.address;
    uiBase = `http://127.0.0.1:${uiPort}`;
    say(`Temporal is up at ${temporalAddress}`);
  } else {
    say(`using the Temporal server at ${temporalAddress} (TEMPORAL_ADDRESS)`);
  }

  // ---- Postgres ---------------------------------------------------------------------------------------------
  let databaseUrl: Secret | undefined = loadConfig({ DATABASE_URL: process.env.DATABASE_URL }).databaseUrl;
  if (databaseUrl) {
    say('using the Postgres in DATABASE_URL');
  } else {
    say('DATABASE_URL is unset: starting the embedded database (PGlite, data in .data/pglite; the first start takes ~15 s)…');
    const db = await startEmbeddedDb({ dataDir: join(dataDir, 'pglite') });
    onStop('the embedded database', () => db.stop());
    databaseUrl = db.url;
    say(`embedded Postgres is listening on 127.0.0.1:${db.port}`);
  }
  // ---- the sandbox and the configuration --------------------------------------------------------------------
  const sandbox = await startSandbox();
  onStop('the provider doubles', () => Promise.all(sandbox.map((s) => s.double.stop())));
  say(`provider doubles on loopback: ${sandbox.map((s) => `${s.provider} ${s.double.url}`).join(', ')}`);
  const hasSnow = sandbox.some((s) => s.provider === 'servicenow');
  const config = loadConfig({
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    PROBECTL_NOTIFY_TASK_QUEUE: `probectl-notify-demo-${process.pid}`,
    PROBECTL_NOTIFY_CONNECTORS: sandbox.map((s) => s.entry(TENANT)).join(','),
    PROBECTL_NOTIFY_API_TOKENS: `${TENANT}:${API_TOKEN}`,
    ...(hasSnow ? { PROBECTL_NOTIFY_INBOUND: `${INBOUND_ID}:${TENANT}:servicenow:${INBOUND_SECRET}` } : {}),
    PROBECTL_NOTIFY_API_PORT: '0',
    PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '2s',
    PROBECTL_NOTIFY_HTTP_TIMEOUT: '5s',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  });
  const logFile = join(dataDir, 'demo.log');
  const log = createLogger(config.logLevel, createWriteStream(logFile, { flags: 'a' }));
  say(`service logs go to ${logFile}`);
  // One process holding both roles, as `node dist/main.js all` does: one pool and one registry for both.
  const parts = processParts(config, log, { databaseUrl });
  onStop('the database pool', () => parts.pool.end());
  const applied = await migrate(parts.pool);
  say(applied.length > 0 ? `migrations applied: ${applied.join(', ')}` : 'migrations: up to date');

  // ---- worker and API ---------------------------------------------------------------------------------------
  say('starting the worker (bundling the workflow code takes a few seconds)…');
  const worker = await runWorker(parts);
  onStop('the worker', () => worker.stop());
  const api = await runApi(parts, eagerStartFor(config, worker.handle));
  onStop('the API', () => api.stop());
  const base = `http://127.0.0.1:${api.port}`;
  say(`worker polling task queue ${config.temporal.taskQueue}; API on ${base}`);
  const connection = await Connection.connect({ address: temporalAddress });
  onStop('the client connection', () => connection.close());
  const incidents = new IncidentClient({ client: new Client({ connection }), taskQueue: config.temporal.taskQueue });

  const call = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${API_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined };
  };

  // ---- 1. open ----------------------------------------------------------------------------------------------
  const id = `demo-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${process.pid}`;
  process.stdout.write('\n');
  say(`1. probectl opens incident ${id}: POST /v1/incidents`);
  const openedAt = Date.now();
  const opened = await call('POST', '/v1/incidents', {
    id, title: 'Packet loss on edge-router-3 uplink (demo)', severity: 'critical',
    summary: '14% loss towards AS64500 for 5 minutes, seen by 3 probes', source: 'probectl',
  });
  if (opened.status !== 201) throw new Error(`the open answered ${opened.status}: ${JSON.stringify(opened.json)}`);
  say(`   201 started workflow probectl-${id}; waiting for each connector's link…`);
  const seen = new Map<string, string>();
  let state: IncidentStateView | undefined;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await call('GET', `/v1/incidents/${id}`);
    state = r.json as unknown as IncidentStateView | undefined;
    for (const l of state?.links ?? []) {
      if (seen.get(l.connectorId) === l.status) continue;
      seen.set(l.connectorId, l.status);
      say(`   ${secs(openedAt).trim().padStart(6)} after open  ${l.connectorId.padEnd(11)} ${l.status.padEnd(8)} ${linkText(l)}`);
    }
    const links = state?.links ?? [];
    if (links.length >= sandbox.length && links.every((l) => l.status !== 'pending')) break;
    if (Date.now() > deadline) throw new Error('the links did not settle within 60 s; see .data/demo.log');
    await sleep(100);
  }

  // ---- 2. the on-call engineer closes the ServiceNow ticket ----------------------------------------------------
  process.stdout.write('\n');
  const snowLink = state?.links.find((l) => l.provider === 'servicenow' && l.externalRef);
  const closedAt = Date.now();
  const countsBefore = new Map(sandbox.map((s) => [s.provider, s.double.requests.length]));
  let origin = 'api';
  if (snowLink?.externalRef) {
    // In real life the ticket is closed minutes later; here, wait until the mirror holds the link, which is
    // what the inbound route looks the ticket up in.
    for (const until = Date.now() + 30_000; ; await sleep(100)) {
      const tl = ((await call('GET', `/v1/incidents/${id}/timeline`)).json?.timeline ?? []) as Array<{ kind: string; connectorId?: string }>;
      if (tl.some((t) => t.kind === 'connector.opened' && t.connectorId === snowLink.connectorId)) break;
      if (Date.now() > until) throw new Error('the mirror did not record the ServiceNow link within 30 s');
    }
    const ticket = serviceNowTicket(sandbox, snowLink.externalRef);
    say(`2. on-call engineer jane.doe resolves ServiceNow ticket ${ticket?.number ?? snowLink.externalRef} in ServiceNow;`);
    say(`   its business rule posts the change, signed, to POST /ingest/itsm/servicenow/${INBOUND_ID}`);
    if (ticket) Object.assign(ticket, { state: '6', close_code: 'Solved (Permanently)', close_notes: 'upstream fixed by the carrier' });
    const body = Buffer.from(JSON.stringify({
      sys_id: snowLink.externalRef, number: ticket?.number, correlation_id: ticket?.correlation_id, state: '6', actor: 'jane.doe',
    }));
    const res = await fetch(`${base}/ingest/itsm/servicenow/${INBOUND_ID}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-probectl-signature': probectlSignature(INBOUND_SECRET, body) },
      body,
    });
    const answer = await res.text();
    if (res.status === 404 && !answer.includes('incident')) {
      say('   the inbound route is not available in this build: resolving through POST /v1/incidents/{id}/resolve (source api) instead');
    } else {
      if (res.status >= 300 || !/accepted/.test(answer)) throw new Error(`the inbound delivery answered ${res.status}: ${answer.slice(0, 300)}`);
      say(`   ${res.status} ${answer.slice(0, 120)}`);
      origin = 'servicenow';
    }
  } else {
    say('2. no ServiceNow link (the connector is not implemented or failed): resolving through POST /v1/incidents/{id}/resolve (source api)');
  }
  if (origin === 'api') {
    const r = await call('POST', `/v1/incidents/${id}/resolve`, { actor: 'jane.doe', reason: 'fixed upstream' });
    say(`   ${r.status} resolve accepted`);
  }

  // ---- 3. the fan-out -----------------------------------------------------------------------------------------
  say('3. the workflow resolves every other connector, never the origin (waiting for the workflow result)…');
  const result = await Promise.race([
    incidents.result(id),
    sleep(60_000).then(() => Promise.reject(new Error('the workflow did not complete within 60 s; see .data/demo.log'))),
  ]);
  const timeline = ((await call('GET', `/v1/incidents/${id}/timeline`)).json?.timeline ?? []) as Array<{ kind: string; connectorId?: string; detail?: string }>;
  say(`   resolved ${secs(closedAt).trim()} after the close; source ${result.source}${result.actor ? `, actor ${result.actor}` : ''}`);
  for (const s of sandbox) {
    const link = result.links.find((l) => l.provider === s.provider);
    const calls = s.double.requests.length - (countsBefore.get(s.provider) ?? 0);
    const isOrigin = link?.connectorId === result.source;
    const verdict = isOrigin ? `origin — skipped, ${calls} call(s) to it` : `${calls} call(s) to it${s.provider === 'pagerduty' || s.provider === 'opsgenie' ? ' (resolve + the delayed second resolve)' : ''}`;
    say(`   ${(link?.connectorId ?? s.provider).padEnd(11)} link ${(link?.status ?? '—').padEnd(9)} ${verdict.padEnd(58)} now: ${s.describe()}`);
  }
  const skipped = timeline.filter((t) => t.kind === 'origin.skipped');
  say(`   timeline (${timeline.length} entries in Postgres): ${timeline.map((t) => t.kind + (t.connectorId ? `(${t.connectorId})` : '')).join(' → ')}`);
  if (origin === 'servicenow' && skipped.length !== 1) throw new Error('expected one origin.skipped entry on the timeline');

  process.stdout.write('\n');
  say(`Temporal UI for this incident: ${uiBase}/namespaces/default/workflows/probectl-${id}`);
  if (keep) {
    keeping = true;
    say(`--keep: everything stays up (API ${base}, token ${API_TOKEN}). Ctrl-C stops it.`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  } else {
    say('(the dev server is in memory and stops with the demo; run with --keep to look around in the UI)');
  }
  return 0;
}

function linkText(l: Link): string {
  return [l.externalRef, l.externalUrl, l.error ? `error: ${l.error}` : undefined].filter(Boolean).join('  ');
}

let keeping = false;
let interrupted = false;
const interrupt = () => {
  if (keeping) return; // --keep: Ctrl-C is the normal way out (main resolves)
  if (interrupted) process.exit(130);
  interrupted = true;
  process.stdout.write('\ninterrupted: stopping everything…\n');
  void stopAll().finally(() => process.exit(130));
};
process.on('SIGINT', interrupt);
process.on('SIGTERM', interrupt);

main()
  .then(async (code) => {
    say('stopping everything…');
    await stopAll();
    say('demo complete; everything stopped');
    process.exit(code);
  })
  .catch(async (err: unknown) => {
    process.stdout.write(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    await stopAll();
    process.exit(1);
  });
