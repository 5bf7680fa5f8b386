import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/errors';
import { loadConfig } from '../../src/config/load';
import { canaryWorkflowId } from '../../src/observability/heartbeat';
import { WORKFLOW_ID_PREFIX, incidentIdFromKey, incidentKey, isIncidentId } from '../../src/shared/ids';
import { incidentProblems } from '../../src/shared/validate';

const dir = mkdtempSync(join(tmpdir(), 'probectl-heartbeat-'));
const URL_SECRET = 'https://hc-ping.example.com/0f4e-s3cr3t-uuid-7a91';
const GENIE = 'GenieKey 11111111-s3cr3t-2222-3333-444444444444';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`no error for ${JSON.stringify(Object.keys(env))}`);
}

describe('heartbeat settings (PROBECTL_NOTIFY_HEARTBEAT_*)', () => {
  test.each<[Record<string, string>]>([[{}], [{ PROBECTL_NOTIFY_HEARTBEAT_URL: '' }], [{ PROBECTL_NOTIFY_HEARTBEAT_URL: '  ', PROBECTL_NOTIFY_HEARTBEAT_INTERVAL: '5m' }], [{ PROBECTL_NOTIFY_HEARTBEAT_METHOD: 'post' }],
    // docker-compose passes every setting, empty when unset.
    [{ PROBECTL_NOTIFY_HEARTBEAT_URL: '', PROBECTL_NOTIFY_HEARTBEAT_AUTHORIZATION: '', PROBECTL_NOTIFY_HEARTBEAT_INTERVAL: '', PROBECTL_NOTIFY_HEARTBEAT_METHOD: '' }]])(
    'off for %j',
    (env) => {
      expect(loadConfig(env).heartbeat).toBeUndefined();
    },
  );

  // [env, interval ms, method]
  test.each<[Record<string, string>, number, 'GET' | 'POST']>([
    [{ PROBECTL_NOTIFY_HEARTBEAT_URL: URL_SECRET }, 60_000, 'GET'],
    [{ PROBECTL_NOTIFY_HEARTBEAT_URL: URL_SECRET, PROBECTL_NOTIFY_HEARTBEAT_INTERVAL: '30s' }, 30_000, 'GET'],
    [{ PROBECTL_NOTIFY_HEARTBEAT_URL: URL_SECRET, PROBECTL_NOTIFY_HEARTBEAT_INTERVAL: '10s', PROBECTL_NOTIFY_HEARTBEAT_METHOD: 'post' }, 10_000, 'POST'],
    [{ PROBECTL_NOTIFY_HEARTBEAT_URL: 'http://127.0.0.1:9/ping', PROBECTL_NOTIFY_HEARTBEAT_INTERVAL: '24h', PROBECTL_NOTIFY_HEARTBEAT_METHOD: 'GET' }, 86_400_000, 'GET'],
    [{ PROBECTL_NOTIFY_HEARTBEAT_URL: 'https://api.opsgenie.com/v2/heartbeats/notify/ping', PROBECTL_NOTIFY_HEARTBEAT_AUTHORIZATION: GENIE, PROBECTL_NOTIFY_HEARTBEAT_INTERVAL: '' }, 60_000, 'GET'],
  ])('on for %#', (env, intervalMs, method) => {
    const h = loadConfig(env).heartbeat!;
    expect(h.intervalMs).toBe(intervalMs);
    expect(h.method).toBe(method);
    expect(h.url.reveal()).toBe(new URL(env.PROBECTL_NOTIFY_HEARTBEAT_URL!).toString());
    expect(h.authorization?.reveal()).toBe(env.PROBECTL_NOTIFY_HEARTBEAT_AUTHORIZATION);
    // The URL and the header are secrets: nothing prints them.
    expect(JSON.stringify(h)).not.toMatch(/s3cr3t|opsgenie|127\.0\.0\.1/);
  });

  test('the URL and the Authorization header from files', () => {
    const u = join(dir, 'url');
    const a = join(dir, 'auth');
    writeFileSync(u, `${URL_SECRET}\n`);
    writeFileSync(a, `${GENIE}\n`);
    const h = loadConfig({ PROBECTL_NOTIFY_HEARTBEAT_URL_FILE: u, PROBECTL_NOTIFY_HEARTBEAT_AUTHORIZATION_FILE: a }).heartbeat!;
    expect(h.url.reveal()).toBe(URL_SECRET);
    expect(h.authorization?.reveal()).toBe(GENIE);
  });

  // [env, setting named]
  test.each<[Record<string, string>, string]>([
    [{ PROBECTL_NOTIFY_HEARTBEAT_URL: 'hc-ping.example.com/s3cr3t-uuid' }, 'PROBECTL_NOTIFY_HEARTBEAT_URL'],
    [{ PROBECTL_NOTIFY_HEARTBEAT_URL: 'http://hc-ping.example.com/s3cr3t-uuid' }, 'PROBECTL_NOTIFY_HEARTBEAT_URL'],
    [{ PROBECTL_NOTIFY_HEARTBEAT_URL: 'ftp://hc-ping.example.com/s3cr3t-uuid' }, 'PROBECTL_NOTIFY_HEARTBEAT_URL'],
    [{ PROBECTL_NOTIFY_HEARTBEAT_URL: 'https://user:s3cr3t-pass@hc-ping.example.com/x' }, 'PROBECTL_NOTIFY_HEARTBEAT_URL'],
    [{ PROBECTL_NOTIFY_HEARTBEAT_URL: URL_SECRET, PROBECTL_NOTIFY_HEARTBEAT_URL_FILE: join(dir, 'missing') }, 'PROBECTL_NOTIFY_HEARTBEAT_URL'],
    [{ PROBECTL_NOTIFY_HEARTBEAT_URL_FILE: join(dir, 'missing-file') }, 'PROBECTL_NOTIFY_HEARTBEAT_URL_FILE'],
    [{ PROBECTL_NOTIFY_HEARTBEAT_AUTHORIZATION: GENIE }, 'PROBECTL_NOTIFY_HEARTBEAT_AUTHORIZATION'],
    [{ PROBECTL_NOTIFY_HEARTBEAT_URL: URL_SECRET, PROBECTL_NOTIFY_HEARTBEAT_INTERVAL: '60' }, 'PROBECTL_NOTIFY_HEARTBEAT_INTERVAL'],
    [{ PROBECTL_NOTIFY_HEARTBEAT_URL: URL_SECRET, PROBECTL_NOTIFY_HEARTBEAT_INTERVAL: '500ms' }, 'PROBECTL_NOTIFY_HEARTBEAT_INTERVAL'],
    // Below 10 s: every check leaves a closed canary workflow in visibility.
    [{ PROBECTL_NOTIFY_HEARTBEAT_URL: URL_SECRET, PROBECTL_NOTIFY_HEARTBEAT_INTERVAL: '1s' }, 'PROBECTL_NOTIFY_HEARTBEAT_INTERVAL'],
    [{ PROBECTL_NOTIFY_HEARTBEAT_URL: URL_SECRET, PROBECTL_NOTIFY_HEARTBEAT_INTERVAL: '9999ms' }, 'PROBECTL_NOTIFY_HEARTBEAT_INTERVAL'],
    [{ PROBECTL_NOTIFY_HEARTBEAT_URL: URL_SECRET, PROBECTL_NOTIFY_HEARTBEAT_INTERVAL: '25h' }, 'PROBECTL_NOTIFY_HEARTBEAT_INTERVAL'],
    [{ PROBECTL_NOTIFY_HEARTBEAT_URL: URL_SECRET, PROBECTL_NOTIFY_HEARTBEAT_INTERVAL: 'soon' }, 'PROBECTL_NOTIFY_HEARTBEAT_INTERVAL'],
    [{ PROBECTL_NOTIFY_HEARTBEAT_URL: URL_SECRET, PROBECTL_NOTIFY_HEARTBEAT_METHOD: 'HEAD' }, 'PROBECTL_NOTIFY_HEARTBEAT_METHOD'],
    [{ PROBECTL_NOTIFY_HEARTBEAT_URL: URL_SECRET, PROBECTL_NOTIFY_HEARTBEAT_AUTHORIZATION: 'GenieKey s3cr3t\r\nX-Evil: 1' }, 'PROBECTL_NOTIFY_HEARTBEAT_AUTHORIZATION'],
  ])('refuses %#: names the setting, never the secret', (env, setting) => {
    const err = configError(env);
    expect(err.setting).toBe(setting);
    expect(err.message.startsWith(`${setting}: `)).toBe(true);
    expect(err.message).not.toMatch(/s3cr3t|hc-ping|GenieKey 1/);
  });

  // A canary id holds '/', which no incident id may (src/shared/ids.ts, checked by the workflow's own validation and
  // the API's): no incident's workflow id, nor any key read back as an incident's, can be a canary's.
  test.each(['probectl-notify', 'tq-1', 'a.b_c', 'probectl', 'probectl-notify-eu'])('a canary workflow id on task queue %j is no incident workflow id', (tq) => {
    for (const nonce of ['6f1c2f9e-0000-4000-8000-000000000000', 'x']) {
      const id = canaryWorkflowId(tq, nonce);
      expect(incidentIdFromKey(id)).toBeUndefined();
      expect(() => incidentKey(id)).toThrow();
      // Whatever an incident id would have to be to produce it is refused by validation.
      const candidate = id.startsWith(WORKFLOW_ID_PREFIX) ? id.slice(WORKFLOW_ID_PREFIX.length) : id;
      expect(isIncidentId(candidate)).toBe(false);
      expect(incidentProblems({ id: candidate, tenantId: 't', title: 'x', severity: 'critical', openedAt: '2026-01-01T00:00:00Z' })).toContain('incident.id must match [A-Za-z0-9._-]{1,128}');
    }
  });

  test.each(['a/b', '/', 'probectl-x/y', 'heartbeat-canary/tq/n', 'x/'.repeat(10)])('an incident id with a slash (%j) is refused everywhere', (id) => {
    expect(isIncidentId(id)).toBe(false);
    expect(() => incidentKey(id)).toThrow();
    expect(incidentIdFromKey(`${WORKFLOW_ID_PREFIX}${id}`)).toBeUndefined();
  });
});
