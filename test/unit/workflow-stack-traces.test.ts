/**
 * PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES is read twice: validated by the configuration in the main thread, and read
 * again by the workflow-thread preload in each worker thread (src/runtime/workflow-thread-preload.ts), which cannot
 * load the configuration. For every value the configuration accepts, both must read the same; every other value must
 * stop the process at start-up, before a thread starts. The preload's effect in real threads: test/deploy/.
 */
import { loadConfig } from '../../src/config/load';
import { stackTracesSetting, workflowStackTraces } from '../../src/runtime/stack-traces';

const SETTING = 'PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES';

describe(SETTING, () => {
  test.each<[string | undefined, 'on' | 'off']>([
    [undefined, 'off'], ['', 'off'], ['  ', 'off'], ['off', 'off'], [' off ', 'off'], ['\toff\n', 'off'], ['on', 'on'], [' on', 'on'], ['on\n', 'on'],
  ])('%p → %p, as the configuration reads it and as the thread preload reads it', (value, expected) => {
    const env = value === undefined ? {} : { [SETTING]: value };
    expect(loadConfig(env).workflowStackTraces).toBe(expected);
    expect(stackTracesSetting(env)).toBe(expected);
  });

  test.each(['ON', 'On', 'OFF', 'yes', 'no', 'true', 'false', '1', '0', 'auto', 'o n', 'onn'])('refuses %p at start-up with an error naming the setting and the choices', (value) => {
    expect(() => loadConfig({ [SETTING]: value })).toThrow(`${SETTING}: ${SETTING} must be on or off`);
  });

  test('property: over random strings, whatever the configuration accepts, the preload reads the same way', () => {
    // A seeded generator (the same strings on every run): exact in integers (Math.imul; the product of a 31-bit seed
    // and the multiplier is past 2^53 in floating point) and read from its high bits (an LCG's low bits modulo a power
    // of two cycle with a short period). Before, the rounded product left the low bits all but constant: nearly every
    // character drawn was 'o', ' ' or 'a', nearly every length even, and no accepted value but a blank one was reached.
    let seed = 20261202;
    const below = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return Math.floor((seed / 2 ** 31) * n);
    };
    // The two words as pieces too, so that they (alone, padded, doubled, next to a stray character) are drawn often.
    const alphabet = ['o', 'n', 'f', 'O', 'N', 'F', ' ', '\t', '\n', 'a', '1', '\u00a0', 'on', 'off'];
    let accepted = 0;
    for (let i = 0; i < 3000; i += 1) {
      const len = below(6);
      let v = '';
      for (let j = 0; j < len; j += 1) v += alphabet[below(alphabet.length)];
      let config: 'on' | 'off' | undefined;
      try {
        config = loadConfig({ [SETTING]: v }).workflowStackTraces;
      } catch (err) {
        expect((err as Error).message).toContain(`${SETTING} must be on or off`);
        continue;
      }
      accepted += 1;
      expect(stackTracesSetting({ [SETTING]: v })).toBe(config);
    }
    expect(accepted).toBeGreaterThan(50); // the generator reaches accepted values, not only refusals
  });

  test.each<['on' | 'off', boolean, string | undefined, string]>([
    ['off', true, undefined, 'off'],
    ['off', true, '', 'off'],
    ['off', true, 'false', 'off'],
    ['off', true, '0', 'off'],
    ['off', true, '1', 'on (TEMPORAL_DEBUG runs workflows in the main thread)'],
    ['off', true, 'TRUE', 'on (TEMPORAL_DEBUG runs workflows in the main thread)'],
    ['off', true, 't', 'on (TEMPORAL_DEBUG runs workflows in the main thread)'],
    ['off', false, undefined, 'on (the thread preload is not loaded)'],
    ['off', false, '1', 'on (the thread preload is not loaded)'],
    ['on', true, undefined, 'on'],
    ['on', true, '1', 'on'],
    ['on', false, undefined, 'on'],
  ])('the worker logs setting %p, preload loaded %p, TEMPORAL_DEBUG %p as %p', (setting, preloaded, debug, logged) => {
    expect(workflowStackTraces(setting, preloaded, debug === undefined ? {} : { TEMPORAL_DEBUG: debug })).toBe(logged);
  });
});
