import { ConfigError } from '../../config/errors';
import { loadConfig } from '../../config/load';
import { migrate as applyMigrations, loadMigrations } from '../../db/migrate';
import { createPool } from '../../db/pool';
import type { Command } from '../command';
import { EXIT, reach } from '../io';

export const migrate: Command = {
  path: ['migrate'],
  summary: 'apply pending database migrations',
  help: `
Usage: probectl-notify migrate

Applies migrations/*.sql to DATABASE_URL, each in its own transaction, under an advisory lock (any number
of processes may run it at once). Idempotent. The login role needs to create tables and the role
probectl_notify_app (or it exists already) and is granted membership in it.

Example:
  DATABASE_URL=postgres://notify@db:5432/probectl_notify probectl-notify migrate
  → applied: 001_mirror.sql, 002_inbound_deliveries.sql
Exit: 0 up to date, 1 a migration failed, 69 Postgres unavailable, 78 DATABASE_URL missing or invalid.
`,
  options: {},
  async run({ env, io }) {
    const config = loadConfig(env);
    if (!config.databaseUrl) throw new ConfigError('DATABASE_URL', ['required by migrate']);
    const pool = createPool(config.databaseUrl);
    try {
      await reach('Postgres', () => pool.query('SELECT 1'));
      const applied = await applyMigrations(pool);
      io.out(applied.length > 0 ? `applied: ${applied.join(', ')}` : `up to date (${loadMigrations().length} migrations)`);
      return EXIT.ok;
    } finally {
      await pool.end();
    }
  },
};
