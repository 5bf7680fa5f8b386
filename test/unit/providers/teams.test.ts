import { teams } from '../../../src/providers/teams/connector';
import { MAX_TITLE, buildCardPost } from '../../../src/providers/teams/build';
import {
  ALL_STATUSES, GOLDEN_INCIDENT, asFixture, callContext, connectorFrom, fakeHttp, genericOutcome, json, loadFixture, outcomeOf,
} from '../../helpers/retry-table';

const FLOW = 'https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=GoldenSig';

describe('Teams', () => {
  test('golden opened and resolved cards (Adaptive Card 1.4 in the message envelope)', () => {
    expect(asFixture(buildCardPost(FLOW, GOLDEN_INCIDENT))).toEqual(loadFixture('teams', 'opened'));
    expect(asFixture(buildCardPost(FLOW, GOLDEN_INCIDENT, 'Resolved by alice (via api): fixed'))).toEqual(loadFixture('teams', 'resolved'));
  });

  test('a long title is truncated', () => {
    const card = JSON.parse(buildCardPost(FLOW, { ...GOLDEN_INCIDENT, title: 'Q'.repeat(2000) }).body!).attachments[0].content;
    expect(Array.from(card.body[0].inlines[0].text as string)).toHaveLength(MAX_TITLE);
  });

  test("the URL's own query (its signature) is sent intact; our options are not", async () => {
    const c = connectorFrom(`acme|teams|${FLOW}&min_severity=warning&rate_per_min=30|`);
    const f = fakeHttp(() => json(202, undefined));
    await teams.open(callContext(c, f.http), GOLDEN_INCIDENT);
    const sent = new URL(f.requests[0]!.url);
    expect(sent.searchParams.get('sig')).toBe('GoldenSig');
    expect(sent.searchParams.get('sp')).toBe('/triggers/manual/run');
    expect(sent.searchParams.get('api-version')).toBe('2016-06-01');
    expect(sent.searchParams.has('min_severity')).toBe(false);
    expect(sent.searchParams.has('rate_per_min')).toBe(false);
  });

  test.each(['open', 'resolve'] as const)('every status 100–599 on %s: any 2xx is success', async (op) => {
    const c = connectorFrom(`acme|teams|${FLOW}|`);
    const got: Record<number, string> = {};
    const want: Record<number, string> = {};
    for (const s of ALL_STATUSES) {
      const f = fakeHttp(() => json(s, s < 300 ? undefined : { error: { code: 'x' } }));
      const ctx = callContext(c, f.http);
      got[s] = (await outcomeOf(() => (op === 'open' ? teams.open(ctx, GOLDEN_INCIDENT) : teams.resolve(ctx, GOLDEN_INCIDENT, {}, { source: 'api' })))).outcome;
      want[s] = genericOutcome(s);
    }
    expect(got).toEqual(want);
  });
});
