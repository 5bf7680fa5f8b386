import { connect as tcpConnect, type Socket } from 'node:net';
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
  });

  test('mTLS with a private CA: client and worker connections work; without the client certificate they are refused', async () => {
    const term = await tlsTerminator(pki, sharedStack().temporalAddress, true);
    try {
      const config = loadConfig({
        TEMPORAL_ADDRESS: term.address,
        TEMPORAL_TLS_CA_FILE: pki.caFile,
        TEMPORAL_TLS_CERT_FILE: pki.clientCertFile,
        TEMPORAL_TLS_KEY_FILE: pki.clientKeyFile,
      });
      const conn = await Connection.connect(connectionOptions(config.temporal));
      const info = await new Client({ connection: conn }).workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
      await conn.close();
      const native = await NativeConnection.connect(connectionOptions(config.temporal));
      await native.close();
      expect(term.accepted()).toBeGreaterThanOrEqual(2);

      const noClientCert = loadConfig({ TEMPORAL_ADDRESS: term.address, TEMPORAL_TLS_CA_FILE: pki.caFile });
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
});
