import { writeFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ConfigError } from '../../src/config/errors';
import { loadConfig } from '../../src/config/load';
import { connectionOptions } from '../../src/config/temporal';
import { makeTestPki, type TestPki } from '../helpers/certs';
import { sharedStack } from '../helpers/shared';

/**
 * The dev server speaks plaintext only, so a TLS terminator on loopback stands in for a TLS/mTLS Temporal
 * frontend: it offers h2 over TLS with a certificate from a throwaway CA, optionally requires a client
 * certificate, and pipes to the dev server.
 */
function tlsTerminator(pki: TestPki, upstream: string, requireClientCert: boolean): Promise<{ server: Server; address: string; accepted: () => number }> {
  const [host, port] = upstream.split(':') as [string, string];
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server = createServer(
    {
      key: pki.read(pki.serverKeyFile),
      cert: pki.read(pki.serverCertFile),
      ca: pki.read(pki.caFile),
      ALPNProtocols: ['h2'],
      requestCert: requireClientCert,
      rejectUnauthorized: requireClientCert,
    },
    (tls: TLSSocket) => {
      accepted += 1;
      const up = tcpConnect(Number(port), host);
      sockets.add(tls);
      sockets.add(up);
      tls.pipe(up).pipe(tls);
      up.on('error', () => tls.destroy());
      tls.on('error', () => up.destroy());
    },
  );
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, address: `127.0.0.1:${(server.address() as { port: number }).port}`, accepted: () => accepted })),
  );
}

type Env = Record<string, string>;

/**
 * The same mTLS settings three ways, all read through @temporalio/envconfig: the standard TEMPORAL_TLS_* names,
 * this project's older names (aliases), and a temporal.toml profile named by TEMPORAL_CONFIG_FILE + TEMPORAL_PROFILE.
 */
function mtlsSources(pki: TestPki, address: string): Array<[string, Env]> {
  const toml = join(pki.dir, 'temporal.toml');
  writeFileSync(
    toml,
    [
      '[profile.ci]',
      `address = "${address}"`,
      '[profile.ci.tls]',
      `server_ca_cert_path = "${pki.caFile}"`,
      `client_cert_path = "${pki.clientCertFile}"`,
      `client_key_path = "${pki.clientKeyFile}"`,
      '',
    ].join('\n'),
  );
  return [
    ['standard variables', { TEMPORAL_ADDRESS: address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caFile, TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCertFile, TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKeyFile }],
    ['alias variables', { TEMPORAL_ADDRESS: address, TEMPORAL_TLS_CA_FILE: pki.caFile, TEMPORAL_TLS_CERT_FILE: pki.clientCertFile, TEMPORAL_TLS_KEY_FILE: pki.clientKeyFile }],
    ['a named temporal.toml profile', { TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'ci' }],
  ];
}

