/**
 * One statement in a service transaction as ONE simple-protocol string — the frame (BEGIN, the service role, the
 * tenant when given, the statement timeout), the statement, COMMIT — so the whole transaction is one round trip
 * where the extended protocol takes one per statement. The statement's parameters are inlined as literals
 * (`inlineParams`): only the types below are accepted, every string is quoted by the driver's escapeLiteral (`pg.escapeLiteral`) (quotes
 * and backslashes doubled, an E'' string when a backslash is present), and a string holding a NUL character — which
 * would end a simple-protocol string early — is refused (the mirror's writers replace it first, src/db/storable.ts).
 * test/unit/db/one-round-trip.test.ts checks that every string and array round-trips exactly as a bound parameter would.
 *
 * Used where a transaction is one statement and its latency matters: a pacing take (src/db/pace-store.ts), a
 * provider call's outcome record and the read at open (src/db/mirror-store.ts).
 */
import { escapeLiteral, type Pool, type PoolClient, type QueryResultRow } from 'pg';
import { frameSql, type FrameOptions } from './tenant-tx';

type Escape = (s: string) => string;

function text(escape: Escape, s: string): string {
  if (s.includes('\u0000')) throw new Error('a NUL character cannot be sent inline');
  return escape(s);
}

/** A parameter as SQL text: NULL, a finite number, a boolean, a string, a Date (as ISO text) or an array of strings/NULLs. */
export function inlineLiteral(escape: Escape, v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error('a non-finite number cannot be sent inline');
    return `(${String(v)})`;
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return text(escape, v);
  if (v instanceof Date) return text(escape, v.toISOString());
  if (Array.isArray(v)) {
    if (v.length === 0) return "'{}'";
    return `ARRAY[${v.map((x: unknown) => {
      if (x === null || x === undefined) return 'NULL';
      if (typeof x !== 'string') throw new Error('only arrays of strings can be sent inline');
      return text(escape, x);
    }).join(', ')}]`;
  }
  throw new Error('a parameter of an unexpected type cannot be sent inline');
}

/** `sql` with each `$n` replaced by the n-th parameter as a literal (the template is scanned once; values never are). */
export function inlineParams(escape: Escape, sql: string, params: readonly unknown[]): string {
  return sql.replace(/\$(\d+)/g, (_m, n: string) => {
    const i = Number(n) - 1;
    if (i < 0 || i >= params.length) throw new Error(`the statement names $${n}, which was not given`);
    return inlineLiteral(escape, params[i]);
  });
}

/**
 * Run `sql` with `params` as the only statement of a service transaction (tenant set when given, `timeoutMs` the
 * statement timeout, 5 s unless said), in one round trip; resolves with its rows. A statement Postgres refused (a
 * timeout, a constraint) is rolled back and its connection returned to the pool; a connection that failed otherwise
 * is discarded.
 */
export async function inOneRoundTrip<R extends QueryResultRow>(pool: Pool, tenantId: string | undefined, sql: string, params: readonly unknown[], timeoutMs?: number, frame: FrameOptions = {}): Promise<R[]> {
  // Built before a connection is taken: a parameter that cannot be sent, or a tenant id that is not one, fails here.
  // One statement only, and no comment that could swallow the COMMIT after it (checked on the template, whose values
  // are inlined after as quoted literals, so a `;` or `--` inside a value is text).
  if (/;|--|\/\*/.test(sql)) throw new Error('a one-round-trip statement is one statement without a comment');
  const script = `${frameSql({ escapeLiteral }, tenantId, timeoutMs, frame)}; ${inlineParams(escapeLiteral, sql, params)}\n; COMMIT`;
  const client: PoolClient = await pool.connect();
  let broken: Error | undefined;
  // A connection lost mid-string emits 'error' on the client; without a listener Node would exit (docs/faults.md, F-4).
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  try {
    const results = (await client.query(script)) as unknown as Array<{ rows: R[] }>;
    // BEGIN, SET LOCAL ROLE, the settings, the statement, COMMIT: anything else is not an answer to read from.
    if (!Array.isArray(results) || results.length !== 5) {
      broken = new Error(`a one-round-trip transaction answered ${Array.isArray(results) ? results.length : 'not'} results, not five`);
      throw broken;
    }
    if (client.getTransactionStatus() !== 'I') {
      broken = new Error('a one-round-trip transaction left its connection inside a transaction');
      throw broken;
    }
    return results[3]!.rows;
  } catch (err) {
    // Postgres refused a statement (a timeout, a constraint, a lock wait) on a healthy connection: the transaction is
    // aborted, so roll it back and keep the connection only once it is idle again. Anything else — the connection
    // lost, a FATAL error, no SQLSTATE — discards it.
    const { code: sqlState, severity } = err as { code?: unknown; severity?: unknown };
    if (broken === undefined && typeof sqlState === 'string' && /^[0-9A-Z]{5}$/.test(sqlState) && severity !== 'FATAL' && severity !== 'PANIC') {
      try {
        await client.query('ROLLBACK');
        if (client.getTransactionStatus() !== 'I') broken = new Error('the connection is not idle after ROLLBACK');
      } catch (rollback) {
        broken = rollback instanceof Error ? rollback : new Error(String(rollback));
      }
    } else {
      broken ??= err instanceof Error ? err : new Error(String(err));
    }
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken ?? false);
  }
}
