import { pagerduty } from '../../../src/providers/pagerduty/connector';
import { buildFollowUp, buildTrigger, MAX_SUMMARY } from '../../../src/providers/pagerduty/build';
import {
  ALL_STATUSES, GOLDEN_INCIDENT, asFixture, callContext, connectorFrom, fakeHttp, genericOutcome, json, loadFixture, outcomeOf,
} from '../../helpers/retry-table';

const KEY = 'R0UT1NGKEYgolden000000000000000001';
const EU = 'https://events.eu.pagerduty.com/v2/enqueue';

describe('PagerDuty builders', () => {
  test('golden trigger and resolve (EU host)', () => {
    const trigger = buildTrigger(EU, KEY, GOLDEN_INCIDENT);
    expect(new URL(trigger.url).host).toBe('events.eu.pagerduty.com');
    expect(asFixture(trigger)).toEqual(loadFixture('pagerduty', 'trigger'));
    expect(asFixture(buildFollowUp(EU, KEY, GOLDEN_INCIDENT, 'resolve'))).toEqual(loadFixture('pagerduty', 'resolve'));
  });

  test('a long title is truncated to the 1024-character summary limit', () => {
    const body = JSON.parse(buildTrigger(EU, KEY, { ...GOLDEN_INCIDENT, title: 'x'.repeat(5000) }).body!);
    expect(Array.from(body.payload.summary as string)).toHaveLength(MAX_SUMMARY);
    expect(body.payload.summary.endsWith('…')).toBe(true);
  });

  test('the EU entry parses and the connector sends to the EU host', async () => {
    const c = connectorFrom(`acme|pagerduty|${EU}|${KEY}`);
    const f = fakeHttp(() => json(202, { status: 'success', dedup_key: 'probectl-INC-2041' }));
    const out = await pagerduty.open(callContext(c, f.http), GOLDEN_INCIDENT);
    expect(out.externalRef).toBe('probectl-INC-2041');
    expect(f.requests[0]!.url).toBe(EU);
  });
});

describe('PagerDuty status table', () => {
  const c = connectorFrom(`acme|pagerduty|${EU}|${KEY}`);
  test.each(['open', 'resolve'] as const)('every status 100–599 on %s', async (op) => {
    const got: Record<number, string> = {};
    const want: Record<number, string> = {};
    for (const status of ALL_STATUSES) {
      const f = fakeHttp(() => json(status, status < 300 ? { status: 'success' } : { status: 'error', message: 'x' }));
      const ctx = callContext(c, f.http);
      got[status] = (await outcomeOf(() => (op === 'open' ? pagerduty.open(ctx, GOLDEN_INCIDENT) : pagerduty.resolve(ctx, GOLDEN_INCIDENT, {}, { source: 'api' })))).outcome;
      want[status] = genericOutcome(status);
    }
    expect(got).toEqual(want);
  });
});
