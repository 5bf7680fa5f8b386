#!/usr/bin/env node
/**
 * Process entry: `node dist/main.js [all|worker|api|migrate] [--embedded-db[=DIR]]` (default all).
 * Configuration comes from the environment (docs/configuration.md); a bad setting stops start-up with a
 * message naming it. `--embedded-db` (what `npm start` passes when DATABASE_URL is unset) starts the
 * embedded PGlite database in DIR (default .data/pglite) instead; it is ignored when DATABASE_URL is set.
 */
import { loadConfig } from './config/load';
import { proxyFromEnv } from './http/client';
import { ConfigError } from './config/errors';
import { migrate } from './db/migrate';
import { startEmbeddedDb, type EmbeddedDb } from './runtime/embedded-db';
import { createLogger } from './observability/logger';
import { eagerStartFor, processParts, runApi, runWorker, type Running } from './runtime/processes';
import { startTracing, type Tracing } from './observability/tracing';

const ROLES = ['all', 'worker', 'api', 'migrate'] as const;
type Role = (typeof ROLES)[number];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const embeddedArg = args.find((a) => a === '--embedded-db' || a.startsWith('--embedded-db='));
  const role = (args.find((a) => !a.startsWith('--')) ?? 'all') as Role;
  if (!ROLES.includes(role) || args.some((a) => a.startsWith('--') && a !== embeddedArg)) {
    process.stderr.write(`usage: probectl-notify-server [${ROLES.join('|')}] [--embedded-db[=DIR]]\n`);
    process.exit(2);
  }
  const config = loadConfig();
  // A worker calls providers: its proxy variables are checked now, before any connection (src/config/proxy.ts).
  if (role === 'all' || role === 'worker') proxyFromEnv(process.env);
  const log = createLogger(config.logLevel);
  for (const notice of config.notices) log.warn(notice);
  log.info({ address: config.temporal.address, namespace: config.temporal.namespace, tls: Boolean(config.temporal.tls), apiKey: Boolean(config.temporal.apiKey), from: config.temporal.source }, 'Temporal client settings');
  let embedded: EmbeddedDb | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl && embeddedArg) {
    const dataDir = embeddedArg.includes('=') ? embeddedArg.slice(embeddedArg.indexOf('=') + 1) : '.data/pglite';
    embedded = await startEmbeddedDb({ dataDir });
    databaseUrl = embedded.url;
    log.info({ dataDir: embedded.dataDir, port: embedded.port }, 'embedded database (PGlite) started; set DATABASE_URL for a real Postgres');
  }
  if (!databaseUrl) throw new ConfigError('DATABASE_URL', ['required (the mirror of links and timelines lives in Postgres)']);
  // What every role of this process shares (its pool and its one metrics registry); each role builds the rest of
  // what it holds (src/runtime/).
  const parts = processParts(config, log, { databaseUrl });
  const { pool } = parts;
  const applied = await migrate(pool);
  if (applied.length > 0) log.info({ applied }, 'migrations applied');
  if (role === 'migrate') {
    await pool.end();
    await embedded?.stop();
    return;
  }
  // Before the worker and the API are built: their interceptors and hooks exist only while tracing is on.
  const tracing: Tracing | undefined = config.tracing ? startTracing(config.tracing, log, role) : undefined;
  const running: Running[] = [];
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    // API first (it goes unready, drains, stops taking requests) while the worker still takes tasks; then the worker
    // drains its activities. A role that fails to stop is logged and the next one still stops. A signal during start-up
    // stops the roles started so far (one still starting ends with the process).
    let failed = false;
    for (const r of [...running].reverse()) {
      try {
        await r.stop();
      } catch (err) {
        failed = true;
        // The error's type only: a failure's message may quote a URL or credential of the configuration.
        log.error({ err: { type: err instanceof Error ? err.name : typeof err } }, 'a role failed to stop cleanly');
      }
    }
    // The spans of the drain included (bounded by the export timeout).
    await tracing?.shutdown().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await embedded?.stop();
    log.info('stopped');
    process.exit(failed ? 1 : 0);
  };
  // Before the roles start: the process, not the Temporal SDK (src/observability/sdk-runtime.ts), orders the stop.
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  const worker = role === 'all' || role === 'worker' ? await runWorker(parts) : undefined;
  if (worker) running.push(worker);
  // `all`: new runs start eagerly on this worker's connection (PROBECTL_NOTIFY_EAGER_START, src/runtime/api.ts).
  if (role === 'all' || role === 'api') running.push(await runApi(parts, eagerStartFor(config, worker?.handle)));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`configuration error: ${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  process.stderr.write(`fatal: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
