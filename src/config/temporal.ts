import { readFileSync } from 'node:fs';
import { ConfigError } from './errors';
import { Secret } from './secret';
import { secretSetting } from './secret-source';

type Env = Record<string, string | undefined>;

export interface TemporalTls {
  serverNameOverride?: string;
  serverRootCACertificate?: Buffer;
  clientCertPair?: { crt: Buffer; key: Buffer };
}

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Undefined: plaintext (the local dev server). */
  tls?: TemporalTls;
  /** Temporal Cloud API key (implies TLS). */
  apiKey?: Secret;
}

function readPem(env: Env, name: string): Buffer | undefined {
  const path = env[name]?.trim();
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(name, [`cannot read ${JSON.stringify(path)} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`]);
  }
}

/**
 * Secure connections to Temporal: TLS (`TEMPORAL_TLS=true`, or implied by any TLS file or an API key),
 * a private CA (`TEMPORAL_TLS_CA_FILE`), mTLS (`TEMPORAL_TLS_CERT_FILE` + `TEMPORAL_TLS_KEY_FILE`), SNI
 * override (`TEMPORAL_TLS_SERVER_NAME`), or an API key (`TEMPORAL_API_KEY` / `TEMPORAL_API_KEY_FILE`).
 */
export function temporalTls(env: Env): Pick<TemporalSettings, 'tls' | 'apiKey'> {
  const flag = env.TEMPORAL_TLS?.trim().toLowerCase();
  if (flag !== undefined && flag !== '' && !['true', 'false', '1', '0'].includes(flag)) {
    throw new ConfigError('TEMPORAL_TLS', ['must be true or false']);
  }
  const ca = readPem(env, 'TEMPORAL_TLS_CA_FILE');
  const crt = readPem(env, 'TEMPORAL_TLS_CERT_FILE');
  const key = readPem(env, 'TEMPORAL_TLS_KEY_FILE');
  if (Boolean(crt) !== Boolean(key)) {
    throw new ConfigError(crt ? 'TEMPORAL_TLS_KEY_FILE' : 'TEMPORAL_TLS_CERT_FILE', ['mTLS needs both TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE']);
  }
  const serverName = env.TEMPORAL_TLS_SERVER_NAME?.trim();
  const apiKeyText = secretSetting(env, 'TEMPORAL_API_KEY')?.trim();
  const wanted = flag === 'true' || flag === '1' || Boolean(ca || crt || serverName || apiKeyText);
  if ((flag === 'false' || flag === '0') && (ca || crt || apiKeyText)) {
    throw new ConfigError('TEMPORAL_TLS', ['is false, but TLS files or an API key are set']);
  }
  if (!wanted) return {};
  return {
    tls: {
      ...(serverName ? { serverNameOverride: serverName } : {}),
      ...(ca ? { serverRootCACertificate: ca } : {}),
      ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    },
    ...(apiKeyText ? { apiKey: new Secret(apiKeyText) } : {}),
  };
}

/** Options for Connection.connect / NativeConnection.connect. */
export function connectionOptions(t: TemporalSettings): { address: string; tls?: TemporalTls; apiKey?: string } {
  return { address: t.address, ...(t.tls ? { tls: t.tls } : {}), ...(t.apiKey ? { apiKey: t.apiKey.reveal() } : {}) };
}
