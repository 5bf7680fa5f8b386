/**
 * What the leased tables (the inbound outbox, the follow-ups) share, on the run's real Postgres: dueOverTenants
 * reads a tenant-less due function as the service role with no tenant set and returns (tenant, id) pairs;
 * claimUnderTenant runs a table's own claim under the tenant's row-level security with a fresh lease token, maps
 * what it returns, and opens no transaction for no ids. Every service transaction opens with one round trip
 * (frameSql): the role, the tenant exactly as given and the timeout, all transaction-local.
 */
import type { Pool } from 'pg';
import { Secret } from '../../../src/config/secret';
import { APP_ROLE, createPool } from '../../../src/db/pool';
import fc from 'fast-check';
import { claimUnderTenant, dueOverTenants, frameSql, withServiceRole, withTenant } from '../../../src/db/tenant-tx';
import { sharedStack, uniqueId } from '../../helpers/shared';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let pool: Pool;
beforeAll(() => {
  pool = createPool(new Secret(sharedStack().databaseUrl));
});
afterAll(async () => {
  await pool.end();
});
afterEach(() => {
  jest.restoreAllMocks();
});

describe('dueOverTenants', () => {
  test.each([
    ['no row', 'SELECT tenant_id, id FROM (VALUES (NULL::text, NULL::text)) v(tenant_id, id) WHERE false', [], []],
    [
      'each row as (tenant, id), in the order the query gives them',
      "SELECT tenant_id, id::text AS id FROM (VALUES ('t-b', 22::bigint), ('t-a', 1), ('t-b', 3)) v(tenant_id, id)", [],
      [{ tenantId: 't-b', id: '22' }, { tenantId: 't-a', id: '1' }, { tenantId: 't-b', id: '3' }],
    ],
    ['the parameters, in order', 'SELECT $1::text AS tenant_id, ($2::int + 1)::text AS id', ['t-x', 41], [{ tenantId: 't-x', id: '42' }]],
    [
      'as the service role, with no tenant set',
      "SELECT current_user::text AS tenant_id, coalesce(current_setting('probectl.tenant_id', true), '') AS id", [],
      [{ tenantId: APP_ROLE, id: '' }],
    ],
  ])('%s', async (_what, sql, params, expected) => {
    expect(await dueOverTenants(pool, sql, params)).toEqual(expected);
  });
});

describe('claimUnderTenant', () => {
  const SQL = "SELECT current_user::text AS role, current_setting('probectl.tenant_id') AS tenant, $1::text AS token, $2::text[] AS ids";
  type Row = { role: string; tenant: string; token: string; ids: string[] };

  test.each([
    ['one id', ['7']],
    ['several ids', ['7', '8', '9']],
  ])('%s: the claim runs as the service role under the tenant, with a fresh lease token; its rows are mapped', async (_what, ids) => {
    const tenant = uniqueId('txc');
    const params = jest.fn((token: string) => [token, ids]);
    const rows = await claimUnderTenant(pool, tenant, ids, SQL, params, (r: Row) => ({ ...r, mapped: true }));
    expect(params).toHaveBeenCalledTimes(1);
    const token = params.mock.calls[0]![0];
    expect(token).toMatch(UUID);
    expect(rows).toEqual([{ role: APP_ROLE, tenant, token, ids, mapped: true }]);
    const again = await claimUnderTenant(pool, tenant, ids, SQL, (t) => [t, ids], (r: Row) => r.token);
    expect(again).toHaveLength(1);
    expect(again[0]).not.toBe(token);
  });

  test('no ids: nothing leased, no connection taken, the claim never built', async () => {
    const connect = jest.spyOn(pool, 'connect');
    const params = jest.fn((token: string) => [token, []]);
    expect(await claimUnderTenant(pool, uniqueId('txc'), [], SQL, params, (r: Row) => r)).toEqual([]);
    expect(connect).not.toHaveBeenCalled();
    expect(params).not.toHaveBeenCalled();
  });

  test('a tenant id that is not one is refused before anything runs', async () => {
    const params = jest.fn((token: string) => [token, ['1']]);
    await expect(claimUnderTenant(pool, "t'; DROP TABLE x; --", ['1'], SQL, params, (r: Row) => r)).rejects.toThrow('invalid tenant id');
    expect(params).not.toHaveBeenCalled();
  });
});

