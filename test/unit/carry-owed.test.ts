/**
 * What a provider call carries for the workflow reaches Postgres whatever the call does: every ending (answers,
 * fails) at every moment relative to the grace, with writes that succeed, fail or are slow. The acknowledgement
 * callback once waited behind a Jira create retrying against 503s because the create carried it.
 */
import fc from 'fast-check';
import { carrying } from '../../src/activities/carry-owed';

const GRACE = 40;
const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Run {
  log: string[];
  writes: number;
  result: 'ok' | 'failed';
  error?: unknown;
}

async function run(c: { answerAfter: number; fails: boolean; writeTakes: number; writeFails: boolean; carries: boolean }): Promise<Run> {
  const log: string[] = [];
  let writes = 0;
  const write = c.carries
    ? async () => {
        writes += 1;
        log.push('write-start');
        await delay(c.writeTakes);
        log.push('write-end');
        if (c.writeFails) throw new Error('postgres down');
      }
    : undefined;
  const boom = new Error('503 maintenance');
  try {
    await carrying(write, async () => {
      await delay(c.answerAfter);
      log.push('answer');
      if (c.fails) throw boom;
      return 'ticket-1';
    }, GRACE);
    log.push('returned');
    return { log, writes, result: 'ok' };
  } catch (err) {
    log.push('thrown');
    return { log, writes, result: 'failed', error: err === boom ? 'the call’s own error' : err };
  }
}

describe('carrying: the records a call carries are written when it is slow or fails, once, and never change its result', () => {
  const table: Array<[string, Parameters<typeof run>[0], { writes: number; result: 'ok' | 'failed' }]> = [
    ['answers before the grace: nothing extra', { answerAfter: 0, fails: false, writeTakes: 0, writeFails: false, carries: true }, { writes: 0, result: 'ok' }],
    ['answers after the grace: written once', { answerAfter: GRACE * 3, fails: false, writeTakes: 0, writeFails: false, carries: true }, { writes: 1, result: 'ok' }],
    ['fails before the grace: written before the retry', { answerAfter: 0, fails: true, writeTakes: 0, writeFails: false, carries: true }, { writes: 1, result: 'failed' }],
    ['fails after the grace: still written once', { answerAfter: GRACE * 3, fails: true, writeTakes: 0, writeFails: false, carries: true }, { writes: 1, result: 'failed' }],
    ['the write fails: the answer is unchanged', { answerAfter: GRACE * 3, fails: false, writeTakes: 0, writeFails: true, carries: true }, { writes: 1, result: 'ok' }],
    ['the write fails on a failed call: the call’s error is what is thrown', { answerAfter: 0, fails: true, writeTakes: 0, writeFails: true, carries: true }, { writes: 1, result: 'failed' }],
    ['a slow write still running at the answer: awaited first', { answerAfter: GRACE * 2, fails: false, writeTakes: GRACE * 3, writeFails: false, carries: true }, { writes: 1, result: 'ok' }],
    ['nothing carried: nothing written', { answerAfter: GRACE * 2, fails: true, writeTakes: 0, writeFails: false, carries: false }, { writes: 0, result: 'failed' }],
  ];
  test.each(table)('%s', async (_name, c, want) => {
    const r = await run(c);
    expect({ writes: r.writes, result: r.result }).toEqual(want);
    if (r.result === 'failed') expect(r.error).toBe('the call’s own error');
    // Whatever was written had finished before the call's answer was handed back.
    if (r.writes > 0) expect(r.log.indexOf('write-end')).toBeLessThan(r.log.indexOf(r.result === 'ok' ? 'returned' : 'thrown'));
  });

  test('property: any answer time, ending and write behaviour', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          answerAfter: fc.integer({ min: 0, max: GRACE * 3 }),
          fails: fc.boolean(),
          writeTakes: fc.integer({ min: 0, max: GRACE * 2 }),
          writeFails: fc.boolean(),
          carries: fc.boolean(),
        }),
        async (c) => {
          const r = await run(c);
          const slow = c.answerAfter > GRACE + 15;
          const quick = c.answerAfter + 15 < GRACE;
          expect(r.writes).toBeLessThanOrEqual(1);
          if (!c.carries) expect(r.writes).toBe(0);
          else if (c.fails || slow) expect(r.writes).toBe(1);
          else if (quick) expect(r.writes).toBe(0);
          expect(r.result).toBe(c.fails ? 'failed' : 'ok');
          if (r.writes > 0) expect(r.log.indexOf('write-end')).toBeLessThan(r.log.length - 1);
        },
      ),
      { numRuns: 60 },
    );
  });
});
