import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load';

const dir = mkdtempSync(join(tmpdir(), 'probectl-secrets-'));
const file = (name: string, content: string) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

describe('secrets from files (*_FILE)', () => {
  test('every secret-bearing setting accepts a file; a trailing newline is dropped', () => {
    const c = loadConfig({
      DATABASE_URL_FILE: file('db', 'postgres://u:p@127.0.0.1:5432/x\n'),
      PROBECTL_NOTIFY_API_TOKENS_FILE: file('tokens', 'acme:aaaaaaaaaaaaaaaaaaaa\nacme:bbbbbbbbbbbbbbbbbbbb\n'),
      PROBECTL_NOTIFY_CONNECTORS_FILE: file('conn', 'acme|pagerduty|https://events.pagerduty.com/v2/enqueue|rk-1234567890\n'),
      PROBECTL_NOTIFY_CALLBACK_URL: 'https://probectl.example.com/cb',
      PROBECTL_NOTIFY_CALLBACK_SECRET_FILE: file('cb', 'cccccccccccccccccccccccc\n'),
    });
    expect(c.databaseUrl?.reveal()).toBe('postgres://u:p@127.0.0.1:5432/x');
    expect(c.apiTokens.map((t) => t.token.reveal())).toEqual(['aaaaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbb']);
    expect(c.connectors.all[0]?.credential.reveal()).toBe('rk-1234567890');
    expect(c.callback?.secret.reveal()).toBe('cccccccccccccccccccccccc');
  });

  test('the JSON form sidesteps the separators', () => {
    const c = loadConfig({
      PROBECTL_NOTIFY_CONNECTORS_FILE: file(
        'conn.json',
        JSON.stringify([{ tenant: 'acme', provider: 'servicenow', url: 'https://acme.service-now.com', credential: 'svc-user:p|a,s:s' }]),
      ),
    });
    expect(c.connectors.all[0]?.credential.reveal()).toBe('svc-user:p|a,s:s');
  });

  test('exactly one of NAME and NAME_FILE', () => {
    expect(() => loadConfig({ PROBECTL_NOTIFY_API_TOKENS: 'acme:aaaaaaaaaaaaaaaaaaaa', PROBECTL_NOTIFY_API_TOKENS_FILE: file('t2', 'x') })).toThrow(
      /PROBECTL_NOTIFY_API_TOKENS: set either PROBECTL_NOTIFY_API_TOKENS or PROBECTL_NOTIFY_API_TOKENS_FILE, not both/,
    );
  });

  test('an unreadable file names the setting and the path, not any content', () => {
    expect(() => loadConfig({ PROBECTL_NOTIFY_CONNECTORS_FILE: join(dir, 'missing') })).toThrow(/PROBECTL_NOTIFY_CONNECTORS_FILE: cannot read .*missing.*ENOENT/);
  });
});
