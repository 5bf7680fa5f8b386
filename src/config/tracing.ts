/**
 * OpenTelemetry trace export (docs/configuration.md, "Traces"): the standard OTEL_* variables this service
 * reads, validated here so a typo stops start-up with an error naming the setting. Off (undefined: no SDK is
 * started) unless an OTLP endpoint is set. Pure apart from reading a `_FILE`.
 *
 * Only OTLP over HTTP is exported (protobuf, the specification's default, or JSON); `grpc` is refused rather than
 * silently sent another way. Export headers may carry a vendor's API key: they are a secret (never printed, a
 * `_FILE` form), and they are refused over plain http to anything but loopback.
 */
import { z } from 'zod';
import { ConfigError } from './errors';
import { Secret } from './secret';
import { secretSetting } from './secret-source';
import { isLoopbackHost } from './url-policy';

type Env = Record<string, string | undefined>;

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface TracingSettings {
  /** Where spans are POSTed (the traces endpoint itself, `/v1/traces` already appended to a base endpoint). */
  url: string;
  protocol: OtlpProtocol;
  /** Export request headers (OTEL_EXPORTER_OTLP_[TRACES_]HEADERS), e.g. a vendor API key: a JSON object, revealed only by the exporter. */
  headers?: Secret;
  /** Export request timeout. */
  timeoutMs: number;
  /** The `service.name` resource attribute. */
  serviceName: string;
  /** The setting the URL came from, for the start-up log line (never the URL: it may name internal hosts). */
  endpointSetting: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' | 'OTEL_EXPORTER_OTLP_ENDPOINT';
}

const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v);

const endpoint = (setting: string) =>
  z.preprocess(
    blank,
    z
      .string()
      .transform((v, ctx) => {
        let url: URL;
        try {
          url = new URL(v);
        } catch {
          ctx.addIssue({ code: 'custom', message: `${setting} must be an absolute http:// or https:// URL` });
          return z.NEVER;
        }
        if (url.protocol !== 'http:' && url.protocol !== 'https:') {
          ctx.addIssue({ code: 'custom', message: `${setting} must be an http:// or https:// URL (only OTLP over HTTP is exported)` });
          return z.NEVER;
        }
        if (url.username || url.password) {
          ctx.addIssue({ code: 'custom', message: `${setting} must not carry credentials; put them in OTEL_EXPORTER_OTLP_HEADERS(_FILE)` });
          return z.NEVER;
        }
        return url;
      })
      .optional(),
  );

const protocol = (setting: string) =>
  z.preprocess(
    blank,
    z
      .string()
      .refine((v) => v === 'http/protobuf' || v === 'http/json', {
        message: `${setting} must be http/protobuf or http/json (grpc is not supported: set the collector's OTLP/HTTP port, usually 4318)`,
      })
      .transform((v) => v as OtlpProtocol)
      .optional(),
  );

const timeout = (setting: string) =>
  z.preprocess(
    blank,
    z
      .string()
      .regex(/^\d{1,7}$/, { message: `${setting} must be a whole number of milliseconds (1-3600000)` })
      .transform(Number)
      .refine((n) => n >= 1 && n <= 3_600_000, { message: `${setting} must be a whole number of milliseconds (1-3600000)` })
      .optional(),
  );

const schema = z.object({
  OTEL_SDK_DISABLED: z.preprocess(
    (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
    z.enum(['', 'true', 'false'], { message: 'OTEL_SDK_DISABLED must be true or false' }).optional(),
  ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'),
  OTEL_EXPORTER_OTLP_ENDPOINT: endpoint('OTEL_EXPORTER_OTLP_ENDPOINT'),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'),
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol('OTEL_EXPORTER_OTLP_PROTOCOL'),
  OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: timeout('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT'),
  OTEL_EXPORTER_OTLP_TIMEOUT: timeout('OTEL_EXPORTER_OTLP_TIMEOUT'),
  OTEL_SERVICE_NAME: z.preprocess(
    blank,
    z.string().regex(/^[\x21-\x7e]{1,128}$/, { message: 'OTEL_SERVICE_NAME must be 1-128 printable characters without spaces' }).optional(),
  ),
});

/**
 * `k1=v1,k2=v2` (values percent-encoded, as the OTLP exporter specification writes them) → a header map.
 * Errors name the entry's position, never its value.
 */
export function parseOtlpHeaders(setting: string, raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = raw.split(',').map((e) => e.trim()).filter((e) => e.length > 0);
  entries.forEach((entry, i) => {
    const eq = entry.indexOf('=');
    const name = eq > 0 ? entry.slice(0, eq).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new ConfigError(setting, [`entry #${i + 1} must be name=value with a valid header name`]);
    }
    let value: string;
    try {
      value = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(setting, [`entry #${i + 1}: the value is not valid percent-encoding`]);
    }
    if (value === '' || /[\r\n\0]/.test(value)) throw new ConfigError(setting, [`entry #${i + 1}: the value is empty or holds a line break`]);
    out[name.toLowerCase()] = value;
  });
  return out;
}

/** The trace export settings, or undefined when tracing is off (no endpoint, or OTEL_SDK_DISABLED=true). */
export function tracingSettings(env: Env): TracingSettings | undefined {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const setting = String(parsed.error.issues[0]!.path[0] ?? 'environment');
    throw new ConfigError(setting, parsed.error.issues.filter((i) => String(i.path[0]) === setting).map((i) => i.message));
  }
  const e = parsed.data;
  // Both header settings are read (and so validated) even when tracing ends up off or the other one wins, like
  // every other setting. The TRACES_ one, when set, replaces the general one (not merged with it).
  const readHeaders = (setting: 'OTEL_EXPORTER_OTLP_TRACES_HEADERS' | 'OTEL_EXPORTER_OTLP_HEADERS') => {
    const raw = secretSetting(env, setting);
    return raw !== undefined && raw.trim() !== '' ? parseOtlpHeaders(setting, raw) : undefined;
  };
  const generalHeaders = readHeaders('OTEL_EXPORTER_OTLP_HEADERS');
  const tracesHeaders = readHeaders('OTEL_EXPORTER_OTLP_TRACES_HEADERS');
  const headerSetting = tracesHeaders ? 'OTEL_EXPORTER_OTLP_TRACES_HEADERS' : 'OTEL_EXPORTER_OTLP_HEADERS';
  const headers = tracesHeaders ?? generalHeaders;
  if (e.OTEL_SDK_DISABLED === 'true') return undefined;

  let url: URL;
  let endpointSetting: TracingSettings['endpointSetting'];
  if (e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
    // The signal-specific endpoint is used as it is.
    url = e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    endpointSetting = 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT';
  } else if (e.OTEL_EXPORTER_OTLP_ENDPOINT) {
    // The base endpoint gets the signal's path appended (the OTLP exporter specification).
    url = new URL(e.OTEL_EXPORTER_OTLP_ENDPOINT.toString());
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
    endpointSetting = 'OTEL_EXPORTER_OTLP_ENDPOINT';
  } else {
    return undefined;
  }
  if (headers && url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new ConfigError(headerSetting, [`export headers are sent only over https:// (or plain http to loopback); ${endpointSetting} is plain http`]);
  }
  return {
    url: url.toString(),
    protocol: e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
    ...(headers ? { headers: new Secret(JSON.stringify(headers)) } : {}),
    timeoutMs: e.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? e.OTEL_EXPORTER_OTLP_TIMEOUT ?? 10_000,
    serviceName: e.OTEL_SERVICE_NAME ?? 'probectl-notify',
    endpointSetting,
  };
}
