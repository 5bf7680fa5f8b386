import { loadConfig } from '../../src/config/load';
import { ConfigError } from '../../src/config/errors';

const SETTING = 'PROBECTL_NOTIFY_PACE_WORKERS';

describe(SETTING, () => {
  test('1 unless set (the whole rate per worker while the shared pacing store is unreachable)', () => {
    expect(loadConfig({}).paceWorkers).toBe(1);
  });

  test.each(['1', '3', ' 12 ', '1000'])('accepts %p', (value) => {
    expect(loadConfig({ [SETTING]: value }).paceWorkers).toBe(Number(value.trim()));
  });

  test.each(['0', '-1', '1.5', 'three', '1001', '', '3 workers'])('refuses %p with an error naming the setting and the rule, not the value', (value) => {
    let err: unknown;
    try {
      loadConfig({ [SETTING]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).setting).toBe(SETTING);
    expect((err as ConfigError).message).toBe(`${SETTING}: ${SETTING} must be a whole number from 1 to 1000`);
  });
});
