import { exposedNames, metricNames } from '../helpers/promql';

describe('metric names in PromQL (the check of deploy/ against the live endpoints relies on it)', () => {
  test.each([
    ['rate(a_total[5m])', ['a_total']],
    ['sum by (provider, reason) (increase(a_total{provider!="probectl"}[15m])) > 0 or (sum by (p) (a_total unless a_total offset 15m) > 0)', ['a_total']],
    ['histogram_quantile(0.95, sum by (le, provider) (rate(x_seconds_bucket{le="0", provider=~"$provider"}[$__rate_interval])))', ['x_seconds_bucket']],
    ['sum(rate(a[5m])) / ignoring(le) group_left sum(b) * 60 > 1e3', ['a', 'b']],
    ['sum without (instance) (a) and on (job) b unless c', ['a', 'b', 'c']],
    ['absent(temporal_long_request_total{job="w", operation="PollWorkflowTaskQueue"})', ['temporal_long_request_total']],
    ['count((sum by (instance) (rate(a[5m])) - (sum by (instance) (rate(b[5m])) or sum by (instance) (rate(a[5m])) * 0)) > 0) or vector(0)', ['a', 'b']],
    ['1 - sum by (p) (rate(h_bucket{le="0"}[$__rate_interval])) / sum by (p) (rate(h_count[${__rate_interval}]))', ['h_bucket', 'h_count']],
    ['max_over_time(rate(x[5m])[1h:1m] offset 30m) @ end()', ['x']],
    ['sum(x{a="sum by (b) {c} or d"}) bool == Inf', ['x']],
    ['topk(3, sum(rate(x:recorded[5m])) by (job))', ['x:recorded']],
    ['sum(x) by (job) > .5', ['x']],
    ['label_replace(up, "a", "$1", "job", "(.*)")', ['up']],
  ])('%s', (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });

  test('an expression that selects by __name__ is refused, not skipped', () => {
    expect(() => metricNames('sum(rate({__name__=~"probectl_.*"}[5m]))')).toThrow(/__name__/);
  });

  test('sample names of a text exposition: every sample line, no comment', () => {
    const text = [
      '# HELP a_total Things.',
      '# TYPE a_total counter',
      'a_total{provider="pagerduty",outcome="ok"} 3',
      '# HELP only_declared Declared, never set.',
      '# TYPE only_declared counter',
      'b 1.5e+3',
      'h_bucket{le="+Inf"} 2',
      '',
    ].join('\n');
    expect([...exposedNames(text)].sort()).toEqual(['a_total', 'b', 'h_bucket']);
  });
});
