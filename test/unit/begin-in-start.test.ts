/**
 * The API's begin snapshot (beginInStart) and the local activity's (beginResult) agree on connectors and settings;
 * the API's gives up (the run then reads it itself) where the local activity would answer "mirror unavailable".
 * The digest it carries (beginConfigDigest) is equal for two configurations exactly when every tenant's snapshot is:
 * a table of every setting the snapshot reads and of settings it does not, and a property over random pairs.
 */
import { createHash } from 'node:crypto';
import { BEGIN_DIGEST_TAG, beginConfigDigest, beginInStart, beginResult, beginSnapshot } from '../../src/activities/begin';
import { loadConfig, type AppConfig } from '../../src/config/load';
import { pollerAgreement } from '../../src/runtime/begin-gate';
import { workerBuildId } from '../../src/runtime/build-id';
import { ADOPTED_LINKS_ACKNOWLEDGED_V1, FIRST_RUN_CHECKED_V1, RESOLVED_LEFT_OPEN_V1 } from '../../src/workflows/patches';
import type { Incident } from '../../src/shared/contract';

const PD = 'acme|pagerduty|https://events.pagerduty.com/v2/enqueue|R0UT1NGKEYbeginInStart0000000001';
const SLACK = 'acme|slack|https://hooks.slack.com/services/T0/B0/beginInStartSecret01||hook';
const BASE = {
  PROBECTL_NOTIFY_CONNECTORS: `${PD},${SLACK}`,
  PROBECTL_NOTIFY_RECONCILE_MODE: 'per-connector',
  PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '30s',
};
const config = loadConfig(BASE);
const incident = (tenantId: string): Incident => ({ id: 'inc-1', tenantId, title: 't', severity: 'critical', openedAt: '2026-12-01T00:00:00.000Z' });
const record = { status: 'open' as const, links: [] };

describe('beginInStart', () => {
  test('the same connectors and settings as the local activity, the mirror read with the given timeout, and the digest', async () => {
    const timeouts: Array<number | undefined> = [];
    const mirror = { read: async (_t: string, _i: string, timeoutMs?: number) => (timeouts.push(timeoutMs), record) };
    const api = await beginInStart(config, mirror, incident('acme'), 500);
    const la = await beginResult(config, mirror, incident('acme'));
    expect(api.begin).toEqual(la);
    expect(api.configDigest).toBe(beginConfigDigest(config));
    expect(api.configDigest).toMatch(/^[0-9a-f]{16}$/);
    expect(api.begin).toMatchObject({ settings: { pagerReResolveDelayMs: 30_000, reconcileIntervalMs: 0 }, mirror: { available: true, record } });
    expect(api.begin.connectors.map((c) => c.id)).toEqual(['pagerduty', 'hook']);
    expect(timeouts).toEqual([500, undefined]);
    // Identities only: nothing of a connector's URL or credential is in the snapshot.
    expect(JSON.stringify(api)).not.toMatch(/R0UT1NG|beginInStartSecret|hooks\.slack|events\.pagerduty/);
  });

  test('a tenant without a connector here: an empty snapshot, which a worker takes only under the same digest (it has none for the tenant either)', async () => {
    const api = await beginInStart(config, { read: async () => record }, incident('globex'), 500);
    expect(api.begin.connectors).toEqual([]);
    expect(api.configDigest).toBe(beginConfigDigest(config));
  });

  test('a mirror that fails: the API gives up (rejects) where the local activity answers "unavailable"', async () => {
    const failing = { read: async () => { throw new Error('canceling statement due to statement timeout'); } };
    await expect(beginInStart(config, failing, incident('acme'), 500)).rejects.toThrow(/statement timeout/);
    expect((await beginResult(config, failing, incident('acme'))).mirror).toEqual({ available: false });
  });
});

