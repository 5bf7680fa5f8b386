import { isLoopbackHost, urlSchemeProblem } from '../../src/config/url-policy';
import { parseDuration } from '../../src/shared/duration';
import { incidentIdFromKey, incidentKey, isIncidentId } from '../../src/shared/ids';
import { incidentProblems, signalProblems } from '../../src/shared/validate';

describe('incident ids', () => {
  test.each(['inc-42', 'a', 'A.b_c-9', 'x'.repeat(128)])('%s is valid', (id) => expect(isIncidentId(id)).toBe(true));
  test.each(['', 'x'.repeat(129), 'a b', "a'b", 'a"b', 'a/b', 'ä', 'a\nb', 'a=b'])('%j is refused', (id) => {
    expect(isIncidentId(id)).toBe(false);
    expect(() => incidentKey(id)).toThrow();
  });
  test('key round trip', () => {
    expect(incidentKey('inc-1')).toBe('probectl-inc-1');
    expect(incidentIdFromKey('probectl-inc-1')).toBe('inc-1');
    expect(incidentIdFromKey('probectl-')).toBeUndefined();
    expect(incidentIdFromKey('other-inc-1')).toBeUndefined();
  });
});

describe('URL policy', () => {
  test('https always; http only to loopback', () => {
    expect(urlSchemeProblem(new URL('https://events.pagerduty.com/v2/enqueue'))).toBeUndefined();
    expect(urlSchemeProblem(new URL('http://127.0.0.1:9000/x'))).toBeUndefined();
    expect(urlSchemeProblem(new URL('http://[::1]:9000/x'))).toBeUndefined();
    expect(urlSchemeProblem(new URL('http://localhost/x'))).toBeUndefined();
    expect(urlSchemeProblem(new URL('http://10.0.0.1/x'))).toMatch(/loopback/);
    expect(urlSchemeProblem(new URL('http://127.example.com/x'))).toMatch(/loopback/);
    expect(urlSchemeProblem(new URL('ftp://x/y'))).toMatch(/scheme/);
    expect(isLoopbackHost('127.1.2.3')).toBe(true);
  });
});

describe('durations', () => {
  test.each([['250ms', 250], ['30s', 30_000], ['5m', 300_000], ['2h', 7_200_000], ['1.5s', 1500]])('%s', (t, ms) => expect(parseDuration(t)).toBe(ms));
  test.each(['', '5', '5 s', '-1s', '1d'])('%j is refused', (t) => expect(parseDuration(t)).toBeUndefined());
});

describe('payload checks the workflow applies', () => {
  const ok = { id: 'i-1', tenantId: 't1', title: 'x', severity: 'warning', openedAt: '2026-11-27T10:00:00Z' };
  test('a valid incident has no problems', () => expect(incidentProblems(ok)).toEqual([]));
  test('each bad field is named', () => {
    expect(incidentProblems({ ...ok, id: 'a b' })).toEqual([expect.stringContaining('incident.id')]);
    expect(incidentProblems({ ...ok, severity: 'sev1' })).toEqual([expect.stringContaining('severity')]);
    expect(incidentProblems({ ...ok, openedAt: 'yesterday' })).toEqual([expect.stringContaining('openedAt')]);
    expect(incidentProblems({ ...ok, labels: { a: 1 } })).toEqual([expect.stringContaining('labels')]);
    expect(incidentProblems(null)).toHaveLength(1);
  });
  test('signals need a tenant and, for resolve/acknowledge, a source', () => {
    expect(signalProblems({ tenantId: 't1', source: 'api', at: '2026-11-27T10:00:00Z' }, true)).toEqual([]);
    expect(signalProblems({ tenantId: 't1' }, true)).toEqual([expect.stringContaining('source')]);
    expect(signalProblems({ source: 'api' }, true)).toEqual([expect.stringContaining('tenantId')]);
  });
});
