/**
 * The workflow's check of a checked begin snapshot (src/workflows/v2/checked-begin.ts) and the worker's Build ID that
 * carries its side of it (src/runtime/build-id.ts): a snapshot is taken only with a well-formed digest equal to the
 * one at the end of the Build ID, and only when the snapshot itself is well-formed.
 */
import { workerBuildId } from '../../src/runtime/build-id';
import { beginDigestOfBuildId, beginDigestSuffix, checkedBeginFromInput } from '../../src/workflows/v2/checked-begin';

const D = '0123456789abcdef';
const OTHER = 'fedcba9876543210';
const begin = {
  connectors: [{ id: 'pagerduty', provider: 'pagerduty' }],
  settings: { pagerReResolveDelayMs: 300, reconcileIntervalMs: 0, reissueGuardMs: 500 },
  mirror: { available: true },
};
const buildId = workerBuildId({ code: 'workflow code' }, D);

describe('the worker\'s Build ID', () => {
  test('the SDK\'s form (package@version+checksum of the code), then the digest', () => {
    expect(buildId).toMatch(/^@temporalio\/worker@\d+\.\d+\.\d+\+[0-9a-f]{64}\.begin-0123456789abcdef$/);
    expect(beginDigestOfBuildId(buildId)).toBe(D);
  });

  test('the checksum follows the code; the digest is only the suffix', () => {
    expect(workerBuildId({ code: 'other code' }, D)).not.toBe(buildId);
    expect(beginDigestOfBuildId(workerBuildId({ code: 'other code' }, OTHER))).toBe(OTHER);
  });

  test.each(['', '0123456789ABCDEF', '0123456789abcde', '0123456789abcdef0', 'g123456789abcdef'])('a digest of the wrong form (%p) is refused', (d) => {
    expect(() => beginDigestSuffix(d)).toThrow(/16 lower-case hex/);
  });
});

describe('beginDigestOfBuildId', () => {
  test.each<[string | undefined, string | undefined]>([
    [`x+y.begin-${D}`, D],
    [`.begin-${D}`, D],
    [undefined, undefined],
    ['', undefined],
    ['@temporalio/worker@1.24.0+abcdef', undefined], // the SDK's default: no digest (an older release of ours)
    [`x.begin-${D}.more`, undefined], // not at the end
    [`x.begin-${D}0`, undefined],
    [`x.begin-${D.toUpperCase()}`, undefined],
    [`x-begin-${D}`, undefined],
  ])('%p → %p', (id, expected) => {
    expect(beginDigestOfBuildId(id)).toBe(expected);
  });
});

describe('checkedBeginFromInput', () => {
  test('taken: a well-formed snapshot under the Build ID\'s digest', () => {
    expect(checkedBeginFromInput({ configDigest: D, begin }, buildId)).toBe(begin);
  });

  test.each<[string, unknown, string | undefined]>([
    ['another digest', { configDigest: OTHER, begin }, buildId],
    ['a Build ID without a digest (an older worker)', { configDigest: D, begin }, '@temporalio/worker@1.24.0+abc'],
    ['no Build ID', { configDigest: D, begin }, undefined],
    ['the digest in upper case', { configDigest: D.toUpperCase(), begin }, `x.begin-${D}`],
    ['a digest that is not a string', { configDigest: 123, begin }, buildId],
    ['no digest', { begin }, buildId],
    ['no snapshot', { configDigest: D }, buildId],
    ['a malformed snapshot', { configDigest: D, begin: { ...begin, settings: { pagerReResolveDelayMs: '300ms' } } }, buildId],
    ['an array', [D, begin], buildId],
    ['null', null, buildId],
    ['a string', D, buildId],
  ])('not taken: %s', (_name, input, id) => {
    expect(checkedBeginFromInput(input, id)).toBeUndefined();
  });
});
