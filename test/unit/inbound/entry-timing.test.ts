/**
 * Found by review; kept as designed and documented (docs/inbound.md, "Order of checks and answers"): every 401 has
 * the same body, but when the answer comes differs: for an unknown entry (or a provider that does not match it) the route refuses in onRequest,
 * before the body; for an existing entry with a signature header it first reads the body (up to 1 MiB) and only
 * then checks the signature. A client that declares a body and withholds it learns, without any credential,
 * which {provider}/{id} pairs exist: an existing one waits for the body, an unknown one answers 401 at once.
 *
 * Entry ids are no secret (they are in every provider's webhook settings), and refusing an unknown entry before
 * its body is read keeps unauthenticated requests cheap (design.md's order of checks), so the documentation says
 * the timing differs and this test pins what it says: the bodies are the same, the timing is not. A change in either
 * (an oracle in the body, or the early refusal gone) fails it.
 */
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../../../src/api/app';
import { TokenAuthenticator } from '../../../src/api/auth';
import type { IncidentClient } from '../../../src/client';
import { ConnectorDirectory } from '../../../src/config/connectors';
import { InboundDirectory, parseInbound } from '../../../src/config/inbound';
import type { MirrorStore } from '../../../src/db/mirror-store';
import { createLogger } from '../../../src/observability/logger';

/** The status line, if the server answers within `ms` to a request whose declared body never fully arrives. */
function statusWithheldBody(port: number, target: string, ms: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    const done = (v: number | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), ms);
    socket.on('connect', () => socket.write([
      `POST ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/json', `X-Probectl-Signature: sha256=${'0'.repeat(64)}`,
      'Content-Length: 1000', '', '{"a":',
    ].join('\r\n')));
    socket.on('data', (c: Buffer) => {
      text += c.toString('utf8');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m) done(Number(m[1]));
    });
    socket.on('error', () => done(undefined));
  });
}

test('an unknown entry is refused before its body is read, an existing one after; both 401s are alike', async () => {
  const app = buildApp({
    log: createLogger('silent'),
    auth: new TokenAuthenticator([]),
    incidents: {} as IncidentClient,
    mirror: {} as MirrorStore,
    checks: {},
    isAccepting: () => true,
    inbound: { entries: new InboundDirectory(parseInbound('sn-main:acme:servicenow:inbound-secret-0123456789')), connectors: new ConnectorDirectory([]) },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const port = (app.server.address() as AddressInfo).port;
    const answers = {
      unknownEntry: await statusWithheldBody(port, '/ingest/itsm/servicenow/sn-nope', 1_500),
      wrongProvider: await statusWithheldBody(port, '/ingest/itsm/jira/sn-main', 1_500),
      existingEntry: await statusWithheldBody(port, '/ingest/itsm/servicenow/sn-main', 1_500),
    };
    // Check 1 refuses at once; an existing entry waits for its body before the signature (check 4) can refuse it.
    expect(answers).toEqual({ unknownEntry: 401, wrongProvider: 401, existingEntry: undefined });
  } finally {
    await app.close();
  }
});