describe('secure connections to Temporal', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makeTestPki('temporal');
  });

  test('settings: TLS off by default; CA, mTLS pair, SNI and API key are read; half an mTLS pair is refused', () => {
    expect(loadConfig({}).temporal.tls).toBeUndefined();
    const c = loadConfig({
      TEMPORAL_TLS_CA_FILE: pki.caFile,
      TEMPORAL_TLS_CERT_FILE: pki.clientCertFile,
      TEMPORAL_TLS_KEY_FILE: pki.clientKeyFile,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    expect(c.temporal.tls?.serverRootCACertificate?.toString()).toContain('BEGIN CERTIFICATE');
    expect(c.temporal.tls?.clientCertPair?.key.toString()).toContain('PRIVATE KEY');
    expect(c.temporal.tls?.serverNameOverride).toBe('temporal.internal');
    const cloud = loadConfig({ TEMPORAL_API_KEY: 'tcld-api-key-0123456789' });
    expect(cloud.temporal.tls).toEqual({});
    expect(String(cloud.temporal.apiKey)).toBe('<secret>');
    expect(connectionOptions(cloud.temporal).apiKey).toBe('tcld-api-key-0123456789');
    expect(() => loadConfig({ TEMPORAL_TLS_CERT_FILE: pki.clientCertFile })).toThrow(ConfigError);
    expect(() => loadConfig({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'x' })).toThrow(/TEMPORAL_TLS/);
    // The same settings under their standard names, and from a named profile, give the same connection options.
    const sources = Object.fromEntries(mtlsSources(pki, '127.0.0.1:7233'));
    const fromStd = loadConfig(sources['standard variables']!).temporal;
    expect(fromStd.tls).toEqual(loadConfig(sources['alias variables']!).temporal.tls);
    expect(fromStd.tls).toEqual(loadConfig(sources['a named temporal.toml profile']!).temporal.tls);
    expect(fromStd.tls?.clientCertPair?.key.toString()).toContain('PRIVATE KEY');
    expect(() => loadConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCertFile })).toThrow(ConfigError);
  });

  test.each(['standard variables', 'alias variables', 'a named temporal.toml profile'])('mTLS with a private CA from %s: client and worker connections work; without the client certificate they are refused', async (source) => {
    const term = await tlsTerminator(pki, sharedStack().temporalAddress, true);
    try {
      const config = loadConfig(Object.fromEntries(mtlsSources(pki, term.address))[source]!);
      const conn = await Connection.connect(connectionOptions(config.temporal));
      const info = await new Client({ connection: conn }).workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
      await conn.close();
      const native = await NativeConnection.connect(connectionOptions(config.temporal));
      await native.close();
      expect(term.accepted()).toBeGreaterThanOrEqual(2);

      const noClientCert = loadConfig({ TEMPORAL_ADDRESS: term.address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caFile });
      await expect(
        (async () => {
          const c = await Connection.connect({ ...connectionOptions(noClientCert.temporal), connectTimeout: 3000 });
          try {
            await new Client({ connection: c }).workflowService.getSystemInfo({});
          } finally {
            await c.close();
          }
        })(),
      ).rejects.toThrow();
    } finally {
      term.server.close();
    }
  });

  test('a server certificate from an untrusted CA is refused', async () => {
    const term = await tlsTerminator(pki, sharedStack().temporalAddress, false);
    try {
      const config = loadConfig({ TEMPORAL_ADDRESS: term.address, TEMPORAL_TLS: 'true' });
      await expect(
        (async () => {
          const c = await Connection.connect({ ...connectionOptions(config.temporal), connectTimeout: 3000 });
          try {
            await new Client({ connection: c }).workflowService.getSystemInfo({});
          } finally {
            await c.close();
          }
        })(),
      ).rejects.toThrow();
    } finally {
      term.server.close();
    }
  });

  test('an API key (from TEMPORAL_API_KEY_FILE) implies TLS: the connection goes through the TLS frontend, verified by the CA', async () => {
    const term = await tlsTerminator(pki, sharedStack().temporalAddress, false);
    const keyFile = join(pki.dir, 'temporal-api-key');
    writeFileSync(keyFile, 'tcld-test-api-key-0123456789\n');
    try {
      const config = loadConfig({ TEMPORAL_ADDRESS: term.address, TEMPORAL_API_KEY_FILE: keyFile, TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caFile });
      expect(connectionOptions(config.temporal).apiKey).toBe('tcld-test-api-key-0123456789');
      const conn = await Connection.connect({ ...connectionOptions(config.temporal), connectTimeout: 5000 });
      const info = await new Client({ connection: conn }).workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
      await conn.close();
      const native = await NativeConnection.connect(connectionOptions(config.temporal));
      await native.close();
      expect(term.accepted()).toBeGreaterThanOrEqual(2);
      // Without the CA the same key is refused by certificate verification (no plaintext fallback).
      const noCa = loadConfig({ TEMPORAL_ADDRESS: term.address, TEMPORAL_API_KEY_FILE: keyFile });
      await expect(
        (async () => {
          const c = await Connection.connect({ ...connectionOptions(noCa.temporal), connectTimeout: 3000 });
          try {
            await new Client({ connection: c }).workflowService.getSystemInfo({});
          } finally {
            await c.close();
          }
        })(),
      ).rejects.toThrow();
    } finally {
      term.server.close();
    }
  });
});
