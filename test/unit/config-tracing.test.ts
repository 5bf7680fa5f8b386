import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/errors';
import { loadConfig } from '../../src/config/load';
import { parseOtlpHeaders } from '../../src/config/tracing';

const dir = mkdtempSync(join(tmpdir(), 'probectl-otel-'));

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`no error for ${JSON.stringify(env)}`);
}

describe('tracing settings (OTEL_*)', () => {
  test.each<[Record<string, string>]>([
    [{}],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: '' }],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: '   ', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' }],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'x' }],
    [{ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }],
    [{ OTEL_SDK_DISABLED: 'TRUE', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otel.example.com/v1/traces' }],
  ])('off (no SDK) for %j', (env) => {
    expect(loadConfig(env).tracing).toBeUndefined();
  });

  // [env, expected url, expected protocol, expected timeout]
  test.each<[Record<string, string>, string, string, number]>([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, 'http://127.0.0.1:4318/v1/traces', 'http/protobuf', 10_000],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/' }, 'http://127.0.0.1:4318/v1/traces', 'http/protobuf', 10_000],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example.com/prefix//' }, 'https://otel.example.com/prefix/v1/traces', 'http/protobuf', 10_000],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, 'http://collector:4318/v1/traces', 'http/json', 10_000],
    // The signal-specific endpoint is used as it is, and wins over the base one; so do the signal-specific protocol and timeout.
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otel.example.com/custom', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://other:4318' }, 'https://otel.example.com/custom', 'http/protobuf', 10_000],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }, 'http://c:4318/v1/traces', 'http/protobuf', 10_000],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TIMEOUT: '2500' }, 'http://c:4318/v1/traces', 'http/protobuf', 2_500],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TIMEOUT: '2500', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '700' }, 'http://c:4318/v1/traces', 'http/protobuf', 700],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: ' http://c:4318 ', OTEL_SDK_DISABLED: 'false' }, 'http://c:4318/v1/traces', 'http/protobuf', 10_000],
  ])('on for %j', (env, url, protocol, timeoutMs) => {
    const t = loadConfig(env).tracing!;
    expect(t).toBeDefined();
    expect(t.url).toBe(url);
    expect(t.protocol).toBe(protocol);
    expect(t.timeoutMs).toBe(timeoutMs);
    expect(t.serviceName).toBe(env.OTEL_SERVICE_NAME ?? 'probectl-notify');
    expect(t.headers).toBeUndefined();
  });

  // [env, setting the error must name]
  test.each<[Record<string, string>, string]>([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector:4317' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://collector/v1/traces' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://user:hunter2-secret@collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/JSON' }, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TIMEOUT: '10s' }, 'OTEL_EXPORTER_OTLP_TIMEOUT'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TIMEOUT: '0' }, 'OTEL_EXPORTER_OTLP_TIMEOUT'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '-5' }, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'yes' }, 'OTEL_SDK_DISABLED'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SERVICE_NAME: 'has space' }, 'OTEL_SERVICE_NAME'],
    // A header (an API key) is never sent in plaintext to a non-loopback host.
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_HEADERS: 'api-key=s3cr3t-header-value' }, 'OTEL_EXPORTER_OTLP_HEADERS'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'no-equals-sign-s3cr3t' }, 'OTEL_EXPORTER_OTLP_HEADERS'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'bad name=s3cr3t-header-value' }, 'OTEL_EXPORTER_OTLP_HEADERS'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4318', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'k=%E0%A4%A' }, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'k=a', OTEL_EXPORTER_OTLP_HEADERS_FILE: '/nonexistent' }, 'OTEL_EXPORTER_OTLP_HEADERS'],
    // The general setting is validated even when the TRACES_ one wins (and is never merged into it).
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4318', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'k=a', OTEL_EXPORTER_OTLP_HEADERS: 'no-equals-sign-s3cr3t' }, 'OTEL_EXPORTER_OTLP_HEADERS'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4318', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'k=a', OTEL_EXPORTER_OTLP_HEADERS: 'k=line%0Abreak-s3cr3t' }, 'OTEL_EXPORTER_OTLP_HEADERS'],
  ])('refuses %j naming the setting, never the value', (env, setting) => {
    const err = configError(env);
    expect(err.setting).toBe(setting);
    expect(err.message.startsWith(`${setting}: `)).toBe(true);
    for (const [name, value] of Object.entries(env)) {
      // No value of an OTEL setting is echoed (URLs may name internal hosts or carry credentials).
      if (name.startsWith('OTEL_') && value.length >= 6 && !/^(https?|ftp|grpc):\/\/c:4318$/.test(value)) expect(err.message).not.toContain(value);
    }
    expect(err.message).not.toMatch(/s3cr3t|hunter2/);
  });

  test('headers: percent-decoded, names lower-cased; from the variable or its _FILE; never printed', () => {
    const t = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example.com', OTEL_EXPORTER_OTLP_HEADERS: 'Api-Key=abc%3Ddef, x-team = sre ' }).tracing!;
    expect(JSON.parse(t.headers!.reveal())).toEqual({ 'api-key': 'abc=def', 'x-team': 'sre' });
    expect(JSON.stringify(t)).not.toContain('abc');
    const file = join(dir, 'headers');
    writeFileSync(file, 'authorization=Bearer%20tok-0123456789\n');
    const f = loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces', OTEL_EXPORTER_OTLP_TRACES_HEADERS_FILE: file }).tracing!;
    expect(JSON.parse(f.headers!.reveal())).toEqual({ authorization: 'Bearer tok-0123456789' });
    // Plain http with headers is fine to loopback (a local collector).
    expect(String(f.headers)).toBe('<secret>');
  });

  test.each(['a', 'a=', '=b', 'a=b,=c', 'a=b\rc', 'k=%0A'])('parseOtlpHeaders refuses %j by position', (raw) => {
    expect(() => parseOtlpHeaders('OTEL_EXPORTER_OTLP_HEADERS', raw)).toThrow(/^OTEL_EXPORTER_OTLP_HEADERS: entry #\d/);
  });
});
