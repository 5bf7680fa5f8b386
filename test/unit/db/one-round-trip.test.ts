/**
 * Inlined parameters (src/db/one-round-trip.ts) on the run's real Postgres: every string — quotes, backslashes,
 * `$1`, semicolons, comment markers, any Unicode, lone surrogates — and every array of them reads back exactly as
 * the same value bound as a parameter does, so no value can change the statement around it; what cannot be sent
 * inline (a NUL, a non-finite number, an object, a missing parameter) is refused before a connection is taken; a
 * failed string leaves no aborted transaction behind.
 */
import fc from 'fast-check';
import { escapeLiteral, type Pool } from 'pg';
import { Secret } from '../../../src/config/secret';
import { inOneRoundTrip, inlineLiteral, inlineParams } from '../../../src/db/one-round-trip';
import { APP_ROLE, createPool } from '../../../src/db/pool';
import { sharedStack, uniqueId } from '../../helpers/shared';

let pool: Pool;
beforeAll(() => {
  pool = createPool(new Secret(sharedStack().databaseUrl), { max: 2 });
});
afterAll(async () => {
  await pool.end();
});

const nasty = fc.constantFrom("'", "''", '\\', "\\'", "'; DROP TABLE incidents; --", '$1', '$$', '$a$', '/*', '*/', '--', 'E\'x', '\ud800', '\udfff', '😀', ';', '"', '\n', '\r\n', '\t');
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.split('\u0000').join('')),
  fc.array(fc.oneof(nasty, fc.string({ maxLength: 4 })), { maxLength: 8 }).map((xs) => xs.join('')),
);

test('every string reads back exactly as the bound parameter does', async () => {
  await fc.assert(
    fc.asyncProperty(anyString, async (s) => {
      const inline = await pool.query<{ v: string }>(inlineParams(escapeLiteral, 'SELECT $1::text AS v', [s]));
      const bound = await pool.query<{ v: string }>('SELECT $1::text AS v', [s]);
      expect(inline.rows).toEqual(bound.rows);
    }),
    { numRuns: 400 },
  );
});

test('every array of strings and NULLs reads back exactly as the bound parameter does', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.option(anyString, { nil: null }), { maxLength: 6 }), async (xs) => {
      const inline = await pool.query<{ v: Array<string | null> }>(inlineParams(escapeLiteral, 'SELECT $1::text[] AS v', [xs]));
      const bound = await pool.query<{ v: Array<string | null> }>('SELECT $1::text[] AS v', [xs]);
      expect(inline.rows).toEqual(bound.rows);
    }),
    { numRuns: 200 },
  );
});

test.each([
  ['a NUL character', ['a\u0000b'], /NUL/],
  ['a NUL inside an array', [['ok', '\u0000']], /NUL/],
  ['NaN', [Number.NaN], /non-finite/],
  ['Infinity', [Number.POSITIVE_INFINITY], /non-finite/],
  ['an object', [{ a: 1 }], /unexpected type/],
  ['an array of numbers', [[1, 2]], /arrays of strings/],
  ['a missing parameter', [], /names \$1/],
])('%s is refused before a connection is taken', async (_what, params, message) => {
  const connect = jest.spyOn(pool, 'connect');
  try {
    await expect(inOneRoundTrip(pool, 'acme', 'SELECT $1 AS v', params)).rejects.toThrow(message);
    expect(connect).not.toHaveBeenCalled();
  } finally {
    connect.mockRestore();
  }
});

test.each([
  ['two statements', 'SELECT 1; SELECT $1 AS v'],
  ['a line comment (it would swallow the COMMIT after it)', 'SELECT $1 AS v -- the value'],
  ['a block comment', 'SELECT $1 /* the value */ AS v'],
])('a template with %s is refused before a connection is taken', async (_what, sql) => {
  const connect = jest.spyOn(pool, 'connect');
  try {
    await expect(inOneRoundTrip(pool, 'acme', sql, ['x'])).rejects.toThrow(/one statement without a comment/);
    expect(connect).not.toHaveBeenCalled();
  } finally {
    connect.mockRestore();
  }
});

test('a value holding `;`, `--` or `/*` is text, not a second statement', async () => {
  for (const v of ['a; COMMIT; SELECT 1', '-- b', '/* c */', "'; --"]) {
    expect(await inOneRoundTrip<{ v: string }>(pool, 'acme', 'SELECT $1::text AS v', [v])).toEqual([{ v }]);
  }
});

test.each([
  [null, 'NULL'], [undefined, 'NULL'], [0, '(0)'], [-1.5, '(-1.5)'], [true, 'true'], [false, 'false'],
  [new Date('2026-12-01T10:00:00.000Z'), "'2026-12-01T10:00:00.000Z'"], [[], "'{}'"], [['a', null], "ARRAY['a', NULL]"],
])('%p is sent as %s', (v, expected) => {
  expect(inlineLiteral(escapeLiteral, v)).toBe(expected);
});

