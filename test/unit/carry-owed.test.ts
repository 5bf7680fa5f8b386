/**
 * What a provider call carries for the workflow reaches Postgres whatever the call does: every ending (answers,
 * fails, cancelled) at every moment relative to the grace, with writes that succeed, fail, hang or throw — and the
 * call's answer, its error and its timing never depend on the write. The acknowledgement callback once waited behind
 * a Jira create retrying against 503s because the create carried it.
 */
import fc from 'fast-check';
import { carrying, owedBatch } from '../../src/activities/carry-owed';
import type { Incident, Link } from '../../src/shared/contract';
import type { FollowUpRecord, KeyedEntry } from '../../src/shared/records';

const GRACE = 40;
const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Write = 'ok' | 'rejects' | 'hangs' | 'throws';
interface Case { answerAfter: number; ending: 'answers' | 'fails' | 'cancelled'; write: Write; carries: boolean }
interface Run { writes: number; result: 'ok' | 'failed'; ownError: boolean; tookMs: number }

class Cancelled extends Error {}

async function run(c: Case): Promise<Run> {
  let writes = 0;
  const write = c.carries
    ? () => {
        writes += 1;
        if (c.write === 'throws') throw new Error('thrown synchronously');
        if (c.write === 'hangs') return new Promise<never>(() => undefined);
        return c.write === 'rejects' ? Promise.reject(new Error('postgres down')) : delay(1);
      }
    : undefined;
  const boom = c.ending === 'cancelled' ? new Cancelled('cancelled') : new Error('503 maintenance');
  const from = Date.now();
  let out: Omit<Run, 'writes'>;
  try {
    await carrying(write, async () => {
      await delay(c.answerAfter);
      if (c.ending !== 'answers') throw boom;
      return 'ticket-1';
    }, { graceMs: GRACE, cancelled: (err) => err instanceof Cancelled });
    out = { result: 'ok', ownError: false, tookMs: Date.now() - from };
  } catch (err) {
    out = { result: 'failed', ownError: err === boom, tookMs: Date.now() - from };
  }
  await delay(5); // a write started at the end has been called by now
  return { writes, ...out };
}

describe('carrying: the records a call carries are written when it is slow or fails, once, beside it', () => {
  const base: Case = { answerAfter: 0, ending: 'answers', write: 'ok', carries: true };
  const table: Array<[string, Partial<Case>, { writes: number; result: 'ok' | 'failed' }]> = [
    ['answers before the grace: nothing extra', {}, { writes: 0, result: 'ok' }],
    ['answers after the grace: written once', { answerAfter: GRACE * 3 }, { writes: 1, result: 'ok' }],
    ['fails before the grace: written before the retry', { ending: 'fails' }, { writes: 1, result: 'failed' }],
    ['fails after the grace: still written once', { answerAfter: GRACE * 3, ending: 'fails' }, { writes: 1, result: 'failed' }],
    ['cancelled before the grace: not written (the workflow writes it)', { ending: 'cancelled' }, { writes: 0, result: 'failed' }],
    ['the write rejects: the answer is unchanged', { answerAfter: GRACE * 3, write: 'rejects' }, { writes: 1, result: 'ok' }],
    ['the write rejects on a failed call: the call’s error is what is thrown', { ending: 'fails', write: 'rejects' }, { writes: 1, result: 'failed' }],
    ['the write throws synchronously: no crash, the call’s error is thrown', { ending: 'fails', write: 'throws' }, { writes: 1, result: 'failed' }],
    ['the write hangs (Postgres not answering): a failed call fails at once', { ending: 'fails', write: 'hangs' }, { writes: 1, result: 'failed' }],
    ['the write hangs: a slow call answers when it answers', { answerAfter: GRACE * 2, write: 'hangs' }, { writes: 1, result: 'ok' }],
    ['nothing carried: nothing written', { answerAfter: GRACE * 2, ending: 'fails', carries: false }, { writes: 0, result: 'failed' }],
  ];
  test.each(table)('%s', async (_name, patch, want) => {
    const c = { ...base, ...patch };
    const r = await run(c);
    expect({ writes: r.writes, result: r.result }).toEqual(want);
    if (r.result === 'failed') expect(r.ownError).toBe(true);
    // Nothing waits for the write: a write that never settles ('hangs') still lets the call end (this test would time
    // out otherwise), and no case takes near the test's own timeout (a loose bound: timings are not asserted here).
    expect(r.tookMs).toBeLessThan(c.answerAfter + 2_000);
  });

  test('property: any answer time, ending and write behaviour', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          answerAfter: fc.integer({ min: 0, max: GRACE * 3 }),
          ending: fc.constantFrom<Case['ending']>('answers', 'fails', 'cancelled'),
          write: fc.constantFrom<Write>('ok', 'rejects', 'hangs', 'throws'),
          carries: fc.boolean(),
        }),
        async (c) => {
          const r = await run(c);
          const slow = c.answerAfter > GRACE + 15;
          const quick = c.answerAfter + 15 < GRACE;
          expect(r.writes).toBeLessThanOrEqual(1);
          if (!c.carries) expect(r.writes).toBe(0);
          else if (slow || c.ending === 'fails') expect(r.writes).toBe(1);
          else if (quick) expect(r.writes).toBe(0);
          expect(r.result).toBe(c.ending === 'answers' ? 'ok' : 'failed');
          if (r.result === 'failed') expect(r.ownError).toBe(true);
        },
      ),
      { numRuns: 80 },
    );
  });
});

describe('owedBatch: what a call writes on its own', () => {
  const incident: Incident = { id: 'inc-1', tenantId: 'acme', title: 't', severity: 'critical', openedAt: '2026-12-01T00:00:00.000Z' } as Incident;
  const entry: KeyedEntry = { key: 'k1', at: '2026-12-01T00:00:01.000Z', kind: 'acknowledged' };
  const link: Link = { connectorId: 'jira', provider: 'jira', status: 'pending', updatedAt: '2026-12-01T00:00:01.000Z' };
  const followUp = { key: 'c1:callback:acknowledged', kind: 'callback', dueAt: entry.at, event: { type: 'incident.acknowledged' } } as unknown as FollowUpRecord;
  test.each<[string, Parameters<typeof owedBatch>[1], ReturnType<typeof owedBatch>]>([
    ['nothing owed', undefined, undefined],
    ['an empty payload', { entries: [], links: [], followUps: [] }, undefined],
    ['arrays missing (an older run’s input)', {}, undefined],
    ['an entry: the row only raised to open', { entries: [entry] }, { incident, links: [], entries: [entry], followUps: [] }],
    ['the incident row', { entries: [], links: [], followUps: [], incident: { status: 'acknowledged', acknowledgedAt: entry.at } },
      { incident, status: 'acknowledged', acknowledgedAt: entry.at, links: [], entries: [], followUps: [] }],
    ['the call’s own link and a follow-up', { entries: [], links: [link], followUps: [followUp] }, { incident, links: [link], entries: [], followUps: [followUp] }],
  ])('%s', (_name, owed, want) => {
    expect(owedBatch(incident, owed)).toEqual(want);
  });
  test('always the call’s own incident (its tenant), never one from the payload', () => {
    const batch = owedBatch(incident, { entries: [entry], links: [], followUps: [], incident: { status: 'open', ...{ incident: { tenantId: 'other' } } } as never });
    expect(batch?.incident).toBe(incident);
  });
});
