/**
 * The begin snapshot in a start input (IncidentWorkflowInput.begin) is used only when well-formed: every field of a
 * valid snapshot, broken in every way a careless or hostile starter could, makes the run read the snapshot itself
 * (beginFromInput answers undefined) — never a throw, never a half-valid snapshot.
 */
import fc from 'fast-check';
import { beginFromInput } from '../../src/workflows/v2/begin-input';
import { begin, initialState } from '../../src/workflows/v2/state';
import { acknowledgeSummary, openSummary, resolveSummary } from '../../src/workflows/ui';
import type { Incident } from '../../src/shared/contract';

const INCIDENT: Incident = { id: 'inc-1', tenantId: 'acme', title: 'Packet loss', severity: 'critical', openedAt: '2026-12-01T00:00:00.000Z' };

/** What the workflow does with an accepted snapshot in its first task: none of it may throw. */
function firstTask(b: NonNullable<ReturnType<typeof beginFromInput>>): void {
  const s = initialState(INCIDENT, 'chain-1');
  begin(s, b, '2026-12-01T00:00:01.000Z');
  for (const ref of s.connectors) {
    openSummary(ref, INCIDENT);
    acknowledgeSummary(ref, s.links[ref.id]);
    resolveSummary(ref, s.links[ref.id], false);
  }
}

const valid = () => ({
  connectors: [
    { id: 'pagerduty', provider: 'pagerduty', caps: { kind: 'pager', readable: false, name: 'PagerDuty', open: 'trigger {key}' } },
    { id: 'jira', provider: 'jira', minSeverity: 'error' },
  ],
  settings: { pagerReResolveDelayMs: 60_000, reconcileIntervalMs: 0, reissueGuardMs: 25_000 },
  mirror: {
    available: true,
    record: { status: 'open', links: [{ connectorId: 'pagerduty', provider: 'pagerduty', status: 'open', externalRef: 'probectl-x', updatedAt: '2026-12-01T00:00:00.000Z' }] },
  },
});

/** Set `path` (dot-separated, array indices as numbers) of a fresh valid snapshot to `value` (undefined deletes). */
function broken(path: string, value: unknown): unknown {
  const root = valid() as unknown as Record<string, unknown>;
  const keys = path.split('.');
  let at: Record<string, unknown> = root;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  const last = keys[keys.length - 1]!;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return root;
}

describe('beginFromInput', () => {
  test('a valid snapshot is used as it is; optional parts may be absent', () => {
    expect(beginFromInput(valid())).toEqual(valid());
    firstTask(beginFromInput(valid())!);
    expect(beginFromInput({ ...valid(), mirror: { available: false } })).toBeDefined();
    expect(beginFromInput({ ...valid(), connectors: [] })).toBeDefined();
    expect(beginFromInput(broken('settings.reissueGuardMs', undefined))).toBeDefined();
    expect(beginFromInput(broken('settings.reconcileIntervalMs', undefined))).toBeDefined();
  });

  test.each<[string, unknown]>([
    ['not an object', 'begin'],
    ['null', null],
    ['an array', [valid()]],
    ['connectors missing', broken('connectors', undefined)],
    ['connectors not an array', broken('connectors', { id: 'pagerduty' })],
    ['a connector without an id', broken('connectors.0.id', undefined)],
    ['a connector id empty', broken('connectors.0.id', '')],
    ['a connector id not text', broken('connectors.0.id', 7)],
    ['a connector id too long', broken('connectors.0.id', 'x'.repeat(129))],
    ['a connector without a provider', broken('connectors.0.provider', undefined)],
    ['a min severity that is none', broken('connectors.1.minSeverity', 'sev1')],
    ['caps not an object', broken('connectors.0.caps', 'pager')],
    ['caps with a kind that is none', broken('connectors.0.caps.kind', 'pagr')],
    ['caps without its kind', broken('connectors.0.caps.kind', undefined)],
    ['caps readable not a boolean', broken('connectors.0.caps.readable', 'no')],
    ['caps without a name', broken('connectors.0.caps.name', undefined)],
    ['caps with an open that is not text', broken('connectors.0.caps.open', 3)],
    ['a connector that is null', broken('connectors.0', null)],
    ['too many connectors', { ...valid(), connectors: Array.from({ length: 257 }, (_, i) => ({ id: `c${i}`, provider: 'slack' })) }],
    ['settings missing', broken('settings', undefined)],
    ['a delay that is text', broken('settings.pagerReResolveDelayMs', '60s')],
    ['a delay below zero', broken('settings.pagerReResolveDelayMs', -1)],
    ['a delay that is not finite', broken('settings.pagerReResolveDelayMs', Number.POSITIVE_INFINITY)],
    ['a delay past a year', broken('settings.pagerReResolveDelayMs', 400 * 24 * 3_600_000)],
    ['an interval that is NaN', broken('settings.reconcileIntervalMs', Number.NaN)],
    ['a guard that is text', broken('settings.reissueGuardMs', '25000')],
    ['mirror missing', broken('mirror', undefined)],
    ['availability not a boolean', broken('mirror.available', 'yes')],
    ['a record with an unknown status', broken('mirror.record.status', 'closed')],
    ['a record without links', broken('mirror.record.links', undefined)],
    ['a link with an unknown status', broken('mirror.record.links.0.status', 'gone')],
    ['a link without its time', broken('mirror.record.links.0.updatedAt', undefined)],
    ['a link reference that is not text', broken('mirror.record.links.0.externalRef', 42)],
    ['a link that is an array', broken('mirror.record.links.0', ['pagerduty'])],
  ])('%s: ignored (the run reads it itself)', (_name, input) => {
    expect(beginFromInput(input)).toBeUndefined();
  });

  test('property: any value anywhere in a snapshot never throws, is either ignored or kept whole, and an accepted one runs the first task', () => {
    const paths = [
      'connectors', 'connectors.0', 'connectors.0.id', 'connectors.0.provider', 'connectors.0.caps', 'connectors.1.minSeverity',
      'connectors.0.caps.kind', 'connectors.0.caps.readable', 'connectors.0.caps.name', 'connectors.0.caps.open',
      'settings', 'settings.pagerReResolveDelayMs', 'settings.reconcileIntervalMs', 'settings.reissueGuardMs',
      'mirror', 'mirror.available', 'mirror.record', 'mirror.record.status', 'mirror.record.links', 'mirror.record.links.0',
      'mirror.record.links.0.status', 'mirror.record.links.0.externalRef', 'mirror.record.links.0.updatedAt',
    ];
    fc.assert(fc.property(fc.constantFrom(...paths), fc.anything(), (path, value) => {
      const input = broken(path, value);
      const out = beginFromInput(input);
      if (out !== undefined) {
        expect(out).toBe(input);
        firstTask(out);
      }
    }), { numRuns: 2_000 });
  });
});