describe('the transaction frame (one round trip)', () => {
  const SEEN = "SELECT current_user::text AS role, nullif(current_setting('probectl.tenant_id', true), '') AS tenant, current_setting('statement_timeout') AS timeout";
  type Seen = { role: string; tenant: string | null; timeout: string };

  test('every tenant id the pattern admits arrives exactly, as the service role with the 5 s timeout, in the frame\'s transaction', async () => {
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/), async (tenant) => {
        const seen = await withTenant(pool, tenant, async (c) => (await c.query<Seen>(SEEN)).rows[0]!);
        expect(seen).toEqual({ role: APP_ROLE, tenant, timeout: '5s' });
      }),
      { numRuns: 150 },
    );
  });

  test('the frame is one string: BEGIN, the role, the settings; the tenant quoted by the driver, the timeout a whole number of ms', async () => {
    const client = await pool.connect();
    try {
      expect(frameSql(client, 'acme.prod_1-x')).toBe(`BEGIN; SET LOCAL ROLE ${APP_ROLE}; SELECT set_config('probectl.tenant_id', 'acme.prod_1-x', true), set_config('statement_timeout', '5000', true)`);
      expect(frameSql(client, undefined)).toBe(`BEGIN; SET LOCAL ROLE ${APP_ROLE}; SELECT set_config('statement_timeout', '5000', true)`);
      expect(frameSql(client, 'acme', 437.9)).toBe(`BEGIN; SET LOCAL ROLE ${APP_ROLE}; SELECT set_config('probectl.tenant_id', 'acme', true), set_config('statement_timeout', '437', true)`);
      expect(frameSql(client, 'acme', 0)).toContain("set_config('statement_timeout', '1', true)");
      expect(frameSql(client, undefined, 250, { asyncCommit: true })).toBe(`BEGIN; SET LOCAL ROLE ${APP_ROLE}; SELECT set_config('statement_timeout', '250', true), set_config('synchronous_commit', 'off', true)`);
      expect(frameSql(client, 'acme', 250, { asyncCommit: false })).not.toContain('synchronous_commit');
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) expect(() => frameSql(client, 'acme', bad)).toThrow('invalid statement timeout');
    } finally {
      client.release();
    }
  });

  test.each([["t'; DROP TABLE x; --"], ['a b'], [''], ['x'.repeat(65)], ["t\\'"], ['t;'], ['t\u0000']])('a tenant id outside the pattern (%j) is refused before anything is sent', async (bad) => {
    const connect = jest.spyOn(pool, 'connect');
    await expect(withTenant(pool, bad, async () => 1)).rejects.toThrow('invalid tenant id');
    expect(connect).not.toHaveBeenCalled();
    expect(() => frameSql({ escapeLiteral: (v: string) => `'${v}'` }, bad)).toThrow('invalid tenant id');
  });

  test('with no tenant: the service role sees no tenant set', async () => {
    const seen = await withServiceRole(pool, async (c) => (await c.query<Seen>(SEEN)).rows[0]!);
    expect(seen).toEqual({ role: APP_ROLE, tenant: null, timeout: '5s' });
  });

  test('the frame\'s settings end with its transaction: the next transaction on the same connection starts clean', async () => {
    const small = createPool(new Secret(sharedStack().databaseUrl), { max: 1 });
    try {
      await withTenant(small, uniqueId('frame'), async (c) => c.query('SELECT 1'));
      const after = await small.query<{ role: string; tenant: string | null; timeout: string }>(
        "SELECT current_user::text AS role, nullif(current_setting('probectl.tenant_id', true), '') AS tenant, current_setting('statement_timeout') AS timeout",
      );
      expect(after.rows[0]!.role).not.toBe(APP_ROLE);
      expect(after.rows[0]!.tenant).toBeNull();
      expect(after.rows[0]!.timeout).not.toBe('5s');
    } finally {
      await small.end();
    }
  });

  test('a failure inside rolls the frame back: nothing written, the connection usable', async () => {
    const tenant = uniqueId('frame');
    await expect(withTenant(pool, tenant, async (c) => {
      await c.query("SELECT set_config('probectl.tenant_id', 'other', true)");
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect((await withTenant(pool, tenant, async (c) => (await c.query<Seen>(SEEN)).rows[0]!)).tenant).toBe(tenant);
  });
});
