/**
 * Property-based fuzzing of configuration parsing: parseConnectors, parseInbound, parseApiTokens and
 * loadConfig on random and mutated settings. Never a crash — a value or a ConfigError — and a ConfigError
 * never contains the secret of the entry it complains about (credential, Slack/Teams webhook URL, inbound
 * secret, API token, callback secret, database password).
 * Seed: printed at start; replay with FUZZ_SEED (and FUZZ_PATH); runs: FUZZ_RUNS or by FAULTS_MODE.
 */
import fc from 'fast-check';
import { parseApiTokens } from '../../src/config/api-tokens';
import { parseConnectors } from '../../src/config/connectors';
import { ConfigError } from '../../src/config/errors';
import { parseInbound } from '../../src/config/inbound';
import { loadConfig } from '../../src/config/load';
import { fuzzParams } from '../faults/fuzz';

/** A value, or a ConfigError; anything else thrown fails the property. */
function configOutcome<T>(fn: () => T): { value?: T; error?: ConfigError } {
  try {
    return { value: fn() };
  } catch (err) {
    if (err instanceof ConfigError) return { error: err };
    throw err;
  }
}

const SAFE = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!@#$%^&*()+=[]{};\'"<>?/\\';
/** A distinctive secret: never a substring of anything else the generators produce by chance. */
const secretArb = fc.string({ unit: fc.constantFrom(...SAFE.replace(/[,|\s:]/g, '')), minLength: 0, maxLength: 40 }).map((s) => `S3CR3T${s}`);
const tenantArb = fc.oneof(fc.constantFrom('acme', 'beta', 'a.b-c_d', '', ' acme', 'x'.repeat(65), 'ACME'), fc.string({ maxLength: 20 }).map((s) => s.replace(/[,|\n]/g, '')));
const providerArb = fc.oneof(fc.constantFrom('pagerduty', 'opsgenie', 'slack', 'teams', 'servicenow', 'jira', 'PagerDuty', 'pager', '', 'chat'), fc.string({ maxLength: 12 }).map((s) => s.replace(/[,|\n]/g, '')));
const urlFor = (host: string, secretPath: string) =>
  fc.constantFrom(
    `https://${host}/v2/enqueue`, `https://${host}/services/${secretPath}`, `https://${host}/rest/api/2/issue?project=OPS&resolve_transition=31`,
    `https://${host}/rest/api/2/issue?project=OPS&project=X`, `https://${host}/api/chat.postMessage?channel=C1&min_severity=bogus`,
    `http://example.com/${secretPath}`, `http://127.0.0.1:9/${secretPath}`, `ftp://${host}/${secretPath}`, `https://user:${secretPath}@${host}/x`,
    `not a url ${secretPath}`, `https://${host}/workflows/x/triggers/manual/paths/invoke?sig=${secretPath}`, `https://${host}?min_severity=warning`,
  );
const nameArb = fc.option(fc.oneof(fc.constantFrom('pd-a', 'api', 'probectl', 'Bad Name', ''), fc.string({ maxLength: 10 }).map((s) => s.replace(/[,|\n]/g, ''))), { nil: undefined });

