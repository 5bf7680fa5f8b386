import { loadConfig } from '../../src/config/load';
import { ConfigError } from '../../src/config/errors';
import { sdkTelemetryOptions } from '../../src/observability/sdk-runtime';

const SETTING = 'PROBECTL_NOTIFY_SDK_METRICS_ADDRESS';

describe(SETTING, () => {
  test('off unless set; an empty value is unset', () => {
    expect(loadConfig({}).sdkMetricsAddress).toBeUndefined();
    expect(loadConfig({ [SETTING]: '' }).sdkMetricsAddress).toBeUndefined();
    expect(loadConfig({ [SETTING]: '  ' }).sdkMetricsAddress).toBeUndefined();
  });

  test.each(['127.0.0.1:9465', '0.0.0.0:9465', '[::]:9465', '[::1]:1', ' 10.0.0.7:65535 '])('accepts %p', (value) => {
    expect(loadConfig({ [SETTING]: value }).sdkMetricsAddress).toBe(value.trim());
  });

  test.each(['9465', 'localhost:9465', 'metrics.internal:9465', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', '::1:9465', '[127.0.0.1]:9465', 'http://127.0.0.1:9465', '127.0.0.1:94a5'])(
    'refuses %p with an error naming the setting',
    (value) => {
      let err: unknown;
      try {
        loadConfig({ [SETTING]: value });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).setting).toBe(SETTING);
      expect((err as ConfigError).message).toMatch(new RegExp(`^${SETTING}: ${SETTING} must be an IP address and a port`));
    },
  );

  test('the exporter follows Prometheus naming: _total counters, histograms in seconds', () => {
    expect(sdkTelemetryOptions(undefined)).toEqual({});
    expect(sdkTelemetryOptions('127.0.0.1:9465')).toEqual({
      metrics: { prometheus: { bindAddress: '127.0.0.1:9465', countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true } },
    });
  });
});