test('one string: as the service role, under the tenant, with the timeout; the statement\'s rows come back', async () => {
  const tenant = uniqueId('ort');
  const rows = await inOneRoundTrip<{ role: string; tenant: string; timeout: string; v: string }>(
    pool, tenant, "SELECT current_user::text AS role, current_setting('probectl.tenant_id') AS tenant, current_setting('statement_timeout') AS timeout, $1::text AS v", ["it's"], 1_234,
  );
  expect(rows).toEqual([{ role: APP_ROLE, tenant, timeout: '1234ms', v: "it's" }]);
});

describe('a string that fails', () => {
  const pidOf = async (tenant: string) => (await inOneRoundTrip<{ pid: number }>(pool, tenant, 'SELECT pg_backend_pid() AS pid', []))[0]!.pid;

  test.each([
    ['an error in the statement (division by zero)', 'SELECT 1 / $1::int AS v', ['0'], undefined, /division by zero/],
    ['the statement timeout', 'SELECT pg_sleep($1::int)', ['5'], 50, /statement timeout/],
    ['a value the statement refuses', 'SELECT $1::int AS v', ['not a number'], undefined, /invalid input syntax/],
  ] as const)('%s: rolled back, and its connection kept — the next string runs clean on it', async (_what, sql, params, timeoutMs, message) => {
    const tenant = uniqueId('ort');
    const before = await pidOf(tenant);
    const opened = pool.totalCount;
    await expect(inOneRoundTrip(pool, tenant, sql, params, timeoutMs)).rejects.toThrow(message);
    expect(pool.totalCount).toBe(opened);
    expect(await pidOf(tenant)).toBe(before);
    for (let i = 0; i < 3; i += 1) {
      expect(await inOneRoundTrip<{ v: number }>(pool, tenant, 'SELECT $1::int AS v', [String(i)])).toEqual([{ v: i }]);
    }
    // No setting of the failed transaction outlives it, on any connection the pool holds: role, tenant, timeout.
    const held = await Promise.all([pool.connect(), pool.connect()]);
    try {
      for (const c of held) {
        const r = (await c.query<{ u: string; t: string | null; s: string; status: string }>(
          "SELECT current_user AS u, current_setting('probectl.tenant_id', true) AS t, current_setting('statement_timeout') AS s",
        )).rows[0]!;
        expect(r.u).not.toBe(APP_ROLE);
        expect(r.t ?? '').toBe('');
        expect(r.s).not.toMatch(/^(5s|50ms)$/);
      }
    } finally {
      for (const c of held) c.release();
    }
  });

  test('a lost connection is discarded, and the pool goes on with a new one', async () => {
    const tenant = uniqueId('ort');
    const before = await pidOf(tenant);
    const admin = createPool(new Secret(sharedStack().databaseUrl), { max: 1 });
    try {
      // Ended from outside while the string waits: the connection is gone, whatever SQLSTATE the driver reports.
      // Its rejection is caught where it is made: it can arrive before the terminate's own answer, and a rejection
      // with no handler at that moment fails the test as an uncaught error (seen in CI).
      const waiting = inOneRoundTrip(pool, tenant, 'SELECT pg_sleep(5)', []).then(() => 'resolved', (err: unknown) => err);
      await new Promise((r) => setTimeout(r, 200));
      await admin.query('SELECT pg_terminate_backend($1)', [before]);
      // Rejected by the termination: a FATAL from the server (57P01), or the driver's word for a lost socket.
      const outcome = await waiting;
      expect(outcome).not.toBe('resolved');
      expect(String((outcome as { message?: unknown }).message)).toMatch(/terminat|ECONNRESET|connection/i);
    } finally {
      await admin.end();
    }
    const after = await pidOf(tenant);
    expect(after).not.toBe(before);
  });
});

describe('the commit mode (FrameOptions.asyncCommit): transaction-local, whatever the session says', () => {
  const sessionDefaults = ['on', 'local', 'remote_write', 'remote_apply', 'off'];
  test.each(sessionDefaults.flatMap((session) => [true, false].map((asyncCommit) => [session, asyncCommit] as const)))(
    'session synchronous_commit=%s, asyncCommit %s: the statement sees its own mode and the connection keeps the session\'s',
    async (session, asyncCommit) => {
      const one = createPool(new Secret(sharedStack().databaseUrl), { max: 1 });
      try {
        const c = await one.connect();
        await c.query(`SET synchronous_commit = ${session}`);
        c.release();
        const rows = await inOneRoundTrip<{ mode: string }>(one, undefined, `SELECT current_setting('synchronous_commit') AS mode`, [], undefined, asyncCommit ? { asyncCommit } : {});
        expect(rows[0]!.mode).toBe(asyncCommit ? 'off' : session);
        const after = await one.query<{ mode: string }>(`SELECT current_setting('synchronous_commit') AS mode`);
        expect(after.rows[0]!.mode).toBe(session);
      } finally {
        await one.end();
      }
    },
  );
});