describe('beginConfigDigest', () => {
  const digest = (over: Record<string, string>) => beginConfigDigest(loadConfig({ ...BASE, ...over }));
  const base = beginConfigDigest(config);

  test('computed once per configuration, the same for an equal one loaded again', () => {
    expect(beginConfigDigest(config)).toBe(base);
    expect(digest({})).toBe(base);
  });

  // A run that takes the snapshot asks first-run-checked-v1 (and may ask adopted-links-acknowledged-v1), which a worker
  // of an earlier release cannot replay; those releases computed the digest the same way under the tags
  // 'begin-config-v1' and 'begin-config:first-run-checked-v1'. With the same configuration their workers must carry
  // another digest, so the API's gate stays shut while one polls — for every configuration here.
  test.each<[string, Record<string, string>]>([
    ['the base configuration', {}],
    ['no connector at all', { PROBECTL_NOTIFY_CONNECTORS: '' }],
    ['two tenants', { PROBECTL_NOTIFY_CONNECTORS: `${PD},${SLACK},${PD.replace('acme|', 'globex|')}` }],
    ['another reconcile mode', { PROBECTL_NOTIFY_RECONCILE_MODE: 'per-incident' }],
  ])('%s: the digest names the first-run patch, so a worker of the release before carries another one and the gate is shut', (_what, over) => {
    const c = loadConfig({ ...BASE, ...over });
    expect(BEGIN_DIGEST_TAG).toContain(FIRST_RUN_CHECKED_V1);
    expect(BEGIN_DIGEST_TAG).toContain(ADOPTED_LINKS_ACKNOWLEDGED_V1);
    expect(BEGIN_DIGEST_TAG).toContain(RESOLVED_LEFT_OPEN_V1);
    const tenants = [...new Set(c.connectors.all.map((x) => x.tenantId))].sort();
    const part = (t: string) => beginSnapshot(c, incident(t));
    const under = (tag: string) => createHash('sha256').update(JSON.stringify([tag, part(''), tenants.map((t) => [t, part(t)])])).digest('hex').slice(0, 16);
    const before = under('begin-config-v1');
    const lastRelease = under(`begin-config:${FIRST_RUN_CHECKED_V1}`);
    const releaseBefore = under(`begin-config:${FIRST_RUN_CHECKED_V1}+${ADOPTED_LINKS_ACKNOWLEDGED_V1}`);
    const now = createHash('sha256').update(JSON.stringify([BEGIN_DIGEST_TAG, part(''), tenants.map((t) => [t, part(t)])])).digest('hex').slice(0, 16);
    // The formula above is the one beginConfigDigest uses (else this test proves nothing about it).
    expect(beginConfigDigest(c)).toBe(now);
    expect(before).not.toBe(now);
    expect(lastRelease).not.toBe(now);
    expect(releaseBefore).not.toBe(now);
    const poller = (digest: string, identity: string) => ({ identity, workerVersionCapabilities: { buildId: workerBuildId({ code: 'x' }, digest) } });
    expect(pollerAgreement([poller(now, 'new')], now).open).toBe(true);
    expect(pollerAgreement([poller(now, 'new'), poller(before, 'older')], now)).toMatchObject({ open: false });
    expect(pollerAgreement([poller(now, 'new'), poller(lastRelease, 'last release')], now)).toMatchObject({ open: false });
    expect(pollerAgreement([poller(now, 'new'), poller(releaseBefore, 'release before resolved-left-open-v1')], now)).toMatchObject({ open: false });
  });

  test.each<[string, Record<string, string>]>([
    ['a connector more', { PROBECTL_NOTIFY_CONNECTORS: `${PD},${SLACK},acme|slack|https://hooks.slack.com/services/T0/B0/other||hook2` }],
    ['a connector fewer', { PROBECTL_NOTIFY_CONNECTORS: PD }],
    ['a connector renamed', { PROBECTL_NOTIFY_CONNECTORS: `${PD},${SLACK.replace('||hook', '||hook-b')}` }],
    ['the connectors in another order', { PROBECTL_NOTIFY_CONNECTORS: `${SLACK},${PD}` }],
    ['a connector under another tenant', { PROBECTL_NOTIFY_CONNECTORS: `${PD},${SLACK.replace('acme|', 'globex|')}` }],
    ['a tenant more', { PROBECTL_NOTIFY_CONNECTORS: `${PD},${SLACK},${PD.replace('acme|', 'globex|')}` }],
    ['a minimum severity', { PROBECTL_NOTIFY_CONNECTORS: `${PD.replace('/enqueue|', '/enqueue?min_severity=error|')},${SLACK}` }],
    ['another minimum severity', { PROBECTL_NOTIFY_CONNECTORS: `${PD.replace('/enqueue|', '/enqueue?min_severity=warning|')},${SLACK}` }],
    ['the pager re-resolve delay', { PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '31s' }],
    ['the reconciliation mode', { PROBECTL_NOTIFY_RECONCILE_MODE: 'per-incident' }],
    ['the HTTP timeout (the re-issue guard)', { PROBECTL_NOTIFY_HTTP_TIMEOUT: '11s' }],
  ])('changed by %s', (_name, over) => {
    expect(digest(over)).not.toBe(base);
  });

  test('the reconciliation interval changes it in per-incident mode, where runs carry it', () => {
    const a = digest({ PROBECTL_NOTIFY_RECONCILE_MODE: 'per-incident', PROBECTL_NOTIFY_RECONCILE_INTERVAL: '5m' });
    const b = digest({ PROBECTL_NOTIFY_RECONCILE_MODE: 'per-incident', PROBECTL_NOTIFY_RECONCILE_INTERVAL: '6m' });
    expect(a).not.toBe(b);
  });

  test.each<[string, Record<string, string>]>([
    ['a routing key', { PROBECTL_NOTIFY_CONNECTORS: `${PD.replace('0000000001', '0000000002')},${SLACK}` }],
    ['a connector URL', { PROBECTL_NOTIFY_CONNECTORS: `${PD.replace('events.pagerduty.com', 'events.eu.pagerduty.com')},${SLACK}` }],
    ['the reconciliation interval in per-connector mode (new runs carry 0)', { PROBECTL_NOTIFY_RECONCILE_INTERVAL: '6m' }],
    ['the log level', { LOG_LEVEL: 'debug' }],
    ['the task queue', { PROBECTL_NOTIFY_TASK_QUEUE: 'elsewhere' }],
    ['the workflow cache', { PROBECTL_NOTIFY_MAX_CACHED_WORKFLOWS: '100' }],
    ['BEGIN_IN_START itself', { PROBECTL_NOTIFY_BEGIN_IN_START: 'off' }],
    ['EAGER_START (where the first task goes, not what it decides)', { PROBECTL_NOTIFY_EAGER_START: 'off' }],
    ['WORKFLOW_STACK_TRACES (what the workflow thread records beside the run, not what it decides)', { PROBECTL_NOTIFY_WORKFLOW_STACK_TRACES: 'on' }],
  ])('not changed by %s (no snapshot reads it)', (_name, over) => {
    expect(digest(over)).toBe(base);
  });

  test('property: two random configurations have one digest exactly when every tenant\'s snapshot is the same', () => {
    // A seeded generator (the same pairs on every run). Exact in integers (Math.imul: the product of a 31-bit seed and
    // the multiplier is past 2^53 in floating point), and a pick reads the high bits: the low bits of an LCG modulo a
    // power of two cycle with a short period (the lowest alternates). Before, the product was rounded and the lowest
    // bits were a constant: every pick of two was the first, so one tenant, one name, one provider and one mode.
    let seed = 20261201;
    const pick = <T>(xs: readonly T[]): T => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return xs[Math.floor((seed / 2 ** 31) * xs.length)]!;
    };
    const TENANTS = ['acme', 'globex'];
    /** What a snapshot reads: the connectors' tenants, names, providers and minimum severities, the mode and settings. */
    interface Shape { entries: Array<{ tenant: string; name: string; provider: 'pagerduty' | 'slack'; sev: string }>; mode: string; interval: string; delay: string }
    const randomShape = (): Shape => {
      const entries: Shape['entries'] = [];
      const count = pick([0, 1, 1, 2, 2, 3]);
      for (let i = 0; i < count; i += 1) {
        // Two providers, so that the capabilities in a connector's reference differ between entries too.
        const e = { tenant: pick(TENANTS), name: pick(['a', 'b']), provider: pick(['pagerduty', 'slack'] as const), sev: pick(['', '', '?min_severity=error']) };
        if (!entries.some((x) => x.tenant === e.tenant && x.name === e.name)) entries.push(e);
      }
      return { entries, mode: pick(['per-incident', 'per-connector']), interval: pick(['5m', '6m']), delay: pick(['30s', '30s', '1m']) };
    };
    /** A configuration of that shape; what no snapshot reads (keys, webhook paths, the interval per connector) drawn anew. */
    const configOf = (s: Shape): AppConfig => {
      const entries = s.entries.map((e) => (e.provider === 'pagerduty'
        ? `${e.tenant}|pagerduty|https://events.pagerduty.com/v2/enqueue${e.sev}|${pick(['R0UT1NGKEYaaaaaaaaaaaaaaaaaaaaaaa', 'R0UT1NGKEYbbbbbbbbbbbbbbbbbbbbbbb'])}|${e.name}`
        : `${e.tenant}|slack|https://hooks.slack.com/services/T0/B0/${pick(['aaaa', 'bbbb'])}${e.sev}||${e.name}`));
      return loadConfig({
        ...(entries.length > 0 ? { PROBECTL_NOTIFY_CONNECTORS: entries.join(',') } : {}),
        PROBECTL_NOTIFY_RECONCILE_MODE: s.mode,
        PROBECTL_NOTIFY_RECONCILE_INTERVAL: s.mode === 'per-connector' ? pick(['5m', '6m']) : s.interval,
        PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: s.delay,
      });
    };
    const snapshots = (c: AppConfig) => TENANTS.map((t) => beginSnapshot(c, incident(t)));
    let equal = 0;
    let different = 0;
    for (let i = 0; i < 400; i += 1) {
      // Two independent shapes (equal snapshots then come only from small domains: about 1 pair in 100), or one
      // shape twice, whose configurations differ in what no snapshot reads: both sides by construction.
      const shape = randomShape();
      const a = configOf(shape);
      const b = configOf(pick([true, false]) ? shape : randomShape());
      const same = JSON.stringify(snapshots(a)) === JSON.stringify(snapshots(b));
      if (same) equal += 1;
      else different += 1;
      expect({ i, sameDigest: beginConfigDigest(a) === beginConfigDigest(b) }).toEqual({ i, sameDigest: same });
    }
    // Both sides of the property were exercised.
    expect(equal).toBeGreaterThan(20);
    expect(different).toBeGreaterThan(20);
  });
});

