/**
 * The API's begin snapshot (beginInStart) and the local activity's (beginResult) agree on connectors and settings;
 * the API's gives up (the run then reads it itself) where the local activity would answer "mirror unavailable".
 */
import { beginInStart, beginResult } from '../../src/activities/begin';
import { loadConfig } from '../../src/config/load';
import type { Incident } from '../../src/shared/contract';

const config = loadConfig({
  PROBECTL_NOTIFY_CONNECTORS: 'acme|pagerduty|https://events.pagerduty.com/v2/enqueue|R0UT1NGKEYbeginInStart0000000001,acme|slack|https://hooks.slack.com/services/T0/B0/beginInStartSecret01||hook',
  PROBECTL_NOTIFY_RECONCILE_MODE: 'per-connector',
  PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: '30s',
});
const incident = (tenantId: string): Incident => ({ id: 'inc-1', tenantId, title: 't', severity: 'critical', openedAt: '2026-12-01T00:00:00.000Z' });
const record = { status: 'open' as const, links: [] };

describe('beginInStart', () => {
  test('the same connectors and settings as the local activity, the mirror read with the given timeout', async () => {
    const timeouts: Array<number | undefined> = [];
    const mirror = { read: async (_t: string, _i: string, timeoutMs?: number) => (timeouts.push(timeoutMs), record) };
    const api = await beginInStart(config, mirror, incident('acme'), 500);
    const la = await beginResult(config, mirror, incident('acme'));
    expect(api).toEqual(la);
    expect(api).toMatchObject({ settings: { pagerReResolveDelayMs: 30_000, reconcileIntervalMs: 0 }, mirror: { available: true, record } });
    expect(api!.connectors.map((c) => c.id)).toEqual(['pagerduty', 'hook']);
    expect(timeouts).toEqual([500, undefined]);
    // Identities only: nothing of a connector's URL or credential is in the snapshot.
    expect(JSON.stringify(api)).not.toMatch(/R0UT1NG|beginInStartSecret|hooks\.slack|events\.pagerduty/);
  });

  test('a tenant without a connector here: no snapshot (the worker decides with its own configuration)', async () => {
    expect(await beginInStart(config, { read: async () => record }, incident('globex'), 500)).toBeUndefined();
  });

  test('a mirror that fails: the API gives up (rejects) where the local activity answers "unavailable"', async () => {
    const failing = { read: async () => { throw new Error('canceling statement due to statement timeout'); } };
    await expect(beginInStart(config, failing, incident('acme'), 500)).rejects.toThrow(/statement timeout/);
    expect((await beginResult(config, failing, incident('acme'))).mirror).toEqual({ available: false });
  });
});
