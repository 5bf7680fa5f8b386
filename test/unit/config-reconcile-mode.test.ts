import { createMirrorActivities } from '../../src/activities/mirror-activities';
import { loadConfig } from '../../src/config/load';
import { ConfigError } from '../../src/config/errors';
import type { MirrorStore } from '../../src/db/mirror-store';

const SETTING = 'PROBECTL_NOTIFY_RECONCILE_MODE';

describe(SETTING, () => {
  test('per-incident unless set (today\'s behaviour)', () => {
    expect(loadConfig({}).reconcileMode).toBe('per-incident');
    expect(loadConfig({ [SETTING]: '' }).reconcileMode).toBe('per-incident');
  });

  test.each(['per-incident', 'per-connector', ' per-connector '])('accepts %p', (value) => {
    expect(loadConfig({ [SETTING]: value }).reconcileMode).toBe(value.trim());
  });

  test.each(['per-tenant', 'PER-CONNECTOR', 'connector', 'off', '1'])('refuses %p with an error naming the setting and the choices, not the value', (value) => {
    let err: unknown;
    try {
      loadConfig({ [SETTING]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).setting).toBe(SETTING);
    expect((err as ConfigError).message).toBe(`${SETTING}: ${SETTING} must be per-incident or per-connector`);
  });

  test.each([
    ['per-incident', '5m', 300_000], ['per-incident', '0s', 0], ['per-connector', '5m', 0], ['per-connector', '0s', 0],
  ])('mode %s, interval %s: a new incident\'s own loop runs every %p ms (0 = off)', async (mode, interval, expected) => {
    const config = loadConfig({ [SETTING]: mode, PROBECTL_NOTIFY_RECONCILE_INTERVAL: interval });
    const mirror = { read: async () => undefined } as unknown as MirrorStore;
    const begun = await createMirrorActivities({ config, mirror }).beginIncident({
      incident: { id: 'INC-1', tenantId: 'acme', title: 't', severity: 'info', openedAt: '2026-11-30T16:00:00Z' },
    } as Parameters<ReturnType<typeof createMirrorActivities>['beginIncident']>[0]);
    expect(begun.settings.reconcileIntervalMs).toBe(expected);
  });
});
