import { Client } from 'pg';
import { Secret } from '../../src/config/secret';
import { migrate } from '../../src/db/migrate';
import { createPool } from '../../src/db/pool';
import { sharedStack } from './shared';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A database of the test file's own on the run's Postgres, migrated: for tests whose rows must not meet
 * another file's (the inbound outbox dispatcher reads every tenant's due rows).
 */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const { adminUrl } = sharedStack();
  const name = `probectl_notify_${label}_${process.pid}_${Date.now().toString(36)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = adminUrl.replace(/\/[^/]*$/, `/${name}`);
  const pool = createPool(new Secret(url));
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  return {
    url,
    async drop() {
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
