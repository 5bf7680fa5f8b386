import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { loadConfig } from '../../src/config/load';
import { ConfigError } from '../../src/config/errors';

const SETTING = 'PROBECTL_NOTIFY_PACE_KEY_SECRET';
const GOOD = 'a'.repeat(16) + '0123456789abcdef';

describe(SETTING, () => {
  test('unset: no key secret (the worker paces on its own share, no shared store)', () => {
    expect(loadConfig({}).paceKeySecret).toBeUndefined();
    expect(loadConfig({ [SETTING]: '  ' }).paceKeySecret).toBeUndefined();
  });

  test.each([GOOD, ` ${GOOD}x `, 'z'.repeat(200)])('accepts a secret of 32+ characters, directly or from its _FILE, and never prints it', (value) => {
    const direct = loadConfig({ [SETTING]: value }).paceKeySecret!;
    expect(direct.reveal()).toBe(value.trim());
    const dir = mkdtempSync(join(tmpdir(), 'pace-key-'));
    writeFileSync(join(dir, 'secret'), `${value}\n`);
    expect(loadConfig({ [`${SETTING}_FILE`]: join(dir, 'secret') }).paceKeySecret!.reveal()).toBe(value.trim());
    expect(`${String(direct)} ${JSON.stringify({ direct })} ${inspect(direct)}`).not.toContain(value.trim());
  });

  test.each(['short', 'x'.repeat(31), `${'y'.repeat(30)}  `])('refuses %p with an error naming the setting, not the value', (value) => {
    let err: unknown;
    try {
      loadConfig({ [SETTING]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).setting).toBe(SETTING);
    expect((err as ConfigError).message).not.toContain(value.trim());
  });

  test('both the setting and its _FILE: refused', () => {
    expect(() => loadConfig({ [SETTING]: GOOD, [`${SETTING}_FILE`]: '/nonexistent' })).toThrow(ConfigError);
  });
});
