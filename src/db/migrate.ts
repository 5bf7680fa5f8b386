import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Pool } from 'pg';

/** migrations/ beside the package.json above this file (from src/db, dist/db, or any build folder). */
function findMigrationsDir(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'migrations'))) return join(dir, 'migrations');
    if (dirname(dir) === dir) return join(__dirname, '..', '..', 'migrations');
  }
}
export const MIGRATIONS_DIR = findMigrationsDir();
const LOCK_KEY = 7_240_113_004; // pg_advisory_lock key for "probectl-notify migrations"

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 3)), name: f, sql: readFileSync(join(dir, f), 'utf8') }));
}

/**
 * Apply pending migrations, each in its own transaction, under an advisory lock so that several
 * processes starting at once apply each migration exactly once. Idempotent. Returns the names applied.
 */
export async function migrate(pool: Pool, migrations = loadMigrations()): Promise<string[]> {
  const client = await pool.connect();
  const onError = () => undefined; // a lost connection surfaces as the failing query's error instead
  client.on('error', onError);
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS probectl_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM probectl_schema_migrations')).rows.map((r) => r.version));
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO probectl_schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`);
      }
      applied.push(m.name);
    }
  } finally {
    try {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
    } finally {
      client.off('error', onError);
      client.release();
    }
  }
  return applied;
}
