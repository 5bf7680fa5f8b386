/**
 * The dynamic config a benchmark run gives Temporal server 1.29.1 on Postgres (bench/lib/dynamic-config.ts): the
 * shipped file, eager dispatch as asked, the command line's additions; anything that would make it something else is
 * refused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { EAGER_ACTIVITIES, clusterDynamicConfig } from '../../bench/lib/dynamic-config';

const SHIPPED = readFileSync(join(__dirname, '..', '..', 'deploy', 'temporal', 'dynamicconfig.yaml'), 'utf8');
const shipped = parse(SHIPPED) as Record<string, unknown>;
const built = (eager: boolean, extra: string[] = []) => parse(clusterDynamicConfig(SHIPPED, eager, extra)) as Record<string, unknown>;

describe('the cluster dynamic config of a bench run', () => {
  test.each([
    ['off, nothing added: the shipped settings exactly', false, [], {}],
    ['on: the shipped settings and eager dispatch', true, [], { [EAGER_ACTIVITIES]: [{ value: true }] }],
    ['numbers, a word, a duration and a boolean added, typed as YAML types them', false, ['history.x=5', 'history.w=.5', 'history.v=1e3', 'frontend.y=some-word', 'frontend.u=1s', 'matching.z=false'], {
      'history.x': [{ value: 5 }], 'history.w': [{ value: 0.5 }], 'history.v': [{ value: 1000 }], 'frontend.y': [{ value: 'some-word' }],
      'frontend.u': [{ value: '1s' }], 'matching.z': [{ value: false }],
    }],
    ['a key named like an object property', false, ['constructor=1'], { constructor: [{ value: 1 }] }],
  ])('%s', (_what, eager, extra, added) => {
    expect(built(eager, extra)).toEqual({ ...shipped, ...added });
  });

  test('eager dispatch off takes the key out even where the file given sets it; on sets it once', () => {
    const withEager = `${SHIPPED}\n${EAGER_ACTIVITIES}:\n  - value: true\n`;
    expect(parse(clusterDynamicConfig(withEager, false, []))).toEqual(shipped);
    expect(parse(clusterDynamicConfig(withEager, true, []))).toEqual({ ...shipped, [EAGER_ACTIVITIES]: [{ value: true }] });
  });

  test.each([
    ['a key the shipped file sets', 'matching.useNewMatcher=false', /sets matching\.useNewMatcher already/],
    ['the eager key (its own option)', `${EAGER_ACTIVITIES}=true`, /--eager-activities/],
    ['no value', 'history.x', /expected key=value/],
    ['a value with spaces', 'history.x=a b', /expected key=value/],
    ['a value with YAML in it', 'history.x={a: 1}', /expected key=value/],
    ['an empty key', '=1', /expected key=value/],
    ['the same key twice', 'history.x=1', /history\.x is given twice/],
  ])('refuses %s', (_what, kv, message) => {
    const extra = _what === 'the same key twice' ? [kv, kv] : [kv];
    expect(() => clusterDynamicConfig(SHIPPED, false, extra)).toThrow(message);
  });
});
