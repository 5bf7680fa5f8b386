/**
 * The worker's OutcomeRecorder (src/activities/recorder.ts) pauses after a failed record only when the database is
 * unavailable: one tenant's batch that Postgres refuses (a data error, SQLSTATE class 22 or 23) must not skip the
 * outcome records of every other tenant's calls on that worker for the cool-down. Against the run's real Postgres
 * (a refused batch) and a database that is not there (connection refused).
 *
 * On the old code (any failure set the cool-down) the "data error" test fails: the next tenant's record is skipped.
 */
import { Secret } from '../../../src/config/secret';
import { OutcomeRecorder, recordFailureKind, type RecordFailureKind } from '../../../src/activities/recorder';
import { MirrorStore, type RecordBatch } from '../../../src/db/mirror-store';
import { createPool } from '../../../src/db/pool';
import type { Incident } from '../../../src/shared/contract';
import { sharedStack, uniqueId } from '../../helpers/shared';

const incident = (): Incident => ({ id: uniqueId('inc'), tenantId: uniqueId('rc'), title: 'Packet loss', severity: 'critical', openedAt: new Date().toISOString() });
const good = (): RecordBatch => ({ incident: incident(), entries: [{ key: uniqueId('k'), at: new Date().toISOString(), kind: 'opened' }] });
/** Refused by Postgres whatever storable() does: a timeline key past the column's 500 characters (23514). */
const refused = (): RecordBatch => ({ incident: incident(), entries: [{ key: 'k'.repeat(600), at: new Date().toISOString(), kind: 'opened' }] });

/** A recorder over `mirror` that counts the writes it really tries and the failures it reports. */
function recorderOver(mirror: MirrorStore) {
  const tried = { n: 0 };
  const failures: RecordFailureKind[] = [];
  const codes: unknown[] = [];
  const recorder = new OutcomeRecorder({ record: (b) => ((tried.n += 1), mirror.record(b)) }, {
    coolDownMs: 60_000,
    onError: (err, kind) => {
      failures.push(kind);
      codes.push((err as { code?: unknown }).code);
    },
  });
  return { recorder, tried, failures, codes };
}

test('a data error (Postgres refused one batch) sets no cool-down: the next batch, another tenant\'s, is recorded at once', async () => {
  const pool = createPool(new Secret(sharedStack().databaseUrl));
  try {
    const { recorder, tried, failures, codes } = recorderOver(new MirrorStore(pool));
    expect(await recorder.record(refused())).toEqual({ recorded: false, followUpsRecorded: false });
    expect({ failures, codes }).toEqual({ failures: ['refused'], codes: ['23514'] });
    expect(await recorder.record(good())).toEqual({ recorded: true, followUpsRecorded: true });
    expect(tried.n).toBe(2);
  } finally {
    await pool.end();
  }
});

test('an unavailable database sets the cool-down: the next record is not tried until it has passed', async () => {
  // Nothing listens on port 1 of loopback: connection refused.
  const pool = createPool(new Secret('postgres://postgres@127.0.0.1:1/none'));
  try {
    const { recorder, tried, failures } = recorderOver(new MirrorStore(pool));
    expect(await recorder.record(good())).toEqual({ recorded: false, followUpsRecorded: false });
    expect(failures).toEqual(['unavailable']);
    expect(await recorder.record(good())).toEqual({ recorded: false, followUpsRecorded: false });
    expect(tried.n).toBe(1);
  } finally {
    await pool.end();
  }
});

describe('recordFailureKind', () => {
  test.each([
    // data errors and other refusals of one batch
    ['22008', 'refused'], ['22P02', 'refused'], ['22021', 'refused'], ['23505', 'refused'], ['23514', 'refused'], ['42501', 'refused'], ['40P01', 'refused'],
    // availability: connection exceptions, insufficient resources, operator intervention (shutdown, cancel by timeout), system errors
    ['08006', 'unavailable'], ['08001', 'unavailable'], ['53300', 'unavailable'], ['57P01', 'unavailable'], ['57014', 'unavailable'], ['58030', 'unavailable'],
    // driver and network errors carry an errno or nothing
    ['ECONNREFUSED', 'unavailable'], ['ECONNRESET', 'unavailable'], ['EPIPE', 'unavailable'], ['ETIMEDOUT', 'unavailable'], [undefined, 'unavailable'],
  ])('%s → %s', (code, kind) => {
    expect(recordFailureKind(Object.assign(new Error('x'), code === undefined ? {} : { code }))).toBe(kind);
  });

  test('a thrown non-object is an availability failure (nothing says otherwise)', () => {
    expect(recordFailureKind(undefined)).toBe('unavailable');
    expect(recordFailureKind('timeout')).toBe('unavailable');
  });
});
