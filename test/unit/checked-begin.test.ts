/**
 * The workflow's check of a checked begin snapshot (src/workflows/v2/checked-begin.ts) and the worker's Build ID that
 * carries its side of it (src/runtime/build-id.ts): a snapshot of the right shape is taken by a live first task only
 * under a digest equal to the one at the end of its worker's Build ID, and not in a run made by a reset.
 */
import { workerBuildId } from '../../src/runtime/build-id';
import { beginDigestOfBuildId, beginDigestSuffix, checkedBeginFromInput, offeredBegins, takesCheckedBegin } from '../../src/workflows/v2/checked-begin';

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

describe('checkedBeginFromInput (the shape, asked on replay too)', () => {
  test('a well-formed digest and snapshot', () => {
    expect(checkedBeginFromInput({ configDigest: D, begin })).toEqual({ configDigest: D, begin });
  });

  test.each<[string, unknown]>([
    ['the digest in upper case', { configDigest: D.toUpperCase(), begin }],
    ['a digest too short', { configDigest: D.slice(1), begin }],
    ['a digest that is not a string', { configDigest: 123, begin }],
    ['no digest', { begin }],
    ['no snapshot', { configDigest: D }],
    ['a malformed snapshot', { configDigest: D, begin: { ...begin, settings: { pagerReResolveDelayMs: '300ms' } } }],
    ['an array', [D, begin]],
    ['null', null],
    ['a string', D],
  ])('not taken: %s', (_name, input) => {
    expect(checkedBeginFromInput(input)).toBeUndefined();
  });
});

describe('takesCheckedBegin (a live first task only)', () => {
  const first = { currentBuildId: buildId, runId: 'run-1', originalExecutionRunId: 'run-1' };
  test('taken: this worker carries the digest, and the run is its execution\'s original', () => {
    expect(takesCheckedBegin(D, first)).toBe(true);
  });

  test.each<[string, string, Partial<typeof first> & { currentBuildId?: string | undefined }]>([
    ['another digest', OTHER, {}],
    ['a Build ID without a digest (an older worker)', D, { currentBuildId: '@temporalio/worker@1.24.0+abc' }],
    ['no Build ID', D, { currentBuildId: undefined }],
    ['the digest not at the end of the Build ID', D, { currentBuildId: `x.begin-${D}.y` }],
    ['a run made by a reset (its run id is not the original one)', D, { runId: 'run-2' }],
  ])('not taken: %s', (_name, digest, over) => {
    expect(takesCheckedBegin(digest, { ...first, ...over })).toBe(false);
  });
});

// The one rule the entry (first-run-checked-v1) and the state machine share: every unchecked × every checked value.
describe('offeredBegins: what a first run\'s input offers', () => {
  const uncheckedValues: Array<[string, unknown, boolean]> = [
    ['absent', undefined, false], ['null', null, false], ['of the wrong shape', { connectors: 'all' }, false], ['an array', [], false], ['well-formed', begin, true],
  ];
  const checkedValues: Array<[string, unknown, boolean]> = [
    ['absent', undefined, false], ['null', null, false], ['without a digest', { begin }, false], ['with a bad digest', { configDigest: 'x', begin }, false],
    ['with a bad snapshot', { configDigest: D, begin: { connectors: 1 } }, false], ['well-formed', { configDigest: D, begin }, true],
  ];
  const cases = uncheckedValues.flatMap((u) => checkedValues.map((c) => [u[0], c[0], u, c] as const));
  test.each(cases)('unchecked %s, checked %s', (_u, _c, [, unchecked, uncheckedOk], [, checked, checkedOk]) => {
    const input = { ...(unchecked !== undefined ? { begin: unchecked } : {}), ...(checked !== undefined ? { checkedBegin: checked } : {}) };
    const out = offeredBegins(input);
    // A well-formed unchecked snapshot wins; the checked one counts only without it.
    expect(out.given !== undefined).toBe(uncheckedOk);
    expect(out.checked !== undefined).toBe(!uncheckedOk && checkedOk);
    if (out.checked) expect(out.checked).toEqual(checkedBeginFromInput(checked));
  });
});