describe('fuzz: configuration parsing', () => {
  test('parseConnectors on random text: a list or a ConfigError', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.json()), (raw) => {
      configOutcome(() => parseConnectors(raw));
    }), fuzzParams(500));
  });

  test('parseConnectors on mutated entries: never a crash, never the credential or the URL secret in the error', () => {
    const entryArb = fc.record({
      tenant: tenantArb, provider: providerArb, credential: secretArb, urlSecret: secretArb, name: nameArb,
      host: fc.constantFrom('events.pagerduty.com', 'acme.atlassian.net', 'hooks.slack.com', '127.0.0.1:8443', 'x'),
      // -1 drops the provider field and -2 swaps it with the credential, so the URL or the credential lands in
      // the provider slot (regression test for docs/faults.md, bug F-1).
      extraFields: fc.constantFrom(0, 0, 0, 1, -1, -2),
    }).chain((e) => urlFor(e.host, e.urlSecret.replace(/[?#/@]/g, '')).map((url) => ({ ...e, url })));
    fc.assert(fc.property(fc.array(entryArb, { minLength: 1, maxLength: 4 }), fc.boolean(), (entries, asJson) => {
      const raw = asJson
        ? JSON.stringify(entries.map((e) => ({ tenant: e.tenant, provider: e.provider, url: e.url, credential: e.credential, ...(e.name !== undefined ? { name: e.name } : {}) })))
        : entries.map((e) => {
          const fields = [e.tenant, e.provider, e.url, e.credential, ...(e.name !== undefined ? [e.name] : [])];
          if (e.extraFields === 1) fields.push('extra');
          if (e.extraFields === -1) fields.splice(1, 1);
          if (e.extraFields === -2) [fields[1], fields[3]] = [fields[3]!, fields[1]!];
          return fields.join('|');
        }).join(',');
      const { error, value } = configOutcome(() => parseConnectors(raw));
      if (value) for (const c of value) expect(JSON.stringify(c)).not.toContain(c.credential.reveal() || '\u0000none');
      if (!error) return;
      for (const e of entries) {
        expect(error.message).not.toContain(e.credential);
        expect(error.message).not.toContain(e.urlSecret.replace(/[?#/@]/g, ''));
      }
    }), fuzzParams(500));
  });

  test('parseInbound: never a crash, never the secret in the error', () => {
    const entry = fc.record({
      id: fc.oneof(fc.constantFrom('pd-a', 'jira-1', 'A', '', '-x', 'x'.repeat(65)), fc.string({ maxLength: 10 })),
      tenant: tenantArb,
      provider: providerArb,
      secret: secretArb,
    }).map((e) => ({ ...e, id: e.id.replace(/[,:\n]/g, ''), tenant: e.tenant.replace(/:/g, ''), provider: e.provider.replace(/:/g, '') }));
    fc.assert(fc.property(fc.array(entry, { minLength: 1, maxLength: 5 }), fc.string({ maxLength: 40 }), (entries, noise) => {
      const raw = entries.map((e) => `${e.id}:${e.tenant}:${e.provider}:${e.secret}`).join(',');
      const { error } = configOutcome(() => parseInbound(raw));
      if (error) for (const e of entries) expect(error.message).not.toContain(e.secret);
      configOutcome(() => parseInbound(noise));
    }), fuzzParams(500));
  });

  test('parseApiTokens: never a crash, never the token in the error', () => {
    const entry = fc.record({ tenant: tenantArb.map((t) => t.replace(/:/g, '')), token: secretArb });
    fc.assert(fc.property(fc.array(entry, { minLength: 1, maxLength: 5 }), fc.boolean(), fc.string({ maxLength: 40 }), (entries, dup, noise) => {
      const list = dup ? [...entries, entries[0]!] : entries;
      const raw = list.map((e) => `${e.tenant}:${e.token}`).join(',');
      const { error } = configOutcome(() => parseApiTokens(raw));
      if (error) for (const e of entries) expect(error.message).not.toContain(e.token);
      configOutcome(() => parseApiTokens(noise));
    }), fuzzParams(500));
  });

  test('loadConfig on random environments: a config or a ConfigError, never a secret in it', () => {
    const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
    const envArb = fc.record({
      TEMPORAL_ADDRESS: maybe(fc.oneof(fc.constant(''), fc.string({ maxLength: 30 }))),
      PROBECTL_NOTIFY_API_PORT: maybe(fc.oneof(fc.integer({ min: -10, max: 70_000 }).map(String), fc.string({ maxLength: 8 }))),
      LOG_LEVEL: maybe(fc.oneof(fc.constantFrom('info', 'debug', 'loud', ''), fc.string({ maxLength: 8 }))),
      PROBECTL_NOTIFY_HTTP_TIMEOUT: maybe(fc.oneof(fc.constantFrom('2s', '250ms', '5m', '0', '-1s', '1h', 's'), fc.string({ maxLength: 8 }))),
      PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: maybe(fc.string({ maxLength: 8 })),
      PROBECTL_NOTIFY_METRICS_PORT: maybe(fc.oneof(fc.constant(''), fc.integer({ min: -1, max: 70_000 }).map(String))),
      PROBECTL_NOTIFY_CALLBACK_URL: maybe(fc.constantFrom('https://probectl.example.com/cb', 'http://probectl.example.com/cb', 'http://127.0.0.1:1/cb', 'nope', '')),
      callbackSecret: maybe(secretArb),
      dbPassword: maybe(secretArb.map((s) => s.replace(/[^A-Za-z0-9]/g, ''))),
      apiToken: maybe(secretArb),
      connectorCredential: maybe(secretArb),
      inboundSecret: maybe(secretArb),
      temporalApiKey: maybe(secretArb),
      TEMPORAL_TLS: maybe(fc.constantFrom('true', 'false', 'yes', '')),
    });
    fc.assert(fc.property(envArb, (e) => {
      const env: Record<string, string | undefined> = {
        TEMPORAL_ADDRESS: e.TEMPORAL_ADDRESS, PROBECTL_NOTIFY_API_PORT: e.PROBECTL_NOTIFY_API_PORT, LOG_LEVEL: e.LOG_LEVEL,
        PROBECTL_NOTIFY_HTTP_TIMEOUT: e.PROBECTL_NOTIFY_HTTP_TIMEOUT, PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY: e.PROBECTL_NOTIFY_PAGER_RERESOLVE_DELAY,
        PROBECTL_NOTIFY_METRICS_PORT: e.PROBECTL_NOTIFY_METRICS_PORT, PROBECTL_NOTIFY_CALLBACK_URL: e.PROBECTL_NOTIFY_CALLBACK_URL,
        PROBECTL_NOTIFY_CALLBACK_SECRET: e.callbackSecret, TEMPORAL_TLS: e.TEMPORAL_TLS, TEMPORAL_API_KEY: e.temporalApiKey,
        DATABASE_URL: e.dbPassword !== undefined ? `postgres://svc:${e.dbPassword}@db.internal:5432/notify` : undefined,
        PROBECTL_NOTIFY_API_TOKENS: e.apiToken !== undefined ? `acme:${e.apiToken}` : undefined,
        PROBECTL_NOTIFY_CONNECTORS: e.connectorCredential !== undefined ? `acme|pagerduty|https://events.pagerduty.com/v2/enqueue|${e.connectorCredential}` : undefined,
        PROBECTL_NOTIFY_INBOUND: e.inboundSecret !== undefined ? `pd-a:acme:pagerduty:${e.inboundSecret}` : undefined,
      };
      const secrets = [e.callbackSecret, e.dbPassword, e.apiToken, e.connectorCredential, e.inboundSecret, e.temporalApiKey].filter((s): s is string => !!s && s.length > 6);
      const { value, error } = configOutcome(() => loadConfig(env));
      const text = error ? `${error.message} ${JSON.stringify(error.problems)}` : JSON.stringify(value);
      for (const s of secrets) expect(text).not.toContain(s);
    }), fuzzParams(400));
  });
});
