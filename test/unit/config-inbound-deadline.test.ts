import { ConfigError } from '../../src/config/errors';
import { loadConfig } from '../../src/config/load';

describe('PROBECTL_NOTIFY_INBOUND_INLINE_DEADLINE', () => {
  test.each<[Record<string, string>, number]>([
    [{}, 300],
    [{ PROBECTL_NOTIFY_INBOUND_INLINE_DEADLINE: '50ms' }, 50],
    [{ PROBECTL_NOTIFY_INBOUND_INLINE_DEADLINE: '1s' }, 1_000],
    [{ PROBECTL_NOTIFY_INBOUND_INLINE_DEADLINE: '10s' }, 10_000],
  ])('%j → %i ms', (env, ms) => {
    expect(loadConfig(env).inboundInlineDeadlineMs).toBe(ms);
  });

  test.each(['49ms', '0', '11s', '1m', 'soon', '-1s'])('%j is refused, naming the setting', (v) => {
    let err: unknown;
    try {
      loadConfig({ PROBECTL_NOTIFY_INBOUND_INLINE_DEADLINE: v });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).setting).toBe('PROBECTL_NOTIFY_INBOUND_INLINE_DEADLINE');
  });
});
