/**
 * What the leased tables (the inbound outbox, the follow-ups) share, on the run's real Postgres: dueOverTenants
 * reads a tenant-less due function as the service role with no tenant set and returns (tenant, id) pairs;
 * claimUnderTenant runs a table's own claim under the tenant's row-level security with a fresh lease token, maps
 * what it returns, and opens no transaction for no ids.
 */
import type { Pool } from 'pg';
import { Secret } from '../../../src/config/secret';
import { APP_ROLE, createPool } from '../../../src/db/pool';
import { claimUnderTenant, dueOverTenants } from '../../../src/db/tenant-tx';
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