describe('PROBECTL_NOTIFY_BEGIN_IN_START', () => {
  const SETTING = 'PROBECTL_NOTIFY_BEGIN_IN_START';
  test.each<[string | undefined, boolean]>([[undefined, true], ['', true], ['auto', true], [' auto ', true], ['on', true], ['off', false]])('%p → the API passes a checked snapshot: %p', (value, on) => {
    expect(loadConfig(value === undefined ? {} : { [SETTING]: value }).beginInStart).toBe(on);
  });

  test.each(['yes', 'true', 'AUTO', 'On', '1', 'unchecked'])('refuses %p with an error naming the setting and the choices', (value) => {
    expect(() => loadConfig({ [SETTING]: value })).toThrow(`${SETTING}: ${SETTING} must be auto, on or off`);
  });
});

describe('PROBECTL_NOTIFY_EAGER_START', () => {
  const SETTING = 'PROBECTL_NOTIFY_EAGER_START';
  test.each<[string | undefined, boolean]>([[undefined, true], ['', true], ['  ', true], ['auto', true], [' auto ', true], ['off', false], [' off', false]])('%p → eager starts where a worker runs beside the API: %p', (value, on) => {
    expect(loadConfig(value === undefined ? {} : { [SETTING]: value }).eagerStart).toBe(on);
  });

  test.each(['on', 'yes', 'true', 'AUTO', 'Off', '1', '0', 'eager'])('refuses %p with an error naming the setting and the choices', (value) => {
    expect(() => loadConfig({ [SETTING]: value })).toThrow(`${SETTING}: ${SETTING} must be auto or off`);
  });
});
