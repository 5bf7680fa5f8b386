#!/usr/bin/env node
/**
 * Process entry: `node dist/main.js [all|worker|api|migrate]` (default all). Configuration comes from the
 * environment (docs/configuration.md); a bad setting stops start-up with a message naming it.
 */
import { loadConfig } from './config/load';
import { ConfigError } from './config/errors';
import { migrate } from './db/migrate';
import { createPool } from './db/pool';
import { createLogger } from './observability/logger';
import { runApi, runWorker, type Running } from './runtime/processes';

const ROLES = ['all', 'worker', 'api', 'migrate'] as const;
type Role = (typeof ROLES)[number];

async function main(): Promise<void> {
  const role = (process.argv[2] ?? 'all') as Role;
  if (!ROLES.includes(role)) {
    process.stderr.write(`usage: probectl-notify-server [${ROLES.join('|')}]\n`);
    process.exit(2);
  }
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  if (!config.databaseUrl) throw new ConfigError('DATABASE_URL', ['required (the mirror of links and timelines lives in Postgres)']);
  const pool = createPool(config.databaseUrl);
  const applied = await migrate(pool);
  if (applied.length > 0) log.info({ applied }, 'migrations applied');
  if (role === 'migrate') {
    await pool.end();
    return;
  }
  const running: Running[] = [];
  if (role === 'all' || role === 'worker') running.push(await runWorker(config, pool, log));
  if (role === 'all' || role === 'api') running.push(await runApi(config, pool, log));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    // API first (it stops taking requests), then the worker drains its activities.
    for (const r of [...running].reverse()) await r.stop();
    await pool.end();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`configuration error: ${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  process.stderr.write(`fatal: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
